// encode_words (HF's is_split_into_words=True with word_ids()) against transformers 5
// (tests/goldens/word_tokenizer, made by tools/gen_word_tokenizer_goldens.py) for BERT, two
// byte-level BPE RoBERTas and XLM-R: every sentence of UD English-EWT by hash, whole and cut at
// max_length 128, the batch call against the single one, the hand-made word lists spelled out in
// every variant (truncation, padding, no special tokens); then hand-worked cases.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"
#include "test_env.h"
#include "tokenizer/glue_id_goldens.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::Ids;
using Strings = std::vector<std::string>;

fs::path golden_dir() {
    return test::tools_dir() / ".." / "tests" / "goldens" / "word_tokenizer";
}
fs::path repo_dir() {
    return test::tools_dir() / "..";
}

// The full GPT-2 BPE RoBERTa folder, built once per run as the generator builds it.
fs::path roberta_gpt2_dir() {
    static const fs::path dir = [] {
        const fs::path d = test::make_temp_dir("word_roberta_gpt2");
        const std::string cmd =
            test::python() + " " + (test::tools_dir() / "make_roberta_vocab.py").string() +
            " --gpt2 " + (test::shared_dir() / "data/tokenizers/gpt2-bpe").string() + " --out " +
            d.string();
        std::string out;
        if (test::run_command(cmd, &out) != 0) throw Error("make_roberta_vocab.py failed: " + out);
        return d;
    }();
    return dir;
}

// The generator's tokenizers by its names, loaded as a user's directory is (load_tokenizer).
const Tokenizer& kind(const std::string& name) {
    static const std::map<std::string, std::unique_ptr<Tokenizer>> all = [] {
        std::map<std::string, std::unique_ptr<Tokenizer>> m;
        m["bert"] = load_tokenizer(test::bert_uncased_tokenizer_dir());
        m["roberta"] = load_tokenizer(repo_dir() / "tests/goldens/trainer_roberta/init_roberta");
        m["roberta_gpt2"] = load_tokenizer(roberta_gpt2_dir());
        m["xlmr"] = load_tokenizer(repo_dir() / "tests/goldens/xlm_roberta_tokenizer/model");
        return m;
    }();
    return *all.at(name);
}

const char* const kKinds[] = {"bert", "roberta", "roberta_gpt2", "xlmr"};

// The FORM of every token line per sentence, as the generator reads UD's CoNLL-U: comments,
// multiword tokens ("1-2") and empty nodes ("1.1") skipped, sentences ended by blank lines.
std::vector<Strings> read_conllu(const fs::path& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    std::vector<Strings> sentences;
    Strings words;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            if (!words.empty()) sentences.push_back(std::move(words));
            words.clear();
            continue;
        }
        if (line[0] == '#') continue;
        const size_t tab1 = line.find('\t');
        const std::string id = line.substr(0, tab1);
        if (id.find_first_of("-.") != std::string::npos) continue;
        const size_t tab2 = line.find('\t', tab1 + 1);
        words.push_back(line.substr(tab1 + 1, tab2 - tab1 - 1));
    }
    if (!words.empty()) sentences.push_back(std::move(words));
    return sentences;
}

const std::vector<Strings>& ud_split(const std::string& split) {
    static std::map<std::string, std::vector<Strings>> cache;
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(split);
    if (it == cache.end())
        it = cache
                 .emplace(split, read_conllu(test::shared_dir() / "data/ud/en_ewt" /
                                             ("en_ewt-ud-" + split + ".conllu")))
                 .first;
    return it->second;
}

std::string words_text(const Strings& words) {
    std::string s;
    for (const std::string& w : words) s += (s.empty() ? "[" : ", ") + json(w).dump();
    return s + "]";
}

std::vector<std::span<const std::string>> spans_of(const std::vector<Strings>& sentences) {
    return {sentences.begin(), sentences.end()};
}

void expect_every_ud_sentence_matches(const std::string& name) {
    const Tokenizer& tok = kind(name);
    const json golden = json::parse(read_text_file(golden_dir() / "ud_ewt" / (name + ".json")));
    ASSERT_EQ(golden["hash"], "fnv1a32");
    EncodeOptions cut;
    cut.truncation = Truncation::LongestFirst;
    cut.max_length = golden["max_length"].get<int64_t>();
    int64_t sentences = 0, id_bad = 0, word_bad = 0, cut_bad = 0, single_bad = 0;
    for (const std::string split : {"train", "dev", "test"}) {
        const std::vector<Strings>& ud = ud_split(split);
        const std::string& hashes = golden["sets"][split].get_ref<const std::string&>();
        ASSERT_EQ(int64_t(ud.size()), golden["sentences"][split].get<int64_t>()) << split;
        ASSERT_EQ(hashes.size(), ud.size() * 24) << split;
        const auto spans = spans_of(ud);
        const std::vector<Encoding> whole = tok.encode_words_batch(spans);
        const std::vector<Encoding> cuts = tok.encode_words_batch(spans, cut);
        for (size_t i = 0; i < ud.size(); ++i) {
            const Encoding& e = whole[i];
            const std::string_view have(hashes.data() + i * 24, 24);
            char want[25];
            std::snprintf(want, sizeof want, "%08x%08x%08x",
                          test::fnv1a32(test::ids_text(e.input_ids)),
                          test::fnv1a32(test::ids_text(e.word_ids)),
                          test::fnv1a32(test::ids_text(cuts[i].input_ids) + "\x1f" +
                                        test::ids_text(cuts[i].word_ids)));
            const std::string where = name + " " + split + " sentence " + std::to_string(i);
            if (have.substr(0, 8) != std::string_view(want, 8)) {
                if (++id_bad <= 3)
                    ADD_FAILURE() << where << ": ids " << test::ids_text(e.input_ids) << " for "
                                  << words_text(ud[i]) << " (tools/gen_word_tokenizer_goldens.py"
                                  << " --show " << name << ":" << split << ":" << i << ")";
            } else if (have.substr(8, 8) != std::string_view(want + 8, 8)) {
                if (++word_bad <= 3)
                    ADD_FAILURE() << where << ": word ids " << test::ids_text(e.word_ids) << " for "
                                  << words_text(ud[i]);
            }
            if (have.substr(16) != std::string_view(want + 16, 8) && ++cut_bad <= 3)
                ADD_FAILURE() << where << ": the max_length " << *cut.max_length
                              << " truncation differs for " << words_text(ud[i]);
            if (i % 7 == 0) {  // the single call on a seventh of the sentences
                const Encoding one = tok.encode_words(ud[i]);
                single_bad += one.input_ids != e.input_ids || one.word_ids != e.word_ids ||
                              one.attention_mask != e.attention_mask;
            }
        }
        sentences += int64_t(ud.size());
    }
    EXPECT_EQ(sentences, 16622);
    EXPECT_EQ(id_bad, 0) << "of " << sentences << " sentences";
    EXPECT_EQ(word_bad, 0) << "of " << sentences << " sentences";
    EXPECT_EQ(cut_bad, 0) << "of " << sentences << " sentences";
    EXPECT_EQ(single_bad, 0);
}

TEST(WordTokenizerReference, UdEwtEverySentenceBert) {
    expect_every_ud_sentence_matches("bert");
}
TEST(WordTokenizerReference, UdEwtEverySentenceRoberta) {
    expect_every_ud_sentence_matches("roberta");
}
TEST(WordTokenizerReference, UdEwtEverySentenceRobertaGpt2) {
    expect_every_ud_sentence_matches("roberta_gpt2");
}
TEST(WordTokenizerReference, UdEwtEverySentenceXlmRoberta) {
    expect_every_ud_sentence_matches("xlmr");
}

// The first sentences of each split spelled out: a readable diff where a hash fails.
TEST(WordTokenizerReference, UdEwtSampleSpelledOut) {
    std::ifstream in(golden_dir() / "ud_ewt" / "sample.jsonl");
    ASSERT_TRUE(in);
    int records = 0;
    for (std::string line; std::getline(in, line);) {
        const json r = json::parse(line);
        const Tokenizer& tok = kind(r["kind"]);
        const Strings words = r["words"];
        EXPECT_EQ(words, ud_split(r["split"])[r["index"].get<size_t>()]);
        const Encoding e = tok.encode_words(words);
        EXPECT_EQ(e.input_ids, r["ids"].get<Ids>()) << r["kind"] << " " << words_text(words);
        EXPECT_EQ(e.word_ids, r["word_ids"].get<Ids>()) << r["kind"] << " " << words_text(words);
        ++records;
    }
    EXPECT_EQ(records, 4 * 3 * 12);
}

// The generator's variants as EncodeOptions.
EncodeOptions variant(const std::string& v) {
    EncodeOptions o;
    if (v == "full") return o;
    if (v == "plain" || v == "plain_t8") o.add_special_tokens = false;
    if (v == "p16") {
        o.padding = Padding::MaxLength;
        o.max_length = 16;
    } else if (v == "p_mult8") {
        o.padding = Padding::Longest;
        o.pad_to_multiple_of = 8;
    } else if (v != "plain") {
        o.max_length = std::stoll(v.substr(v.find('t') + 1));
    }
    if (v != "plain" && v != "p_mult8") o.truncation = Truncation::LongestFirst;
    return o;
}

TEST(WordTokenizerReference, TrickyWordListsMatchHuggingFace) {
    std::ifstream in(golden_dir() / "tricky.jsonl");
    ASSERT_TRUE(in);
    int records = 0, checked = 0;
    for (std::string line; std::getline(in, line);) {
        const json r = json::parse(line);
        const Strings words = r["words"];
        for (const char* name : kKinds) {
            const Tokenizer& tok = kind(name);
            for (const auto& [v, want] : r[name].items()) {
                const std::string what = std::string(name) + " " + v + " " + words_text(words);
                ASSERT_TRUE(want.is_array()) << what << ": HF raised; no case expects that";
                const EncodeOptions o = variant(v);
                const Encoding e = tok.encode_words(words, o);
                EXPECT_EQ(e.input_ids, want[0].get<Ids>()) << what;
                EXPECT_EQ(e.word_ids, want[1].get<Ids>()) << what;
                ASSERT_EQ(e.attention_mask.size(), e.input_ids.size()) << what;
                for (size_t k = 0; k < e.input_ids.size(); ++k)
                    EXPECT_EQ(e.attention_mask[k], k < size_t(e.length) ? 1 : 0) << what;
                // The batch call on the list and a copy of it gives the same.
                const std::vector<std::span<const std::string>> two = {words, words};
                const std::vector<Encoding> b = tok.encode_words_batch(two, o);
                EXPECT_EQ(b[1].input_ids, e.input_ids) << what;
                EXPECT_EQ(b[1].word_ids, e.word_ids) << what;
                ++checked;
            }
        }
        ++records;
    }
    EXPECT_EQ(records, 37);
    EXPECT_GT(checked, 1000);
}

// ---- Hand-worked cases ----

// A WordPiece vocabulary small enough to work the cases out by hand.
BertTokenizer tiny_bert() {
    return BertTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able",
                          "a", "b", "the", "cat", ","},
                         {}, {}, BertTokenizer::kNoMaxLength);
}

TEST(WordTokenizer, EachWordsPiecesCarryItsIndex) {
    const BertTokenizer t = tiny_bert();
    const Encoding e = t.encode_words(Strings{"The", "unaffable", "cat"});
    EXPECT_EQ(e.input_ids, (Ids{2, 10, 5, 6, 7, 11, 3}));
    EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, 1, 1, 2, -1}));
    EXPECT_EQ(e.token_type_ids, (Ids{0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(e.length, 7);
    // encode leaves word_ids empty.
    EXPECT_TRUE(t.encode("the cat").word_ids.empty());
}

TEST(WordTokenizer, AWordWithNoTokensLeavesItsIndexUnused) {
    const BertTokenizer t = tiny_bert();
    // "", " " and a control character give no tokens; the later words keep their own index.
    const Encoding e = t.encode_words(Strings{"", "a", " ", "\x01", "b", ""});
    EXPECT_EQ(e.input_ids, (Ids{2, 8, 9, 3}));
    EXPECT_EQ(e.word_ids, (Ids{-1, 1, 4, -1}));
    EXPECT_EQ(t.encode_words(Strings{}).word_ids, (Ids{-1, -1}));
    EXPECT_EQ(t.encode_words(Strings{""}).input_ids, (Ids{2, 3}));
}

TEST(WordTokenizer, AWordWithSpacesInsideKeepsOneIndex) {
    const BertTokenizer t = tiny_bert();
    const Encoding e = t.encode_words(Strings{"a b,", "cat"});
    EXPECT_EQ(e.input_ids, (Ids{2, 8, 9, 12, 11, 3}));
    EXPECT_EQ(e.word_ids, (Ids{-1, 0, 0, 0, 1, -1}));
}

TEST(WordTokenizer, SpecialTokenTextInAWordIsTheSpecialToken) {
    const BertTokenizer t = tiny_bert();
    // As tokenizers does: the added tokens are split out of each word first.
    const Encoding e = t.encode_words(Strings{"[CLS]", "a[SEP]"});
    EXPECT_EQ(e.input_ids, (Ids{2, 2, 8, 3, 3}));
    EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, 1, -1}));
}

TEST(WordTokenizer, TruncationCutsInsideAWordAndPaddingHasNoWord) {
    const BertTokenizer t = tiny_bert();
    EncodeOptions o;
    o.truncation = Truncation::LongestFirst;
    o.max_length = 4;
    Encoding e = t.encode_words(Strings{"the", "unaffable"}, o);
    EXPECT_EQ(e.input_ids, (Ids{2, 10, 5, 3}));
    EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, -1}));
    // max_length below the template's two tokens: tokenizers leaves the sequence whole.
    o.max_length = 1;
    EXPECT_EQ(t.encode_words(Strings{"the", "cat"}, o).input_ids, (Ids{2, 10, 11, 3}));
    EXPECT_EQ(t.encode(std::string("the cat"), std::nullopt, o).input_ids, (Ids{2, 10, 11, 3}));
    o.max_length = 2;
    EXPECT_EQ(t.encode_words(Strings{"the", "cat"}, o).word_ids, (Ids{-1, -1}));

    EncodeOptions pad;
    pad.padding = Padding::MaxLength;
    pad.max_length = 6;
    e = t.encode_words(Strings{"a", "b"}, pad);
    EXPECT_EQ(e.input_ids, (Ids{2, 8, 9, 3, 0, 0}));
    EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, -1, -1, -1}));
    EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 1, 0, 0}));
    EXPECT_EQ(e.length, 4);

    EncodeOptions plain;
    plain.add_special_tokens = false;
    plain.padding = Padding::MaxLength;
    plain.max_length = 3;
    e = t.encode_words(Strings{"", "b"}, plain);
    EXPECT_EQ(e.input_ids, (Ids{9, 0, 0}));
    EXPECT_EQ(e.word_ids, (Ids{1, -1, -1}));
    // No words and no special tokens: padding alone.
    e = t.encode_words(Strings{}, plain);
    EXPECT_EQ(e.word_ids, (Ids{-1, -1, -1}));
}

TEST(WordTokenizer, BatchPadsToItsLongestSentence) {
    const BertTokenizer t = tiny_bert();
    const std::vector<Strings> s = {{"a"}, {"the", "unaffable"}, {}};
    EncodeOptions o;
    o.padding = Padding::Longest;
    const auto b = t.encode_words_batch(spans_of(s), o);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0].input_ids, (Ids{2, 8, 3, 0, 0, 0}));
    EXPECT_EQ(b[0].word_ids, (Ids{-1, 0, -1, -1, -1, -1}));
    EXPECT_EQ(b[1].word_ids, (Ids{-1, 0, 1, 1, 1, -1}));
    EXPECT_EQ(b[2].word_ids, (Ids{-1, -1, -1, -1, -1, -1}));
    EXPECT_EQ(b[2].length, 2);
}

TEST(WordTokenizer, InvalidUtf8NamesTheWordAndTheSentence) {
    const BertTokenizer t = tiny_bert();
    EXPECT_EQ(test::error_of([&] {
                  t.encode_words(Strings{"a", "b\xff"});
              }),
              "word 1: invalid UTF-8 at byte 1");
    const std::vector<Strings> s = {{"a"}, {"\xc3"}};
    EXPECT_EQ(test::error_of([&] { t.encode_words_batch(spans_of(s)); }),
              "sentence 1: word 0: invalid UTF-8 at byte 0");
}

TEST(WordTokenizer, RobertaGivesEveryWordItsLeadingSpace) {
    // The folder says add_prefix_space false; words get their space all the same (run_ner's
    // add_prefix_space=True), the first one included, and after an added token inside a word.
    const auto& tok = kind("roberta");
    const Encoding e = tok.encode_words(Strings{"world", "world", "<mask>world"});
    ASSERT_EQ(e.input_ids.size(), 6u);
    const int32_t space_world = e.input_ids[1];
    EXPECT_EQ(tok.id_to_token(space_world), "\xC4\xA0world");  // "Ġworld"
    EXPECT_EQ(e.input_ids, (Ids{0, space_world, space_world, tok.mask_token_id(), space_world, 2}));
    EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, 2, 2, -1}));
    // encode of a text keeps the folder's setting: no space before the first word.
    EXPECT_NE(tok.encode("world").input_ids[1], space_world);
    // A word of spaces alone is a token ("Ġ"), unlike BERT's and XLM-R's.
    EXPECT_EQ(tok.encode_words(Strings{" "}).word_ids, (Ids{-1, 0, -1}));
    EXPECT_EQ(kind("xlmr").encode_words(Strings{" "}).word_ids, (Ids{-1, -1}));
}

TEST(WordTokenizer, XlmRobertaPrefixesEveryWord) {
    const auto& tok = kind("xlmr");
    const Encoding e = tok.encode_words(Strings{"world", "world"});
    ASSERT_EQ(e.input_ids.size(), 4u);
    EXPECT_EQ(tok.id_to_token(e.input_ids[1]), "\xE2\x96\x81world");  // "▁world"
    EXPECT_EQ(e.input_ids[2], e.input_ids[1]);
    EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, -1}));
}

}  // namespace
}  // namespace ft
