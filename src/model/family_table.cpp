// The table of model families (one row per family_<name>.cpp) and the lookups over it.
#include <array>

#include "model/family.h"

namespace ft {

namespace {

// Order matters only for error messages ("supported: ...").
const std::array<const FamilyDescriptor*, 4> FAMILIES = {&DISTILBERT_FAMILY, &BERT_FAMILY,
                                                         &ROBERTA_FAMILY, &XLM_ROBERTA_FAMILY};

}  // namespace

const FamilyDescriptor& family_descriptor(ModelFamily family) {
    for (const FamilyDescriptor* f : FAMILIES)
        if (f->family == family) return *f;
    FT_ASSERT(false, "model family without a descriptor");
}

const FamilyDescriptor* find_family_by_model_type(std::string_view model_type) {
    for (const FamilyDescriptor* f : FAMILIES)
        if (f->model_type == model_type) return f;
    return nullptr;
}

const FamilyDescriptor* find_family_by_architecture(std::string_view architecture) {
    for (const FamilyDescriptor* f : FAMILIES)
        if (architecture.starts_with(f->architecture_prefix)) return f;
    return nullptr;
}

std::string supported_model_types() {
    std::string s;
    for (const FamilyDescriptor* f : FAMILIES)
        s += (s.empty() ? "" : ", ") + std::string(f->model_type);
    return s;
}

std::string supported_architectures() {
    std::string s;
    for (const FamilyDescriptor* f : FAMILIES)
        s += (s.empty() ? "" : ", ") + std::string(f->architecture_prefix) + "*";
    return s;
}

}  // namespace ft
