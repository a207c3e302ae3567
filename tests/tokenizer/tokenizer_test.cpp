// Hand-worked cases for the tokenizer: WordPiece's greedy rule and its [UNK] cases, special
// tokens, the normaliser's switches, pair templates, each truncation strategy, padding, batches,
// decode, and the errors for bad input.
#include <gtest/gtest.h>

#include "finetune/core.h"
#include "finetune/tokenizer.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

BertTokenizer bert_uncased() {
    return BertTokenizer::from_vocab_file(
        test::shared_dir() / "data/tokenizers/bert-base-uncased/vocab.txt", {}, {}, 512);
}

// A vocabulary small enough to work WordPiece out by hand.
BertTokenizer tiny(BertNormalizerOptions n = {}, int max_chars = 100) {
    std::vector<std::string> vocab = {"[PAD]", "[UNK]",  "[CLS]", "[SEP]", "[MASK]", "un",
                                      "##aff", "##able", "unaff", "a",     "##a",    "b",
                                      "##b",   ",",      "!",     "the",   "cat",    "sat"};
    return BertTokenizer(vocab, n, {}, BertTokenizer::kNoMaxLength, max_chars);
}

std::vector<std::string> tokens(const BertTokenizer& t, const std::string& text) {
    return t.tokenize(text);
}
using Strings = std::vector<std::string>;
using Ids = std::vector<int32_t>;

TEST(TokenizerWordPiece, GreedyLongestMatchFirst) {
    const auto t = tiny();
    // "unaff" is the longest prefix in the vocabulary, then "##able".
    EXPECT_EQ(tokens(t, "unaffable"), (Strings{"unaff", "##able"}));
    EXPECT_EQ(tokens(t, "unable"), (Strings{"un", "##able"}));
    EXPECT_EQ(tokens(t, "abab"), (Strings{"a", "##b", "##a", "##b"}));
}

TEST(TokenizerWordPiece, AnUnmatchedPieceMakesTheWholeWordUnknown) {
    const auto t = tiny();
    EXPECT_EQ(tokens(t, "unaffablex the"), (Strings{"[UNK]", "the"}));
    EXPECT_EQ(tokens(t, "xab"), (Strings{"[UNK]"}));
}

TEST(TokenizerWordPiece, WordsLongerThanMaxInputCharsAreUnknown) {
    const auto t = tiny({}, 100);
    EXPECT_EQ(t.tokenize(std::string(100, 'a')).size(), 100u);  // "a" then 99 × "##a"
    EXPECT_EQ(tokens(t, std::string(101, 'a')), (Strings{"[UNK]"}));
    // The limit counts code points, not bytes: 60 two-byte characters are 60 characters.
    const auto u = tiny({.clean_text = true,
                         .handle_chinese_chars = true,
                         .strip_accents = false,
                         .lowercase = false},
                        100);
    std::string sixty_a_acute;
    for (int i = 0; i < 60; ++i) sixty_a_acute += "\xC3\xA1";  // á
    EXPECT_EQ(tokens(u, sixty_a_acute), (Strings{"[UNK]"}));   // not in vocab, but not over 100
}

TEST(TokenizerSpecialTokens, NeverSplitButOnlyWhenSpelledExactly) {
    const auto t = bert_uncased();
    EXPECT_EQ(tokens(t, "hello[MASK]world"), (Strings{"hello", "[MASK]", "world"}));
    EXPECT_EQ(tokens(t, "[CLS] x [SEP]"), (Strings{"[CLS]", "x", "[SEP]"}));
    // Lower-cased it is ordinary text, split on its punctuation.
    EXPECT_EQ(tokens(t, "[mask]"), (Strings{"[", "mask", "]"}));
}

TEST(TokenizerNormalizer, SwitchesBehaveAsHuggingFaceDocumentsThem) {
    const auto t = bert_uncased();
    // Lower-casing strips accents unless strip_accents says otherwise.
    EXPECT_EQ(tokens(t, "Café"), (Strings{"cafe"}));
    BertNormalizerOptions keep_accents;
    keep_accents.strip_accents = false;
    const auto k = BertTokenizer::from_vocab_file(
        test::shared_dir() / "data/tokenizers/bert-base-uncased/vocab.txt", keep_accents);
    // Kept, the accent finds no piece in an uncased vocabulary ("##é" is not in it).
    EXPECT_EQ(tokens(k, "Café"), (Strings{"[UNK]"}));
    // CJK ideographs become words of their own; kana do not.
    EXPECT_EQ(tokens(t, "中文"), (Strings{"中", "文"}));
    BertNormalizerOptions no_cjk;
    no_cjk.handle_chinese_chars = false;
    const auto c = BertTokenizer::from_vocab_file(
        test::shared_dir() / "data/tokenizers/bert-base-uncased/vocab.txt", no_cjk);
    EXPECT_EQ(tokens(c, "中文"), (Strings{"中", "##文"}));  // one word for WordPiece
    // clean_text drops control characters and turns exotic spaces into separators.
    EXPECT_EQ(tokens(t,
                     "a\x01"
                     "b\xC2\xA0"
                     "c"),
              (Strings{"ab", "c"}));
    // Cased: no lower-casing, no accent stripping.
    BertNormalizerOptions cased;
    cased.lowercase = false;
    const auto d = BertTokenizer::from_vocab_file(
        test::shared_dir() / "data/tokenizers/bert-base-uncased/vocab.txt", cased);
    EXPECT_EQ(d.encode_ids("The"), (Ids{100}));  // "The" is not in an uncased vocabulary
}

TEST(TokenizerEncode, PairTemplateAndTokenTypes) {
    const auto t = tiny();
    const Encoding e = t.encode("the cat", "sat");
    // [CLS]=2 the=15 cat=16 [SEP]=3 sat=17 [SEP]=3
    EXPECT_EQ(e.input_ids, (Ids{2, 15, 16, 3, 17, 3}));
    EXPECT_EQ(e.token_type_ids, (Ids{0, 0, 0, 0, 1, 1}));
    EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 1, 1, 1}));
    EXPECT_EQ(e.length, 6);
    EncodeOptions raw;
    raw.add_special_tokens = false;
    EXPECT_EQ(t.encode("the cat", "sat", raw).input_ids, (Ids{15, 16, 17}));
    EXPECT_EQ(t.encode("").input_ids, (Ids{2, 3}));
}

EncodeOptions truncate(Truncation s, int64_t max_length) {
    EncodeOptions o;
    o.truncation = s;
    o.max_length = max_length;
    return o;
}

TEST(TokenizerTruncation, LongestFirstRemovesFromTheLongerAndFromTheSecondOnTies) {
    const auto t = tiny();
    // A = a b a b (4), B = the cat (2), 3 specials: 9 ids, max 6 removes 3:
    // A longer -> A=3; A longer -> A=2; tie -> B=1.
    const Encoding e = t.encode("a b a b", "the cat", truncate(Truncation::LongestFirst, 6));
    EXPECT_EQ(e.input_ids, (Ids{2, 9, 11, 3, 15, 3}));
    EXPECT_EQ(e.token_type_ids, (Ids{0, 0, 0, 0, 1, 1}));
    // A single text keeps its first max_length - 2 pieces.
    EXPECT_EQ(t.encode("a b a b", std::nullopt, truncate(Truncation::LongestFirst, 4)).input_ids,
              (Ids{2, 9, 11, 3}));
    // max_length alone (no padding) means longest_first, as in HF.
    EncodeOptions only_max;
    only_max.max_length = 4;
    EXPECT_EQ(t.encode("a b a b", std::nullopt, only_max).input_ids, (Ids{2, 9, 11, 3}));
}

TEST(TokenizerTruncation, OnlyFirstAndOnlySecond) {
    const auto t = tiny();
    EXPECT_EQ(t.encode("a b a b", "the cat", truncate(Truncation::OnlyFirst, 7)).input_ids,
              (Ids{2, 9, 11, 3, 15, 16, 3}));
    EXPECT_EQ(t.encode("the cat", "a b a b", truncate(Truncation::OnlySecond, 7)).input_ids,
              (Ids{2, 15, 16, 3, 9, 11, 3}));
    // Nothing left to cut from the chosen sequence is an error, as in HF's fast tokenizer.
    EXPECT_THROW(t.encode("a", "the cat sat", truncate(Truncation::OnlyFirst, 5)), Error);
    EXPECT_THROW(t.encode("a b a b", std::nullopt, truncate(Truncation::OnlySecond, 4)), Error);
    // No limit anywhere: nothing is truncated.
    EncodeOptions o;
    o.truncation = Truncation::LongestFirst;
    EXPECT_EQ(t.encode("a b a b", std::nullopt, o).input_ids.size(), 6u);
}

TEST(TokenizerPadding, LongestMaxLengthAndMultiples) {
    const auto t = tiny();
    const std::vector<std::string> texts = {"the cat", "a", "the cat sat a"};
    EncodeOptions longest;
    longest.padding = Padding::Longest;
    const auto b = t.encode_batch(texts, {}, longest);
    ASSERT_EQ(b.size(), 3u);
    for (const Encoding& e : b) EXPECT_EQ(e.input_ids.size(), 6u);
    EXPECT_EQ(b[1].input_ids, (Ids{2, 9, 3, 0, 0, 0}));
    EXPECT_EQ(b[1].attention_mask, (Ids{1, 1, 1, 0, 0, 0}));
    EXPECT_EQ(b[1].token_type_ids, (Ids{0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(b[1].length, 3);
    longest.pad_to_multiple_of = 4;
    for (const Encoding& e : t.encode_batch(texts, {}, longest)) EXPECT_EQ(e.input_ids.size(), 8u);
    EncodeOptions max_len;
    max_len.padding = Padding::MaxLength;
    max_len.max_length = 5;
    max_len.truncation = Truncation::LongestFirst;
    const auto m = t.encode_batch(texts, {}, max_len);
    EXPECT_EQ(m[0].input_ids, (Ids{2, 15, 16, 3, 0}));
    EXPECT_EQ(m[2].input_ids, (Ids{2, 15, 16, 17, 3}));  // truncated to 5, no padding
    // Padding a single text to max_length without truncation never shortens it.
    EncodeOptions pad_only;
    pad_only.padding = Padding::MaxLength;
    pad_only.max_length = 3;
    EXPECT_EQ(t.encode("the cat sat", std::nullopt, pad_only).input_ids.size(), 5u);
}

TEST(TokenizerBatch, EqualsOneByOneOnAllThreads) {
    const auto t = bert_uncased();
    std::vector<std::string> texts, pairs;
    for (int i = 0; i < 500; ++i) {
        texts.push_back("Sentence number " + std::to_string(i) + ", déjà vu!");
        pairs.push_back(std::string(size_t(i % 7), 'x') + " pair");
    }
    const auto batch = t.encode_batch(texts, pairs, truncate(Truncation::LongestFirst, 9));
    for (size_t i = 0; i < texts.size(); ++i) {
        const Encoding one = t.encode(texts[i], pairs[i], truncate(Truncation::LongestFirst, 9));
        EXPECT_EQ(batch[i].input_ids, one.input_ids) << i;
        EXPECT_EQ(batch[i].token_type_ids, one.token_type_ids) << i;
    }
    EXPECT_THROW(t.encode_batch(texts, std::span(pairs).first(3)), Error);
}

TEST(TokenizerDecode, JoinsPiecesAndCleansSpacesAsHuggingFace) {
    const auto t = bert_uncased();
    const Encoding e = t.encode("Hello, World! It's John's unaffable cat.");
    EXPECT_EQ(t.decode(e.input_ids), "[CLS] hello, world! it's john's unaffable cat. [SEP]");
    EXPECT_EQ(t.decode(e.input_ids, /*skip_special_tokens=*/true),
              "hello, world! it's john's unaffable cat.");
    EXPECT_EQ(t.decode(e.input_ids, true, /*clean_up_tokenization_spaces=*/false),
              "hello , world ! it ' s john ' s unaffable cat .");
    // Round trip on lower-case text without spacing quirks.
    const std::string plain = "the quick brown fox jumps over the lazy dog";
    EXPECT_EQ(t.decode(t.encode(plain).input_ids, true), plain);
    EXPECT_THROW(t.decode(std::vector<int32_t>{5, 99999}), Error);
}

TEST(TokenizerErrors, InvalidUtf8NamesTheByte) {
    const auto t = tiny();
    try {
        t.encode("ok \xC3\x28 bad");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("invalid UTF-8 in the text at byte 3"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(t.encode("fine", std::string_view("\xED\xA0\x80")), Error);  // a surrogate
    EXPECT_THROW(t.encode("\xC0\xAF"), Error);                                // overlong
}

TEST(TokenizerErrors, MissingOrCorruptFilesNameTheFileAndTheProblem) {
    const fs::path dir = test::make_temp_dir("tok_errors");
    auto write = [&](const std::string& name, const std::string& text) {
        FILE* f = std::fopen((dir / name).c_str(), "wb");
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
        return dir / name;
    };
    EXPECT_NE(
        test::error_of([&] { BertTokenizer::from_pretrained(dir); }).find("no tokenizer found"),
        std::string::npos);
    EXPECT_NE(test::error_of([&] {
                  BertTokenizer::from_pretrained(dir / "absent");
              }).find("not a directory"),
              std::string::npos);
    const auto bad_utf8 = write("bad.txt", "[PAD]\n[UNK]\nok\n\xFF\xFE\n");
    EXPECT_NE(test::error_of([&] {
                  BertTokenizer::from_vocab_file(bad_utf8);
              }).find("bad.txt: line 4: invalid UTF-8"),
              std::string::npos);
    const auto no_unk = write("no_unk.txt", "[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
    EXPECT_NE(test::error_of([&] {
                  BertTokenizer::from_vocab_file(no_unk);
              }).find("no_unk.txt: the unk token '[UNK]' is not in the vocabulary"),
              std::string::npos);
    EXPECT_NE(test::error_of([&] {
                  BertTokenizer::from_vocab_file(write("empty.txt", ""));
              }).find("empty.txt: the vocabulary is empty"),
              std::string::npos);
    const auto truncated = write("trunc.json", "{\"model\": {\"vocab\": {\"a\": 0");
    EXPECT_NE(test::error_of([&] {
                  BertTokenizer::from_tokenizer_json(truncated);
              }).find("trunc.json: invalid JSON"),
              std::string::npos);
    const auto bpe = write("bpe.json", R"({"model": {"type": "BPE", "vocab": {}}})");
    EXPECT_NE(test::error_of([&] {
                  BertTokenizer::from_tokenizer_json(bpe);
              }).find("bpe.json: model.type \"BPE\" is not supported"),
              std::string::npos);
    const auto bad_ids = write("ids.json", R"({"model": {"vocab": {"a": 0, "b": 5}}})");
    EXPECT_NE(test::error_of([&] {
                  BertTokenizer::from_tokenizer_json(bad_ids);
              }).find("ids.json: model.vocab: token 'b' has id 5"),
              std::string::npos);
    const auto wrong_type =
        write("wrong.json",
              R"({"model": {"vocab": {"[UNK]": 0}}, "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "BertProcessing", "cls": 5, "sep": ["[SEP]", 1]}})");
    EXPECT_NE(test::error_of([&] {
                  BertTokenizer::from_tokenizer_json(wrong_type);
              }).find("wrong.json: malformed tokenizer.json"),
              std::string::npos);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace ft
