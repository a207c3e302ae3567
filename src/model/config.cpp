// config.json <-> ModelConfig: the keys every family shares (labels, problem_type, model_type),
// the family's own keys through its descriptor (model/family_*.cpp), unknown keys carried through
// unchanged.
#include <nlohmann/json.hpp>

#include "finetune/model.h"
#include "model/family.h"

namespace ft {

using json = nlohmann::json;

namespace {

const FamilyDescriptor& detect_family(const json& obj, const std::string& source) {
    if (auto it = obj.find("model_type"); it != obj.end() && it->is_string()) {
        const auto t = it->get<std::string>();
        if (const FamilyDescriptor* f = find_family_by_model_type(t)) return *f;
        throw Error(source + ": model_type '" + t +
                    "' is not supported (supported: " + supported_model_types() + ")");
    }
    if (auto it = obj.find("architectures");
        it != obj.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) {
        const auto a = (*it)[0].get<std::string>();
        if (const FamilyDescriptor* f = find_family_by_architecture(a)) return *f;
        throw Error(source + ": architecture '" + a + "' is not supported (" +
                    supported_architectures() + ")");
    }
    throw Error(source + ": neither model_type nor architectures says which model this is");
}

}  // namespace

std::string_view family_name(ModelFamily f) {
    return family_descriptor(f).model_type;
}

std::string_view task_name(ModelTask t) {
    return t == ModelTask::TOKEN_CLASSIFICATION ? "token-classification"
                                                : "sequence-classification";
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
    return family_descriptor(family).encoder(*this).C;
}
int64_t ModelConfig::layers() const {
    return family_descriptor(family).encoder(*this).L;
}
int64_t ModelConfig::heads() const {
    return family_descriptor(family).encoder(*this).NH;
}
int64_t ModelConfig::ffn() const {
    return family_descriptor(family).encoder(*this).F;
}
int64_t ModelConfig::vocab() const {
    return family_descriptor(family).encoder(*this).V;
}
int64_t ModelConfig::max_positions() const {
    return family_descriptor(family).encoder(*this).P;
}
double ModelConfig::layer_norm_eps() const {
    return family_descriptor(family).encoder(*this).eps;
}
double ModelConfig::initializer_range() const {
    return family_descriptor(family).initializer_range(*this);
}
Activation ModelConfig::activation() const {
    return family_descriptor(family).encoder(*this).ffn_activation;
}
std::string ModelConfig::classifier_architecture() const {
    const FamilyDescriptor& f = family_descriptor(family);
    return std::string(task == ModelTask::TOKEN_CLASSIFICATION ? f.token_head.class_name
                                                               : f.sequence_classification_class);
}
bool ModelConfig::uses_token_types() const {
    return family_descriptor(family).encoder(*this).TT > 0;
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
    const FamilyDescriptor& family = detect_family(obj, source);
    c.family = family.family;
    ConfigFields r(obj, source);
    r.take("model_type");
    if (auto* a = r.take("architectures")) {
        if (!a->is_array()) r.fail("architectures", "a list of strings", *a);
        for (const auto& x : *a) {
            if (!x.is_string()) r.fail("architectures", "a list of strings", *a);
            c.architectures.push_back(x.get<std::string>());
        }
    }
    // A checkpoint saved as a token classifier builds one (AutoModel's class may override it).
    if (!c.architectures.empty() && c.architectures[0].ends_with("ForTokenClassification"))
        c.task = ModelTask::TOKEN_CLASSIFICATION;
    family.read_config(r, c);
    r.require_positive("vocab size", c.vocab());
    r.require_positive("hidden size", c.hidden());
    r.require_positive("layer count", c.layers());
    r.require_positive("head count", c.heads());
    r.require_positive("FFN size", c.ffn());
    r.require_positive("max_position_embeddings", c.max_positions());
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
    family_descriptor(c.family).write_config(c, obj);
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
