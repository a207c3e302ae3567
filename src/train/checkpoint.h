// Checkpoint folders: written whole into a temporary folder and renamed into place (a
// checkpoint is complete or absent), the optimizer's moments as safetensors, our loop position
// as finetune_state.json, and save_total_limit rotation as HF's Trainer does it.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "finetune/model.h"
#include "finetune/train.h"

namespace ft::checkpoint {

namespace fs = std::filesystem;

// Fills `<parent>/tmp-<name>` with `fill`, fsyncs every file and the folder, then renames it to
// `<parent>/<name>` (replacing an older folder of that name). A crash at any point leaves either
// the old folder or the new one under <name>, never a partial one.
void commit_directory(const fs::path& final_dir, const std::function<void(const fs::path&)>& fill);
// The N of a "checkpoint-N" folder name, or -1 for any other name.
int64_t checkpoint_step(const std::string& folder_name);
// Removes tmp-checkpoint-* and old-checkpoint-* folders a crash left behind.
void remove_stale_temporaries(const fs::path& run_dir);

// optimizer.safetensors: "<param>.exp_avg" and "<param>.exp_avg_sq" under HF's parameter names,
// metadata {"format": "finetune-adamw-v1", "step": N, "optim": "adamw_torch"|"adamw_hf"}.
void save_optimizer(const fs::path& path, const ModelWeights& weights, AdamW& optimizer);
void load_optimizer(const fs::path& path, const ModelWeights& weights, AdamW& optimizer);

// Copies a checkpoint's model.safetensors into `weights` (every parameter must be there with
// its shape; errors name the file and tensor).
void load_weights(const fs::path& path, ModelWeights& weights);

// Where the loop stood when a checkpoint was written (finetune_state.json; documented in
// docs/checkpoints.md). Everything the data order and dropout depend on is a pure function of
// these numbers and the seeds, so resuming needs no replay of the data loader.
struct LoopPosition {
    int64_t epoch = 0;           // 0-based epoch the last consumed batch belongs to
    int64_t batch_in_epoch = 0;  // batches of that epoch consumed
    int64_t micro_steps = 0;     // batches consumed in all (the dropout counter)
    bool at_epoch_end = false;   // saved after the epoch-end evaluation, not at a step end
    float tr_loss = 0.0f;        // loss summed since the last log (HF's tr_loss, float32)
    double total_loss = 0.0;     // sum of logged losses (HF's _total_loss_scalar)
    int64_t globalstep_last_logged = 0;
    int64_t seed = 42;
    int64_t data_seed = 42;
    std::string sampling;  // "random" / "sequential" / "group_by_length"
    int64_t train_rows = 0;
    int64_t train_batch_size = 0;
    int64_t gradient_accumulation_steps = 1;
};
std::string position_to_json(const LoopPosition& p);
LoopPosition position_from_json(const std::string& text, const std::string& source);

// HF's _rotate_checkpoints: keeps the newest save_total_limit checkpoint-N folders, never the
// best one (it is moved out of the deletion order; a limit of 1 keeps 2 when the best is not
// the newest).
void rotate_checkpoints(const fs::path& run_dir, int64_t save_total_limit,
                        const std::optional<std::string>& best_model_checkpoint);

}  // namespace ft::checkpoint
