// See golden_model.h.
#include "model/golden_model.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "test_env.h"

namespace ft::test {

std::filesystem::path goldens_dir() {
    return tools_dir() / ".." / "tests" / "goldens";
}

void load_weights(ModelWeights& weights, const StateDict& tensors, const std::string& prefix) {
    for (size_t i = 0; i < weights.specs().size(); ++i) {
        const Tensor& src = tensors.at(prefix + weights.specs()[i].name);
        FT_ASSERT(src.dtype == DType::F32 && src.shape == weights.specs()[i].shape,
                  "golden tensor " + weights.specs()[i].name + " has the wrong dtype or shape");
        const Tensor c = src.contiguous_copy();
        std::copy_n(c.ptr<const float>(), c.numel(), weights.tensor(i).ptr<float>());
    }
}

std::vector<double> doubles(const Tensor& t) {
    FT_ASSERT(t.dtype == DType::F64, "expected an F64 tensor");
    const Tensor c = t.contiguous_copy();  // aligned, whatever the file's packing
    return std::vector<double>(c.ptr<const double>(), c.ptr<const double>() + c.numel());
}

GoldenModel load_golden_model(const std::string& file_name) {
    GoldenModel g;
    g.file = read_safetensors(goldens_dir() / file_name);
    g.config = parse_model_config(g.file.metadata.at("config"), file_name + " metadata");
    g.weights = std::make_unique<ModelWeights>(g.config);
    load_weights(*g.weights, g.file.tensors, "param.");
    const auto& t = g.file.tensors;
    // Copies first: the plain-Python writer packs tensors without aligning them.
    auto ints = [&](const std::string& name) {
        const Tensor x = t.at(name).contiguous_copy();
        return std::vector<int32_t>(x.ptr<const int32_t>(), x.ptr<const int32_t>() + x.numel());
    };
    g.batch.input_ids = ints("batch.input_ids_packed");
    g.batch.offsets = ints("batch.offsets");
    if (t.contains("batch.token_type_ids_packed"))
        g.batch.token_type_ids = ints("batch.token_type_ids_packed");
    const Tensor labels = t.at("batch.labels").contiguous_copy();
    if (labels.dtype == DType::I64) {
        g.batch.labels.assign(labels.ptr<const int64_t>(),
                              labels.ptr<const int64_t>() + labels.numel());
    } else {
        g.batch.targets.assign(labels.ptr<const float>(),
                               labels.ptr<const float>() + labels.numel());
    }
    return g;
}

void zero_dropout(ModelConfig& c) {
    c.distilbert.dropout = c.distilbert.attention_dropout = c.distilbert.seq_classif_dropout = 0.0;
    for (BertConfig* b : {static_cast<BertConfig*>(&c.bert), static_cast<BertConfig*>(&c.roberta),
                          static_cast<BertConfig*>(&c.xlm_roberta)}) {
        b->hidden_dropout_prob = b->attention_probs_dropout_prob = 0.0;
        b->classifier_dropout = 0.0;
    }
}

PackedBatch pack_padded(const std::vector<std::vector<int64_t>>& input_ids,
                        const std::vector<std::vector<int64_t>>& attention_mask,
                        const std::vector<int64_t>& labels) {
    PackedBatch b;
    b.offsets.push_back(0);
    for (size_t s = 0; s < input_ids.size(); ++s) {
        for (size_t j = 0; j < input_ids[s].size(); ++j)
            if (attention_mask[s][j]) b.input_ids.push_back(static_cast<int32_t>(input_ids[s][j]));
        b.offsets.push_back(static_cast<int32_t>(b.input_ids.size()));
    }
    b.labels = labels;
    return b;
}

// With FT_MEASURE_TOLERANCES set, every comparison prints its tolerance and the largest
// difference in the tolerance's units, for measuring the agreement the table in tolerances.h
// quotes: FT_MEASURE_TOLERANCES=1 ./finetune_tests 2>&1 | grep '^\[tolerance\]'.
void report_measure(double tol, double worst) {
    static const bool on = std::getenv("FT_MEASURE_TOLERANCES") != nullptr;
    if (on) std::fprintf(stderr, "[tolerance] tol %g used %g\n", tol, worst);
}

::testing::AssertionResult all_close(const float* got, const float* want, int64_t n, double tol,
                                     Scale scale) {
    double max_ref = 0.0;
    for (int64_t i = 0; i < n; ++i)
        max_ref = std::max(max_ref, std::fabs(static_cast<double>(want[i])));
    double max_diff = 0.0, worst = 0.0;
    int64_t bad = 0;
    std::ostringstream first;
    for (int64_t i = 0; i < n; ++i) {
        const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
        const double s = scale == Scale::ABSOLUTE ? 1.0
                         : scale == Scale::RELATIVE
                             ? std::max(1.0, std::fabs(static_cast<double>(want[i])))
                             : std::max(max_ref, 1e-30);
        max_diff = std::max(max_diff, d);
        worst = std::max(worst, d / s);
        if (!(d <= tol * s)) {
            if (bad < 5) first << "  [" << i << "] got " << got[i] << " want " << want[i] << "\n";
            ++bad;
        }
    }
    report_measure(tol, worst);
    if (bad == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << bad << " of " << n << " elements differ (max diff " << max_diff << ", max |ref| "
           << max_ref << ", tol " << tol << "):\n"
           << first.str();
}

::testing::AssertionResult close(double got, double want, double rel_tol) {
    const double d = std::fabs(got - want);
    report_measure(rel_tol, d / std::max(1.0, std::fabs(want)));
    if (d <= rel_tol * std::max(1.0, std::fabs(want))) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "got " << got << " want " << want << " (diff " << d << ")";
}

}  // namespace ft::test
