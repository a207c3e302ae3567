// trainer_state.json as HF writes and reads it (TrainerState.save_to_json / load_from_json), the
// log_history entries, and run_glue's metric files (save_metrics, log_metrics).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "finetune/io.h"
#include "finetune/trainer.h"
#include "train/checkpoint.h"

namespace ft {

using json = nlohmann::json;

void LogEntry::set(const std::string& key, std::optional<double> v) {
    for (auto& kv : values)
        if (kv.first == key) {
            kv.second = v;
            return;
        }
    values.emplace_back(key, v);
}

std::optional<double> LogEntry::get(const std::string& key) const {
    for (const auto& kv : values)
        if (kv.first == key) return kv.second;
    return std::nullopt;
}

bool LogEntry::has(const std::string& key) const {
    return std::any_of(values.begin(), values.end(),
                       [&](const auto& kv) { return kv.first == key; });
}

namespace {

// Integers (step, counts) stay integers in the file, as Python writes ints.
bool is_integer_key(const std::string& key) {
    return key == "step" || key == "train_samples" || key == "eval_samples" ||
           key == "predict_samples" || key == "test_samples";
}

// Only a value inside int64's range is cast (a cast past it is undefined); a read file may hold
// any number under an integer key.
json number(const std::string& key, std::optional<double> v) {
    if (!v) return nullptr;
    if (is_integer_key(key) && *v >= -0x1p63 && *v < 0x1p63) return static_cast<int64_t>(*v);
    return *v;
}

// An integer field: a JSON integer, or a whole float inside int64's range (as Python's int()
// reads it). nlohmann's get<int64_t>() would cast any float unchecked, which is undefined past
// int64.
int64_t integer(const json& v, const std::string& key, const std::string& source) {
    if (v.is_number_unsigned()) {
        if (v.get<uint64_t>() <= uint64_t(INT64_MAX)) return v.get<int64_t>();
    } else if (v.is_number_integer()) {
        return v.get<int64_t>();
    } else if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d >= -0x1p63 && d < 0x1p63 && d == std::trunc(d)) return static_cast<int64_t>(d);
    }
    throw Error(source + ": field '" + key + "' must be an integer, got " + v.dump());
}

json optional_json(const std::optional<double>& v) {
    return v ? json(*v) : json(nullptr);
}

}  // namespace

std::string TrainerState::to_json() const {
    json j;  // std::map-backed: keys sorted at every level, like sort_keys=True
    j["epoch"] = epoch;
    j["global_step"] = global_step;
    j["max_steps"] = max_steps;
    j["logging_steps"] = logging_steps;
    j["eval_steps"] = eval_steps;
    j["save_steps"] = save_steps;
    j["train_batch_size"] = train_batch_size;
    j["num_train_epochs"] = num_train_epochs;
    j["num_input_tokens_seen"] = num_input_tokens_seen;
    j["total_flos"] = total_flos;
    j["best_metric"] = optional_json(best_metric);
    j["best_global_step"] = best_global_step ? json(*best_global_step) : json(nullptr);
    j["best_model_checkpoint"] =
        best_model_checkpoint ? json(*best_model_checkpoint) : json(nullptr);
    j["is_local_process_zero"] = true;
    j["is_world_process_zero"] = true;
    j["is_hyper_param_search"] = false;
    j["trial_name"] = nullptr;
    j["trial_params"] = nullptr;
    json history = json::array();
    for (const auto& e : log_history) {
        json entry = json::object();
        for (const auto& [k, v] : e.values) entry[k] = number(k, v);
        history.push_back(entry);
    }
    j["log_history"] = history;
    json callbacks;
    callbacks["TrainerControl"] = {{"args",
                                    {{"should_training_stop", control.should_training_stop},
                                     {"should_epoch_stop", control.should_epoch_stop},
                                     {"should_save", control.should_save},
                                     {"should_evaluate", control.should_evaluate},
                                     {"should_log", control.should_log}}},
                                   {"attributes", json::object()}};
    if (early_stopping_patience)
        callbacks["EarlyStoppingCallback"] = {
            {"args",
             {{"early_stopping_patience", *early_stopping_patience},
              {"early_stopping_threshold", early_stopping_threshold}}},
            {"attributes", {{"early_stopping_patience_counter", early_stopping_patience_counter}}}};
    j["stateful_callbacks"] = callbacks;
    return j.dump(2) + "\n";
}

TrainerState TrainerState::from_json(const std::string& text, const std::string& source) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(source + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(source + ": expected a JSON object");
    TrainerState s;
    auto need = [&](const char* key) -> const json& {
        if (!j.contains(key)) throw Error(source + ": missing field '" + key + "'");
        return j.at(key);
    };
    auto int_field = [&](const char* key) { return integer(j.at(key), key, source); };
    try {
        s.epoch = need("epoch").is_null() ? 0.0 : need("epoch").get<double>();
        s.global_step = integer(need("global_step"), "global_step", source);
        s.max_steps = integer(need("max_steps"), "max_steps", source);
        if (j.contains("logging_steps")) s.logging_steps = int_field("logging_steps");
        if (j.contains("eval_steps")) s.eval_steps = int_field("eval_steps");
        if (j.contains("save_steps")) s.save_steps = int_field("save_steps");
        if (j.contains("train_batch_size") && !j["train_batch_size"].is_null())
            s.train_batch_size = int_field("train_batch_size");
        if (j.contains("num_train_epochs")) s.num_train_epochs = int_field("num_train_epochs");
        if (j.contains("num_input_tokens_seen"))
            s.num_input_tokens_seen = int_field("num_input_tokens_seen");
        if (j.contains("total_flos")) s.total_flos = j["total_flos"].get<double>();
        if (j.contains("best_metric") && !j["best_metric"].is_null())
            s.best_metric = j["best_metric"].get<double>();
        if (j.contains("best_global_step") && !j["best_global_step"].is_null())
            s.best_global_step = int_field("best_global_step");
        if (j.contains("best_model_checkpoint") && !j["best_model_checkpoint"].is_null())
            s.best_model_checkpoint = j["best_model_checkpoint"].get<std::string>();
        for (const auto& e : need("log_history")) {
            LogEntry entry;
            // HF's files are sorted by key; the order of a re-read entry is the file's.
            for (const auto& [k, v] : e.items())
                entry.values.emplace_back(
                    k, v.is_null() ? std::nullopt : std::optional<double>(v.get<double>()));
            s.log_history.push_back(std::move(entry));
        }
        // at() rather than operator[] below: on a const json, operator[] of a missing key is
        // undefined behaviour (a read past the map), where at() throws.
        if (j.contains("stateful_callbacks")) {
            const json& cb = j["stateful_callbacks"];
            if (cb.contains("TrainerControl")) {
                const json& a = cb.at("TrainerControl").at("args");
                s.control.should_training_stop = a.value("should_training_stop", false);
                s.control.should_epoch_stop = a.value("should_epoch_stop", false);
                s.control.should_save = a.value("should_save", false);
                s.control.should_evaluate = a.value("should_evaluate", false);
                s.control.should_log = a.value("should_log", false);
            }
            if (cb.contains("EarlyStoppingCallback")) {
                const json& args = cb.at("EarlyStoppingCallback").at("args");
                const json& attributes = cb.at("EarlyStoppingCallback").at("attributes");
                s.early_stopping_patience =
                    integer(args.at("early_stopping_patience"), "early_stopping_patience", source);
                s.early_stopping_threshold = args.at("early_stopping_threshold").get<double>();
                s.early_stopping_patience_counter =
                    integer(attributes.at("early_stopping_patience_counter"),
                            "early_stopping_patience_counter", source);
            }
        }
    } catch (const json::exception& e) {
        throw Error(source + ": a field is missing or has the wrong type: " + e.what());
    }
    return s;
}

std::filesystem::path get_last_checkpoint(const std::filesystem::path& dir) {
    std::filesystem::path best;
    int64_t best_step = -1;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return {};
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const int64_t step = checkpoint::checkpoint_step(entry.path().filename().string());
        if (entry.is_directory() && step > best_step) {
            best_step = step;
            best = entry.path();
        }
    }
    return best;
}

void save_metrics(const std::filesystem::path& output_dir, const std::string& split,
                  const std::map<std::string, double>& metrics) {
    json j = json::object();
    for (const auto& [k, v] : metrics) j[k] = number(k, v);
    write_text_atomic(output_dir / (split + "_results.json"), j.dump(4) + "\n");
    const auto all_path = output_dir / "all_results.json";
    json all = json::object();
    std::error_code ec;
    if (std::filesystem::exists(all_path, ec)) {
        try {
            all = json::parse(read_text_file(all_path));
        } catch (const json::exception& e) {
            throw Error(all_path.string() + ": not valid JSON: " + e.what());
        }
    }
    all.update(j);
    write_text_atomic(all_path, all.dump(4) + "\n");
}

std::string format_metrics(const std::string& split, const std::map<std::string, double>& metrics) {
    size_t width = 0;
    for (const auto& kv : metrics) width = std::max(width, kv.first.size());
    std::string out = "***** " + split + " metrics *****\n";
    for (const auto& [k, v] : metrics) {
        char buf[64];
        if (is_integer_key(k) || (k == "total_flos"))
            std::snprintf(buf, sizeof buf, "%.0f", v);
        else
            std::snprintf(buf, sizeof buf, "%.4g", v);
        out += "  " + k + std::string(width - k.size(), ' ') + " = " + buf + "\n";
    }
    return out;
}

}  // namespace ft
