// finetune/model.h — the model layer: typed mirrors of config.json for DistilBERT and BERT,
// the parameter table of their ForSequenceClassification models under HF's state-dict names,
// weights in one flat allocation, and from_pretrained / save_pretrained on directories.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "finetune/core.h"
#include "finetune/io.h"

namespace ft {

enum class ModelFamily { DISTILBERT, BERT, ROBERTA, XLM_ROBERTA };
// HF's problem_type; NONE means "infer from num_labels and the label dtype" as HF does.
enum class ProblemType {
    NONE,
    SINGLE_LABEL_CLASSIFICATION,
    MULTI_LABEL_CLASSIFICATION,
    REGRESSION
};

// Which head sits on the encoder, as HF's AutoModelFor* class says: one prediction per sequence
// (ForSequenceClassification) or one per token (ForTokenClassification).
enum class ModelTask { SEQUENCE_CLASSIFICATION, TOKEN_CLASSIFICATION };

std::string_view family_name(ModelFamily f);        // "distilbert" / "bert"
std::string_view task_name(ModelTask t);            // "sequence-classification" / "token-..."
std::string_view problem_type_name(ProblemType p);  // HF's spelling; "" for NONE

// config.json keys of DistilBertConfig, with HF's defaults (distilbert-base-uncased).
struct DistilBertConfig {
    int64_t vocab_size = 30522;
    int64_t dim = 768;
    int64_t n_layers = 6;
    int64_t n_heads = 12;
    int64_t hidden_dim = 3072;
    double dropout = 0.1;
    double attention_dropout = 0.1;
    double seq_classif_dropout = 0.2;
    double qa_dropout = 0.1;
    std::string activation = "gelu";
    int64_t max_position_embeddings = 512;
    bool sinusoidal_pos_embds = false;
    double initializer_range = 0.02;
    int64_t pad_token_id = 0;
};

// config.json keys of BertConfig, with HF's defaults (bert-base-uncased).
struct BertConfig {
    int64_t vocab_size = 30522;
    int64_t hidden_size = 768;
    int64_t num_hidden_layers = 12;
    int64_t num_attention_heads = 12;
    int64_t intermediate_size = 3072;
    std::string hidden_act = "gelu";
    double hidden_dropout_prob = 0.1;
    double attention_probs_dropout_prob = 0.1;
    std::optional<double> classifier_dropout;  // null: fall back to hidden_dropout_prob
    int64_t type_vocab_size = 2;
    double layer_norm_eps = 1e-12;
    std::string position_embedding_type = "absolute";
    int64_t max_position_embeddings = 512;
    int64_t pad_token_id = 0;
    double initializer_range = 0.02;
};

// config.json keys of RobertaConfig: BertConfig's keys with RoBERTa's defaults (transformers'
// RobertaConfig; roberta-base's own config.json sets vocab 50265, 514 positions, 1 token type,
// eps 1e-5). Position ids start at pad_token_id + 1.
struct RobertaConfig : BertConfig {
    RobertaConfig() {
        vocab_size = 50265;
        pad_token_id = 1;
    }
};
// XLMRobertaConfig: the same keys; its vocabulary default is BERT's size (xlm-roberta-base sets
// 250002).
struct XLMRobertaConfig : BertConfig {
    XLMRobertaConfig() { pad_token_id = 1; }
};

// The whole config.json: the family's typed keys plus PretrainedConfig's label keys. Keys we do
// not model are kept verbatim (extra_json) and written back, as HF keeps unknown attributes.
struct ModelConfig {
    ModelFamily family = ModelFamily::DISTILBERT;
    // From architectures[0] ("...ForTokenClassification"); AutoModelFor*'s choice when loading.
    ModelTask task = ModelTask::SEQUENCE_CLASSIFICATION;
    DistilBertConfig distilbert;
    BertConfig bert;
    RobertaConfig roberta;
    XLMRobertaConfig xlm_roberta;
    std::vector<std::string> id2label = {"LABEL_0", "LABEL_1"};  // its size is num_labels
    ProblemType problem_type = ProblemType::NONE;
    std::vector<std::string> architectures;
    std::string extra_json = "{}";  // unmodelled keys, a JSON object

    int64_t num_labels() const { return static_cast<int64_t>(id2label.size()); }
    // from_pretrained(..., num_labels=N): resets id2label to LABEL_0..LABEL_{N-1} when N differs.
    void set_num_labels(int64_t n);
    std::map<std::string, int64_t> label2id() const;

    // Family-independent view of the dimensions (C, L, NH, F, V in DESIGN.md's letters).
    int64_t hidden() const;
    int64_t layers() const;
    int64_t heads() const;
    int64_t ffn() const;
    int64_t vocab() const;
    int64_t max_positions() const;
    double layer_norm_eps() const;  // DistilBERT hard-codes 1e-12
    double initializer_range() const;
    Activation activation() const;
    // The task's class: "DistilBertForSequenceClassification", "BertForTokenClassification", ...
    std::string classifier_architecture() const;
    // Whether the model reads token_type_ids (BERT) or has no token-type embeddings (DistilBERT),
    // which is also whether its tokenizer returns them.
    bool uses_token_types() const;
};

// Parses config.json text; `source` names it in errors. Unsupported settings (sinusoidal
// position embeddings, relative positions, an unknown activation) are ft::Errors.
ModelConfig parse_model_config(const std::string& json_text, const std::string& source);
ModelConfig load_model_config(const fs::path& config_json);
// The config.json HF's from_pretrained reads back to an equal config.
std::string model_config_to_json(const ModelConfig& config);

// ---------------------------------------------------------------------------------------------
// Parameter table.

enum class ParamKind { LINEAR_WEIGHT, BIAS, EMBEDDING, LAYER_NORM_WEIGHT, LAYER_NORM_BIAS };

// What a tensor is to the engine, whatever the family calls it: the engine binds parameters by
// role (and layer), never by their position in the table. Each weight is followed by its bias.
enum class ParamRole : uint8_t {
    WORD_EMBEDDINGS,
    POSITION_EMBEDDINGS,
    TOKEN_TYPE_EMBEDDINGS,
    EMBEDDING_NORM_WEIGHT,
    EMBEDDING_NORM_BIAS,
    // Per encoder layer: attention Q, K, V and output projections, LayerNorm, FFN in/out,
    // LayerNorm.
    Q_WEIGHT,
    Q_BIAS,
    K_WEIGHT,
    K_BIAS,
    V_WEIGHT,
    V_BIAS,
    O_WEIGHT,
    O_BIAS,
    NORM1_WEIGHT,
    NORM1_BIAS,
    FFN1_WEIGHT,
    FFN1_BIAS,
    FFN2_WEIGHT,
    FFN2_BIAS,
    NORM2_WEIGHT,
    NORM2_BIAS,
    // The sequence-classification head: dense (pre_classifier / pooler), then the output layer.
    HEAD_DENSE_WEIGHT,
    HEAD_DENSE_BIAS,
    HEAD_OUT_WEIGHT,
    HEAD_OUT_BIAS,
};

struct ParamSpec {
    std::string name;  // HF state-dict name, e.g. "distilbert.embeddings.word_embeddings.weight"
    Shape shape;
    ParamKind kind;
    std::string group;         // "embeddings", "layer.0", ..., "pooler", "classifier"
    int64_t padding_idx = -1;  // embeddings whose row is zeroed at init (word embeddings)
    ParamRole role = ParamRole::WORD_EMBEDDINGS;
    int32_t layer = -1;  // the encoder layer of a per-layer role, else -1
    // HF's Trainer puts biases and LayerNorm weights in the group without weight decay.
    bool no_weight_decay() const;
};

// The parameters of DistilBertForSequenceClassification / BertForSequenceClassification in the
// order of HF's named_parameters(). Buffers (position_ids) are not parameters.
std::vector<ParamSpec> parameter_table(const ModelConfig& config);

// All parameters of a model in one flat f32 allocation, with a named view for each. The
// allocation lives on a device: the views of a CUDA ModelWeights (tensors(), find(), flat())
// point into GPU memory and must not be dereferenced on the host; copy them to the host first
// (to(), copy_from()). state_dict() and save_pretrained take host weights only.
class ModelWeights {
  public:
    // Zero-filled on `device`.
    explicit ModelWeights(const ModelConfig& config, Device device = Device::CPU);
    Device device() const { return flat_.device(); }
    // A copy of these weights on `device` (the same table, the same bits).
    ModelWeights to(Device device) const;
    // Copies src's values into these weights (the same parameter table; any pair of devices).
    // Synchronous, on the default stream: work queued on another stream that writes either
    // buffer must have finished first.
    void copy_from(const ModelWeights& src);
    const std::vector<ParamSpec>& specs() const { return specs_; }
    const std::vector<Tensor>& tensors() const { return tensors_; }
    Tensor& tensor(size_t i) { return tensors_[i]; }
    const Tensor* find(const std::string& name) const;
    float* flat() { return static_cast<float*>(flat_.data()); }
    const float* flat() const { return static_cast<const float*>(flat_.data()); }
    int64_t numel() const { return numel_; }  // HF's num_parameters()
    // Floats in the flat allocation: numel() plus padding that keeps each tensor 64-byte aligned.
    int64_t flat_size() const { return static_cast<int64_t>(flat_.size() / sizeof(float)); }
    int64_t offset_of(size_t i) const { return tensors_[i].ptr<float>() - flat(); }
    // Every value 0 (on a GPU: on the default stream, synchronised, as copy_from()).
    void zero();
    StateDict state_dict() const;  // views under HF names, table order; host weights only

  private:
    ModelWeights(std::vector<ParamSpec> specs, Device device);
    std::vector<ParamSpec> specs_;
    std::vector<Tensor> tensors_;
    std::map<std::string, size_t> index_;
    Buffer flat_;
    int64_t numel_ = 0;
};

// The bf16 copy of a model's weights that bf16 autocast's GEMMs read (docs/bf16-autocast.md): the
// linear layers' weights rounded to bf16 (nearest, ties to even) as raw bits, in the flat layout
// of the weights it copies; the rest (embeddings, LayerNorms, biases, read in float32) stays 0.
// Training keeps it current without a pass of its own: AdamW::step_and_zero_grads rewrites it in
// the pass that updates the weights. CPU weights only.
class Bf16Weights {
  public:
    explicit Bf16Weights(const ModelWeights& weights);
    // Whether the copy holds this parameter (a linear layer's weight).
    static bool holds(const ParamSpec& spec) { return spec.kind == ParamKind::LINEAR_WEIGHT; }
    // Rounds `weights` (the same table) into this copy again.
    void refresh(const ModelWeights& weights);
    uint16_t* flat() { return static_cast<uint16_t*>(flat_.data()); }
    const uint16_t* flat() const { return static_cast<const uint16_t*>(flat_.data()); }
    int64_t flat_size() const { return static_cast<int64_t>(flat_.size() / sizeof(uint16_t)); }

  private:
    Buffer flat_;
};

// HF's _init_weights for one parameter: Linear and Embedding ~ N(0, initializer_range) with the
// padding row zeroed, biases 0, LayerNorm 1 and 0. Seeded, so the same seed gives the same values.
void init_parameter(Tensor& t, const ParamSpec& spec, double initializer_range, uint64_t seed,
                    uint64_t stream);

// ---------------------------------------------------------------------------------------------
// The engine: forward and backward of the ForSequenceClassification or ForTokenClassification
// model (config.task) on packed batches. The class keeps its first name: both heads classify.

// B sequences' tokens concatenated, no padding: sequence b owns tokens offsets[b] ..
// offsets[b+1]-1 and starts with [CLS]. Labels: class ids (single-label classification), one per
// sequence, or one per token for token classification (-100: not counted, as HF's
// ignore_index), or float targets, B x K (regression with K = 1, multi-label).
struct PackedBatch {
    std::vector<int32_t> input_ids;       // (T)
    std::vector<int32_t> token_type_ids;  // (T); empty means all 0
    std::vector<int32_t> offsets;         // (B+1), offsets[0] = 0
    std::vector<int64_t> labels;          // (B), (T) for token classification, or empty
    std::vector<float> targets;           // (B*K) or empty

    int64_t num_sequences() const {
        return offsets.empty() ? 0 : static_cast<int64_t>(offsets.size()) - 1;
    }
    int64_t num_tokens() const { return offsets.empty() ? 0 : offsets.back(); }
    int64_t max_length() const;
};

namespace ops {
struct Context;  // where ops run (src/ops/context.h, private to the library)
}

class SequenceClassifier {
  public:
    // The model reads `weights` in place (they must outlive it) and runs on their device: on the
    // CPU on the process's CPU context, on a GPU on a context (stream) of its own. Its
    // activations live in an arena on that device sized by reserve() or grown on the first batch
    // that does not fit.
    // On GPU weights, tf32 runs the GEMMs in TF32 (--tf32); the CPU ignores it.
    SequenceClassifier(const ModelConfig& config, const ModelWeights& weights, bool tf32 = false);
    ~SequenceClassifier();
    SequenceClassifier(const SequenceClassifier&) = delete;
    SequenceClassifier& operator=(const SequenceClassifier&) = delete;

    // Sizes the activation arena for batches of at most these many tokens / sequences / length.
    void reserve(int64_t max_tokens, int64_t max_sequences, int64_t max_length);
    // Forward pass. Returns the mean loss when the batch carries labels or targets, else NaN.
    // train turns dropout on; its mask is a function of (seed, step) only. The batch stays on
    // the host: a GPU model uploads its index arrays and reads the loss back (a synchronisation).
    double forward(const PackedBatch& batch, bool train, uint64_t seed = 0, uint64_t step = 0);
    // bf16 autocast (torch.autocast("cpu", dtype=torch.bfloat16), docs/bf16-autocast.md): the
    // forwards and backwards that follow run the GEMMs on `copy` (which must outlive its use and
    // stay current with the weights) and round where autocast would; null goes back to float32.
    // CPU weights on any CPU (oneDNN emulates bf16 where the CPU lacks it, slowly: the Trainer
    // checks cpu_has_bf16_gemm()).
    void set_autocast_bf16(const Bf16Weights* copy);
    // Backward of the last forward (which must have had labels): grads += loss_scale *
    // d(loss)/d(weights). The Trainer passes 1/gradient_accumulation_steps, as HF divides the loss.
    // grads live on the model's device; on a GPU the call returns before the work is done.
    void backward(ModelWeights& grads, float loss_scale = 1.0f);
    // (rows, K) of the last forward, on the host (a GPU model downloads them on the first call):
    // a row per sequence (B), or per token (T) for token classification.
    const float* logits() const;
    int64_t logit_rows() const;
    // The weights' device, and the context every op of the model runs on: whatever updates the
    // weights (AdamW) runs on the same context, so that a GPU step stays on one stream.
    Device device() const;
    const ops::Context& context() const;
    // The loss HF would use: from problem_type, else num_labels == 1 -> regression, else
    // single-label classification (class-id labels).
    ProblemType problem_type() const;
    size_t arena_bytes() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// from_pretrained / save_pretrained.

struct LoadOptions {
    std::optional<int64_t> num_labels;  // overrides config.json's labels, like HF's kwarg
    uint64_t init_seed = 42;            // for weights the checkpoint lacks
    // HF's ignore_mismatched_sizes: a checkpoint weight whose shape differs from the model's (a
    // 2-label head loaded for a 3-label task) is initialised afresh instead of refused.
    bool ignore_mismatched_sizes = false;
    // AutoModelForTokenClassification / ...ForSequenceClassification: the head to build whatever
    // config.json's architectures say (a base checkpoint names none).
    std::optional<ModelTask> task = std::nullopt;
    // from_pretrained(..., id2label=...): the label names, which also set num_labels.
    std::optional<std::vector<std::string>> id2label = std::nullopt;
};

// A checkpoint weight left out under ignore_mismatched_sizes, with both shapes.
struct MismatchedWeight {
    std::string key;
    std::string checkpoint_shape, model_shape;  // "[2, 768]"
};

struct LoadReport {
    std::string format;                          // "safetensors", "safetensors (3 shards)", ...
    std::vector<std::string> weight_files;       // file names in the directory
    std::vector<std::string> missing_keys;       // model parameters the files lacked (initialised)
    std::vector<std::string> unexpected_keys;    // file tensors the model does not use
    std::vector<std::string> ignored_buffers;    // e.g. bert.embeddings.position_ids
    std::vector<MismatchedWeight> mismatched;    // initialised (ignore_mismatched_sizes)
    std::map<std::string, int64_t> file_dtypes;  // dtype name -> tensor count, as stored
};

struct PretrainedModel {
    ModelConfig config;
    ModelWeights weights;
    LoadReport report;
};

// Loads config.json and the weights (model.safetensors, else model.safetensors.index.json, else
// pytorch_model.bin) from a directory. Accepts base models (with or without the family prefix,
// with MLM or pooler heads) and classifiers; half-precision files are widened to f32.
PretrainedModel load_pretrained(const fs::path& dir, const LoadOptions& options = {});

// Writes config.json and model.safetensors (HF names, metadata format=pt), each atomically.
void save_pretrained(const ModelConfig& config, const ModelWeights& weights, const fs::path& dir);

}  // namespace ft
