// from_pretrained / save_pretrained for directories in HF's layout: config.json plus
// model.safetensors, a sharded safetensors index, or pytorch_model.bin (single or sharded).
// Key matching follows HF: base-model prefixes, old gamma/beta names, buffers ignored,
// missing weights initialised and listed, unexpected ones listed.
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "finetune/model.h"
#include "model/family.h"

namespace ft {

namespace {

struct WeightFiles {
    StateDict tensors;
    std::string format;
    std::vector<std::string> files;
};

WeightFiles read_sharded_bin(const fs::path& index) {
    const auto text = read_text_file(index);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
        throw Error(index.string() + ": invalid JSON: " + e.what());
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        throw Error(index.string() + ": missing object 'weight_map'");
    std::vector<std::string> shards;
    for (const auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string())
            throw Error(index.string() + ": weight_map['" + name + "'] is not a file name");
        const auto f = file.get<std::string>();
        if (std::find(shards.begin(), shards.end(), f) == shards.end()) shards.push_back(f);
    }
    WeightFiles out;
    for (const auto& f : shards) {
        StateDict part = read_pytorch_bin(index.parent_path() / f);
        for (const auto& [name, t] : part.entries()) out.tensors.insert(name, t);
        out.files.push_back(f);
    }
    for (const auto& [name, file] : j["weight_map"].items())
        if (!out.tensors.contains(name))
            throw Error(index.string() + ": tensor '" + name + "' is not in its shard " +
                        file.get<std::string>());
    out.format = "pytorch_model.bin (" + std::to_string(shards.size()) + " shards)";
    return out;
}

WeightFiles read_weight_files(const fs::path& dir) {
    WeightFiles w;
    if (fs::exists(dir / "model.safetensors")) {
        w.tensors = read_safetensors(dir / "model.safetensors").tensors;
        w.format = "safetensors";
        w.files = {"model.safetensors"};
    } else if (fs::exists(dir / "model.safetensors.index.json")) {
        w.tensors = read_safetensors_sharded(dir / "model.safetensors.index.json").tensors;
        w.format = "safetensors (sharded)";
        w.files = {"model.safetensors.index.json"};
    } else if (fs::exists(dir / "pytorch_model.bin")) {
        w.tensors = read_pytorch_bin(dir / "pytorch_model.bin");
        w.format = "pytorch_model.bin";
        w.files = {"pytorch_model.bin"};
    } else if (fs::exists(dir / "pytorch_model.bin.index.json")) {
        w = read_sharded_bin(dir / "pytorch_model.bin.index.json");
    } else {
        throw Error(
            dir.string() +
            ": no model weights found (looked for model.safetensors, "
            "model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json)");
    }
    return w;
}

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Old TF-converted checkpoints name LayerNorm parameters gamma/beta; HF renames them on load.
std::string fix_legacy_name(const std::string& key) {
    if (ends_with(key, ".gamma")) return key.substr(0, key.size() - 6) + ".weight";
    if (ends_with(key, ".beta")) return key.substr(0, key.size() - 5) + ".bias";
    return key;
}

bool is_buffer(const std::string& key) {
    return ends_with(key, "embeddings.position_ids") || ends_with(key, "embeddings.token_type_ids");
}

// Copies a checkpoint tensor into a model parameter, widening half precision to f32.
void copy_into(Tensor& dst, const Tensor& src_view, const std::string& key, const fs::path& dir) {
    if (src_view.shape != dst.shape)
        throw Error(dir.string() + ": weight '" + key + "' has shape " + src_view.shape.str() +
                    " in the checkpoint but the model (from config.json) needs " + dst.shape.str() +
                    " (ignore_mismatched_sizes initialises such weights afresh, as HF does)");
    // A file's tensors can sit at offsets that are not multiples of their element size (after a
    // 1-byte tensor, say); an aligned contiguous copy makes the typed reads below well-defined.
    const bool aligned =
        reinterpret_cast<uintptr_t>(src_view.data) % dtype_size(src_view.dtype) == 0;
    const Tensor src = src_view.is_contiguous() && aligned ? src_view : src_view.contiguous_copy();
    float* d = dst.ptr<float>();
    const int64_t n = dst.numel();
    switch (src.dtype) {
        case DType::F32:
            std::copy_n(src.ptr<const float>(), n, d);
            break;
        case DType::F64:
            for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(src.ptr<const double>()[i]);
            break;
        case DType::BF16:
            for (int64_t i = 0; i < n; ++i) d[i] = bf16_to_f32(src.ptr<const uint16_t>()[i]);
            break;
        case DType::F16:
            for (int64_t i = 0; i < n; ++i) d[i] = f16_to_f32(src.ptr<const uint16_t>()[i]);
            break;
        default:
            throw Error(dir.string() + ": weight '" + key + "' has dtype " +
                        std::string(dtype_name(src.dtype)) + "; a floating-point dtype is needed");
    }
}

}  // namespace

PretrainedModel load_pretrained(const fs::path& dir, const LoadOptions& options) {
    if (!fs::is_directory(dir)) throw Error(dir.string() + ": not a model directory");
    if (!fs::exists(dir / "config.json")) throw Error(dir.string() + ": config.json is missing");
    ModelConfig config = load_model_config(dir / "config.json");
    if (options.task) config.task = *options.task;
    if (options.id2label) {
        if (options.id2label->empty()) throw Error("id2label must name at least one label");
        config.id2label = *options.id2label;
    }
    if (options.num_labels) config.set_num_labels(*options.num_labels);

    WeightFiles files = read_weight_files(dir);
    PretrainedModel m{config, ModelWeights(config), {}};
    m.report.format = files.format;
    m.report.weight_files = files.files;

    // A base model saved bare (BertModel.save_pretrained) has no "bert." prefix: add it.
    const std::string prefix = std::string(family_descriptor(config.family).base_prefix) + ".";
    bool has_prefix = false;
    for (const auto& [name, t] : files.tensors.entries()) {
        if (name.rfind(prefix, 0) == 0) has_prefix = true;
        m.report.file_dtypes[std::string(dtype_name(t.dtype))]++;
    }

    std::vector<bool> loaded(m.weights.specs().size(), false);
    std::map<std::string, size_t> slot;
    std::set<size_t> mismatched;  // slots whose checkpoint weight had another shape
    for (size_t i = 0; i < m.weights.specs().size(); ++i) slot[m.weights.specs()[i].name] = i;

    for (const auto& [file_key, t] : files.tensors.entries()) {
        if (is_buffer(file_key)) {
            m.report.ignored_buffers.push_back(file_key);
            continue;
        }
        std::string key = fix_legacy_name(file_key);
        if (!has_prefix && !slot.count(key) && slot.count(prefix + key)) key = prefix + key;
        auto it = slot.find(key);
        if (it == slot.end()) {
            m.report.unexpected_keys.push_back(file_key);
            continue;
        }
        if (loaded[it->second]) throw Error(dir.string() + ": weight '" + key + "' appears twice");
        Tensor& dst = m.weights.tensor(it->second);
        if (options.ignore_mismatched_sizes && t.shape != dst.shape) {
            m.report.mismatched.push_back({file_key, t.shape.str(), dst.shape.str()});
            mismatched.insert(it->second);
            continue;
        }
        copy_into(dst, t, file_key, dir);
        loaded[it->second] = true;
    }
    for (size_t i = 0; i < loaded.size(); ++i) {
        if (loaded[i]) continue;
        const auto& spec = m.weights.specs()[i];
        init_parameter(m.weights.tensor(i), spec, config.initializer_range(), options.init_seed, i);
        if (!mismatched.count(i)) m.report.missing_keys.push_back(spec.name);
    }
    return m;
}

void save_pretrained(const ModelConfig& config, const ModelWeights& weights, const fs::path& dir) {
    fs::create_directories(dir);
    ModelConfig out = config;
    out.architectures = {config.classifier_architecture()};
    write_text_atomic(dir / "config.json", model_config_to_json(out));
    // HF's from_pretrained refuses safetensors files whose metadata lacks format=pt.
    write_safetensors(dir / "model.safetensors", weights.state_dict(), {{"format", "pt"}});
}

}  // namespace ft
