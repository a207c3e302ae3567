// The seed's preprocess function for Dataset::map: a batch's text column (and pair column) run
// through the tokenizer into list<int32> columns input_ids, token_type_ids, attention_mask.
#include "finetune/data.h"
#include "finetune/tokenizer.h"

namespace ft {

Dataset tokenize_columns(const Tokenizer& tokenizer, const Dataset& batch,
                         const TokenizeColumns& spec) {
    const std::vector<std::string>& texts = batch.column(spec.text_column).as_strings();
    const std::vector<std::string>* pairs =
        spec.pair_column.empty() ? nullptr : &batch.column(spec.pair_column).as_strings();
    std::vector<int32_t> ids, types, mask;
    std::vector<int64_t> offsets = {0};
    offsets.reserve(texts.size() + 1);
    // One row at a time: Dataset::map already spreads batches over the threads.
    for (size_t r = 0; r < texts.size(); ++r) {
        Encoding e;
        try {
            e = pairs ? tokenizer.encode(texts[r], (*pairs)[r], spec.options)
                      : tokenizer.encode(texts[r], std::nullopt, spec.options);
        } catch (const Error& err) {
            throw Error("column '" + spec.text_column + "', row " + std::to_string(r) +
                        " of the batch: " + err.what());
        }
        ids.insert(ids.end(), e.input_ids.begin(), e.input_ids.end());
        types.insert(types.end(), e.token_type_ids.begin(), e.token_type_ids.end());
        mask.insert(mask.end(), e.attention_mask.begin(), e.attention_mask.end());
        offsets.push_back(int64_t(ids.size()));
    }
    Dataset out;
    out = out.add_column("input_ids", Column::int32_lists(std::move(ids), offsets));
    if (spec.token_type_ids && tokenizer.returns_token_type_ids())
        out = out.add_column("token_type_ids",
                             Column::int32_lists(std::move(types), offsets, Feature::list("int8")));
    out = out.add_column("attention_mask",
                         Column::int32_lists(std::move(mask), offsets, Feature::list("int8")));
    return out;
}

}  // namespace ft
