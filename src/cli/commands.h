// The CLI's subcommands: each file registers one on the app and runs it when chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace ft::cli {

// A registered subcommand and what runs when it is the one chosen.
struct Command {
    CLI::App* app;
    std::function<int()> run;
};

Command register_info(CLI::App& app);
Command register_tokenize(CLI::App& app);      // tokenize_command.cpp
Command register_data(CLI::App& app);          // data_command.cpp
Command register_download(CLI::App& app);      // download_command.cpp
Command register_train(CLI::App& app);         // train_command.cpp
Command register_train_tagger(CLI::App& app);  // train_tagger_command.cpp
Command register_predict(CLI::App& app);       // predict_command.cpp
Command register_eval(CLI::App& app);          // predict_command.cpp
Command register_plot(CLI::App& app);          // plot_command.cpp

// predict_tags.cpp: `finetune predict` on a token classifier: word tags and entity groups.
int predict_tags(const std::string& model, const std::vector<std::string>& sentences,
                 const std::string& aggregation_strategy);

// cli_files.cpp: the checks every subcommand makes on the paths it is given, before any work.
// Opens the file `flag` names; a missing or unreadable file or a folder is an ft::Error naming
// both.
std::ifstream open_input_file(const std::string& path, const std::string& flag);
// Makes `dir` if needed and proves it writable by creating and removing a file in it; a file in
// its place, a read-only mount or a missing permission is an ft::Error naming `flag` and `dir`.
void ensure_writable_dir(const std::filesystem::path& dir, const std::string& flag);

}  // namespace ft::cli
