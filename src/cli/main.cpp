// finetune — the command-line tool. Thin: parse, call the library, print.
// Usage errors exit 2; data errors print one line and exit 1.
#include <cstdio>
#include <vector>

#include "cli/commands.h"
#include "finetune/core.h"

int main(int argc, char** argv) {
    CLI::App app{
        "finetune: fine-tune DistilBERT and BERT encoders for text classification,\n"
        "the HuggingFace workflow as a native tool."};
    app.set_version_flag("--version", std::string("finetune ") + FT_VERSION);
    app.require_subcommand(0, 1);
    const std::vector<ft::cli::Command> commands = {
        ft::cli::register_info(app),  ft::cli::register_tokenize(app),
        ft::cli::register_data(app),  ft::cli::register_download(app),
        ft::cli::register_train(app), ft::cli::register_predict(app),
        ft::cli::register_eval(app),  ft::cli::register_plot(app)};

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "finetune: %s (see finetune --help)\n", e.what());
        return 2;
    }
    try {
        for (const auto& c : commands)
            if (c.app->parsed()) return c.run();
    } catch (const ft::Error& e) {
        std::fprintf(stderr, "finetune: error: %s\n", e.what());
        return 1;
    }
    std::fputs(app.help().c_str(), stdout);
    return 0;
}
