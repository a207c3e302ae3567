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
#include "model/encoder_spec.h"

namespace ft {

// What a key's value must satisfy once read; a failure names the file and the key.
enum class KeyCheck {
    NONE,
    POSITIVE,    // an integer > 0
    DROPOUT,     // a probability in [0, 1] (torch.nn.Dropout); an absent optional passes
    ACTIVATION,  // "gelu" or "relu"
};

// The activation a checked activation name stands for.
inline Activation activation_named(const std::string& name) {
    return name == "relu" ? Activation::RELU : Activation::GELU;
}

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
    // Any Check below for the value of key, read as an F.
    template <class F>
    void check(const char* key, const F& value, KeyCheck what) const;
    const std::string& source() const { return source_; }

  private:
    json& obj_;
    const std::string& source_;
    json taken_;
};

// One config.json key of a family's typed config struct S: the member it fills, the encoder-spec
// field it sets (if any; an activation name sets an Activation), and what its value must satisfy.
// A family lists its keys once, and that list drives reading, checking and writing config.json
// and forming the encoder's spec.
template <class S>
struct ConfigKey {
    const char* name;
    std::variant<int64_t S::*, double S::*, bool S::*, std::string S::*, std::optional<double> S::*>
        member;
    std::variant<std::monostate, int64_t EncoderSpec::*, double EncoderSpec::*,
                 Activation EncoderSpec::*>
        spec = {};
    KeyCheck check = KeyCheck::NONE;
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
                r.check(k.name, field, k.check);
            },
            k.member);
}

template <class F>
void ConfigFields::check(const char* key, const F& value, KeyCheck what) const {
    if constexpr (std::is_same_v<F, int64_t>)
        if (what == KeyCheck::POSITIVE) return require_positive(key, value);
    if constexpr (std::is_same_v<F, double>)
        if (what == KeyCheck::DROPOUT) return check_dropout(key, value);
    if constexpr (std::is_same_v<F, std::optional<double>>)
        if (what == KeyCheck::DROPOUT) return value ? check_dropout(key, *value) : void();
    if constexpr (std::is_same_v<F, std::string>)
        if (what == KeyCheck::ACTIVATION) return check_activation(key, value);
    FT_ASSERT(what == KeyCheck::NONE, std::string("config key ") + key + ": check of another type");
}

// The spec fields the keys name, from the values in s.
template <class S>
void set_spec_fields(EncoderSpec& e, const S& s, std::span<const ConfigKey<S>> keys) {
    for (const ConfigKey<S>& k : keys)
        std::visit(
            [&](auto member, auto target) {
                using F = std::remove_cvref_t<decltype(s.*member)>;
                using G = decltype(target);
                if constexpr (std::is_same_v<G, Activation EncoderSpec::*> &&
                              std::is_same_v<F, std::string>) {
                    e.*target = activation_named(s.*member);
                } else if constexpr (!std::is_same_v<G, std::monostate>) {
                    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(e.*target)>, F>)
                        e.*target = s.*member;
                    else
                        FT_ASSERT(false, std::string("config key ") + k.name +
                                             ": spec field of another type");
                }
            },
            k.member, k.spec);
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
