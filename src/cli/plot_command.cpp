// `finetune plot OUTPUT_DIR [-o FILE]`: the training curves of a run as an SVG. OUTPUT_DIR is a
// run's output_dir (its trainer_state.json, else the latest checkpoint-N's), a checkpoint folder
// or a trainer_state.json itself; the image goes to OUTPUT_DIR/training_curves.svg by default.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "finetune/core.h"
#include "finetune/report.h"
#include "finetune/train.h"
#include "train/checkpoint.h"

namespace ft::cli {

namespace {

namespace fs = std::filesystem;

fs::path find_trainer_state(const fs::path& input) {
    std::error_code ec;
    if (!fs::exists(input, ec)) throw Error(input.string() + ": no such file or directory");
    if (!fs::is_directory(input, ec)) return input;
    if (fs::is_regular_file(input / "trainer_state.json", ec)) return input / "trainer_state.json";
    // HF saves trainer_state.json only in checkpoints: take the latest one that has it.
    fs::path best;
    long long best_step = -1;
    for (const auto& entry : fs::directory_iterator(input, ec)) {
        const long long step = checkpoint::checkpoint_step(entry.path().filename().string());
        if (step > best_step && fs::is_regular_file(entry.path() / "trainer_state.json", ec)) {
            best_step = step;
            best = entry.path() / "trainer_state.json";
        }
    }
    if (best.empty())
        throw Error(input.string() +
                    ": no trainer_state.json here nor in a checkpoint-N folder (is it a run's "
                    "output_dir?)");
    return best;
}

int run_plot(const std::string& input, const std::string& output) {
    const fs::path state = find_trainer_state(input);
    fs::path image = output;
    if (image.empty()) {
        std::error_code ec;
        const fs::path dir = fs::is_directory(input, ec) ? fs::path(input) : state.parent_path();
        image = (dir.empty() ? fs::path(".") : dir) / "training_curves.svg";
    }
    plot_trainer_state(state, image);
    std::printf("wrote %s (from %s)\n", image.string().c_str(), state.string().c_str());
    return 0;
}

}  // namespace

Command register_plot(CLI::App& app) {
    auto* sub = app.add_subcommand(
        "plot", "Draw a run's training loss, learning rate and eval metrics as an SVG");
    auto input = std::make_shared<std::string>();
    auto output = std::make_shared<std::string>();
    sub->add_option("output_dir", *input,
                    "A run's output_dir, a checkpoint-N folder or a trainer_state.json")
        ->required();
    sub->add_option("-o,--output", *output,
                    "The image to write (.svg); default OUTPUT_DIR/training_curves.svg");
    return {sub, [input, output] { return run_plot(*input, *output); }};
}

}  // namespace ft::cli
