// The Auto* entry points of the public API: resolve a name (directory, cache, Hub), then load.
#include "finetune/finetune.h"

namespace ft {

namespace {

// DistilBERT's tokenizer returns no token_type_ids (its model_input_names): the model beside the
// tokenizer says, through its family descriptor. A tokenizer alone, or beside a config.json we
// cannot read, keeps them, as the tokenizer's own kind does.
bool wants_token_type_ids(const fs::path& dir) {
    const fs::path config = dir / "config.json";
    if (!fs::exists(config)) return true;
    try {
        return load_model_config(config).uses_token_types();
    } catch (const Error&) {
        return true;
    }
}

EncodeOptions encode_options(const TokenizerCall& call) {
    EncodeOptions o;
    o.truncation = call.truncation ? Truncation::LongestFirst : Truncation::None;
    o.padding = call.padding;
    o.max_length = call.max_length;
    return o;
}

}  // namespace

AutoTokenizer AutoTokenizer::from_pretrained(const std::string& name_or_path) {
    const fs::path dir = hub::resolve_pretrained(name_or_path);
    std::shared_ptr<const Tokenizer> tokenizer = load_tokenizer(dir);
    const bool token_type_ids = tokenizer->returns_token_type_ids() && wants_token_type_ids(dir);
    return AutoTokenizer(std::move(tokenizer), token_type_ids);
}

AutoTokenizer::AutoTokenizer(std::shared_ptr<const Tokenizer> tokenizer,
                             std::optional<bool> token_type_ids)
    : tokenizer_(std::move(tokenizer)),
      token_type_ids_(token_type_ids.value_or(tokenizer_->returns_token_type_ids())) {}

Dataset AutoTokenizer::operator()(const Column& texts, const TokenizerCall& call) const {
    Dataset batch = Dataset().add_column("text", texts);
    TokenizeColumns spec;
    spec.text_column = "text";
    spec.options = encode_options(call);
    spec.token_type_ids = token_type_ids_;
    return tokenize_columns(*tokenizer_, batch, spec);
}

Dataset AutoTokenizer::operator()(const Column& texts, const Column& pairs,
                                  const TokenizerCall& call) const {
    Dataset batch = Dataset().add_column("text", texts).add_column("text_pair", pairs);
    TokenizeColumns spec;
    spec.text_column = "text";
    spec.pair_column = "text_pair";
    spec.options = encode_options(call);
    spec.token_type_ids = token_type_ids_;
    return tokenize_columns(*tokenizer_, batch, spec);
}

Encoding AutoTokenizer::operator()(std::string_view text, const TokenizerCall& call) const {
    return tokenizer_->encode(text, std::nullopt, encode_options(call));
}

std::unique_ptr<PretrainedModel> AutoModelForSequenceClassification::from_pretrained(
    const std::string& name_or_path, std::optional<int64_t> num_labels) {
    LoadOptions o;
    o.num_labels = num_labels;
    o.task = ModelTask::SEQUENCE_CLASSIFICATION;
    return std::make_unique<PretrainedModel>(
        load_pretrained(hub::resolve_pretrained(name_or_path), o));
}

namespace {

// HF's _init_weights on a fresh model of `config`, seeded.
std::unique_ptr<PretrainedModel> random_init(const ModelConfig& config, uint64_t seed) {
    auto m =
        std::unique_ptr<PretrainedModel>(new PretrainedModel{config, ModelWeights(config), {}});
    for (size_t i = 0; i < m->weights.specs().size(); ++i)
        init_parameter(m->weights.tensor(i), m->weights.specs()[i], config.initializer_range(),
                       seed, i);
    m->report.format = "random init";
    return m;
}

}  // namespace

std::unique_ptr<PretrainedModel> AutoModelForSequenceClassification::from_config(
    const ModelConfig& config, uint64_t seed) {
    ModelConfig c = config;
    c.task = ModelTask::SEQUENCE_CLASSIFICATION;
    return random_init(c, seed);
}

std::unique_ptr<PretrainedModel> AutoModelForTokenClassification::from_pretrained(
    const std::string& name_or_path, std::optional<std::vector<std::string>> id2label) {
    LoadOptions o;
    o.id2label = std::move(id2label);
    o.task = ModelTask::TOKEN_CLASSIFICATION;
    return std::make_unique<PretrainedModel>(
        load_pretrained(hub::resolve_pretrained(name_or_path), o));
}

std::unique_ptr<PretrainedModel> AutoModelForTokenClassification::from_config(ModelConfig config,
                                                                              uint64_t seed) {
    config.task = ModelTask::TOKEN_CLASSIFICATION;
    return random_init(config, seed);
}

namespace evaluate {
GlueMetric load(std::string_view path, std::string_view config_name) {
    if (path != "glue")
        throw Error("evaluate::load: only the \"glue\" metric is built in (got \"" +
                    std::string(path) + "\"); pass your own compute_metrics to the Trainer");
    return GlueMetric::load(config_name);
}
}  // namespace evaluate

}  // namespace ft
