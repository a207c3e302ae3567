// finetune/report.h — a run shown to a person: the training curves from its trainer_state.json
// (HF's log_history), drawn as an SVG: three panels over the step axis with epoch boundaries.
// Sits above train/: it reads the files training writes; nothing below uses it.
#pragma once

#include <filesystem>

namespace ft {

// Writes the image atomically; throws ft::Error naming the file when trainer_state.json is
// missing, unreadable or has no log_history, or when the extension is not .svg (PNG is not
// written: there is no rasteriser in the build).
void plot_trainer_state(const std::filesystem::path& trainer_state_json,
                        const std::filesystem::path& image);

}  // namespace ft
