// `finetune predict` on sentences: the label and every label's score equal a softmax of the
// engine's logits for the same text, on one of our checkpoints and on an HF model folder; and
// examples/cola.cpp (the seed in C++) equals `finetune train` with the same settings.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "finetune/finetune.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The oracle: the library's engine on the tokenizer's ids, softmax in double.
std::vector<double> scores_of(const fs::path& dir, const std::string& text) {
    PretrainedModel m = load_pretrained(dir);
    const BertTokenizer tok = BertTokenizer::from_pretrained(dir);
    SequenceClassifier engine(m.config, m.weights);
    PackedBatch b;
    b.input_ids = tok.encode(text).input_ids;
    b.offsets = {0, static_cast<int32_t>(b.input_ids.size())};
    engine.forward(b, false);
    const float* l = engine.logits();
    const double mx = std::max(l[0], l[1]);
    const double e0 = std::exp(l[0] - mx), e1 = std::exp(l[1] - mx);
    return {e0 / (e0 + e1), e1 / (e0 + e1)};
}

TEST(CliPredict, LabelsAndScoresEqualTheEngineSoftmax) {
    const fs::path dir = test::tiny_distilbert_model_dir();
    const std::string a = "The sailors rode the breeze clear of the rocks.";
    const std::string b = "The more you eat, the less you want the.";
    int rc = 0;
    const std::string out =
        test::run_cli("predict --model " + dir.string() + " \"" + a + "\" \"" + b + "\"", &rc);
    ASSERT_EQ(rc, 0) << out;
    for (const std::string& s : {a, b}) {
        const auto p = scores_of(dir, s);
        const size_t at = out.find(s + "\n");
        ASSERT_NE(at, std::string::npos) << out;
        char expect[200];
        std::snprintf(expect, sizeof expect, "  label: %s (%.4f)\n    %-20s %.4f\n    %-20s %.4f\n",
                      p[1] > p[0] ? "LABEL_1" : "LABEL_0", std::max(p[0], p[1]), "LABEL_0", p[0],
                      "LABEL_1", p[1]);
        EXPECT_EQ(out.substr(at + s.size() + 1, std::strlen(expect)), expect) << out;
    }
    // --input FILE.jsonl gives the same, and a bad line is named.
    const fs::path in = test::make_temp_dir("predict_in") / "in.jsonl";
    std::ofstream(in) << json{{"text", a}}.dump() << "\n{\"txt\": 1}\n";
    const std::string bad =
        test::run_cli("predict --model " + dir.string() + " --input " + in.string(), &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(bad.find("in.jsonl:2"), std::string::npos) << bad;
}

// The tiny checkpoint with tokenizer files, as a folder both programs can load.
TEST(ColaExample, SeedScriptInCppEqualsFinetuneTrain) {
    const fs::path model = test::tiny_distilbert_model_dir();
    const fs::path root = test::make_temp_dir("cola_example");
    const std::string env = "env HF_HUB_OFFLINE=1 ";
    std::string log;
    ASSERT_EQ(test::run_command(env + FT_COLA_EXAMPLE + std::string(" ") + model.string() + " " +
                                    (root / "example").string() + " 64 2",
                                &log),
              0)
        << log;
    EXPECT_NE(log.find("matthews_correlation: "), std::string::npos) << log;
    ASSERT_EQ(
        test::run_command(env + test::cli() + " train --model_name_or_path " + model.string() +
                              " --task_name cola --max_train_samples 64 --num_train_epochs 2"
                              " --disable_tqdm --output_dir " +
                              (root / "cli").string(),
                          &log),
        0)
        << log;
    auto history = [](const fs::path& state) {
        json out = json::array();
        const json doc = json::parse(read_text_file(state));
        for (auto& e : doc["log_history"]) {
            json kept = json::object();
            for (auto& [k, v] : e.items())
                if (k.find("runtime") == std::string::npos &&
                    k.find("per_second") == std::string::npos)
                    kept[k] = v;
            out.push_back(kept);
        }
        return out;
    };
    // The CLI's trainer_state.json is saved before its final evaluate(); the example's after.
    json ex = history(root / "example" / "trainer_state.json");
    json cli = history(root / "cli" / "trainer_state.json");
    ASSERT_FALSE(ex.empty());
    ex.erase(ex.size() - 1);
    EXPECT_EQ(ex, cli);
    const SafetensorsFile x = read_safetensors(root / "example" / "model.safetensors");
    const SafetensorsFile y = read_safetensors(root / "cli" / "model.safetensors");
    for (const auto& [name, t] : x.tensors.entries())
        EXPECT_TRUE(bit_equal(t, y.tensors.at(name))) << name;
}

}  // namespace
}  // namespace ft
