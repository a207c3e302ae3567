// run_ner.py's tokenize_and_align_labels for Dataset::map: each row's words through
// Tokenizer::encode_words, and its word tags spread over the sub-tokens by word_ids().
#include <map>

#include "finetune/data.h"
#include "finetune/tokenizer.h"

namespace ft {

std::vector<int32_t> b_to_i_label(const std::vector<std::string>& names) {
    std::map<std::string, int32_t> id;
    for (size_t i = 0; i < names.size(); ++i) id.emplace(names[i], static_cast<int32_t>(i));
    std::vector<int32_t> out;
    for (size_t i = 0; i < names.size(); ++i) {
        const std::string& n = names[i];
        auto it = n.starts_with("B-") ? id.find("I-" + n.substr(2)) : id.end();
        out.push_back(it != id.end() ? it->second : static_cast<int32_t>(i));
    }
    return out;
}

Dataset tokenize_and_align_labels(const Tokenizer& tokenizer, const Dataset& batch,
                                  const TokenizeAndAlignLabels& spec) {
    const Column& words = batch.column(spec.text_column);
    if (words.type() != ColumnType::STRING_LIST)
        throw Error("column '" + spec.text_column + "' is " + words.feature().repr() +
                    ", not a list of words (List(Value('string')))");
    const Column* tags = spec.label_column.empty() ? nullptr : &batch.column(spec.label_column);
    std::vector<int32_t> b_to_i;
    if (tags) {
        if (!tags->feature().is_class_label_list())
            throw Error("column '" + spec.label_column + "' is " + tags->feature().repr() +
                        ", not a list of class labels (List(ClassLabel)); see "
                        "class_label_tag_columns");
        b_to_i = b_to_i_label(tags->feature().names);
    }
    std::vector<int32_t> ids, types, mask, labels;
    std::vector<int64_t> offsets = {0};
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
        const auto w = words.string_list_at(r);
        Encoding e;
        try {
            e = tokenizer.encode_words(w, spec.options);
        } catch (const Error& err) {
            throw Error("column '" + spec.text_column + "', row " + std::to_string(r) +
                        " of the batch: " + err.what());
        }
        if (tags) {
            const auto t = tags->list_at(r);
            if (t.size() != w.size())
                throw Error("row " + std::to_string(r) + " of the batch has " +
                            std::to_string(w.size()) + " words in '" + spec.text_column + "' but " +
                            std::to_string(t.size()) + " tags in '" + spec.label_column + "'");
            // Specials -100; a word's first sub-token its tag; the rest -100, or the tag (B- as
            // I-) with label_all_tokens.
            int32_t previous = -1;
            for (int32_t word : e.word_ids) {
                if (word < 0)
                    labels.push_back(-100);
                else if (word != previous)
                    labels.push_back(t[static_cast<size_t>(word)]);
                else
                    labels.push_back(spec.label_all_tokens
                                         ? b_to_i[static_cast<size_t>(t[static_cast<size_t>(word)])]
                                         : -100);
                previous = word;
            }
        }
        ids.insert(ids.end(), e.input_ids.begin(), e.input_ids.end());
        types.insert(types.end(), e.token_type_ids.begin(), e.token_type_ids.end());
        mask.insert(mask.end(), e.attention_mask.begin(), e.attention_mask.end());
        offsets.push_back(static_cast<int64_t>(ids.size()));
    }
    Dataset out;
    out = out.add_column("input_ids", Column::int32_lists(std::move(ids), offsets));
    if (spec.token_type_ids && tokenizer.returns_token_type_ids())
        out = out.add_column("token_type_ids",
                             Column::int32_lists(std::move(types), offsets, Feature::list("int8")));
    out = out.add_column("attention_mask",
                         Column::int32_lists(std::move(mask), offsets, Feature::list("int8")));
    if (tags)
        out = out.add_column(
            "labels", Column::int32_lists(std::move(labels), offsets, Feature::list("int64")));
    return out;
}

}  // namespace ft
