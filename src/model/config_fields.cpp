// ConfigFields: typed, checked reads of config.json keys (see config_fields.h).
#include "model/config_fields.h"

namespace ft {

void ConfigFields::integer(const char* key, int64_t* out) {
    if (auto* v = take(key)) {
        if (!v->is_number_integer()) fail(key, "an integer", *v);
        *out = v->get<int64_t>();
    }
}

void ConfigFields::number(const char* key, double* out) {
    if (auto* v = take(key)) {
        if (!v->is_number()) fail(key, "a number", *v);
        *out = v->get<double>();
    }
}

void ConfigFields::optional_number(const char* key, std::optional<double>* out) {
    if (auto* v = take(key)) {
        if (v->is_null()) {
            out->reset();
            return;
        }
        if (!v->is_number()) fail(key, "a number or null", *v);
        *out = v->get<double>();
    }
}

void ConfigFields::boolean(const char* key, bool* out) {
    if (auto* v = take(key)) {
        if (!v->is_boolean()) fail(key, "true or false", *v);
        *out = v->get<bool>();
    }
}

void ConfigFields::string(const char* key, std::string* out) {
    if (auto* v = take(key)) {
        if (!v->is_string()) fail(key, "a string", *v);
        *out = v->get<std::string>();
    }
}

ConfigFields::json* ConfigFields::take(const char* key) {
    auto it = obj_.find(key);
    if (it == obj_.end()) return nullptr;
    taken_ = *it;
    obj_.erase(it);
    return &taken_;
}

void ConfigFields::fail(const std::string& key, const char* expected, const json& v) const {
    throw Error(source_ + ": field '" + key + "' must be " + expected + ", got " + v.dump());
}

void ConfigFields::require_positive(const char* key, int64_t v) const {
    if (v <= 0)
        throw Error(source_ + ": field '" + key + "' must be positive, got " + std::to_string(v));
}

void ConfigFields::check_dropout(const char* key, double p) const {
    if (!(p >= 0.0 && p <= 1.0))  // NaN fails too
        throw Error(source_ + ": field '" + key +
                    "' is a dropout probability and has to be between 0 and 1, got " +
                    std::to_string(p));
}

void ConfigFields::check_activation(const char* key, const std::string& act) const {
    if (act != "gelu" && act != "relu")
        throw Error(source_ + ": " + key + " '" + act +
                    "' is not supported (supported: gelu, relu)");
}

}  // namespace ft
