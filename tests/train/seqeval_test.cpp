// seqeval's scores against seqeval 1.2.2 itself (tests/goldens/seqeval/cases.json, made by
// tools/gen_seqeval_goldens.py the way evaluate's metrics/seqeval calls it), streaming against
// one-shot, error cases, and small cases worked by hand; no Python is needed at test time.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "finetune/core.h"
#include "finetune/metrics.h"
#include "test_env.h"

namespace ft {
namespace {

using json = nlohmann::json;

const json& goldens() {
    static const json doc = [] {
        const auto path = test::tools_dir() / ".." / "tests" / "goldens" / "seqeval" / "cases.json";
        std::ifstream in(path);
        if (!in) return json();
        return json::parse(in);
    }();
    return doc;
}

#define REQUIRE_GOLDENS()                                          \
    if (goldens().is_null())                                       \
    GTEST_SKIP() << "tests/goldens/seqeval/cases.json is missing " \
                    "(tools/gen_seqeval_goldens.py makes it)"

SeqevalOptions options_of(const json& c) {
    SeqevalOptions o;
    o.mode = c["mode"] == "strict" ? SeqevalMode::STRICT : SeqevalMode::DEFAULT;
    const std::string scheme = c["scheme"];
    o.scheme = scheme == "AUTO" ? TaggingScheme::AUTO : parse_tagging_scheme(scheme);
    o.suffix = c["suffix"];
    const std::string zd = c["zero_division"];
    o.zero_division =
        zd == "warn" ? ZeroDivision::WARN : (zd == "0" ? ZeroDivision::ZERO : ZeroDivision::ONE);
    return o;
}

void expect_close(double ours, double theirs, const std::string& what) {
    const double tolerance = 1e-12 * std::max(std::abs(ours), std::abs(theirs));
    EXPECT_NEAR(ours, theirs, tolerance) << what;
}

void expect_matches(const SeqevalResult& r, const json& e, const std::string& why) {
    ASSERT_EQ(r.types.size(), e["types"].size()) << why;
    for (const auto& [type, s] : r.types) {
        ASSERT_TRUE(e["types"].contains(type)) << why << ": type " << type;
        const json& t = e["types"][type];
        expect_close(s.precision, t["precision"], why + ": " + type + " precision");
        expect_close(s.recall, t["recall"], why + ": " + type + " recall");
        expect_close(s.f1, t["f1"], why + ": " + type + " f1");
        EXPECT_EQ(s.number, t["number"].get<int64_t>()) << why << ": " << type << " number";
    }
    expect_close(r.overall_precision, e["overall_precision"], why + ": overall_precision");
    expect_close(r.overall_recall, e["overall_recall"], why + ": overall_recall");
    expect_close(r.overall_f1, e["overall_f1"], why + ": overall_f1");
    EXPECT_EQ(r.overall_accuracy, e["overall_accuracy"].get<double>()) << why << ": accuracy";
}

TEST(Seqeval, MatchesSeqevalGoldens) {
    REQUIRE_GOLDENS();
    int scored = 0, errors = 0;
    for (const json& c : goldens()["cases"]) {
        const std::string why = c["why"].get<std::string>() + " [" + c["mode"].get<std::string>() +
                                "/" + c["scheme"].get<std::string>() + "]";
        const SeqevalMetric metric(options_of(c));
        const auto refs = c["references"].get<TagSequences>();
        const auto preds = c["predictions"].get<TagSequences>();
        if (c.contains("error")) {
            EXPECT_THROW(metric.compute(preds, refs), Error) << why;
            ++errors;
            continue;
        }
        expect_matches(metric.compute(preds, refs), c["expected"], why);
        ++scored;
    }
    EXPECT_GT(scored, 600);
    EXPECT_GT(errors, 10);
}

// Sentence by sentence through add_batch gives what one compute() over all of them gives.
TEST(Seqeval, StreamingEqualsOneShot) {
    REQUIRE_GOLDENS();
    for (const json& c : goldens()["cases"]) {
        if (c.contains("error")) continue;
        const auto refs = c["references"].get<TagSequences>();
        const auto preds = c["predictions"].get<TagSequences>();
        SeqevalMetric metric(options_of(c));
        for (size_t s = 0; s < refs.size(); ++s) metric.add_batch({preds[s]}, {refs[s]});
        expect_matches(metric.compute(), c["expected"], c["why"].get<std::string>() + " streamed");
        EXPECT_THROW(metric.compute(), Error);  // compute() reset the state: nothing left
    }
}

// evaluate's docstring example. MISC: truth (3..5), predicted (2..5) -> tp 0; PER (0..1 of the
// second sentence) matches. precision = recall = 1/2, f1 = 2*.5*.5/1 = .5; tokens: 8 of 10 agree
// (positions 2 and 3 of the first sentence differ).
TEST(Seqeval, HandWorkedDocstringExample) {
    const TagSequences refs = {{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"},
                               {"B-PER", "I-PER", "O"}};
    const TagSequences preds = {{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"},
                                {"B-PER", "I-PER", "O"}};
    const SeqevalResult r = SeqevalMetric().compute(preds, refs);
    EXPECT_EQ(r.overall_precision, 0.5);
    EXPECT_EQ(r.overall_recall, 0.5);
    EXPECT_EQ(r.overall_f1, 0.5);
    EXPECT_EQ(r.overall_accuracy, 0.8);
    EXPECT_EQ(r.types.at("MISC").f1, 0.0);
    EXPECT_EQ(r.types.at("PER").f1, 1.0);
    EXPECT_EQ(r.types.at("PER").number, 1);
    const auto flat = r.run_ner_metrics(true);
    EXPECT_EQ(flat.at("PER_number"), 1.0);
    EXPECT_EQ(flat.at("overall_f1"), 0.5);
    EXPECT_EQ(flat.size(), 2u * 4u + 4u);
    const auto plain = r.run_ner_metrics(false);
    EXPECT_EQ(plain.size(), 4u);
    EXPECT_EQ(plain.at("accuracy"), 0.8);
}

// "O I-PER I-PER O": lenient chunking opens PER at the I- (conlleval), so it matches the truth's
// B-PER I-PER: p = r = 1. Strict IOB2 needs a B- to start: no predicted entity, p = 0/0 -> 0
// (zero_division WARN) or 1 (ONE), r = 0/1 = 0, f1 = 2*p*r/(p+r) = 0 either way.
TEST(Seqeval, HandWorkedIWithoutB) {
    const TagSequences refs = {{"O", "B-PER", "I-PER", "O"}};
    const TagSequences preds = {{"O", "I-PER", "I-PER", "O"}};
    const SeqevalResult lenient = SeqevalMetric().compute(preds, refs);
    EXPECT_EQ(lenient.overall_f1, 1.0);
    EXPECT_EQ(lenient.overall_accuracy, 0.75);
    SeqevalOptions strict{SeqevalMode::STRICT, TaggingScheme::IOB2, false, ZeroDivision::WARN};
    SeqevalResult r = SeqevalMetric(strict).compute(preds, refs);
    EXPECT_EQ(r.overall_precision, 0.0);
    EXPECT_EQ(r.overall_recall, 0.0);
    strict.zero_division = ZeroDivision::ONE;
    r = SeqevalMetric(strict).compute(preds, refs);
    EXPECT_EQ(r.overall_precision, 1.0);
    EXPECT_EQ(r.overall_recall, 0.0);
    EXPECT_EQ(r.overall_f1, 0.0);
}

// IOB1: "I-PER I-PER B-PER" is two entities (0..2) and (2..3): B- starts a chunk only after a
// chunk of the same type. IOB2 reads "B-PER B-PER" as two one-token entities, lenient too.
TEST(Seqeval, HandWorkedIob1BRule) {
    const TagSequences refs = {{"I-PER", "I-PER", "B-PER", "O"}};
    const TagSequences preds = {{"I-PER", "I-PER", "I-PER", "O"}};
    const SeqevalOptions iob1{SeqevalMode::STRICT, TaggingScheme::IOB1, false, ZeroDivision::WARN};
    const SeqevalResult r = SeqevalMetric(iob1).compute(preds, refs);
    // truth {(0,2), (2,3)}, predicted {(0,3)}: tp 0, p = 0/1, r = 0/2.
    EXPECT_EQ(r.types.at("PER").number, 2);
    EXPECT_EQ(r.overall_precision, 0.0);
    // "B-PER" after O is not a start in IOB1: no entity at all; with ONE, p = r = f1 = 1.
    const SeqevalOptions iob1_one{SeqevalMode::STRICT, TaggingScheme::IOB1, false,
                                  ZeroDivision::ONE};
    const SeqevalResult lone = SeqevalMetric(iob1_one).compute({{"O", "B-PER"}}, {{"O", "B-PER"}});
    EXPECT_TRUE(lone.types.empty());
    EXPECT_EQ(lone.overall_f1, 1.0);
}

// All-O: no entities anywhere, so p and r are 0/0 and f1 is zero_division too (2*1*1/2 = 1).
TEST(Seqeval, HandWorkedZeroDivision) {
    const TagSequences all_o = {{"O", "O"}, {"O"}};
    SeqevalOptions o;
    EXPECT_EQ(SeqevalMetric(o).compute(all_o, all_o).overall_f1, 0.0);
    o.zero_division = ZeroDivision::ONE;
    const SeqevalResult r = SeqevalMetric(o).compute(all_o, all_o);
    EXPECT_EQ(r.overall_precision, 1.0);
    EXPECT_EQ(r.overall_f1, 1.0);
    EXPECT_EQ(r.overall_accuracy, 1.0);
}

std::string error_of(const SeqevalMetric& m, const TagSequences& preds, const TagSequences& refs) {
    try {
        m.compute(preds, refs);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Seqeval, ErrorsNameSentenceAndTag) {
    const SeqevalMetric lenient;
    EXPECT_NE(error_of(lenient, {{"O"}, {"O", "O"}}, {{"O"}, {"O"}}).find("sentence 1"),
              std::string::npos);
    EXPECT_NE(error_of(lenient, {{"O"}}, {{"O"}, {"O"}}).find("sentences"), std::string::npos);
    EXPECT_NE(error_of(lenient, {{"O", ""}}, {{"O", "O"}}).find("empty tag"), std::string::npos);
    EXPECT_NE(error_of(lenient, {{}}, {{}}).find("no tokens"), std::string::npos);
    const SeqevalMetric iob2({SeqevalMode::STRICT, TaggingScheme::IOB2, false, ZeroDivision::WARN});
    const std::string bad = error_of(iob2, {{"O"}, {"B-PER", "S-PER"}}, {{"O"}, {"B-PER", "O"}});
    EXPECT_NE(bad.find("sentence 1"), std::string::npos) << bad;
    EXPECT_NE(bad.find("'S-PER'"), std::string::npos) << bad;
    EXPECT_NE(bad.find("IOB2"), std::string::npos) << bad;
    const SeqevalMetric aut({SeqevalMode::STRICT, TaggingScheme::AUTO, false, ZeroDivision::WARN});
    EXPECT_NE(error_of(aut, {{"O"}}, {{"O"}}).find("detect"), std::string::npos);
    EXPECT_THROW(parse_tagging_scheme("IOB3"), Error);
    // Sentence indices count across batches.
    SeqevalMetric streamed;
    streamed.add_batch({{"O"}}, {{"O"}});
    try {
        streamed.add_batch({{"O", "O"}}, {{"O"}});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("sentence 1"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace ft
