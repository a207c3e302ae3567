// Checkpoint folders written atomically, the optimizer state in safetensors, the loop position
// file and HF's checkpoint rotation.
#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/crash_point.h"
#include "core/device_cuda.h"
#include "finetune/io.h"
#include "ops/context.h"

namespace ft::checkpoint {

namespace {

void fsync_path(const fs::path& p, bool directory) {
    const int fd = ::open(p.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
    if (fd < 0) throw Error("cannot open " + p.string() + " to sync it: " + std::strerror(errno));
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) throw Error("cannot sync " + p.string() + ": " + std::strerror(errno));
}

// A whole string of decimal digits that fits int64_t; nullopt for anything else.
std::optional<int64_t> parse_step(std::string_view text) {
    int64_t v = 0;
    if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

// A GPU optimizer's moments copied to the host (flat, laid out like the weights), in order after
// the updates queued on its context.
std::vector<float> moment_to_host(const AdamW& optimizer, const float* device_moment, int64_t n) {
    std::vector<float> host(static_cast<size_t>(n));
    cuda::copy_to_host(host.data(), device_moment, host.size() * sizeof(float),
                       optimizer.context().stream);
    return host;
}

}  // namespace

int64_t checkpoint_step(const std::string& folder_name) {
    // A step too large for int64_t is not a folder we wrote: not a checkpoint (HF's int() would
    // take it, but no run reaches that step).
    static const std::string prefix = "checkpoint-";
    if (folder_name.rfind(prefix, 0) != 0) return -1;
    return parse_step(std::string_view(folder_name).substr(prefix.size())).value_or(-1);
}

void commit_directory(const fs::path& final_dir, const std::function<void(const fs::path&)>& fill) {
    const fs::path parent =
        final_dir.parent_path().empty() ? fs::path(".") : final_dir.parent_path();
    const std::string name = final_dir.filename().string();
    const fs::path tmp = parent / ("tmp-" + name);
    const fs::path old = parent / ("old-" + name);
    fs::create_directories(parent);
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    try {
        fill(tmp);
        for (const auto& e : fs::directory_iterator(tmp)) {
            crash_point("checkpoint-file");  // some files synced, others not
            if (e.is_regular_file()) fsync_path(e.path(), false);
        }
        fsync_path(tmp, true);
        crash_point("checkpoint-filled");  // whole in tmp-, not yet renamed
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
    std::error_code ec;
    if (fs::exists(final_dir, ec)) {
        fs::remove_all(old, ec);
        fs::rename(final_dir, old);
        crash_point("checkpoint-replacing");  // the old one moved aside, the new one not in place
        fs::rename(tmp, final_dir);
        fsync_path(parent, true);
        fs::remove_all(old, ec);
    } else {
        fs::rename(tmp, final_dir);
        fsync_path(parent, true);
    }
    crash_point("checkpoint-committed");
}

void remove_stale_temporaries(const fs::path& run_dir) {
    std::error_code ec;
    if (!fs::is_directory(run_dir, ec)) return;
    std::vector<fs::path> stale;
    for (const auto& e : fs::directory_iterator(run_dir, ec)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("tmp-checkpoint-", 0) == 0 || n.rfind("old-checkpoint-", 0) == 0)
            stale.push_back(e.path());
    }
    for (const auto& p : stale) {
        // An old- folder whose checkpoint- twin is missing is the only copy: restore it.
        const std::string n = p.filename().string();
        if (n.rfind("old-", 0) == 0 && !fs::exists(run_dir / n.substr(4), ec))
            fs::rename(p, run_dir / n.substr(4), ec);
        else
            fs::remove_all(p, ec);
    }
}

void save_optimizer(const fs::path& path, const ModelWeights& weights, AdamW& optimizer) {
    // The file is the same whatever the device: a GPU optimizer's moments are written from a
    // host copy.
    const bool on_host = optimizer.device() == Device::CPU;
    std::vector<float> m_host, v_host;
    if (!on_host) {
        m_host = moment_to_host(optimizer, optimizer.exp_avg(), weights.flat_size());
        v_host = moment_to_host(optimizer, optimizer.exp_avg_sq(), weights.flat_size());
    }
    float* m = on_host ? optimizer.exp_avg() : m_host.data();
    float* v = on_host ? optimizer.exp_avg_sq() : v_host.data();
    StateDict sd;
    for (size_t i = 0; i < weights.specs().size(); ++i) {
        const auto& spec = weights.specs()[i];
        const int64_t off = weights.offset_of(i);
        sd.insert(spec.name + ".exp_avg", Tensor::view(m + off, DType::F32, spec.shape));
        sd.insert(spec.name + ".exp_avg_sq", Tensor::view(v + off, DType::F32, spec.shape));
    }
    const std::string optim =
        optimizer.settings().kind == OptimizerKind::ADAMW_HF ? "adamw_hf" : "adamw_torch";
    write_safetensors(path, sd,
                      {{"format", "finetune-adamw-v1"},
                       {"step", std::to_string(optimizer.step_count())},
                       {"optim", optim}});
}

void load_optimizer(const fs::path& path, const ModelWeights& weights, AdamW& optimizer) {
    const SafetensorsFile f = read_safetensors(path);
    auto meta = [&](const std::string& key) {
        auto it = f.metadata.find(key);
        if (it == f.metadata.end())
            throw Error(path.string() + ": metadata has no '" + key +
                        "' (not a finetune optimizer file)");
        return it->second;
    };
    if (meta("format") != "finetune-adamw-v1")
        throw Error(path.string() + ": unknown optimizer format '" + meta("format") + "'");
    const std::string optim =
        optimizer.settings().kind == OptimizerKind::ADAMW_HF ? "adamw_hf" : "adamw_torch";
    if (meta("optim") != optim)
        throw Error(path.string() + ": the checkpoint was trained with optim " + meta("optim") +
                    ", the arguments ask for " + optim);
    // A GPU optimizer's moments are filled on the host (padding zero), then uploaded whole.
    const bool on_host = optimizer.device() == Device::CPU;
    std::vector<float> m_host, v_host;
    if (!on_host) {
        m_host.assign(static_cast<size_t>(weights.flat_size()), 0.0f);
        v_host.assign(static_cast<size_t>(weights.flat_size()), 0.0f);
    }
    float* m = on_host ? optimizer.exp_avg() : m_host.data();
    float* v = on_host ? optimizer.exp_avg_sq() : v_host.data();
    for (size_t i = 0; i < weights.specs().size(); ++i) {
        const auto& spec = weights.specs()[i];
        const int64_t off = weights.offset_of(i);
        for (int which = 0; which < 2; ++which) {
            const std::string name = spec.name + (which == 0 ? ".exp_avg" : ".exp_avg_sq");
            const Tensor* found = f.tensors.find(name);
            if (!found)
                throw Error(path.string() + ": tensor '" + name +
                            "' is missing (an optimizer state for another model?)");
            const Tensor& t = *found;
            if (t.dtype != DType::F32 || t.shape != spec.shape)
                throw Error(path.string() + ": tensor '" + name + "' is " +
                            std::string(dtype_name(t.dtype)) + " " + t.shape.str() +
                            ", expected F32 " + spec.shape.str());
            float* dst = (which == 0 ? m : v) + off;
            std::memcpy(dst, t.ptr<float>(), t.nbytes());
        }
    }
    if (!on_host) {
        const size_t bytes = m_host.size() * sizeof(float);
        cuda::copy_to_device(optimizer.exp_avg(), m_host.data(), bytes, optimizer.context().stream);
        cuda::copy_to_device(optimizer.exp_avg_sq(), v_host.data(), bytes,
                             optimizer.context().stream);
    }
    const std::optional<int64_t> step = parse_step(meta("step"));
    if (!step)
        throw Error(path.string() + ": metadata 'step' is '" + meta("step") +
                    "', expected a whole number of optimizer steps");
    optimizer.set_step_count(*step);
}

void load_weights(const fs::path& path, ModelWeights& weights) {
    if (weights.device() != Device::CPU)
        throw Error("load_weights: " + path.string() +
                    " is read into host weights (the Trainer "
                    "uploads them to the GPU after loading)");
    const SafetensorsFile f = read_safetensors(path);
    for (size_t i = 0; i < weights.specs().size(); ++i) {
        const auto& spec = weights.specs()[i];
        const Tensor* t = f.tensors.find(spec.name);
        if (!t) throw Error(path.string() + ": tensor '" + spec.name + "' is missing");
        if (t->dtype != DType::F32 || t->shape != spec.shape)
            throw Error(path.string() + ": tensor '" + spec.name + "' is " +
                        std::string(dtype_name(t->dtype)) + " " + t->shape.str() +
                        ", expected F32 " + spec.shape.str());
        std::memcpy(weights.tensor(i).ptr<float>(), t->ptr<float>(), t->nbytes());
    }
}

std::string position_to_json(const LoopPosition& p) {
    nlohmann::ordered_json j;
    j["format"] = "finetune-loop-v1";
    j["epoch"] = p.epoch;
    j["batch_in_epoch"] = p.batch_in_epoch;
    j["micro_steps"] = p.micro_steps;
    j["at_epoch_end"] = p.at_epoch_end;
    // The float32 accumulator is stored by its bits so that resuming continues bit-identically.
    uint32_t bits;
    std::memcpy(&bits, &p.tr_loss, 4);
    j["tr_loss_f32_bits"] = bits;
    j["tr_loss"] = p.tr_loss;
    j["total_loss"] = p.total_loss;
    j["globalstep_last_logged"] = p.globalstep_last_logged;
    j["seed"] = p.seed;
    j["data_seed"] = p.data_seed;
    j["sampling"] = p.sampling;
    j["train_rows"] = p.train_rows;
    j["train_batch_size"] = p.train_batch_size;
    j["gradient_accumulation_steps"] = p.gradient_accumulation_steps;
    return j.dump(2) + "\n";
}

LoopPosition position_from_json(const std::string& text, const std::string& source) {
    LoopPosition p;
    try {
        const auto j = nlohmann::json::parse(text);
        if (j.value("format", "") != "finetune-loop-v1")
            throw Error(source + ": not a finetune_state.json (format finetune-loop-v1)");
        // get<int64_t>() casts a float unchecked (undefined past int64): the counters must be
        // JSON integers, as position_to_json writes them.
        for (const char* key : {"epoch", "batch_in_epoch", "micro_steps", "tr_loss_f32_bits",
                                "globalstep_last_logged", "seed", "data_seed", "train_rows",
                                "train_batch_size", "gradient_accumulation_steps"})
            if (j.contains(key) && !j.at(key).is_number_integer())
                throw Error(source + ": field '" + key + "' must be an integer, got " +
                            j.at(key).dump());
        p.epoch = j.at("epoch").get<int64_t>();
        p.batch_in_epoch = j.at("batch_in_epoch").get<int64_t>();
        p.micro_steps = j.at("micro_steps").get<int64_t>();
        p.at_epoch_end = j.at("at_epoch_end").get<bool>();
        const auto bits = j.at("tr_loss_f32_bits").get<uint32_t>();
        std::memcpy(&p.tr_loss, &bits, 4);
        p.total_loss = j.at("total_loss").get<double>();
        p.globalstep_last_logged = j.at("globalstep_last_logged").get<int64_t>();
        p.seed = j.at("seed").get<int64_t>();
        p.data_seed = j.at("data_seed").get<int64_t>();
        p.sampling = j.at("sampling").get<std::string>();
        p.train_rows = j.at("train_rows").get<int64_t>();
        p.train_batch_size = j.at("train_batch_size").get<int64_t>();
        p.gradient_accumulation_steps = j.at("gradient_accumulation_steps").get<int64_t>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(source + ": " + e.what());
    }
    return p;
}

void rotate_checkpoints(const fs::path& run_dir, int64_t save_total_limit,
                        const std::optional<std::string>& best_model_checkpoint) {
    if (save_total_limit <= 0) return;
    std::vector<std::pair<int64_t, fs::path>> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(run_dir, ec)) {
        const int64_t step = checkpoint_step(e.path().filename().string());
        if (e.is_directory() && step >= 0) found.emplace_back(step, e.path());
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> sorted;
    for (auto& f : found) sorted.push_back(f.second);
    if (sorted.size() <= static_cast<size_t>(save_total_limit)) return;
    int64_t limit = save_total_limit;
    if (best_model_checkpoint) {
        const std::string best_name = fs::path(*best_model_checkpoint).filename().string();
        auto it = std::find_if(sorted.begin(), sorted.end(),
                               [&](const fs::path& p) { return p.filename() == best_name; });
        if (it != sorted.end()) {
            // Bubble the best one up to the second-to-last place, as HF does.
            for (size_t i = static_cast<size_t>(it - sorted.begin()); i + 2 < sorted.size(); ++i)
                std::swap(sorted[i], sorted[i + 1]);
            if (save_total_limit == 1 && sorted.back().filename() != best_name) limit = 2;
        }
    }
    const int64_t to_delete = std::max<int64_t>(0, static_cast<int64_t>(sorted.size()) - limit);
    for (int64_t i = 0; i < to_delete; ++i) {
        log_info("Deleting older checkpoint [" + sorted[static_cast<size_t>(i)].string() +
                 "] due to args.save_total_limit");
        fs::remove_all(sorted[static_cast<size_t>(i)], ec);
    }
}

}  // namespace ft::checkpoint
