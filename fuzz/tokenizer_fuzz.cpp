// libFuzzer target for the tokenizer: any byte string is either rejected as invalid UTF-8 with
// ft::Error or encoded, and then the ids obey the template and the truncation limit and decode.
// The first byte picks the normaliser switches and whether a pair is split off.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "finetune/core.h"
#include "finetune/tokenizer.h"

namespace {

ft::BertTokenizer make(uint8_t flags) {
    std::vector<std::string> vocab = {
        "[PAD]", "[UNK]",    "[CLS]",      "[SEP]", "[MASK]",     "a", "##a", "b",
        "##b",   "ab",       "##ab",       "e",     "##e",        ".", ",",   "中",
        "##中",  "\xC3\xA9", "##\xC3\xA9", "i",     "##\xCC\x87", ""};
    ft::BertNormalizerOptions n;
    n.clean_text = flags & 1;
    n.handle_chinese_chars = flags & 2;
    n.lowercase = flags & 4;
    if (flags & 8) n.strip_accents = bool(flags & 16);
    return ft::BertTokenizer(vocab, n, {}, ft::BertTokenizer::kNoMaxLength, 1 + flags % 13);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const uint8_t flags = data[0];
    static const ft::BertTokenizer tokenizers[4] = {make(7), make(0), make(31), make(flags)};
    const ft::BertTokenizer& tok = tokenizers[flags % 4];
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    std::optional<std::string_view> pair;
    if (flags & 32) {
        const size_t cut = text.size() / 2;
        pair = text.substr(cut);
        text = text.substr(0, cut);
    }
    try {
        ft::EncodeOptions o;
        o.truncation = ft::Truncation::LongestFirst;
        o.max_length = 5 + flags % 7;
        const ft::Encoding e = tok.encode(text, pair, o);
        FT_ASSERT(int64_t(e.input_ids.size()) <= *o.max_length, "truncation exceeded max_length");
        FT_ASSERT(e.input_ids.front() == tok.cls_token_id(), "no [CLS] first");
        FT_ASSERT(e.input_ids.back() == tok.sep_token_id(), "no [SEP] last");
        FT_ASSERT(e.token_type_ids.size() == e.input_ids.size(), "token types misaligned");
        const std::string decoded = tok.decode(e.input_ids, true);
        volatile size_t sink = decoded.size();
        (void)sink;
    } catch (const ft::Error&) {
        // Invalid UTF-8 is the one expected rejection.
    }
    return 0;
}
