// Execution contexts: what an OwnedContext owns, the process's default CPU context, and the
// default context's timings that the benchmarks read.
#include "ops/context.h"

#include <string>

#include "core/device_cuda.h"
#include "ops/cuda_backend.h"
#include "ops/dnnl_backend.h"
#include "ops/ops.h"
#include "ops/ops_internal.h"

namespace ft::ops {

OwnedContext::OwnedContext(Device device, bool timed)
    : workspace_(std::make_unique<Workspace>(device)),
      dnnl_(device == Device::CPU ? std::make_unique<DnnlBackend>() : nullptr),
      times_(timed ? std::make_unique<OpTimes>() : nullptr) {
    // A GPU context of a build with CUDA gets its stream and handles now (and fails here when
    // there is no GPU); one of a build without CUDA is left bare, and its ops say so.
    if (device == Device::CUDA && cuda::built_with_cuda()) cuda_ = make_cuda_backend();
    ctx_.device = device;
    ctx_.stream = cuda_ ? cuda_->stream() : nullptr;
    ctx_.workspace = workspace_.get();
    ctx_.dnnl = dnnl_.get();
    ctx_.cuda = cuda_.get();
    ctx_.timings = times_.get();
}

OwnedContext::~OwnedContext() = default;

const Context& cpu_context() {
    static const OwnedContext ctx(Device::CPU, /*timed=*/true);
    return ctx;
}

void detail::require_cpu(const Context& ctx, const char* op) {
    if (ctx.device != Device::CPU)
        throw Error(std::string("op ") + op +
                    " runs on a CUDA device in float only; its double form is for CPU tests");
}

void timing_reset() {
    *cpu_context().timings = {};
}

OpTimes timing_totals() {
    return *cpu_context().timings;
}

}  // namespace ft::ops
