// Typed reads of config.json fields, shared by config.cpp and the family descriptors: each read
// removes its key (what remains is carried through verbatim), and a wrong JSON type or a bad value
// is an ft::Error naming the file and the field.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "finetune/core.h"

namespace ft {

class ConfigFields {
  public:
    using json = nlohmann::json;
    ConfigFields(json& obj, const std::string& source) : obj_(obj), source_(source) {}

    void integer(const char* key, int64_t* out);
    void number(const char* key, double* out);
    void optional_number(const char* key, std::optional<double>* out);
    void boolean(const char* key, bool* out);
    void string(const char* key, std::string* out);
    // Removes the key from the object and returns its value (null when absent).
    json* take(const char* key);
    [[noreturn]] void fail(const std::string& key, const char* expected, const json& v) const;

    // Value checks, each naming the field.
    void require_positive(const char* key, int64_t v) const;
    void check_dropout(const char* key, double p) const;  // torch.nn.Dropout: p in [0, 1]
    void check_activation(const char* key, const std::string& act) const;  // gelu or relu
    const std::string& source() const { return source_; }

  private:
    json& obj_;
    const std::string& source_;
    json taken_;
};

}  // namespace ft
