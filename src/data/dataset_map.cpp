// Dataset::map: the function runs on batches spread over threads; each batch's output lands in
// its own slot and the slots are joined in batch order, so the result never depends on timing.
#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "finetune/data.h"

namespace ft {

Dataset Dataset::map(const MapFunction& fn, const MapOptions& options) const {
    for (const auto& n : options.remove_columns) column(n);  // unknown names fail up front
    const int64_t batch_size = options.batched ? options.batch_size : 1;
    if (batch_size <= 0)
        throw Error("map: batch_size must be positive, got " + std::to_string(batch_size));
    const int64_t num_batches = (num_rows_ + batch_size - 1) / batch_size;

    std::vector<Dataset> outputs(static_cast<size_t>(num_batches));
    std::vector<std::exception_ptr> errors(static_cast<size_t>(num_batches));
    std::atomic<int64_t> next{0};
    auto worker = [&] {
        for (int64_t b; (b = next.fetch_add(1)) < num_batches;) {
            const int64_t begin = b * batch_size, end = std::min(num_rows_, begin + batch_size);
            try {
                Dataset out = fn(select_range(begin, end));
                if (out.num_columns() > 0 && out.num_rows() != end - begin)
                    throw Error("map: the function returned " + std::to_string(out.num_rows()) +
                                " rows for the batch of rows " + std::to_string(begin) + ".." +
                                std::to_string(end - 1) + " (" + std::to_string(end - begin) +
                                " rows)");
                outputs[static_cast<size_t>(b)] = std::move(out);
            } catch (...) {
                errors[static_cast<size_t>(b)] = std::current_exception();
                next.store(num_batches);  // stop handing out batches
            }
        }
    };
    const int threads = static_cast<int>(std::min<int64_t>(
        num_batches, options.num_threads > 0 ? options.num_threads : get_num_threads()));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);

    // HF: remove_columns drops input columns before the outputs are merged, so an output of the
    // same name survives; an output column replaces an input column in place, new ones append.
    Dataset result = remove_columns(options.remove_columns);
    if (num_batches == 0) return result;
    const Dataset produced = Dataset::concatenate(outputs);
    for (const auto& [name, col] : produced.columns_) {
        const size_t i = result.index_of(name);
        if (i < result.columns_.size())
            result.columns_[i].second = col;
        else
            result.columns_.emplace_back(name, col);
    }
    result.num_rows_ = produced.num_columns() > 0 ? produced.num_rows_ : result.num_rows_;
    return result;
}

}  // namespace ft
