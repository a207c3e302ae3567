// HF's text-classification pipeline: the tokenizer and the engine on one input, then the
// postprocessing (softmax, sigmoid or the raw values, by the model's problem type).
#include "finetune/pipeline.h"

#include <algorithm>
#include <cmath>

#include "finetune/finetune.h"

namespace ft {

namespace {

ProblemType resolved(ProblemType problem, size_t num_labels) {
    if (problem != ProblemType::NONE) return problem;
    return num_labels == 1 ? ProblemType::REGRESSION : ProblemType::SINGLE_LABEL_CLASSIFICATION;
}

}  // namespace

TextClassification classify_logits(std::span<const float> logits,
                                   const std::vector<std::string>& id2label, ProblemType problem) {
    const size_t K = id2label.size();
    if (logits.size() != K || K == 0)
        throw Error("text-classification: " + std::to_string(logits.size()) +
                    " logits for a model with " + std::to_string(K) + " labels (id2label)");
    std::vector<double> scores(logits.begin(), logits.end());
    switch (resolved(problem, K)) {
        case ProblemType::SINGLE_LABEL_CLASSIFICATION: {
            // Shifted by the maximum so that exp cannot overflow.
            double mx = scores[0], sum = 0;
            for (double v : scores) mx = std::max(mx, v);
            for (double& v : scores) sum += v = std::exp(v - mx);
            for (double& v : scores) v /= sum;
            break;
        }
        case ProblemType::MULTI_LABEL_CLASSIFICATION:
            for (double& v : scores) v = 1.0 / (1.0 + std::exp(-v));
            break;
        case ProblemType::REGRESSION:
        case ProblemType::NONE:
            break;
    }
    TextClassification out;
    for (size_t k = 0; k < K; ++k) out.scores.push_back({id2label[k], scores[k]});
    // Every function above keeps the order of the logits: their argmax is the scores'.
    out.top = out.scores[static_cast<size_t>(argmax(logits))];
    return out;
}

TextClassificationPipeline TextClassificationPipeline::from_pretrained(
    const std::string& name_or_path) {
    const fs::path dir = hub::resolve_pretrained(name_or_path);
    return TextClassificationPipeline(std::make_unique<PretrainedModel>(load_pretrained(dir)),
                                      load_tokenizer(dir));
}

TextClassificationPipeline::TextClassificationPipeline(std::unique_ptr<PretrainedModel> model,
                                                       std::unique_ptr<Tokenizer> tokenizer)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      engine_(std::make_unique<SequenceClassifier>(model_->config, model_->weights)) {}

TextClassificationPipeline::TextClassificationPipeline(TextClassificationPipeline&&) noexcept =
    default;
TextClassificationPipeline::~TextClassificationPipeline() = default;

ProblemType TextClassificationPipeline::problem_type() const {
    return engine_->problem_type();
}

TextClassification TextClassificationPipeline::operator()(
    std::string_view text, std::optional<std::string_view> text_pair) {
    EncodeOptions opts;
    opts.truncation = Truncation::LongestFirst;
    opts.max_length = std::min<int64_t>(tokenizer_->model_max_length(), config().max_positions());
    const Encoding e = tokenizer_->encode(text, text_pair, opts);
    PackedBatch b;
    b.input_ids = e.input_ids;
    if (config().uses_token_types()) b.token_type_ids = e.token_type_ids;
    b.offsets = {0, static_cast<int32_t>(e.input_ids.size())};
    engine_->forward(b, /*train=*/false);
    const auto K = static_cast<size_t>(config().num_labels());
    return classify_logits(std::span<const float>(engine_->logits(), K), config().id2label,
                           engine_->problem_type());
}

}  // namespace ft
