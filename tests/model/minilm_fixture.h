// The real pretrained all-MiniLM-L6-v2 for tests: where it is, why it cannot be used, and the
// classifier head HF initialised once (tests/goldens/minilm). The model is not in the
// repository (tools/get_minilm.py fetches it); tests that need it skip with the reason.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "finetune/io.h"
#include "finetune/model.h"
#include "model/golden_model.h"
#include "test_env.h"

namespace ft::test {

// $FT_MINILM_DIR, else tools/get_minilm.py's default folder.
inline std::filesystem::path minilm_dir() {
    if (const char* d = std::getenv("FT_MINILM_DIR"); d && *d) return d;
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "") / ".cache/finetune/all-MiniLM-L6-v2";
}

// Why the model cannot be used, or "" when it can. The size is a cheap check that the file is
// the pinned one (get_minilm.py checks its sha256).
inline std::string minilm_unavailable() {
    const auto d = minilm_dir();
    std::error_code ec;
    if (!std::filesystem::exists(d / "config.json", ec) ||
        !std::filesystem::exists(d / "model.safetensors", ec))
        return d.string() +
               " has no all-MiniLM-L6-v2 (run tools/get_minilm.py, or set FT_MINILM_DIR)";
    if (std::filesystem::file_size(d / "model.safetensors", ec) != 90868376u)
        return (d / "model.safetensors").string() +
               " is not the pinned file (run tools/get_minilm.py --force)";
    return "";
}

#define REQUIRE_MINILM()                                                              \
    do {                                                                              \
        if (const std::string why = ::ft::test::minilm_unavailable(); !why.empty()) { \
            GTEST_SKIP() << why;                                                      \
        }                                                                             \
    } while (0)

inline std::filesystem::path minilm_golden_dir() {
    return goldens_dir() / "minilm";
}

// Copies classifier_head.safetensors (HF's seeded head, saved once) over the model's head.
inline void load_golden_head(ModelWeights& w) {
    const auto head = read_safetensors(minilm_golden_dir() / "classifier_head.safetensors");
    int copied = 0;
    for (size_t i = 0; i < w.specs().size(); ++i) {
        const Tensor* src = head.tensors.find(w.specs()[i].name);
        if (!src) continue;
        ASSERT_EQ(src->shape, w.specs()[i].shape) << w.specs()[i].name;
        const Tensor c = src->contiguous_copy();
        std::copy_n(c.ptr<const float>(), c.numel(), w.tensor(i).ptr<float>());
        ++copied;
    }
    ASSERT_EQ(copied, 2);  // classifier.weight, classifier.bias
}

}  // namespace ft::test
