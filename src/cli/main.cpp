// finetune — the command-line tool. Thin: parse, call the library, print.
// Usage errors exit 2; data errors print one line and exit 1. Nothing escapes as an abort: an
// exception from below (the filesystem, an allocation) is one line and exit 1 too.
#include <cstdio>
#include <filesystem>
#include <new>
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
        ft::cli::register_info(app),    ft::cli::register_tokenize(app),
        ft::cli::register_data(app),    ft::cli::register_download(app),
        ft::cli::register_train(app),   ft::cli::register_train_tagger(app),
        ft::cli::register_predict(app), ft::cli::register_eval(app),
        ft::cli::register_plot(app)};

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
    } catch (const std::filesystem::filesystem_error& e) {
        // what() names the operation and both paths: "filesystem error: cannot create
        // directories: Not a directory [out/checkpoint-8]".
        std::fprintf(stderr, "finetune: error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr,
                     "finetune: error: out of memory (a size taken from the input is too large "
                     "for this machine)\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "finetune: error: %s\n", e.what());
        return 1;
    } catch (...) {
        std::fprintf(stderr, "finetune: error: an unknown exception ended the command\n");
        return 1;
    }
    std::fputs(app.help().c_str(), stdout);
    return 0;
}
