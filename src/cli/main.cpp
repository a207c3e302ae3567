// finetune — the command-line tool. Thin: parse, call the library, print.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "finetune/core.h"

int main(int argc, char** argv) {
    CLI::App app{"finetune: fine-tune DistilBERT and BERT for text classification"};
    app.set_version_flag("--version", std::string("finetune ") + FT_VERSION);
    app.require_subcommand(0, 1);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (argc == 1) std::fputs(app.help().c_str(), stdout);
    return 0;
}
