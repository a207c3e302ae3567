// libFuzzer target for SentencePiece model files (sentencepiece.bpe.model), which
// src/tokenizer/sentencepiece_model.cpp reads and rewrites at the protobuf wire level before
// libsentencepiece loads them: any bytes either load or throw ft::Error. A loaded tokenizer then
// encodes fixed sentences (alone, as a pair, truncated) and decodes the ids; any error there is a
// finding, since the sentences are valid UTF-8. The seed is a 120-piece Unigram model that
// spm_train made from 300 CoLA sentences with the identity normalisation (no charsmap: small).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "finetune/core.h"
#include "finetune/tokenizer.h"

namespace {

void check_ids(const ft::XlmRobertaTokenizer& tok, const ft::Encoding& e) {
    FT_ASSERT(e.attention_mask.size() == e.input_ids.size(), "mask misaligned");
    for (int32_t id : e.input_ids)
        FT_ASSERT(id >= 0 && id < tok.vocab_size(), "id outside the vocabulary");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    std::optional<ft::XlmRobertaTokenizer> loaded;
    try {
        loaded.emplace(ft::XlmRobertaTokenizer::from_spm_model(
            bytes, ft::XlmRobertaTokenizer::default_options(), "fuzz sentencepiece.bpe.model"));
    } catch (const ft::Error&) {
        return 0;  // rejecting a malformed file is the expected outcome for most inputs
    }
    const ft::XlmRobertaTokenizer& tok = *loaded;
    const std::string sentence =
        "The quick brown fox didn't jump over café 中文! <mask> unaffable  spaces\there";
    const std::string second = "Ünïcödé\u00a0and  spaces, 123.45 </s> <unk>";
    const ft::Encoding single = tok.encode(sentence);
    check_ids(tok, single);
    FT_ASSERT(single.input_ids.front() == tok.cls_token_id(), "no <s> first");
    ft::EncodeOptions o;
    o.truncation = ft::Truncation::LongestFirst;
    o.max_length = 12;
    const ft::Encoding pair = tok.encode(sentence, second, o);
    check_ids(tok, pair);
    FT_ASSERT(pair.input_ids.size() <= 12, "truncation exceeded max_length");
    const std::string decoded = tok.decode(single.input_ids, true) + tok.decode(pair.input_ids);
    volatile size_t sink = decoded.size() + tok.tokenize(second).size();
    (void)sink;
    return 0;
}
