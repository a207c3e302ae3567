// Typed reads of config.json fields, shared by config.cpp and the family descriptors: each read
// removes its key (what remains is carried through verbatim), and a wrong JSON type or a bad value
// is an ft::Error naming the file and the field.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <variant>

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

// One config.json key of a family's typed config struct S and the member it fills: a family lists
// its keys once, and that list drives both reading and writing config.json.
template <class S>
struct ConfigKey {
    const char* name;
    std::variant<int64_t S::*, double S::*, bool S::*, std::string S::*, std::optional<double> S::*>
        member;
};

template <class S>
void read_keys(ConfigFields& r, S& s, std::span<const ConfigKey<S>> keys) {
    for (const ConfigKey<S>& k : keys)
        std::visit(
            [&](auto member) {
                auto& field = s.*member;
                using F = std::remove_reference_t<decltype(field)>;
                if constexpr (std::is_same_v<F, int64_t>) r.integer(k.name, &field);
                if constexpr (std::is_same_v<F, double>) r.number(k.name, &field);
                if constexpr (std::is_same_v<F, bool>) r.boolean(k.name, &field);
                if constexpr (std::is_same_v<F, std::string>) r.string(k.name, &field);
                if constexpr (std::is_same_v<F, std::optional<double>>)
                    r.optional_number(k.name, &field);
            },
            k.member);
}

template <class S>
void write_keys(nlohmann::json& obj, const S& s, std::span<const ConfigKey<S>> keys) {
    for (const ConfigKey<S>& k : keys)
        std::visit(
            [&](auto member) {
                const auto& field = s.*member;
                using F = std::remove_cvref_t<decltype(field)>;
                if constexpr (std::is_same_v<F, std::optional<double>>) {
                    obj[k.name] = field ? nlohmann::json(*field) : nlohmann::json(nullptr);
                } else {
                    obj[k.name] = field;
                }
            },
            k.member);
}

}  // namespace ft
