// Loading the PyTorch model goldens (tests/goldens/*.safetensors, made by tools/gen_goldens.py)
// and the shared HF reference batches into the engine's types, plus comparison helpers that
// print the first mismatches and the max difference.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "finetune/model.h"

namespace ft::test {

std::filesystem::path goldens_dir();

struct GoldenModel {
    SafetensorsFile file;
    ModelConfig config;
    std::unique_ptr<ModelWeights> weights;  // from the "param.<name>" tensors
    PackedBatch batch;
};
GoldenModel load_golden_model(const std::string& file_name);

// The values of an F64 tensor (copied: golden files do not align their tensors).
std::vector<double> doubles(const Tensor& t);

// Every dropout probability of the config set to 0 (the goldens' train-mode runs).
void zero_dropout(ModelConfig& config);

// A right-padded batch (ids and mask B x L, row-major) packed: pads dropped.
PackedBatch pack_padded(const std::vector<std::vector<int64_t>>& input_ids,
                        const std::vector<std::vector<int64_t>>& attention_mask,
                        const std::vector<int64_t>& labels);

// Copies every parameter from tensors named prefix + HF name (f32) into weights.
void load_weights(ModelWeights& weights, const StateDict& tensors, const std::string& prefix);

// |got - want| <= tol * scale for every element, where scale is 1 (absolute), or
// max(1, |want_i|) (relative), or the max |want| of the tensor (relative to max). Prints the
// first mismatches and the max difference.
enum class Scale { ABSOLUTE, RELATIVE, RELATIVE_TO_MAX };
::testing::AssertionResult all_close(const float* got, const float* want, int64_t n, double tol,
                                     Scale scale);
::testing::AssertionResult close(double got, double want, double rel_tol);

}  // namespace ft::test
