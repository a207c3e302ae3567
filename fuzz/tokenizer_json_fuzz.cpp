// libFuzzer target for tokenizer.json (both serialisations: the original, whose model has no
// "type", and the newer "type": "WordPiece"): any text either loads or throws ft::Error. A loaded
// tokenizer then encodes fixed sentences (alone, as a pair, truncated) and decodes the ids, so the
// tables it built are exercised; any error there is a finding, since the sentences are valid UTF-8.
// (fuzz/tokenizer_fuzz.cpp fuzzes the text with a fixed vocabulary; this one fuzzes the file.)
#include <cstddef>
#include <cstdint>
#include <string>

#include "finetune/core.h"
#include "finetune/tokenizer.h"

namespace {

void check_ids(const ft::BertTokenizer& tok, const ft::Encoding& e) {
    FT_ASSERT(e.token_type_ids.size() == e.input_ids.size(), "token types misaligned");
    for (int32_t id : e.input_ids)
        FT_ASSERT(id >= 0 && id < tok.vocab_size(), "id outside the vocabulary");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::optional<ft::BertTokenizer> loaded;
    try {
        loaded.emplace(ft::BertTokenizer::from_tokenizer_json_text(text, "fuzz tokenizer.json"));
    } catch (const ft::Error&) {
        return 0;  // rejecting a malformed file is the expected outcome for most inputs
    }
    const ft::BertTokenizer& tok = *loaded;
    // Plain words, accents, CJK, punctuation, a long word and the named special tokens inside
    // the text (which must not be split).
    const std::string sentence = "The quick brown fox didn't jump over café 中文! unaffable " +
                                 tok.special_tokens().mask + " " + tok.special_tokens().sep +
                                 " supercalifragilisticexpialidocious";
    const std::string second = "Ünïcödé\ttabs\u00a0and  spaces, 123.45 " + tok.special_tokens().unk;

    const ft::Encoding single = tok.encode(sentence);
    check_ids(tok, single);
    FT_ASSERT(single.input_ids.front() == tok.cls_token_id(), "no [CLS] first");
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
