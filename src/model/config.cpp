// config.json <-> ModelConfig: HF's keys and defaults for DistilBERT and BERT, type-checked
// field by field, unsupported settings rejected, unknown keys carried through unchanged.
#include <nlohmann/json.hpp>

#include "finetune/model.h"

namespace ft {

using json = nlohmann::json;

namespace {

// Reads one typed field if present; a wrong JSON type is an error naming file and field.
class FieldReader {
  public:
    FieldReader(json& obj, const std::string& source) : obj_(obj), source_(source) {}

    void integer(const char* key, int64_t* out) {
        if (auto* v = take(key)) {
            if (!v->is_number_integer()) fail(key, "an integer", *v);
            *out = v->get<int64_t>();
        }
    }
    void number(const char* key, double* out) {
        if (auto* v = take(key)) {
            if (!v->is_number()) fail(key, "a number", *v);
            *out = v->get<double>();
        }
    }
    void optional_number(const char* key, std::optional<double>* out) {
        if (auto* v = take(key)) {
            if (v->is_null()) {
                out->reset();
                return;
            }
            if (!v->is_number()) fail(key, "a number or null", *v);
            *out = v->get<double>();
        }
    }
    void boolean(const char* key, bool* out) {
        if (auto* v = take(key)) {
            if (!v->is_boolean()) fail(key, "true or false", *v);
            *out = v->get<bool>();
        }
    }
    void string(const char* key, std::string* out) {
        if (auto* v = take(key)) {
            if (!v->is_string()) fail(key, "a string", *v);
            *out = v->get<std::string>();
        }
    }
    // Removes the key from the object (what remains are the extras) and returns its value.
    json* take(const char* key) {
        auto it = obj_.find(key);
        if (it == obj_.end()) return nullptr;
        taken_ = *it;
        obj_.erase(it);
        return &taken_;
    }
    [[noreturn]] void fail(const std::string& key, const char* expected, const json& v) {
        throw Error(source_ + ": field '" + key + "' must be " + expected + ", got " + v.dump());
    }

  private:
    json& obj_;
    const std::string& source_;
    json taken_;
};

void require_positive(const std::string& source, const char* key, int64_t v) {
    if (v <= 0)
        throw Error(source + ": field '" + key + "' must be positive, got " + std::to_string(v));
}

// torch.nn.Dropout's rule: a probability in [0, 1] (NaN fails the test too).
void check_dropout(const std::string& source, const char* key, double p) {
    if (!(p >= 0.0 && p <= 1.0))
        throw Error(source + ": field '" + key +
                    "' is a dropout probability and has to be between 0 and 1, got " +
                    std::to_string(p));
}

void check_activation(const std::string& source, const char* key, const std::string& act) {
    if (act != "gelu" && act != "relu")
        throw Error(source + ": " + key + " '" + act +
                    "' is not supported (supported: gelu, relu)");
}

ModelFamily detect_family(const json& obj, const std::string& source) {
    if (auto it = obj.find("model_type"); it != obj.end() && it->is_string()) {
        const auto t = it->get<std::string>();
        if (t == "distilbert") return ModelFamily::DISTILBERT;
        if (t == "bert") return ModelFamily::BERT;
        throw Error(source + ": model_type '" + t +
                    "' is not supported (supported: distilbert, bert)");
    }
    if (auto it = obj.find("architectures");
        it != obj.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) {
        const auto a = (*it)[0].get<std::string>();
        if (a.rfind("DistilBert", 0) == 0) return ModelFamily::DISTILBERT;
        if (a.rfind("Bert", 0) == 0) return ModelFamily::BERT;
        throw Error(source + ": architecture '" + a + "' is not supported (DistilBert*, Bert*)");
    }
    throw Error(source + ": neither model_type nor architectures says which model this is");
}

}  // namespace

std::string_view family_name(ModelFamily f) {
    return f == ModelFamily::BERT ? "bert" : "distilbert";
}

std::string_view problem_type_name(ProblemType p) {
    switch (p) {
        case ProblemType::SINGLE_LABEL_CLASSIFICATION:
            return "single_label_classification";
        case ProblemType::MULTI_LABEL_CLASSIFICATION:
            return "multi_label_classification";
        case ProblemType::REGRESSION:
            return "regression";
        case ProblemType::NONE:
            break;
    }
    return "";
}

// A bound on num_labels, far past any real label set, so that a corrupt config.json (num_labels
// 1e11) is an error rather than an attempt to allocate LABEL_0..LABEL_{N-1} until memory runs out.
constexpr int64_t MAX_NUM_LABELS = int64_t(1) << 20;

void ModelConfig::set_num_labels(int64_t n) {
    if (n <= 0) throw Error("num_labels must be positive, got " + std::to_string(n));
    if (n > MAX_NUM_LABELS)
        throw Error("num_labels " + std::to_string(n) + " is more than the " +
                    std::to_string(MAX_NUM_LABELS) + " labels a classifier may have");
    if (n == num_labels()) return;
    id2label.clear();
    for (int64_t i = 0; i < n; ++i) id2label.push_back("LABEL_" + std::to_string(i));
}

std::map<std::string, int64_t> ModelConfig::label2id() const {
    std::map<std::string, int64_t> m;
    for (size_t i = 0; i < id2label.size(); ++i) m[id2label[i]] = static_cast<int64_t>(i);
    return m;
}

int64_t ModelConfig::hidden() const {
    return family == ModelFamily::BERT ? bert.hidden_size : distilbert.dim;
}
int64_t ModelConfig::layers() const {
    return family == ModelFamily::BERT ? bert.num_hidden_layers : distilbert.n_layers;
}
int64_t ModelConfig::heads() const {
    return family == ModelFamily::BERT ? bert.num_attention_heads : distilbert.n_heads;
}
int64_t ModelConfig::ffn() const {
    return family == ModelFamily::BERT ? bert.intermediate_size : distilbert.hidden_dim;
}
int64_t ModelConfig::vocab() const {
    return family == ModelFamily::BERT ? bert.vocab_size : distilbert.vocab_size;
}
int64_t ModelConfig::max_positions() const {
    return family == ModelFamily::BERT ? bert.max_position_embeddings
                                       : distilbert.max_position_embeddings;
}
double ModelConfig::layer_norm_eps() const {
    return family == ModelFamily::BERT ? bert.layer_norm_eps : 1e-12;
}
double ModelConfig::initializer_range() const {
    return family == ModelFamily::BERT ? bert.initializer_range : distilbert.initializer_range;
}
Activation ModelConfig::activation() const {
    const std::string& a = family == ModelFamily::BERT ? bert.hidden_act : distilbert.activation;
    return a == "relu" ? Activation::RELU : Activation::GELU;
}
std::string ModelConfig::classifier_architecture() const {
    return family == ModelFamily::BERT ? "BertForSequenceClassification"
                                       : "DistilBertForSequenceClassification";
}

ModelConfig parse_model_config(const std::string& json_text, const std::string& source) {
    json obj;
    try {
        obj = json::parse(json_text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number past double
        throw Error(source + ": invalid JSON: " + e.what());
    }
    if (!obj.is_object()) throw Error(source + ": config must be a JSON object");

    ModelConfig c;
    c.family = detect_family(obj, source);
    FieldReader r(obj, source);
    r.take("model_type");
    if (auto* a = r.take("architectures")) {
        if (!a->is_array()) r.fail("architectures", "a list of strings", *a);
        for (const auto& x : *a) {
            if (!x.is_string()) r.fail("architectures", "a list of strings", *a);
            c.architectures.push_back(x.get<std::string>());
        }
    }

    if (c.family == ModelFamily::DISTILBERT) {
        auto& d = c.distilbert;
        r.integer("vocab_size", &d.vocab_size);
        r.integer("dim", &d.dim);
        r.integer("n_layers", &d.n_layers);
        r.integer("n_heads", &d.n_heads);
        r.integer("hidden_dim", &d.hidden_dim);
        r.number("dropout", &d.dropout);
        r.number("attention_dropout", &d.attention_dropout);
        r.number("seq_classif_dropout", &d.seq_classif_dropout);
        r.number("qa_dropout", &d.qa_dropout);
        r.string("activation", &d.activation);
        r.integer("max_position_embeddings", &d.max_position_embeddings);
        r.boolean("sinusoidal_pos_embds", &d.sinusoidal_pos_embds);
        r.number("initializer_range", &d.initializer_range);
        r.integer("pad_token_id", &d.pad_token_id);
        if (d.sinusoidal_pos_embds)
            throw Error(source +
                        ": sinusoidal_pos_embds=true is not supported (learned position "
                        "embeddings only)");
        check_activation(source, "activation", d.activation);
        check_dropout(source, "dropout", d.dropout);
        check_dropout(source, "attention_dropout", d.attention_dropout);
        check_dropout(source, "seq_classif_dropout", d.seq_classif_dropout);
        check_dropout(source, "qa_dropout", d.qa_dropout);
    } else {
        auto& b = c.bert;
        r.integer("vocab_size", &b.vocab_size);
        r.integer("hidden_size", &b.hidden_size);
        r.integer("num_hidden_layers", &b.num_hidden_layers);
        r.integer("num_attention_heads", &b.num_attention_heads);
        r.integer("intermediate_size", &b.intermediate_size);
        r.string("hidden_act", &b.hidden_act);
        r.number("hidden_dropout_prob", &b.hidden_dropout_prob);
        r.number("attention_probs_dropout_prob", &b.attention_probs_dropout_prob);
        r.optional_number("classifier_dropout", &b.classifier_dropout);
        r.integer("type_vocab_size", &b.type_vocab_size);
        r.number("layer_norm_eps", &b.layer_norm_eps);
        r.string("position_embedding_type", &b.position_embedding_type);
        r.integer("max_position_embeddings", &b.max_position_embeddings);
        r.integer("pad_token_id", &b.pad_token_id);
        r.number("initializer_range", &b.initializer_range);
        if (b.position_embedding_type != "absolute")
            throw Error(source + ": position_embedding_type '" + b.position_embedding_type +
                        "' is not supported (absolute only)");
        check_activation(source, "hidden_act", b.hidden_act);
        check_dropout(source, "hidden_dropout_prob", b.hidden_dropout_prob);
        check_dropout(source, "attention_probs_dropout_prob", b.attention_probs_dropout_prob);
        if (b.classifier_dropout)
            check_dropout(source, "classifier_dropout", *b.classifier_dropout);
        require_positive(source, "type_vocab_size", b.type_vocab_size);
    }
    require_positive(source, "vocab size", c.vocab());
    require_positive(source, "hidden size", c.hidden());
    require_positive(source, "layer count", c.layers());
    require_positive(source, "head count", c.heads());
    require_positive(source, "FFN size", c.ffn());
    require_positive(source, "max_position_embeddings", c.max_positions());
    if (c.hidden() % c.heads() != 0)
        throw Error(source + ": hidden size " + std::to_string(c.hidden()) +
                    " is not a multiple of the head count " + std::to_string(c.heads()));

    // Labels, as PretrainedConfig reads them: id2label wins; else num_labels (default 2).
    json* num_labels = r.take("num_labels");
    json* old_num_labels = r.take("_num_labels");
    r.take("label2id");  // derived from id2label
    if (json* id2label = r.take("id2label"); id2label && !id2label->is_null()) {
        if (!id2label->is_object() || id2label->empty())
            r.fail("id2label", "a non-empty object {\"0\": name, ...}", *id2label);
        std::vector<std::string> names(id2label->size());
        std::vector<bool> seen(id2label->size(), false);
        for (auto it = id2label->begin(); it != id2label->end(); ++it) {
            size_t pos = 0;
            long long id = -1;
            try {
                id = std::stoll(it.key(), &pos);
            } catch (...) {
            }
            if (pos != it.key().size() || id < 0 || id >= static_cast<long long>(names.size()) ||
                seen[id])
                throw Error(source + ": id2label key '" + it.key() + "' must be one of 0.." +
                            std::to_string(names.size() - 1) + ", each once");
            if (!it.value().is_string()) r.fail("id2label." + it.key(), "a string", it.value());
            names[id] = it.value().get<std::string>();
            seen[id] = true;
        }
        c.id2label = names;
    } else {
        json* n = num_labels ? num_labels : old_num_labels;
        if (n) {
            if (!n->is_number_integer()) r.fail("num_labels", "an integer", *n);
            c.id2label.clear();
            try {
                c.set_num_labels(n->get<int64_t>());
            } catch (const Error& e) {
                throw Error(source + ": " + e.what());
            }
        }
    }
    if (json* p = r.take("problem_type"); p && !p->is_null()) {
        if (!p->is_string()) r.fail("problem_type", "a string", *p);
        const auto s = p->get<std::string>();
        if (s == "single_label_classification")
            c.problem_type = ProblemType::SINGLE_LABEL_CLASSIFICATION;
        else if (s == "multi_label_classification")
            c.problem_type = ProblemType::MULTI_LABEL_CLASSIFICATION;
        else if (s == "regression")
            c.problem_type = ProblemType::REGRESSION;
        else
            throw Error(source + ": problem_type '" + s +
                        "' is not one of single_label_classification, "
                        "multi_label_classification, regression");
    }
    c.extra_json = obj.dump();
    return c;
}

ModelConfig load_model_config(const fs::path& config_json) {
    return parse_model_config(read_text_file(config_json), config_json.string());
}

std::string model_config_to_json(const ModelConfig& c) {
    json obj = json::parse(c.extra_json);
    obj["architectures"] = c.architectures.empty()
                               ? std::vector<std::string>{c.classifier_architecture()}
                               : c.architectures;
    obj["model_type"] = std::string(family_name(c.family));
    if (c.family == ModelFamily::DISTILBERT) {
        const auto& d = c.distilbert;
        obj["vocab_size"] = d.vocab_size;
        obj["dim"] = d.dim;
        obj["n_layers"] = d.n_layers;
        obj["n_heads"] = d.n_heads;
        obj["hidden_dim"] = d.hidden_dim;
        obj["dropout"] = d.dropout;
        obj["attention_dropout"] = d.attention_dropout;
        obj["seq_classif_dropout"] = d.seq_classif_dropout;
        obj["qa_dropout"] = d.qa_dropout;
        obj["activation"] = d.activation;
        obj["max_position_embeddings"] = d.max_position_embeddings;
        obj["sinusoidal_pos_embds"] = d.sinusoidal_pos_embds;
        obj["initializer_range"] = d.initializer_range;
        obj["pad_token_id"] = d.pad_token_id;
    } else {
        const auto& b = c.bert;
        obj["vocab_size"] = b.vocab_size;
        obj["hidden_size"] = b.hidden_size;
        obj["num_hidden_layers"] = b.num_hidden_layers;
        obj["num_attention_heads"] = b.num_attention_heads;
        obj["intermediate_size"] = b.intermediate_size;
        obj["hidden_act"] = b.hidden_act;
        obj["hidden_dropout_prob"] = b.hidden_dropout_prob;
        obj["attention_probs_dropout_prob"] = b.attention_probs_dropout_prob;
        obj["classifier_dropout"] =
            b.classifier_dropout ? json(*b.classifier_dropout) : json(nullptr);
        obj["type_vocab_size"] = b.type_vocab_size;
        obj["layer_norm_eps"] = b.layer_norm_eps;
        obj["position_embedding_type"] = b.position_embedding_type;
        obj["max_position_embeddings"] = b.max_position_embeddings;
        obj["pad_token_id"] = b.pad_token_id;
        obj["initializer_range"] = b.initializer_range;
    }
    json id2label = json::object(), label2id = json::object();
    for (size_t i = 0; i < c.id2label.size(); ++i) {
        id2label[std::to_string(i)] = c.id2label[i];
        label2id[c.id2label[i]] = i;
    }
    obj["id2label"] = id2label;
    obj["label2id"] = label2id;
    if (c.problem_type != ProblemType::NONE)
        obj["problem_type"] = std::string(problem_type_name(c.problem_type));
    return obj.dump(2) + "\n";
}

}  // namespace ft
