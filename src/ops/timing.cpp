// The GEMM and attention time counters, and the GEMM flop count, behind ops::timing_totals
// (benchmarks' breakdowns).
#include <atomic>

#include "finetune/ops.h"
#include "ops/ops_internal.h"

namespace ft::ops {

namespace {
std::atomic<int64_t> g_gemm_ns{0};
std::atomic<int64_t> g_attention_ns{0};
std::atomic<int64_t> g_gemm_flop{0};
}  // namespace

namespace detail {
void add_op_time(TimedOp op, int64_t ns) {
    (op == TimedOp::GEMM ? g_gemm_ns : g_attention_ns).fetch_add(ns, std::memory_order_relaxed);
}
void add_gemm_flop(int64_t flop) {
    g_gemm_flop.fetch_add(flop, std::memory_order_relaxed);
}
}  // namespace detail

void timing_reset() {
    g_gemm_ns = 0;
    g_attention_ns = 0;
    g_gemm_flop = 0;
}

OpTimes timing_totals() {
    return {static_cast<double>(g_gemm_ns.load()) * 1e-9,
            static_cast<double>(g_attention_ns.load()) * 1e-9,
            static_cast<double>(g_gemm_flop.load())};
}

}  // namespace ft::ops
