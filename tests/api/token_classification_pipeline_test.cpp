// The token-classification pipeline: HF's grouping (get_tag, group_entities, the word
// strategies, ignore_labels) on hand-worked label sequences, the WordPiece join, and the whole
// pipeline against HF's pipeline("token-classification") and run_ner's word tags
// (tests/goldens/token_pipeline, made by tools/gen_token_pipeline_goldens.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "finetune/finetune.h"
#include "test_env.h"

namespace ft {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Grouping on made-up labels.

// Joins with spaces: the tests of the grouping see which members a group took.
std::string spaced(std::span<const std::string> words) {
    std::string out;
    for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

TokenEntity tagged(std::string label, double score, std::string word, int64_t start) {
    return {std::move(label), score, std::move(word), start, start + 1, true, true, start};
}

TEST(TokenClassificationPipeline, EntityTagReadsBAndIPrefixesOnly) {
    EXPECT_EQ(entity_tag("B-PER"), std::make_pair('B', std::string_view("PER")));
    EXPECT_EQ(entity_tag("I-LOC"), std::make_pair('I', std::string_view("LOC")));
    // No prefix, or one get_tag does not know: a continuation of the whole label.
    EXPECT_EQ(entity_tag("DATE"), std::make_pair('I', std::string_view("DATE")));
    EXPECT_EQ(entity_tag("E-ORG"), std::make_pair('I', std::string_view("E-ORG")));
    EXPECT_EQ(entity_tag("O"), std::make_pair('I', std::string_view("O")));
    EXPECT_EQ(entity_tag("B-"), std::make_pair('B', std::string_view("")));
}

TEST(TokenClassificationPipeline, GroupEntitiesFollowsHfOnHandWorkedLabels) {
    const std::vector<TokenEntity> in = {
        tagged("I-MISC", 0.9, "a", 0),  // I- without a B-: opens a group
        tagged("B-PER", 0.9, "b", 1),   // tag differs
        tagged("I-PER", 0.7, "c", 2),   // joins b
        tagged("B-PER", 0.5, "d", 3),   // a B- never joins, even after the same type
        tagged("PER", 0.3, "e", 4),     // a bare tag is an I-: joins d
        tagged("I-LOC", 0.8, "f", 5),   // tag differs
        tagged("O", 0.6, "g", 6),       // O groups like any bare tag
        tagged("O", 0.4, "h", 7),
        tagged("LOC", 0.2, "i", 8),      // bare LOC after O: a new LOC group
        tagged("B-LOC", 0.1, "j", 9),    // B- after LOC: new
        tagged("E-ORG", 0.5, "k", 10),   // tag "E-ORG", named "ORG"
        tagged("I-ORG", 0.25, "l", 11),  // tag ORG is not E-ORG: new
    };
    const std::vector<TokenEntity> got = group_entities(in, spaced);
    // By hand: (name, mean score, members, start, end).
    const struct {
        const char* name;
        double score;
        const char* word;
        int64_t start, end;
    } want[] = {{"MISC", 0.9, "a", 0, 1}, {"PER", 0.8, "b c", 1, 3}, {"PER", 0.4, "d e", 3, 5},
                {"LOC", 0.8, "f", 5, 6},  {"O", 0.5, "g h", 6, 8},   {"LOC", 0.2, "i", 8, 9},
                {"LOC", 0.1, "j", 9, 10}, {"ORG", 0.5, "k", 10, 11}, {"ORG", 0.25, "l", 11, 12}};
    ASSERT_EQ(got.size(), std::size(want));
    for (size_t g = 0; g < got.size(); ++g) {
        EXPECT_EQ(got[g].entity, want[g].name) << g;
        EXPECT_NEAR(got[g].score, want[g].score, 1e-15) << g;
        EXPECT_EQ(got[g].word, want[g].word) << g;
        EXPECT_EQ(got[g].start, want[g].start) << g;
        EXPECT_EQ(got[g].end, want[g].end) << g;
        EXPECT_EQ(got[g].index, -1) << g;
    }
    // A group's offsets flags are its first member's start and its last member's end.
    std::vector<TokenEntity> two = {tagged("B-PER", 1, "x", 0), tagged("I-PER", 1, "y", 1)};
    two[0].end_exact = false;
    two[1].start_exact = false;
    EXPECT_TRUE(group_entities(two, spaced)[0].start_exact);
    EXPECT_TRUE(group_entities(two, spaced)[0].end_exact);
    two[0].start_exact = two[1].end_exact = false;
    EXPECT_FALSE(group_entities(two, spaced)[0].start_exact);
    EXPECT_FALSE(group_entities(two, spaced)[0].end_exact);
    EXPECT_TRUE(group_entities({}, spaced).empty());
}

const std::vector<std::string> LABELS = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "DATE"};

// A token whose probabilities are `top` (label -> probability), the rest spread evenly.
TokenScores token(std::string text, int64_t index, bool is_subword,
                  std::vector<std::pair<size_t, double>> top) {
    TokenScores t;
    double rest = 1.0;
    for (const auto& [k, p] : top) rest -= p;
    t.scores.assign(LABELS.size(), rest / double(LABELS.size() - top.size()));
    for (const auto& [k, p] : top) t.scores[k] = p;
    t.token = std::move(text);
    t.index = index;
    t.start = index * 10;
    t.end = index * 10 + 5;
    t.is_subword = is_subword;
    return t;
}

// new ##ark | is | hot ##ter | b ##ob: the word strategies see four words.
std::vector<TokenScores> hand_tokens() {
    return {token("new", 1, false, {{3, 0.6}, {2, 0.3}}),    // B-LOC, I-PER second
            token("##ark", 2, true, {{2, 0.7}, {3, 0.1}}),   // I-PER, B-LOC low
            token("is", 3, false, {{0, 0.9}}),               // O
            token("hot", 4, false, {{5, 0.5}}),              // DATE
            token("##ter", 5, true, {{5, 0.4}, {1, 0.35}}),  // DATE
            token("b", 6, false, {{1, 0.8}}),                // B-PER
            token("##ob", 7, true, {{1, 0.6}})};             // B-PER again
}

struct Want {
    std::string entity;
    double score;
    std::string word;
    int64_t start, end, index;
};

void expect_entities(const std::vector<TokenEntity>& got, const std::vector<Want>& want,
                     const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].entity, want[i].entity) << what << " " << i;
        EXPECT_NEAR(got[i].score, want[i].score, 1e-12) << what << " " << i;
        EXPECT_EQ(got[i].word, want[i].word) << what << " " << i;
        EXPECT_EQ(got[i].start, want[i].start) << what << " " << i;
        EXPECT_EQ(got[i].end, want[i].end) << what << " " << i;
        EXPECT_EQ(got[i].index, want[i].index) << what << " " << i;
    }
}

TEST(TokenClassificationPipeline, StrategiesOnHandWorkedTokens) {
    const std::vector<TokenScores> t = hand_tokens();
    const TokensToString join = wordpiece_tokens_to_string;
    // none: every token but the O one, with its full label and index.
    expect_entities(aggregate_tokens(t, LABELS, AggregationStrategy::NONE, join),
                    {{"B-LOC", 0.6, "new", 10, 15, 1},
                     {"I-PER", 0.7, "##ark", 20, 25, 2},
                     {"DATE", 0.5, "hot", 40, 45, 4},
                     {"DATE", 0.4, "##ter", 50, 55, 5},
                     {"B-PER", 0.8, "b", 60, 65, 6},
                     {"B-PER", 0.6, "##ob", 70, 75, 7}},
                    "none");
    // simple: tokens grouped, so words split where their tokens' tags differ.
    expect_entities(aggregate_tokens(t, LABELS, AggregationStrategy::SIMPLE, join),
                    {{"LOC", 0.6, "new", 10, 15, -1},
                     {"PER", 0.7, "##ark", 20, 25, -1},
                     {"DATE", 0.45, "hotter", 40, 55, -1},
                     {"PER", 0.8, "b", 60, 65, -1},
                     {"PER", 0.6, "##ob", 70, 75, -1}},
                    "simple");
    // first: each word takes its first token's label and score.
    expect_entities(aggregate_tokens(t, LABELS, AggregationStrategy::FIRST, join),
                    {{"LOC", 0.6, "newark", 10, 25, -1},
                     {"DATE", 0.5, "hotter", 40, 55, -1},
                     {"PER", 0.8, "bob", 60, 75, -1}},
                    "first");
    // average: newark's mean puts I-PER (0.5) over B-LOC (0.35); hotter's DATE is 0.45.
    expect_entities(aggregate_tokens(t, LABELS, AggregationStrategy::AVERAGE, join),
                    {{"PER", 0.5, "newark", 10, 25, -1},
                     {"DATE", 0.45, "hotter", 40, 55, -1},
                     {"PER", 0.7, "bob", 60, 75, -1}},
                    "average");
    // max: the word's most confident token decides (##ark's 0.7, hot's 0.5, b's 0.8).
    expect_entities(aggregate_tokens(t, LABELS, AggregationStrategy::MAX, join),
                    {{"PER", 0.7, "newark", 10, 25, -1},
                     {"DATE", 0.5, "hotter", 40, 55, -1},
                     {"PER", 0.8, "bob", 60, 75, -1}},
                    "max");
    // ignore_labels replaces the default: O is kept, DATE dropped.
    expect_entities(aggregate_tokens(t, LABELS, AggregationStrategy::FIRST, join, {"DATE"}),
                    {{"LOC", 0.6, "newark", 10, 25, -1},
                     {"O", 0.9, "is", 30, 35, -1},
                     {"PER", 0.8, "bob", 60, 75, -1}},
                    "first, ignore DATE");
    // max: on a tie the word's first most confident token wins (Python's max()).
    const std::vector<TokenScores> tie = {token("x", 1, false, {{1, 0.6}}),
                                          token("##y", 2, true, {{5, 0.6}})};
    expect_entities(aggregate_tokens(tie, LABELS, AggregationStrategy::MAX, join),
                    {{"PER", 0.6, "xy", 10, 25, -1}}, "max tie");
    // The first token opens a word even when marked as a subword.
    std::vector<TokenScores> lead = {t[1], t[2]};
    expect_entities(aggregate_tokens(lead, LABELS, AggregationStrategy::FIRST, join),
                    {{"PER", 0.7, "##ark", 20, 25, -1}}, "leading subword");
}

TEST(TokenClassificationPipeline, WordPieceJoinIsTheTokenizersDecoder) {
    // tokenizers.decoders.WordPiece().decode(...) in transformers 5.25.0's venv.
    const std::vector<std::string> tokens = {"##a", "b",   "##c", ",", ".",
                                             "do",  "not", "n",   "'", "t"};
    EXPECT_EQ(wordpiece_tokens_to_string(tokens), "##a bc,. do not n ' t");
    EXPECT_EQ(wordpiece_tokens_to_string(std::vector<std::string>{"a ' b"}), "a'b");
    EXPECT_EQ(wordpiece_tokens_to_string(std::vector<std::string>{"x", " ,"}), "x ,");
    EXPECT_EQ(wordpiece_tokens_to_string({}), "");
}

TEST(TokenClassificationPipeline, AggregationStrategyNames) {
    EXPECT_EQ(parse_aggregation_strategy("FIRST"), AggregationStrategy::FIRST);
    EXPECT_EQ(parse_aggregation_strategy("simple"), AggregationStrategy::SIMPLE);
    for (auto s :
         {AggregationStrategy::NONE, AggregationStrategy::SIMPLE, AggregationStrategy::FIRST,
          AggregationStrategy::AVERAGE, AggregationStrategy::MAX})
        EXPECT_EQ(parse_aggregation_strategy(aggregation_strategy_name(s)), s);
    const std::string msg = test::error_of([] { parse_aggregation_strategy("mean"); });
    EXPECT_NE(msg.find("'mean'"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------------------------
// Against HF.

const json& goldens() {
    static const json doc = [] {
        std::ifstream in(test::tools_dir() / ".." / "tests" / "goldens" / "token_pipeline" /
                         "goldens.json");
        return in ? json::parse(in) : json();
    }();
    return doc;
}

#define REQUIRE_GOLDENS()                                                   \
    if (goldens().is_null())                                                \
    GTEST_SKIP() << "tests/goldens/token_pipeline/goldens.json is missing " \
                    "(tools/gen_token_pipeline_goldens.py makes it)"

// The goldens' model: the trainer_ner init relabelled, its classifier transformed as the
// generator did (float32 multiply and add, the same rounding as torch's).
TokenClassificationPipeline golden_pipeline(const std::string& name) {
    const json& g = goldens();
    const fs::path dir = test::tools_dir() / ".." / g["models"][name]["init"].get<std::string>();
    LoadOptions o;
    o.task = ModelTask::TOKEN_CLASSIFICATION;
    o.id2label = g["labels"].get<std::vector<std::string>>();
    auto model = std::make_unique<PretrainedModel>(load_pretrained(dir, o));
    const Tensor* w = model->weights.find("classifier.weight");
    const Tensor* b = model->weights.find("classifier.bias");
    if (w == nullptr || b == nullptr) throw Error("no classifier in " + dir.string());
    const auto scale = g["transform"]["classifier_weight_scale"].get<float>();
    for (int64_t i = 0; i < w->numel(); ++i) w->ptr<float>()[i] *= scale;
    b->ptr<float>()[0] += g["transform"]["o_bias_shift"].get<float>();  // label 0 is O
    return TokenClassificationPipeline(std::move(model), load_tokenizer(dir));
}

std::vector<std::string> split_spaces(const std::string& text) {
    std::vector<std::string> words;
    for (size_t pos = 0;;) {
        const size_t end = text.find(' ', pos);
        words.push_back(text.substr(pos, end - pos));
        if (end == std::string::npos) return words;
        pos = end + 1;
    }
}

// Differences from HF's scores are float32 rounding of the logits and of numpy's means.
constexpr double kScoreTolerance = 1e-5;

struct Agreement {
    double max_score_diff = 0;
    int entities = 0, starts = 0, ends = 0;  // compared; offsets only where exact
};

void expect_like_hf(const std::vector<TokenEntity>& got, const json& want, bool with_index,
                    const std::string& where, Agreement* a) {
    ASSERT_EQ(got.size(), want.size()) << where;
    for (size_t i = 0; i < got.size(); ++i) {
        const json& w = want[i];
        const std::string at = where + " entity " + std::to_string(i);
        EXPECT_EQ(got[i].entity, w[0].get<std::string>()) << at;
        const double diff = std::abs(got[i].score - w[1].get<double>());
        EXPECT_LE(diff, kScoreTolerance) << at;
        a->max_score_diff = std::max(a->max_score_diff, diff);
        EXPECT_EQ(got[i].word, w[2].get<std::string>()) << at;
        // Inexact boundaries lie on the far side of HF's, at the edges of their words.
        const auto start = w[3].get<int64_t>(), end = w[4].get<int64_t>();
        if (got[i].start_exact) {
            EXPECT_EQ(got[i].start, start) << at;
            ++a->starts;
        } else {
            EXPECT_LE(got[i].start, start) << at;
        }
        if (got[i].end_exact) {
            EXPECT_EQ(got[i].end, end) << at;
            ++a->ends;
        } else {
            EXPECT_GE(got[i].end, end) << at;
        }
        EXPECT_EQ(got[i].index, with_index ? w[5].get<int64_t>() : -1) << at;
        ++a->entities;
    }
}

class TokenPipelineGoldens : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenPipelineGoldens, EqualsHfPipelineAndRunNerWordTags) {
    REQUIRE_GOLDENS();
    const std::string name = GetParam();
    TokenClassificationPipeline pipe = golden_pipeline(name);
    const json& sentences = goldens()["models"][name]["sentences"];
    ASSERT_GE(sentences.size(), 25u);
    std::map<std::string, Agreement> agreement;
    double word_diff = 0;
    int words = 0, inexact_offsets = 0;
    for (size_t s = 0; s < sentences.size(); ++s) {
        const json& row = sentences[s];
        const std::string text = row["text"];
        const std::vector<std::string> split = split_spaces(text);
        for (const char* strategy : {"none", "simple", "first", "average", "max"}) {
            const AggregationStrategy a = parse_aggregation_strategy(strategy);
            const TokenClassification got = pipe(split, a);
            EXPECT_EQ(got.text, text);
            const std::string where = name + " sentence " + std::to_string(s) + " " + strategy;
            expect_like_hf(got.entities, row[strategy], a == AggregationStrategy::NONE, where,
                           &agreement[strategy]);
            for (const TokenEntity& e : got.entities)
                inexact_offsets += !e.start_exact + !e.end_exact;
        }
        // The text overload splits on the spaces and gives the same answer.
        const TokenClassification by_words = pipe(split, AggregationStrategy::SIMPLE);
        const TokenClassification by_text = pipe(text, AggregationStrategy::SIMPLE);
        ASSERT_EQ(by_text.entities.size(), by_words.entities.size()) << s;
        for (size_t i = 0; i < by_text.entities.size(); ++i) {
            EXPECT_EQ(by_text.entities[i].word, by_words.entities[i].word) << s;
            EXPECT_EQ(by_text.entities[i].start, by_words.entities[i].start) << s;
            EXPECT_EQ(by_text.entities[i].score, by_words.entities[i].score) << s;
        }
        // run_ner's view: the first sub-token's label per word; none where truncation cut it.
        const json& tags = row["word_tags"];
        ASSERT_EQ(by_words.words.size(), tags.size()) << s;
        for (size_t w = 0; w < tags.size(); ++w) {
            const WordTag& got = by_words.words[w];
            EXPECT_EQ(got.word, split[w]);
            EXPECT_EQ(text.substr(size_t(got.start), size_t(got.end - got.start)), split[w]);
            ASSERT_EQ(got.tag.has_value(), !tags[w].is_null()) << s << " word " << w;
            if (!got.tag) continue;
            EXPECT_EQ(got.tag->label, tags[w][0].get<std::string>()) << s << " word " << w;
            const double diff = std::abs(got.tag->score - tags[w][1].get<double>());
            EXPECT_LE(diff, kScoreTolerance) << s << " word " << w;
            word_diff = std::max(word_diff, diff);
            ++words;
        }
    }
    // The measured agreement, for the record (docs and the issue quote it).
    for (const auto& [strategy, a] : agreement)
        std::printf("[ %s %-7s ] %d entities, max |score - HF| %.3g, %d starts and %d ends exact\n",
                    name.c_str(), strategy.c_str(), a.entities, a.max_score_diff, a.starts, a.ends);
    std::printf("[ %s words   ] %d word tags, max |score - HF| %.3g; %d inexact boundaries\n",
                name.c_str(), words, word_diff, inexact_offsets);
    EXPECT_GT(words, 300);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, TokenPipelineGoldens, ::testing::Values("bert", "distilbert"));

TEST(TokenClassificationPipeline, TruncationLeavesTheLastWordsWithoutTags) {
    REQUIRE_GOLDENS();
    TokenClassificationPipeline pipe = golden_pipeline("bert");
    std::vector<std::string> words(200, "word");
    const TokenClassification got = pipe(words, AggregationStrategy::FIRST);
    ASSERT_EQ(got.words.size(), 200u);
    // The 128 positions hold [CLS], [SEP] and at most 126 word tokens: the rest go untagged.
    int tagged_words = 0;
    for (const WordTag& w : got.words) tagged_words += w.tag.has_value();
    EXPECT_GT(tagged_words, 0);
    EXPECT_LE(tagged_words, 126);
    for (int w = tagged_words; w < 200; ++w) EXPECT_FALSE(got.words[size_t(w)].tag) << w;
    for (const TokenEntity& e : got.entities)
        EXPECT_LE(e.end, got.words[size_t(tagged_words - 1)].end);
}

// Byte-level BPE has no "##": HF's fallback makes a word of every token not after whitespace,
// i.e. our words. With only B- labels nothing merges, so FIRST gives one entity per word, spelled
// as the byte-level decoder spells it (its leading space kept) and spanning the word exactly.
TEST(TokenClassificationPipeline, ByteLevelWordsAreTheWhitespaceWords) {
    const fs::path dir = test::tools_dir() / ".." / "tests/goldens/trainer_roberta/init_roberta";
    LoadOptions o;
    o.task = ModelTask::TOKEN_CLASSIFICATION;
    o.id2label = std::vector<std::string>{"B-A", "B-B", "B-C"};
    TokenClassificationPipeline pipe(std::make_unique<PretrainedModel>(load_pretrained(dir, o)),
                                     load_tokenizer(dir));
    pipe.set_ignore_labels({});
    const std::vector<std::string> words = {"Internationalization", "of", "Kuala-Lumpur,", "ok"};
    const TokenClassification got = pipe(words, AggregationStrategy::FIRST);
    ASSERT_EQ(got.entities.size(), words.size());
    for (size_t w = 0; w < words.size(); ++w) {
        EXPECT_EQ(got.entities[w].word, " " + words[w]) << w;
        EXPECT_EQ(got.entities[w].start, got.words[w].start) << w;
        EXPECT_EQ(got.entities[w].end, got.words[w].end) << w;
        EXPECT_TRUE(got.entities[w].start_exact && got.entities[w].end_exact) << w;
        ASSERT_TRUE(got.words[w].tag.has_value()) << w;
    }
    // NONE keeps the tokens: more of them than words, the raw vocabulary entries ("Ġof").
    const TokenClassification tokens = pipe(words, AggregationStrategy::NONE);
    EXPECT_GT(tokens.entities.size(), words.size() + 2);
    EXPECT_EQ(tokens.entities.front().index, 1);
}

TEST(TokenClassificationPipeline, ASequenceClassifierIsRefused) {
    const fs::path dir = test::tiny_distilbert_model_dir();
    const std::string msg = test::error_of([&] {
        TokenClassificationPipeline(std::make_unique<PretrainedModel>(load_pretrained(dir)),
                                    load_tokenizer(dir));
    });
    EXPECT_NE(msg.find("AutoModelForTokenClassification"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ft
