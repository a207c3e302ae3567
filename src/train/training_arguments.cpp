// TrainingArguments: the argument spec table (names, aliases, help, text parsing) that the JSON
// loader, training_args.json and the CLI flags share, and finalize(), HF's __post_init__ rules
// with HF's error messages.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <system_error>

#include "finetune/train.h"

namespace ft {
namespace {

// ---------------------------------------------------------------------------------------------
// Text helpers.

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return "";
    const auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
    return out;
}

[[noreturn]] void bad_value(const std::string& name, const std::string& value,
                            const std::string& what) {
    throw Error("--" + name + ": '" + value + "' " + what);
}

// "", "none" and "null" leave an optional argument unset.
bool means_unset(const std::string& value) {
    const std::string v = lower(trim(value));
    return v.empty() || v == "none" || v == "null";
}

bool parse_bool(const std::string& name, const std::string& value) {
    const std::string v = lower(trim(value));
    // HF's string_to_bool accepts the one-letter forms as well.
    if (v == "true" || v == "1" || v == "yes" || v == "y" || v == "t") return true;
    if (v == "false" || v == "0" || v == "no" || v == "n" || v == "f") return false;
    bad_value(name, value, "is not a boolean (true/false, yes/no, 1/0)");
}

// Python's int() and float() accept a leading '+'; from_chars does not.
std::string number_text(const std::string& value) {
    std::string v = trim(value);
    if (!v.empty() && v[0] == '+') v.erase(0, 1);
    return v;
}

double parse_double(const std::string& name, const std::string& value) {
    const std::string v = number_text(value);
    double out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(out))
        bad_value(name, value, "is not a number");
    return out;
}

int64_t parse_int(const std::string& name, const std::string& value) {
    const std::string v = number_text(value);
    int64_t out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size())
        bad_value(name, value, "is not an integer");
    return out;
}

// Step counts are floats (ratios below 1) whose default is the integer 500: integral values
// print as integers, as HF's training_args.json shows them.
std::string format_steps(double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
    return python_float_repr(v);
}

// ---------------------------------------------------------------------------------------------
// Choices.

constexpr std::array<std::string_view, 2> OPTIMIZERS = {"adamw_torch", "adamw_hf"};
constexpr std::array<std::string_view, 4> SCHEDULERS = {"linear", "cosine", "constant",
                                                        "constant_with_warmup"};

template <class E, size_t N>
E enum_from_name(const std::string& name, const std::string& value,
                 std::string_view (*name_of)(E)) {
    const std::string v = lower(trim(value));
    std::vector<std::string> names;
    for (size_t i = 0; i < N; ++i) {
        const E e = static_cast<E>(i);
        if (name_of(e) == v) return e;
        names.emplace_back(name_of(e));
    }
    bad_value(name, value, "is not one of " + join(names, ", "));
}

template <class E, size_t N>
std::vector<std::string> enum_names(std::string_view (*name_of)(E)) {
    std::vector<std::string> names;
    for (size_t i = 0; i < N; ++i) names.emplace_back(name_of(static_cast<E>(i)));
    return names;
}

// The optimizers and schedules finetune.cpp implements; the message is the same from the
// parser and from finalize() (for values assigned in code).
void check_optim(const std::string& value) {
    if (value == "adamw_torch" || value == "adamw_hf" || value == "adamw_torch_fused") return;
    bad_value("optim", value,
              "is not one of adamw_torch, adamw_hf (finetune.cpp does not implement HF's other "
              "optimizers)");
}

void check_scheduler(const std::string& value) {
    try {
        scheduler_from_name(value);
    } catch (const Error&) {
        bad_value("lr_scheduler_type", value,
                  "is not one of linear, cosine, constant, constant_with_warmup (finetune.cpp "
                  "does not implement HF's other schedules)");
    }
}

std::vector<std::string> parse_report_to(const std::string& value) {
    std::vector<std::string> items;
    std::string v = lower(trim(value));
    if (v.empty()) return {"none"};
    size_t start = 0;
    while (start <= v.size()) {
        size_t comma = v.find(',', start);
        if (comma == std::string::npos) comma = v.size();
        const std::string item = trim(std::string_view(v).substr(start, comma - start));
        if (!item.empty()) items.push_back(item);
        start = comma + 1;
    }
    if (items.empty()) return {"none"};
    for (const char* special : {"none", "all"})
        if (items.size() > 1 && std::find(items.begin(), items.end(), special) != items.end())
            bad_value("report_to", value,
                      std::string("cannot combine '") + special + "' with other integrations");
    return items;
}

// ---------------------------------------------------------------------------------------------
// Spec builders: one per field type, reading and writing the field through a member pointer.

using Args = TrainingArguments;

ArgumentSpec spec(std::string name, std::string type, std::string help) {
    ArgumentSpec s;
    s.name = std::move(name);
    s.type = std::move(type);
    s.help = std::move(help);
    return s;
}

ArgumentSpec str_arg(std::string name, std::string Args::*field, std::string help) {
    ArgumentSpec s = spec(std::move(name), "str", std::move(help));
    s.get = [field](const Args& a) { return a.*field; };
    s.set = [field](Args& a, const std::string& v) { a.*field = v; };
    return s;
}

ArgumentSpec bool_arg(std::string name, bool Args::*field, std::string help) {
    ArgumentSpec s = spec(name, "bool", std::move(help));
    s.is_bool = true;
    s.get = [field](const Args& a) { return std::string(a.*field ? "true" : "false"); };
    s.set = [field, name](Args& a, const std::string& v) { a.*field = parse_bool(name, v); };
    return s;
}

ArgumentSpec int_arg(std::string name, int64_t Args::*field, std::string help) {
    ArgumentSpec s = spec(name, "int", std::move(help));
    s.get = [field](const Args& a) { return std::to_string(a.*field); };
    s.set = [field, name](Args& a, const std::string& v) { a.*field = parse_int(name, v); };
    return s;
}

ArgumentSpec float_arg(std::string name, double Args::*field, std::string help) {
    ArgumentSpec s = spec(name, "float", std::move(help));
    s.get = [field](const Args& a) { return python_float_repr(a.*field); };
    s.set = [field, name](Args& a, const std::string& v) { a.*field = parse_double(name, v); };
    return s;
}

ArgumentSpec steps_arg(std::string name, double Args::*field, std::string help) {
    ArgumentSpec s = float_arg(std::move(name), field, std::move(help));
    s.get = [field](const Args& a) { return format_steps(a.*field); };
    return s;
}

ArgumentSpec opt_int_arg(std::string name, std::optional<int64_t> Args::*field, std::string help) {
    ArgumentSpec s = spec(name, "optional int", std::move(help));
    s.get = [field](const Args& a) {
        return (a.*field) ? std::to_string(*(a.*field)) : std::string();
    };
    s.set = [field, name](Args& a, const std::string& v) {
        if (means_unset(v))
            (a.*field).reset();
        else
            a.*field = parse_int(name, v);
    };
    return s;
}

ArgumentSpec opt_steps_arg(std::string name, std::optional<double> Args::*field, std::string help) {
    ArgumentSpec s = spec(name, "optional float", std::move(help));
    s.get = [field](const Args& a) {
        return (a.*field) ? format_steps(*(a.*field)) : std::string();
    };
    s.set = [field, name](Args& a, const std::string& v) {
        if (means_unset(v))
            (a.*field).reset();
        else
            a.*field = parse_double(name, v);
    };
    return s;
}

ArgumentSpec opt_str_arg(std::string name, std::optional<std::string> Args::*field,
                         std::string help) {
    ArgumentSpec s = spec(std::move(name), "optional str", std::move(help));
    s.get = [field](const Args& a) { return (a.*field).value_or(""); };
    s.set = [field](Args& a, const std::string& v) {
        if (means_unset(v))
            (a.*field).reset();
        else
            a.*field = v;
    };
    return s;
}

ArgumentSpec opt_bool_arg(std::string name, std::optional<bool> Args::*field, std::string help) {
    ArgumentSpec s = spec(name, "optional bool", std::move(help));
    s.is_bool = true;
    s.get = [field](const Args& a) {
        return (a.*field) ? std::string(*(a.*field) ? "true" : "false") : std::string();
    };
    s.set = [field, name](Args& a, const std::string& v) {
        if (means_unset(v))
            (a.*field).reset();
        else
            a.*field = parse_bool(name, v);
    };
    return s;
}

template <class E, size_t N>
ArgumentSpec enum_arg(std::string name, E Args::*field, std::string_view (*name_of)(E),
                      std::string help) {
    ArgumentSpec s = spec(name, "choice", std::move(help));
    s.choices = enum_names<E, N>(name_of);
    s.get = [field, name_of](const Args& a) { return std::string(name_of(a.*field)); };
    s.set = [field, name, name_of](Args& a, const std::string& v) {
        a.*field = enum_from_name<E, N>(name, v, name_of);
    };
    return s;
}

std::vector<ArgumentSpec> make_specs() {
    std::vector<ArgumentSpec> specs;
    specs.push_back(str_arg("output_dir", &Args::output_dir,
                            "Directory that receives the checkpoints, the final model, "
                            "training_args.json and trainer_state.json."));
    specs.push_back(bool_arg("overwrite_output_dir", &Args::overwrite_output_dir,
                             "Write into output_dir even if it already holds files (use it to "
                             "continue training from a checkpoint kept there)."));
    specs.push_back(bool_arg("do_train", &Args::do_train,
                             "Run training. Read by the commands, not by the trainer itself."));
    specs.push_back(bool_arg("do_eval", &Args::do_eval,
                             "Evaluate on the validation split; switched on automatically when "
                             "eval_strategy is not 'no'."));
    specs.push_back(
        bool_arg("do_predict", &Args::do_predict, "Write predictions for the test split."));
    specs.push_back(float_arg("num_train_epochs", &Args::num_train_epochs,
                              "How many passes over the training data; a fractional part runs "
                              "that share of the last epoch."));
    specs.push_back(int_arg("max_steps", &Args::max_steps,
                            "When positive, the total number of optimizer steps, which then "
                            "overrides num_train_epochs (the data is cycled as needed)."));
    specs.push_back(int_arg("per_device_train_batch_size", &Args::per_device_train_batch_size,
                            "Training examples per batch (one device)."));
    specs.push_back(int_arg("per_device_eval_batch_size", &Args::per_device_eval_batch_size,
                            "Evaluation examples per batch (one device)."));
    specs.push_back(int_arg("gradient_accumulation_steps", &Args::gradient_accumulation_steps,
                            "Batches whose gradients are summed before each optimizer step; "
                            "logging, evaluation and saving count optimizer steps."));
    specs.push_back(float_arg("learning_rate", &Args::learning_rate,
                              "Peak learning rate of AdamW (reached after warmup)."));
    specs.push_back(float_arg("weight_decay", &Args::weight_decay,
                              "Decoupled weight decay of AdamW; biases and LayerNorm weights "
                              "are never decayed."));
    specs.push_back(float_arg("adam_beta1", &Args::adam_beta1,
                              "AdamW's decay rate of the first-moment (mean) estimate."));
    specs.push_back(float_arg("adam_beta2", &Args::adam_beta2,
                              "AdamW's decay rate of the second-moment (variance) estimate."));
    specs.push_back(float_arg("adam_epsilon", &Args::adam_epsilon,
                              "Small constant added to AdamW's denominator for stability."));
    {
        ArgumentSpec s =
            str_arg("optim", &Args::optim,
                    "The optimizer: adamw_torch (torch.optim.AdamW) or adamw_hf (HF's legacy "
                    "AdamW); adamw_torch_fused is read as adamw_torch.");
        s.type = "choice";
        s.choices.assign(OPTIMIZERS.begin(), OPTIMIZERS.end());
        s.set = [](Args& a, const std::string& v) {
            const std::string name = lower(trim(v));
            check_optim(name);
            a.optim = name;
        };
        specs.push_back(std::move(s));
    }
    specs.push_back(float_arg("max_grad_norm", &Args::max_grad_norm,
                              "Clip the global L2 norm of the gradients to this value; 0 "
                              "disables clipping."));
    {
        ArgumentSpec s = str_arg("lr_scheduler_type", &Args::lr_scheduler_type,
                                 "How the learning rate moves after warmup.");
        s.type = "choice";
        s.choices.assign(SCHEDULERS.begin(), SCHEDULERS.end());
        s.set = [](Args& a, const std::string& v) {
            const std::string name = lower(trim(v));
            check_scheduler(name);
            a.lr_scheduler_type = name;
        };
        specs.push_back(std::move(s));
    }
    specs.push_back(steps_arg("warmup_steps", &Args::warmup_steps,
                              "Optimizer steps of linear warmup from 0 to learning_rate; a value "
                              "below 1 is a fraction of all steps, rounded up (current HF). When "
                              "positive it takes precedence over warmup_ratio."));
    specs.push_back(float_arg("warmup_ratio", &Args::warmup_ratio,
                              "Warmup as a fraction (0 to 1) of all optimizer steps, rounded "
                              "up."));
    {
        ArgumentSpec s = enum_arg<IntervalStrategy, 3>(
            "eval_strategy", &Args::eval_strategy, interval_strategy_name,
            "When to evaluate during training: never (no), every eval_steps (steps) or after "
            "each epoch (epoch).");
        s.aliases = {"evaluation_strategy"};
        specs.push_back(std::move(s));
    }
    specs.push_back(opt_steps_arg("eval_steps", &Args::eval_steps,
                                  "Optimizer steps between evaluations with eval_strategy steps; "
                                  "a value below 1 is a fraction of all steps. Defaults to "
                                  "logging_steps."));
    specs.push_back(enum_arg<SaveStrategy, 4>(
        "save_strategy", &Args::save_strategy, save_strategy_name,
        "When to write a checkpoint: never (no), every save_steps (steps), after each epoch "
        "(epoch) or whenever metric_for_best_model improves (best)."));
    specs.push_back(steps_arg("save_steps", &Args::save_steps,
                              "Optimizer steps between checkpoints with save_strategy steps; a "
                              "value below 1 is a fraction of all steps."));
    specs.push_back(opt_int_arg("save_total_limit", &Args::save_total_limit,
                                "Keep at most this many checkpoints in output_dir, deleting the "
                                "oldest (the best one is always kept). Unset keeps all."));
    specs.push_back(bool_arg("load_best_model_at_end", &Args::load_best_model_at_end,
                             "After training, load the checkpoint with the best "
                             "metric_for_best_model; needs save and evaluation on the same "
                             "schedule."));
    specs.push_back(opt_str_arg("metric_for_best_model", &Args::metric_for_best_model,
                                "The evaluation metric that ranks checkpoints, with or without "
                                "the eval_ prefix; 'loss' when load_best_model_at_end is set."));
    specs.push_back(opt_bool_arg("greater_is_better", &Args::greater_is_better,
                                 "Whether a larger metric_for_best_model is better; inferred as "
                                 "false for metrics ending in 'loss', true otherwise."));
    specs.push_back(enum_arg<IntervalStrategy, 3>(
        "logging_strategy", &Args::logging_strategy, interval_strategy_name,
        "When to log loss and learning rate: never (no), every logging_steps (steps) or after "
        "each epoch (epoch)."));
    specs.push_back(steps_arg("logging_steps", &Args::logging_steps,
                              "Optimizer steps between log entries with logging_strategy steps; "
                              "a value below 1 is a fraction of all steps."));
    specs.push_back(bool_arg("logging_first_step", &Args::logging_first_step,
                             "Also log after the very first optimizer step."));
    specs.push_back(int_arg("seed", &Args::seed,
                            "Seed of the run: head initialisation, dropout, and the data shuffle "
                            "unless data_seed is set."));
    specs.push_back(opt_int_arg("data_seed", &Args::data_seed,
                                "Seed of the training-data shuffle; the run's seed when unset."));
    {
        ArgumentSpec s = enum_arg<SamplingStrategy, 3>(
            "train_sampling_strategy", &Args::train_sampling_strategy, sampling_strategy_name,
            "Order of the training examples: shuffled (random), as stored (sequential), or "
            "shuffled in groups of similar length (group_by_length).");
        s.aliases = {"group_by_length"};
        s.bool_aliases = {"group_by_length"};
        // The alias is HF's boolean --group_by_length: true picks group_by_length, false undoes it.
        const auto set_choice = s.set;
        s.set = [set_choice](Args& a, const std::string& v) {
            const std::string b = lower(trim(v));
            if (b == "true" || b == "false" || b == "1" || b == "0" || b == "yes" || b == "no") {
                if (parse_bool("group_by_length", b))
                    a.train_sampling_strategy = SamplingStrategy::GROUP_BY_LENGTH;
                else if (a.train_sampling_strategy == SamplingStrategy::GROUP_BY_LENGTH)
                    a.train_sampling_strategy = SamplingStrategy::RANDOM;
                return;
            }
            set_choice(a, v);
        };
        specs.push_back(std::move(s));
    }
    specs.push_back(bool_arg("bf16", &Args::bf16,
                             "bfloat16 mixed precision (CPU autocast: bf16 GEMMs, float32 "
                             "weights and optimizer). As HF, needs --use_cpu on a machine "
                             "without a bf16 GPU, and a CPU with AVX512-BF16 or AMX."));
    specs.push_back(bool_arg("bf16_full_eval", &Args::bf16_full_eval,
                             "Evaluate and predict in bf16 (here: under bf16 autocast, also "
                             "outside training)."));
    specs.push_back(opt_bool_arg("tf32", &Args::tf32,
                                 "TF32 matmuls on a GPU (faster, about 10 bits of mantissa); "
                                 "unset: off, exact f32."));
    specs.push_back(
        bool_arg("use_cpu", &Args::use_cpu, "Train on the CPU even where a GPU can be used."));
    specs.push_back(
        bool_arg("no_cuda", &Args::no_cuda, "Deprecated name of --use_cpu (HF's), kept working."));
    specs.push_back(opt_bool_arg("disable_tqdm", &Args::disable_tqdm,
                                 "Hide the progress bar; false when unset."));
    {
        ArgumentSpec s = spec("report_to", "list",
                              "Experiment trackers to log to: none, all, or a comma-separated "
                              "list. finetune.cpp has none; it logs to stdout and "
                              "trainer_state.json.");
        s.get = [](const Args& a) { return join(a.report_to, ","); };
        s.set = [](Args& a, const std::string& v) { a.report_to = parse_report_to(v); };
        specs.push_back(std::move(s));
    }
    specs.push_back(opt_str_arg("resume_from_checkpoint", &Args::resume_from_checkpoint,
                                "Continue training from this checkpoint directory, or from the "
                                "latest checkpoint in output_dir when 'true'."));
    // resume_from_checkpoint: "true" / "false" are flags, not directory names.
    ArgumentSpec& resume = specs.back();
    resume.set = [](Args& a, const std::string& v) {
        const std::string b = lower(trim(v));
        if (means_unset(v) || b == "false")
            a.resume_from_checkpoint.reset();
        else
            a.resume_from_checkpoint = b == "true" ? std::string("true") : v;
    };
    return specs;
}

// ---------------------------------------------------------------------------------------------
// JSON values <-> argument text.

const ArgumentSpec* find_spec(const std::string& key, bool* via_bool_alias) {
    *via_bool_alias = false;
    for (const ArgumentSpec& s : training_argument_specs()) {
        if (s.name == key) return &s;
        for (const std::string& a : s.aliases)
            if (a == key) {
                *via_bool_alias = std::find(s.bool_aliases.begin(), s.bool_aliases.end(), key) !=
                                  s.bool_aliases.end();
                return &s;
            }
    }
    return nullptr;
}

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

// The text set() reads for a JSON value, or an ft::Error naming the key when the JSON type does
// not fit the argument.
std::string json_value_text(const ArgumentSpec& s, const std::string& key,
                            const nlohmann::ordered_json& v, bool bool_alias,
                            const std::string& source) {
    const bool optional = starts_with(s.type, "optional");
    const std::string base = bool_alias ? "bool" : optional ? s.type.substr(9) : s.type;
    if (v.is_null() && optional) return "";
    if (v.is_null() && base == "list") return "none";
    if (base == "bool" && v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (base == "int" && v.is_number_integer()) return v.dump();
    if (base == "int" && v.is_number_float()) {  // 8.0 is 8
        const double d = v.get<double>();
        if (d == std::floor(d) && std::fabs(d) < 9e18)
            return std::to_string(static_cast<int64_t>(d));
    }
    if (base == "float" && v.is_number()) return v.dump();
    if ((base == "str" || base == "choice" || base == "list") && v.is_string())
        return v.get<std::string>();
    if (base == "list" && v.is_array() &&
        std::all_of(v.begin(), v.end(), [](const auto& item) { return item.is_string(); })) {
        std::vector<std::string> items;
        for (const auto& item : v) items.push_back(item.get<std::string>());
        return join(items, ",");
    }
    const std::string expected = base == "bool"    ? "true or false"
                                 : base == "int"   ? "an integer"
                                 : base == "float" ? "a number"
                                 : base == "list"  ? "a string or a list of strings"
                                                   : "a string";
    throw Error(source + ": " + key + ": expected " + expected + (optional ? " or null" : "") +
                ", got " + (v.is_null() ? std::string("null") : v.type_name() + (" " + v.dump())));
}

nlohmann::ordered_json json_value(const ArgumentSpec& s, const std::string& text) {
    const bool optional = starts_with(s.type, "optional");
    const std::string base = optional ? s.type.substr(9) : s.type;
    if (optional && text.empty()) return nullptr;
    if (base == "bool") return text == "true";
    if (base == "int") return parse_int(s.name, text);
    if (base == "float") {
        // The text decides the JSON type: "500" stays an integer, "3.0" a float (as HF writes).
        if (text.find_first_of(".eEn") == std::string::npos) return parse_int(s.name, text);
        return parse_double(s.name, text);
    }
    if (base == "list") {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const std::string& item : parse_report_to(text)) list.push_back(item);
        return list;
    }
    return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string_view interval_strategy_name(IntervalStrategy s) {
    switch (s) {
        case IntervalStrategy::NO:
            return "no";
        case IntervalStrategy::STEPS:
            return "steps";
        case IntervalStrategy::EPOCH:
            return "epoch";
    }
    return "no";
}

std::string_view save_strategy_name(SaveStrategy s) {
    switch (s) {
        case SaveStrategy::NO:
            return "no";
        case SaveStrategy::STEPS:
            return "steps";
        case SaveStrategy::EPOCH:
            return "epoch";
        case SaveStrategy::BEST:
            return "best";
    }
    return "no";
}

std::string_view sampling_strategy_name(SamplingStrategy s) {
    switch (s) {
        case SamplingStrategy::RANDOM:
            return "random";
        case SamplingStrategy::SEQUENTIAL:
            return "sequential";
        case SamplingStrategy::GROUP_BY_LENGTH:
            return "group_by_length";
    }
    return "random";
}

const std::vector<ArgumentSpec>& training_argument_specs() {
    static const std::vector<ArgumentSpec> specs = make_specs();
    return specs;
}

std::vector<std::string> TrainingArguments::finalize() {
    std::vector<std::string> warnings;
    if (!disable_tqdm) disable_tqdm = false;
    if (eval_strategy != IntervalStrategy::NO) do_eval = true;

    // Evaluation every N steps needs an N: eval_steps, else logging_steps.
    if (eval_strategy == IntervalStrategy::STEPS && (!eval_steps || *eval_steps == 0)) {
        if (logging_steps > 0)
            eval_steps = logging_steps;
        else
            throw Error(
                "evaluation strategy steps requires either non-zero --eval_steps or "
                "--logging_steps");
    }
    if (logging_strategy == IntervalStrategy::STEPS && logging_steps == 0)
        throw Error("logging strategy steps requires non-zero --logging_steps");

    // Step counts are integers or ratios (< 1) of the total; 2.5 steps is neither.
    struct StepsField {
        const char* name;
        bool active;
        double value;
    };
    const StepsField steps_fields[] = {
        {"logging_steps", logging_strategy == IntervalStrategy::STEPS, logging_steps},
        {"eval_steps", eval_strategy == IntervalStrategy::STEPS, eval_steps.value_or(0)},
        {"save_steps", save_strategy == SaveStrategy::STEPS, save_steps},
    };
    for (const StepsField& f : steps_fields) {
        if (!f.active) continue;
        if (f.value < 0)
            throw Error(std::string("--") + f.name +
                        " must not be negative: " + python_float_repr(f.value));
        if (f.value > 1 && f.value != std::floor(f.value))
            throw Error(std::string("--") + f.name +
                        " must be an integer if bigger than 1: " + python_float_repr(f.value));
    }

    // The best checkpoint can only be picked among checkpoints that were evaluated.
    if (load_best_model_at_end && save_strategy != SaveStrategy::BEST) {
        const std::string_view eval_name = interval_strategy_name(eval_strategy);
        const std::string_view save_name = save_strategy_name(save_strategy);
        if (eval_name != save_name)
            throw Error(
                "--load_best_model_at_end requires the save and eval strategy to match, but "
                "found\n- Evaluation strategy: " +
                std::string(eval_name) + "\n- Save strategy: " + std::string(save_name));
        if (eval_strategy == IntervalStrategy::STEPS) {
            const double e = *eval_steps, s = save_steps;
            if (std::fmod(s, e) != 0) {
                if (e < 1 || s < 1) {
                    if (!(e < 1 && s < 1))
                        throw Error(
                            "--load_best_model_at_end requires the saving steps to be a multiple "
                            "of the evaluation steps, which cannot get guaranteed when mixing "
                            "ratio and absolute steps for save_steps " +
                            format_steps(s) + " and eval_steps " + format_steps(e) + ".");
                    // Both ratios: compare in millionths, where the decimals become integers.
                    if (std::llround(s * 1e6) % std::llround(e * 1e6) != 0)
                        throw Error(
                            "--load_best_model_at_end requires the saving steps to be a multiple "
                            "of the evaluation steps, but found " +
                            format_steps(s) + ", which is not a multiple of " + format_steps(e) +
                            ".");
                } else {
                    throw Error(
                        "--load_best_model_at_end requires the saving steps to be a round "
                        "multiple of the evaluation steps, but found " +
                        format_steps(s) + ", which is not a round multiple of " + format_steps(e) +
                        ".");
                }
            }
        }
    }

    if ((load_best_model_at_end || save_strategy == SaveStrategy::BEST) && !metric_for_best_model)
        metric_for_best_model = "loss";
    if (!greater_is_better && metric_for_best_model) {
        const std::string& m = *metric_for_best_model;
        greater_is_better = !(m.size() >= 4 && m.compare(m.size() - 4, 4, "loss") == 0);
    }

    // torch.optim.AdamW's checks, which HF reaches when it builds the optimizer.
    if (!(learning_rate >= 0))
        throw Error("--learning_rate: Invalid learning rate: " + python_float_repr(learning_rate) +
                    " (must be >= 0)");
    if (!(adam_epsilon >= 0))
        throw Error("--adam_epsilon: Invalid epsilon value: " + python_float_repr(adam_epsilon) +
                    " (must be >= 0)");
    if (!(adam_beta1 >= 0 && adam_beta1 < 1))
        throw Error("--adam_beta1: Invalid beta parameter at index 0: " +
                    python_float_repr(adam_beta1) + " (must be in [0, 1))");
    if (!(adam_beta2 >= 0 && adam_beta2 < 1))
        throw Error("--adam_beta2: Invalid beta parameter at index 1: " +
                    python_float_repr(adam_beta2) + " (must be in [0, 1))");
    if (!(weight_decay >= 0))
        throw Error("--weight_decay: Invalid weight_decay value: " +
                    python_float_repr(weight_decay) + " (must be >= 0)");
    if (warmup_ratio < 0 || warmup_ratio > 1) throw Error("warmup_ratio must lie in range [0,1]");
    if (!(warmup_steps >= 0))
        throw Error("--warmup_steps must not be negative: " + format_steps(warmup_steps));
    if (warmup_ratio > 0 && warmup_steps > 0)
        warnings.push_back("both warmup_ratio and warmup_steps are set: warmup_steps (" +
                           format_steps(warmup_steps) +
                           ") wins and warmup_ratio is ignored during training");

    if (no_cuda) {
        warnings.push_back(
            "using `no_cuda` is deprecated and will be removed in version 5.0 of Transformers. "
            "Use `use_cpu` instead");
        use_cpu = true;
    }

    // What finetune.cpp implements of the rest.
    check_optim(optim);
    check_scheduler(lr_scheduler_type);
    const std::pair<const char*, int64_t> batch_sizes[] = {
        {"per_device_train_batch_size", per_device_train_batch_size},
        {"per_device_eval_batch_size", per_device_eval_batch_size}};
    for (const auto& [name, value] : batch_sizes)
        if (value < 1)
            throw Error(std::string("--") + name + " must be a positive integer, got " +
                        std::to_string(value));
    if (gradient_accumulation_steps < 1)
        throw Error("--gradient_accumulation_steps must be at least 1, got " +
                    std::to_string(gradient_accumulation_steps));
    if (!(report_to.empty() || (report_to.size() == 1 && report_to[0] == "none")))
        warnings.push_back("report_to " + join(report_to, ",") +
                           " is ignored: finetune.cpp has no experiment-tracker integrations; it "
                           "logs to stdout and trainer_state.json only");
    return warnings;
}

namespace {
int64_t resolve_steps(double steps, int64_t max_steps) {
    if (steps < 1) return static_cast<int64_t>(std::ceil(static_cast<double>(max_steps) * steps));
    return static_cast<int64_t>(steps);
}
}  // namespace

int64_t TrainingArguments::resolved_logging_steps(int64_t max_steps) const {
    return resolve_steps(logging_steps, max_steps);
}

int64_t TrainingArguments::resolved_eval_steps(int64_t max_steps) const {
    return eval_steps ? resolve_steps(*eval_steps, max_steps) : 500;
}

int64_t TrainingArguments::resolved_save_steps(int64_t max_steps) const {
    return resolve_steps(save_steps, max_steps);
}

TrainingArguments training_arguments_from_json(const std::string& json_text,
                                               const std::string& source) {
    nlohmann::ordered_json j;
    try {
        j = nlohmann::ordered_json::parse(json_text);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
        throw Error(source + ": not valid JSON: " + e.what());
    }
    if (!j.is_object())
        throw Error(source + ": expected a JSON object of training arguments, got " +
                    j.type_name());
    TrainingArguments args;
    for (const auto& [key, value] : j.items()) {
        bool bool_alias = false;
        const ArgumentSpec* s = find_spec(key, &bool_alias);
        if (!s) throw Error(source + ": unknown training argument '" + key + "'");
        const std::string text = json_value_text(*s, key, value, bool_alias, source);
        try {
            s->set(args, text);
        } catch (const Error& e) {
            throw Error(source + ": " + e.what());
        }
    }
    return args;
}

std::string training_arguments_to_json(const TrainingArguments& args) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const ArgumentSpec& s : training_argument_specs()) j[s.name] = json_value(s, s.get(args));
    return j.dump(2) + "\n";
}

}  // namespace ft
