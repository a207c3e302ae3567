// The CLI's subcommands: each file registers one on the app and runs it when chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace ft::cli {

// A registered subcommand and what runs when it is the one chosen.
struct Command {
    CLI::App* app;
    std::function<int()> run;
};

Command register_info(CLI::App& app);
Command register_tokenize(CLI::App& app);  // tokenize_command.cpp
Command register_data(CLI::App& app);      // data_command.cpp
Command register_download(CLI::App& app);  // download_command.cpp
Command register_train(CLI::App& app);     // train_command.cpp
Command register_predict(CLI::App& app);   // predict_command.cpp
Command register_eval(CLI::App& app);      // predict_command.cpp
Command register_plot(CLI::App& app);      // plot_command.cpp

}  // namespace ft::cli
