// CLI11 registration of the TrainingArguments spec table (see training_flags.h): names, the
// help line with its default, bare booleans, and spec errors turned into CLI parse errors.
#include "cli/training_flags.h"

#include <algorithm>
#include <string>
#include <vector>

namespace ft::cli {
namespace {

std::string kebab(std::string name) {
    for (char& c : name)
        if (c == '_') c = '-';
    return name;
}

// "--name,--kebab-name" for each name.
std::string option_names(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) {
        out += (out.empty() ? "--" : ",--") + n;
        if (kebab(n) != n) out += ",--" + kebab(n);
    }
    return out;
}

// What --help shows after the names: the value type (or the choices) and the default.
std::string option_text(const ArgumentSpec& spec, bool is_bool, const std::string& current) {
    std::string type;
    if (is_bool) {
        type = "[BOOL]";
    } else if (!spec.choices.empty()) {
        for (const std::string& c : spec.choices) type += (type.empty() ? "{" : ",") + c;
        type += "}";
    } else if (spec.type.find("int") != std::string::npos) {
        type = "INT";
    } else if (spec.type.find("float") != std::string::npos) {
        type = "FLOAT";
    } else if (spec.type == "list") {
        type = "LIST";
    } else {
        type = "TEXT";
    }
    return current.empty() ? type : type + "=" + current;
}

void add_option(CLI::App& app, TrainingArguments& args, const ArgumentSpec& spec,
                const std::vector<std::string>& names, bool is_bool, const std::string& help,
                const std::string& current) {
    const ArgumentSpec* s = &spec;  // the spec table is static
    CLI::Option* opt = app.add_option(
        option_names(names),
        [&args, s, is_bool](const CLI::results_t& results) {
            for (const std::string& value : results) {
                try {
                    // A bare boolean arrives as "" (no default_str: that would show in --help).
                    s->set(args, is_bool && value.empty() ? "true" : value);
                } catch (const Error& e) {
                    throw CLI::ValidationError(e.what());
                }
            }
            return true;
        },
        help);
    opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    opt->option_text(option_text(spec, is_bool, current));
    opt->group("Training arguments");
    if (is_bool) opt->expected(0, 1);
}

}  // namespace

void add_training_flags(CLI::App& app, TrainingArguments& args) {
    for (const ArgumentSpec& spec : training_argument_specs()) {
        std::vector<std::string> names = {spec.name};
        for (const std::string& a : spec.aliases)
            if (std::find(spec.bool_aliases.begin(), spec.bool_aliases.end(), a) ==
                spec.bool_aliases.end())
                names.push_back(a);
        add_option(app, args, spec, names, spec.is_bool, spec.help, spec.get(args));
        for (const std::string& a : spec.bool_aliases)
            add_option(app, args, spec, {a}, true, "Same as --" + spec.name + " " + a + ".",
                       spec.get(args) == a ? "true" : "false");
    }
}

}  // namespace ft::cli
