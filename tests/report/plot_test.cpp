// plot_trainer_state and `finetune plot`: the SVG read back as text (panels, legends, one polyline
// point per logged value, ticks that bracket the data, epochs, the best checkpoint), the edge cases
// (single point, constant, NaN, no eval) and the errors, which name the file and write nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "finetune/io.h"
#include "finetune/report.h"
#include "test_env.h"

namespace ft {

namespace {

using json = nlohmann::ordered_json;  // HF's key order, which the legend keeps
namespace fs = std::filesystem;

constexpr int STEPS_PER_EPOCH = 20;
constexpr int EPOCHS = 3;
constexpr int MAX_STEPS = STEPS_PER_EPOCH * EPOCHS;

// A trainer_state.json as HF's Trainer writes it for a short CoLA-like run: 3 epochs of 20
// steps, logging_steps=1, eval and save each epoch, best model by Matthews correlation.
json sample_state(bool with_eval = true) {
    json history = json::array();
    const double mcc[EPOCHS] = {0.3121, 0.4817, 0.4655};
    const double acc[EPOCHS] = {0.7593, 0.8072, 0.8024};
    const double eval_loss[EPOCHS] = {0.5412, 0.4987, 0.5301};
    for (int step = 1; step <= MAX_STEPS; ++step) {
        const double progress = static_cast<double>(step) / MAX_STEPS;
        history.push_back({{"loss", 0.69 - 0.35 * progress + 0.06 * std::sin(step * 1.7)},
                           {"grad_norm", 3.0 + std::cos(step * 0.9)},
                           {"learning_rate", 2e-5 * (1.0 - progress)},
                           {"epoch", static_cast<double>(step) / STEPS_PER_EPOCH},
                           {"step", step}});
        if (with_eval && step % STEPS_PER_EPOCH == 0) {
            const int e = step / STEPS_PER_EPOCH - 1;
            history.push_back({{"eval_loss", eval_loss[e]},
                               {"eval_matthews_correlation", mcc[e]},
                               {"eval_accuracy", acc[e]},
                               {"eval_runtime", 1.2345},
                               {"eval_samples_per_second", 844.9},
                               {"eval_steps_per_second", 53.47},
                               {"epoch", static_cast<double>(e + 1)},
                               {"step", step}});
        }
    }
    history.push_back({{"train_runtime", 95.31},
                       {"train_samples_per_second", 10.07},
                       {"train_steps_per_second", 0.63},
                       {"total_flos", 39742658150400.0},
                       {"train_loss", 0.5123456789},
                       {"epoch", 3.0},
                       {"step", MAX_STEPS}});
    json state = {{"best_metric", nullptr},
                  {"best_model_checkpoint", nullptr},
                  {"epoch", 3.0},
                  {"eval_steps", 500},
                  {"global_step", MAX_STEPS},
                  {"is_hyper_param_search", false},
                  {"is_local_process_zero", true},
                  {"is_world_process_zero", true},
                  {"log_history", history},
                  {"logging_steps", 1},
                  {"max_steps", MAX_STEPS},
                  {"num_input_tokens_seen", 0},
                  {"num_train_epochs", EPOCHS},
                  {"save_steps", 500},
                  {"total_flos", 39742658150400.0},
                  {"train_batch_size", 16},
                  {"trial_name", nullptr},
                  {"trial_params", nullptr}};
    if (with_eval) {
        state["best_metric"] = mcc[1];
        state["best_model_checkpoint"] = "out/cola/checkpoint-40";
    }
    return state;
}

fs::path write_state(const fs::path& dir, const std::string& text) {
    fs::create_directories(dir);
    const fs::path p = dir / "trainer_state.json";
    write_text_atomic(p, text);
    return p;
}

// Plots `state_text` from a fresh run directory and returns the SVG.
std::string plot_text(const std::string& state_text, const std::string& tag = "plot") {
    const fs::path dir = test::make_temp_dir(tag) / "my_run";
    const fs::path state = write_state(dir, state_text);
    plot_trainer_state(state, dir / "curves.svg");
    return read_text_file(dir / "curves.svg");
}

std::string plot_json(const json& state, const std::string& tag = "plot") {
    return plot_text(state.dump(2), tag);
}

// data-series -> number of points in its polyline.
std::map<std::string, size_t> polyline_points(const std::string& svg) {
    std::map<std::string, size_t> out;
    static const std::regex re(
        R"re(<polyline class="series" data-series="([^"]+)"[^>]*points="([^"]*)")re");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
         ++it) {
        std::istringstream points((*it)[2].str());
        size_t n = 0;
        for (std::string xy; points >> xy;) ++n;
        out[(*it)[1].str()] = n;
    }
    return out;
}

// The text of one panel's <g> element.
std::string panel(const std::string& svg, const std::string& id) {
    const size_t begin = svg.find("<g class=\"panel\" id=\"panel-" + id + "\">");
    if (begin == std::string::npos) return "";
    size_t end = begin, depth = 0;
    // Nested <g> (legend entries) close before the panel does.
    for (size_t pos = begin;;) {
        const size_t open = svg.find("<g ", pos), close = svg.find("</g>", pos);
        if (close == std::string::npos) return svg.substr(begin);
        if (open != std::string::npos && open < close) {
            ++depth;
            pos = open + 3;
        } else {
            if (--depth == 0) {
                end = close + 4;
                break;
            }
            pos = close + 4;
        }
    }
    return svg.substr(begin, end - begin);
}

std::vector<std::string> texts_of_class(const std::string& svg, const std::string& cls) {
    std::vector<std::string> out;
    const std::regex re("<text [^>]*class=\"" + cls + "\"[^>]*>([^<]*)</text>");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
         ++it)
        out.push_back((*it)[1].str());
    return out;
}

std::vector<double> tick_values(const std::string& svg, const std::string& cls) {
    std::vector<double> out;
    for (const auto& t : texts_of_class(svg, cls)) out.push_back(std::stod(t));
    return out;
}

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
    return n;
}

// Bracketing: the lowest tick at or below the data, the highest at or above, and no more than
// one tick step of slack on either side.
void expect_brackets(const std::vector<double>& ticks, double lo, double hi, const char* what) {
    ASSERT_GE(ticks.size(), 2u) << what;
    const double step = ticks[1] - ticks[0];
    EXPECT_LE(ticks.front(), lo + 1e-12) << what;
    EXPECT_GE(ticks.back(), hi - 1e-12) << what;
    EXPECT_GT(ticks.front() + step, lo) << what;
    EXPECT_LT(ticks.back() - step, hi) << what;
    EXPECT_LE(ticks.size(), 9u) << what;
}

}  // namespace

TEST(PlotSvg, ThreePanelsWithTitlesAndLegends) {
    const std::string svg = plot_json(sample_state());
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
    EXPECT_NE(svg.find("</svg>\n"), std::string::npos);
    EXPECT_EQ(texts_of_class(svg, "panel-title"),
              (std::vector<std::string>{"Training loss", "Learning rate", "Evaluation metrics"}));
    EXPECT_EQ(texts_of_class(svg, "plot-title"),
              std::vector<std::string>{"Training curves: my_run"});
    EXPECT_EQ(texts_of_class(panel(svg, "loss"), "legend-label"),
              (std::vector<std::string>{"training loss", "eval loss"}));
    EXPECT_EQ(texts_of_class(panel(svg, "learning_rate"), "legend-label"),
              std::vector<std::string>{"learning rate"});
    EXPECT_EQ(texts_of_class(panel(svg, "eval_metrics"), "legend-label"),
              (std::vector<std::string>{"matthews_correlation", "accuracy", "best (step 40)"}));
    EXPECT_EQ(texts_of_class(svg, "x-axis-title"), (std::vector<std::string>{"step", "epoch"}));
    EXPECT_EQ(count(svg, "empty-panel"), 0u);
}

TEST(PlotSvg, OnePolylinePointPerLoggedValue) {
    const std::string svg = plot_json(sample_state());
    const std::map<std::string, size_t> expected = {{"loss", MAX_STEPS},
                                                    {"learning_rate", MAX_STEPS},
                                                    {"eval_loss", EPOCHS},
                                                    {"eval_matthews_correlation", EPOCHS},
                                                    {"eval_accuracy", EPOCHS}};
    EXPECT_EQ(polyline_points(svg), expected);  // no runtime or throughput series
    // Eval values are checkpoints: each has a marker; the dense training series have none.
    EXPECT_EQ(count(svg, "class=\"marker\" data-series=\"eval_accuracy\""), size_t(EPOCHS));
    EXPECT_EQ(count(svg, "class=\"marker\" data-series=\"loss\""), 0u);
}

TEST(PlotSvg, TickLabelsBracketTheData) {
    const json state = sample_state();
    const std::string svg = plot_json(state);
    auto range = [&](const std::string& key) {
        double lo = INFINITY, hi = -INFINITY;
        for (const auto& e : state["log_history"])
            if (e.contains(key)) {
                lo = std::min(lo, e[key].get<double>());
                hi = std::max(hi, e[key].get<double>());
            }
        return std::pair{lo, hi};
    };
    const auto [loss_lo, loss_hi] = range("loss");
    const auto [eval_lo, eval_hi] = range("eval_loss");
    expect_brackets(tick_values(panel(svg, "loss"), "y-tick"), std::min(loss_lo, eval_lo),
                    std::max(loss_hi, eval_hi), "loss");
    const auto [lr_lo, lr_hi] = range("learning_rate");
    expect_brackets(tick_values(panel(svg, "learning_rate"), "y-tick"), lr_lo, lr_hi, "lr");
    const auto [mcc_lo, mcc_hi] = range("eval_matthews_correlation");
    const auto [acc_lo, acc_hi] = range("eval_accuracy");
    expect_brackets(tick_values(panel(svg, "eval_metrics"), "y-tick"), std::min(mcc_lo, acc_lo),
                    std::max(mcc_hi, acc_hi), "metrics");
    expect_brackets(tick_values(svg, "x-tick"), 0, MAX_STEPS, "steps");

    // The learning rate in scientific notation, Python style; 1-2-5 steps elsewhere.
    EXPECT_EQ(texts_of_class(panel(svg, "learning_rate"), "y-tick"),
              (std::vector<std::string>{"0", "5e-06", "1e-05", "1.5e-05", "2e-05"}));
    EXPECT_EQ(texts_of_class(svg, "x-tick"),
              (std::vector<std::string>{"0", "10", "20", "30", "40", "50", "60"}));
    // x ticks only under the last panel.
    EXPECT_TRUE(texts_of_class(panel(svg, "loss"), "x-tick").empty());
}

TEST(PlotSvg, EpochBoundariesAndLabels) {
    const std::string svg = plot_json(sample_state());
    // Epochs 1 and 2 end inside the plot (epoch 3 ends on its right edge), in each panel.
    EXPECT_EQ(count(svg, "class=\"epoch-boundary\""), 2u * 3u);
    EXPECT_EQ(texts_of_class(svg, "epoch-label"), (std::vector<std::string>{"1", "2", "3"}));
}

TEST(PlotSvg, MarksTheBestCheckpoint) {
    const std::string svg = plot_json(sample_state());
    // One dashed line per panel at step 40, and a ring on the Matthews correlation there.
    EXPECT_EQ(count(svg, "class=\"best-step\" data-step=\"40\""), 3u);
    const std::string metrics = panel(svg, "eval_metrics");
    EXPECT_EQ(count(metrics, "class=\"best-point\" data-series=\"eval_matthews_correlation\""), 1u);
    EXPECT_EQ(count(svg, "class=\"best-point\""), 1u);
    // The line and the ring sit at the x of the second eval point.
    const std::regex line_x(R"re(<line x1="([0-9.]+)"[^>]*class="best-step")re");
    const std::regex ring_x(R"re(class="best-point"[^>]*cx="([0-9.]+)")re");
    const std::regex second_eval(
        R"re(data-series="eval_matthews_correlation"[^>]*points="[0-9.]+,[0-9.]+ ([0-9.]+),)re");
    std::smatch a, b, c;
    ASSERT_TRUE(std::regex_search(svg, a, line_x));
    ASSERT_TRUE(std::regex_search(svg, b, ring_x));
    ASSERT_TRUE(std::regex_search(svg, c, second_eval));
    EXPECT_EQ(a[1].str(), c[1].str());
    EXPECT_EQ(b[1].str(), c[1].str());
    EXPECT_NE(svg.find("best checkpoint at step 40 (best_metric 0.4817)"), std::string::npos);
}

TEST(PlotSvg, NoEvaluationSaysSo) {
    const std::string svg = plot_json(sample_state(/*with_eval=*/false));
    EXPECT_EQ(texts_of_class(panel(svg, "eval_metrics"), "empty-panel"),
              std::vector<std::string>{"no evaluation logged"});
    EXPECT_EQ(polyline_points(svg),
              (std::map<std::string, size_t>{{"loss", MAX_STEPS}, {"learning_rate", MAX_STEPS}}));
    EXPECT_EQ(texts_of_class(panel(svg, "loss"), "legend-label"),
              std::vector<std::string>{"training loss"});
    EXPECT_EQ(count(svg, "best-step"), 0u);
    EXPECT_TRUE(tick_values(panel(svg, "eval_metrics"), "y-tick").empty());
}

TEST(PlotSvg, SinglePointGetsAMarkerAndBracketingTicks) {
    const json state = {
        {"log_history",
         {{{"loss", 0.6931}, {"learning_rate", 2e-5}, {"epoch", 0.05}, {"step", 1}}}}};
    const std::string svg = plot_json(state);
    EXPECT_EQ(polyline_points(svg),
              (std::map<std::string, size_t>{{"loss", 1}, {"learning_rate", 1}}));
    EXPECT_EQ(count(svg, "class=\"marker\" data-series=\"loss\""), 1u);
    const auto loss_ticks = tick_values(panel(svg, "loss"), "y-tick");
    ASSERT_GE(loss_ticks.size(), 2u);
    EXPECT_LT(loss_ticks.front(), 0.6931);
    EXPECT_GT(loss_ticks.back(), 0.6931);
    const auto lr_ticks = tick_values(panel(svg, "learning_rate"), "y-tick");
    ASSERT_GE(lr_ticks.size(), 2u);
    EXPECT_LT(lr_ticks.front(), 2e-5);
    EXPECT_GT(lr_ticks.back(), 2e-5);
    EXPECT_EQ(texts_of_class(svg, "x-tick"), (std::vector<std::string>{"0", "1"}));
    EXPECT_EQ(texts_of_class(svg, "epoch-label"), std::vector<std::string>{"1"});
}

TEST(PlotSvg, ConstantSeriesGetsARange) {
    json state = sample_state(false);
    for (auto& e : state["log_history"])
        if (e.contains("learning_rate")) e["learning_rate"] = 3e-5;  // constant schedule
    const std::string svg = plot_json(state);
    const auto ticks = tick_values(panel(svg, "learning_rate"), "y-tick");
    ASSERT_GE(ticks.size(), 2u);
    EXPECT_LE(ticks.front(), 3e-5);
    EXPECT_GE(ticks.back(), 3e-5);
    EXPECT_LT(ticks.front(), ticks.back());
}

TEST(PlotSvg, NanValuesAreSkippedAsPythonWritesThem) {
    // Python's json module writes NaN and Infinity bare; strings that spell them stay strings.
    json state = sample_state();
    state["trial_name"] = "NaN Infinity";
    std::string text = state.dump(1);
    for (const char* metric : {"\"eval_matthews_correlation\": 0.3121", "\"loss\": 0.6"}) {
        const size_t pos = text.find(metric);
        ASSERT_NE(pos, std::string::npos) << metric;
        const size_t colon = text.find(':', pos);
        const size_t end = text.find_first_of(",\n}", colon);
        text.replace(colon + 2, end - colon - 2, metric[2] == 'e' ? "NaN" : "-Infinity");
    }
    const std::string svg = plot_text(text);
    const auto points = polyline_points(svg);
    EXPECT_EQ(points.at("eval_matthews_correlation"), size_t(EPOCHS - 1));
    EXPECT_EQ(points.at("loss"), size_t(MAX_STEPS - 1));
    EXPECT_EQ(points.at("eval_accuracy"), size_t(EPOCHS));
}

TEST(PlotSvg, NumbersHaveLimitedPrecision) {
    const std::string svg = plot_json(sample_state());
    EXPECT_FALSE(std::regex_search(svg, std::regex(R"(\d\.\d{5,})")));
    EXPECT_FALSE(std::regex_search(svg, std::regex(R"(\d{8,})")));
}

TEST(PlotSvg, IsWellFormedXml) {
    const fs::path dir = test::make_temp_dir("plot_xml");
    const fs::path state = write_state(dir / "run & co", sample_state().dump());
    plot_trainer_state(state, dir / "out.svg");
    std::string out;
    const int rc = test::run_command(
        test::python() +
            " -c \"import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])\" " +
            (dir / "out.svg").string(),
        &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(read_text_file(dir / "out.svg").find("Training curves: run &amp; co"),
              std::string::npos);
}

TEST(PlotErrors, EachNamesTheFileAndWritesNothing) {
    const fs::path dir = test::make_temp_dir("plot_errors");
    const fs::path image = dir / "curves.svg";
    write_text_atomic(image, "old");  // an earlier plot: an error must leave it as it was
    auto expect_error = [&](const fs::path& state, const fs::path& img, const std::string& name,
                            const std::string& what) {
        const std::string msg = test::error_of([&] { plot_trainer_state(state, img); });
        EXPECT_NE(msg.find(name), std::string::npos) << msg;
        EXPECT_NE(msg.find(what), std::string::npos) << msg;
    };
    expect_error(dir / "missing.json", image, (dir / "missing.json").string(), "cannot open");
    write_text_atomic(dir / "no_history.json", R"({"global_step": 3})");
    expect_error(dir / "no_history.json", image, "no_history.json", "no log_history");
    write_text_atomic(dir / "empty.json", R"({"log_history": []})");
    expect_error(dir / "empty.json", image, "empty.json", "log_history is empty");
    write_text_atomic(dir / "bad.json", R"({"log_history": [)");
    expect_error(dir / "bad.json", image, "bad.json", "not valid JSON");
    write_text_atomic(dir / "no_step.json", R"({"log_history": [{"loss": 1}]})");
    expect_error(dir / "no_step.json", image, "no_step.json", "log_history[0] has no numeric");

    const fs::path good = write_state(dir / "run", sample_state().dump());
    expect_error(good, dir / "curves.jpg", (dir / "curves.jpg").string(), "only .svg");
    expect_error(good, dir / "curves.png", (dir / "curves.png").string(), "only .svg");
    expect_error(good, dir / "curves", (dir / "curves").string(), "only .svg");
    expect_error(good, dir / "no_such_dir" / "c.svg", (dir / "no_such_dir" / "c.svg").string(),
                 "cannot create");

    EXPECT_EQ(read_text_file(image), "old");
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    EXPECT_EQ(names, (std::set<std::string>{"curves.svg", "bad.json", "empty.json",
                                            "no_history.json", "no_step.json", "run"}));
    // A good plot replaces the old file whole, with no temporary left beside it.
    plot_trainer_state(good, image);
    EXPECT_NE(read_text_file(image).find("</svg>"), std::string::npos);
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
    EXPECT_EQ(files, names.size());
}

// ---------------------------------------------------------------------------------------------
// The CLI.

TEST(PlotCli, OutputDirCheckpointAndJsonFile) {
    const fs::path run = test::make_temp_dir("plot_cli") / "cola_run";
    json early = sample_state();
    early["log_history"] = json::array({early["log_history"][0]});
    write_state(run / "checkpoint-20", early.dump());
    write_state(run / "checkpoint-40", sample_state().dump());
    write_state(run / "checkpoint-5", early.dump());

    // An output_dir without its own trainer_state.json: the latest checkpoint's.
    int rc;
    std::string out = test::run_cli("plot " + run.string(), &rc);
    ASSERT_EQ(rc, 0) << out;
    const fs::path image = run / "training_curves.svg";
    EXPECT_EQ(out, "wrote " + image.string() + " (from " +
                       (run / "checkpoint-40" / "trainer_state.json").string() + ")\n");
    std::string svg = read_text_file(image);
    EXPECT_EQ(polyline_points(svg).at("loss"), size_t(MAX_STEPS));
    EXPECT_NE(svg.find("Training curves: cola_run/checkpoint-40"), std::string::npos);

    // The run's own trainer_state.json wins once it exists.
    write_state(run, early.dump());
    out = test::run_cli("plot " + run.string(), &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_EQ(polyline_points(read_text_file(image)).at("loss"), 1u);

    // A checkpoint folder, and the json file itself, with -o.
    out = test::run_cli("plot " + (run / "checkpoint-20").string(), &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_TRUE(fs::exists(run / "checkpoint-20" / "training_curves.svg"));
    const fs::path custom = run / "custom.svg";
    out = test::run_cli("plot " + (run / "checkpoint-40" / "trainer_state.json").string() + " -o " +
                            custom.string(),
                        &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("wrote " + custom.string()), std::string::npos) << out;
    EXPECT_EQ(polyline_points(read_text_file(custom)).at("loss"), size_t(MAX_STEPS));
}

TEST(PlotCli, ErrorsAreOneLine) {
    const fs::path dir = test::make_temp_dir("plot_cli_errors");
    int rc;
    std::string out = test::run_cli("plot " + (dir / "nope").string(), &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(out, "finetune: error: " + (dir / "nope").string() + ": no such file or directory\n");
    out = test::run_cli("plot " + dir.string(), &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find(dir.string() + ": no trainer_state.json"), std::string::npos) << out;
    write_state(dir, sample_state().dump());
    out = test::run_cli("plot " + dir.string() + " -o " + (dir / "c.png").string(), &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find((dir / "c.png").string() + ": PNG output is not supported, only .svg"),
              std::string::npos)
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
    out = test::run_cli("plot", &rc);
    EXPECT_EQ(rc, 2) << out;
}

}  // namespace ft
