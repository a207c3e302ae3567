// The heads by task (DESIGN's head seam): a new head is a file and a row here.
#include "core/device_cuda.h"
#include "model/family.h"
#include "model/sequence_classification_head.h"
#include "model/token_classification_head.h"

namespace ft {

std::unique_ptr<ClassificationHead> make_head(const ops::Context& ctx, const ModelConfig& c,
                                              ProblemType problem) {
    const FamilyDescriptor& f = family_descriptor(c.family);
    switch (c.task) {
        case ModelTask::TOKEN_CLASSIFICATION:
            // HF's token heads always use cross-entropy, whatever num_labels is.
            if (c.problem_type != ProblemType::NONE &&
                c.problem_type != ProblemType::SINGLE_LABEL_CLASSIFICATION)
                throw Error("token classification takes one class id per token; problem_type '" +
                            std::string(problem_type_name(c.problem_type)) + "' is not supported");
            return std::make_unique<TokenClassificationHead>(ctx, f.token_head.spec(c), c.hidden(),
                                                             c.num_labels(), c.layers());
        case ModelTask::SEQUENCE_CLASSIFICATION:
            break;
    }
    return std::make_unique<SequenceClassificationHead>(ctx, f.sequence_head(c), c.hidden(),
                                                        c.num_labels(), c.layers(), problem);
}

double read_loss_slot(const ops::Context& ctx, const double* slot) {
    if (ctx.device == Device::CPU) return *slot;
    // The Trainer could instead add the slots up on the device and read them per logging step.
    double v = 0.0;
    cuda::copy_to_host(&v, slot, sizeof v, ctx.stream);
    return v;
}

}  // namespace ft
