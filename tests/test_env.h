// Where the tests find their inputs: ../shared (reference data), the testdata folder that
// tools/make_test_data.py fills (ctest fixture), Debian's python3 with torch, and the CLI binary.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace ft::test {

std::filesystem::path shared_dir();  // FT_SHARED_DIR, default <repo>/../shared
// The real bert-base-uncased tokenizer files (vocab.txt, tokenizer.json, tokenizer_config.json).
std::filesystem::path bert_uncased_tokenizer_dir();
std::filesystem::path testdata_dir();  // build/testdata
std::filesystem::path tools_dir();     // <repo>/tools
std::string python();                  // the python3 that has torch
std::string cli();                     // build/finetune, or $FT_TEST_CLI

// A fresh empty directory under the system temp dir, unique per call.
std::filesystem::path make_temp_dir(const std::string& tag);

// A fresh directory holding the HF-made tiny DistilBERT (shared/reference/tiny_distilbert/init:
// config.json, pytorch_model.bin) with bert-base-uncased's vocab.txt and tokenizer_config.json.
std::filesystem::path tiny_distilbert_model_dir();

// The message of the ft::Error that `f` throws, or "(no error)".
std::string error_of(const std::function<void()>& f);

// Runs the finetune CLI with `args`; returns its output (stdout+stderr), the status in *rc.
std::string run_cli(const std::string& args, int* rc);

// Runs a shell command, returns its exit status and (stdout+stderr) in *output.
int run_command(const std::string& cmd, std::string* output = nullptr);

}  // namespace ft::test
