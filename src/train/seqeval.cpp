// seqeval 1.2.2's entity-level scores as evaluate's metrics/seqeval returns them: conlleval's
// lenient chunking (default mode) or a tagging scheme's strict patterns (mode="strict"), counts
// per entity type, micro averages and token accuracy; streamed as counts.
#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <tuple>

#include "finetune/core.h"
#include "finetune/metrics.h"

namespace ft {

namespace {

constexpr std::array<std::pair<std::string_view, TaggingScheme>, 6> SCHEME_NAMES = {{
    {"IOB1", TaggingScheme::IOB1},
    {"IOB2", TaggingScheme::IOB2},
    {"IOE1", TaggingScheme::IOE1},
    {"IOE2", TaggingScheme::IOE2},
    {"IOBES", TaggingScheme::IOBES},
    {"BILOU", TaggingScheme::BILOU},
}};

std::string_view scheme_name(TaggingScheme s) {
    for (const auto& [name, value] : SCHEME_NAMES)
        if (value == s) return name;
    return "AUTO";
}

[[noreturn]] void fail(const std::string& msg) {
    throw Error("seqeval: " + msg);
}

std::string where(int64_t sentence, const std::string& tag, const char* side) {
    return std::string(side) + " sentence " + std::to_string(sentence) + ", tag '" + tag + "'";
}

// Byte length of the UTF-8 code point starting at s[0] (Python indexes code points).
size_t first_code_point(std::string_view s) {
    size_t n = 1;
    while (n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) ++n;
    return n;
}
size_t last_code_point(std::string_view s) {
    size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    return s.size() - start;
}

// A tag split into its prefix (one code point) and the rest.
struct SplitTag {
    std::string_view prefix, rest;
};
SplitTag split_tag(std::string_view tag, bool suffix) {
    if (suffix) {
        const size_t n = last_code_point(tag);
        return {tag.substr(tag.size() - n), tag.substr(0, tag.size() - n)};
    }
    const size_t n = first_code_point(tag);
    return {tag.substr(0, n), tag.substr(n)};
}

// ---- default mode: seqeval's get_entities (conlleval) -----------------------------------------

// The type as get_entities derives it: after the first '-' of the rest (suffix: before the last),
// or the whole rest without one; "_" when empty.
std::string lenient_type(std::string_view rest, bool suffix) {
    const size_t dash = suffix ? rest.rfind('-') : rest.find('-');
    std::string_view t = rest;
    if (dash != std::string_view::npos) t = suffix ? rest.substr(0, dash) : rest.substr(dash + 1);
    return t.empty() ? std::string("_") : std::string(t);
}

bool end_of_chunk(std::string_view prev, std::string_view cur, const std::string& prev_type,
                  const std::string& type) {
    if (prev == "E" || prev == "S") return true;
    if ((prev == "B" || prev == "I") && (cur == "B" || cur == "S" || cur == "O")) return true;
    return prev != "O" && prev != "." && prev_type != type;
}

bool start_of_chunk(std::string_view prev, std::string_view cur, const std::string& prev_type,
                    const std::string& type) {
    if (cur == "B" || cur == "S") return true;
    if ((prev == "E" || prev == "S" || prev == "O") && (cur == "E" || cur == "I")) return true;
    return cur != "O" && cur != "." && prev_type != type;
}

struct Chunk {
    std::string type;
    int64_t begin, end;  // inclusive, positions in the joined stream
    bool operator==(const Chunk&) const = default;
};

// One step of get_entities at stream position `pos`: the chunk that ends just before it, if any.
std::optional<Chunk> lenient_step(SeqevalMetric::ChunkState& st, std::string_view tag, bool suffix,
                                  int64_t pos) {
    const SplitTag split = split_tag(tag, suffix);
    std::string type = lenient_type(split.rest, suffix);
    std::optional<Chunk> out;
    if (end_of_chunk(st.prev_prefix, split.prefix, st.prev_type, type))
        out = Chunk{st.prev_type, st.begin, pos - 1};
    if (start_of_chunk(st.prev_prefix, split.prefix, st.prev_type, type)) st.begin = pos;
    st.prev_prefix = std::string(split.prefix);
    st.prev_type = std::move(type);
    return out;
}

// ---- strict mode: seqeval.scheme's Token patterns ---------------------------------------------

enum Prefix : uint8_t { P_I = 1, P_O = 2, P_B = 4, P_E = 8, P_S = 16, P_U = 32, P_L = 64 };
constexpr uint8_t P_ANY = 127;
enum TagCond : uint8_t { SAME = 1, DIFF = 2, ANY_TAG = 3 };

struct Pattern {
    uint8_t prev, cur, cond;
};
struct SchemeRules {
    uint8_t allowed;
    std::vector<Pattern> start, inside, end;
};

const SchemeRules& rules(TaggingScheme s) {
    static const SchemeRules IOB1{P_I | P_O | P_B,
                                  {{P_O, P_I, ANY_TAG},
                                   {P_I, P_I, DIFF},
                                   {P_B, P_I, ANY_TAG},
                                   {P_I, P_B, SAME},
                                   {P_B, P_B, SAME}},
                                  {{P_B, P_I, SAME}, {P_I, P_I, SAME}},
                                  {{P_I, P_I, DIFF},
                                   {P_I, P_O, ANY_TAG},
                                   {P_I, P_B, ANY_TAG},
                                   {P_B, P_O, ANY_TAG},
                                   {P_B, P_I, DIFF},
                                   {P_B, P_B, SAME}}};
    static const SchemeRules IOE1{
        P_I | P_O | P_E,
        {{P_O, P_I, ANY_TAG}, {P_I, P_I, DIFF}, {P_E, P_I, ANY_TAG}, {P_E, P_E, SAME}},
        {{P_I, P_I, SAME}, {P_I, P_E, SAME}},
        {{P_I, P_I, DIFF},
         {P_I, P_O, ANY_TAG},
         {P_I, P_E, DIFF},
         {P_E, P_I, SAME},
         {P_E, P_E, SAME}}};
    static const SchemeRules IOB2{P_I | P_O | P_B,
                                  {{P_ANY, P_B, ANY_TAG}},
                                  {{P_B, P_I, SAME}, {P_I, P_I, SAME}},
                                  {{P_I, P_O, ANY_TAG},
                                   {P_I, P_I, DIFF},
                                   {P_I, P_B, ANY_TAG},
                                   {P_B, P_O, ANY_TAG},
                                   {P_B, P_I, DIFF},
                                   {P_B, P_B, ANY_TAG}}};
    static const SchemeRules IOE2{P_I | P_O | P_E,
                                  {{P_O, P_I, ANY_TAG},
                                   {P_O, P_E, ANY_TAG},
                                   {P_E, P_I, ANY_TAG},
                                   {P_E, P_E, ANY_TAG},
                                   {P_I, P_I, DIFF},
                                   {P_I, P_E, DIFF}},
                                  {{P_I, P_E, SAME}, {P_I, P_I, SAME}},
                                  {{P_E, P_ANY, ANY_TAG}}};
    static const SchemeRules IOBES{
        P_I | P_O | P_B | P_E | P_S,
        {{P_ANY, P_B, ANY_TAG}, {P_ANY, P_S, ANY_TAG}},
        {{P_B, P_I, SAME}, {P_B, P_E, SAME}, {P_I, P_I, SAME}, {P_I, P_E, SAME}},
        {{P_S, P_ANY, ANY_TAG}, {P_E, P_ANY, ANY_TAG}}};
    static const SchemeRules BILOU{
        P_B | P_I | P_L | P_O | P_U,
        {{P_ANY, P_B, ANY_TAG}, {P_ANY, P_U, ANY_TAG}},
        {{P_B, P_I, SAME}, {P_B, P_L, SAME}, {P_I, P_I, SAME}, {P_I, P_L, SAME}},
        {{P_U, P_ANY, ANY_TAG}, {P_L, P_ANY, ANY_TAG}}};
    switch (s) {
        case TaggingScheme::IOB1:
            return IOB1;
        case TaggingScheme::IOB2:
            return IOB2;
        case TaggingScheme::IOE1:
            return IOE1;
        case TaggingScheme::IOE2:
            return IOE2;
        case TaggingScheme::IOBES:
            return IOBES;
        case TaggingScheme::BILOU:
            return BILOU;
        case TaggingScheme::AUTO:
            break;
    }
    assert_fail("scheme != AUTO", __FILE__, __LINE__, "seqeval: AUTO has no rules");
}

struct StrictToken {
    uint8_t prefix;
    std::string type;
};

// seqeval's Token(): the prefix must be one of I O B E S U L; the type is the rest with '-'
// stripped from both ends, "_" when empty. Returns 0 as the prefix for an unknown one.
StrictToken strict_token(std::string_view tag, bool suffix) {
    const SplitTag split = split_tag(tag, suffix);
    uint8_t prefix = 0;
    if (split.prefix.size() == 1) {
        switch (split.prefix[0]) {
            case 'I':
                prefix = P_I;
                break;
            case 'O':
                prefix = P_O;
                break;
            case 'B':
                prefix = P_B;
                break;
            case 'E':
                prefix = P_E;
                break;
            case 'S':
                prefix = P_S;
                break;
            case 'U':
                prefix = P_U;
                break;
            case 'L':
                prefix = P_L;
                break;
            default:
                break;
        }
    }
    std::string_view t = split.rest;
    while (!t.empty() && t.front() == '-') t.remove_prefix(1);
    while (!t.empty() && t.back() == '-') t.remove_suffix(1);
    return {prefix, t.empty() ? std::string("_") : std::string(t)};
}

bool matches(const std::vector<Pattern>& patterns, const StrictToken& prev,
             const StrictToken& cur) {
    for (const Pattern& p : patterns) {
        if (!(prev.prefix & p.prev) || !(cur.prefix & p.cur)) continue;
        const bool same = prev.type == cur.type;
        if (p.cond == ANY_TAG || (same && p.cond == SAME) || (!same && p.cond == DIFF)) return true;
    }
    return false;
}

struct StrictEntity {
    std::string type;
    int64_t start, end;  // end exclusive
    bool operator<(const StrictEntity& o) const {
        return std::tie(start, end, type) < std::tie(o.start, o.end, o.type);
    }
};

std::vector<StrictToken> strict_tokens(const std::vector<std::string>& sentence, bool suffix,
                                       const SchemeRules& r, TaggingScheme scheme, int64_t index,
                                       const char* side) {
    std::vector<StrictToken> tokens;
    tokens.reserve(sentence.size() + 1);
    for (const std::string& tag : sentence) {
        if (tag.empty()) fail("empty tag in " + where(index, tag, side));
        StrictToken t = strict_token(tag, suffix);
        if (!(t.prefix & r.allowed))
            fail("invalid tag for scheme " + std::string(scheme_name(scheme)) + " in " +
                 where(index, tag, side));
        tokens.push_back(std::move(t));
    }
    tokens.push_back({P_O, "_"});  // seqeval's trailing outside token
    return tokens;
}

// seqeval's Tokens.entities over one sentence (`ext` ends with the outside token).
std::vector<StrictEntity> strict_entities(const std::vector<StrictToken>& ext,
                                          const SchemeRules& r) {
    std::vector<StrictEntity> out;
    const StrictToken outside{P_O, "_"};
    const StrictToken* prev = &outside;
    const size_t n = ext.size();
    size_t i = 0;
    while (i < n) {
        const StrictToken& tok = ext[i];
        if (matches(r.start, *prev, tok)) {
            size_t end = i + 1;
            const StrictToken* inner = &tok;
            while (end < n && matches(r.inside, *inner, ext[end])) inner = &ext[end++];
            if (end == n) end = n - 2;  // seqeval's fallback; unreachable, ext ends with "O"
            if (matches(r.end, ext[end - 1], ext[end]))
                out.push_back({tok.type, static_cast<int64_t>(i), static_cast<int64_t>(end)});
            i = end;
        } else {
            ++i;
        }
        prev = &ext[i - 1];
    }
    std::sort(out.begin(), out.end());
    return out;
}

// seqeval's auto_detect over the references' prefixes.
TaggingScheme detect_scheme(const TagSequences& references, bool suffix, int64_t first_index) {
    uint8_t seen = 0;
    for (size_t s = 0; s < references.size(); ++s)
        for (const std::string& tag : references[s]) {
            if (tag.empty()) fail("empty tag in " + where(first_index + s, tag, "reference"));
            const uint8_t p = strict_token(tag, suffix).prefix;
            if (p == 0)
                fail("cannot detect the scheme: unknown prefix in " +
                     where(first_index + s, tag, "reference"));
            seen |= p;
        }
    const auto in = [seen](std::initializer_list<uint8_t> sets) {
        return std::find(sets.begin(), sets.end(), seen) != sets.end();
    };
    if (in({P_I | P_O | P_B, P_I | P_B, P_B | P_O, P_B})) return TaggingScheme::IOB2;
    if (in({P_I | P_O | P_E, P_I | P_E, P_E | P_O, P_E})) return TaggingScheme::IOE2;
    if (in({P_I | P_O | P_B | P_E | P_S, P_I | P_B | P_E | P_S, P_I | P_O | P_B | P_E,
            P_O | P_B | P_E | P_S, P_I | P_B | P_E, P_B | P_E | P_S, P_O | P_B | P_E, P_B | P_E,
            P_S}))
        return TaggingScheme::IOBES;
    if (in({P_I | P_O | P_B | P_L | P_U, P_I | P_B | P_L | P_U, P_I | P_O | P_B | P_L,
            P_O | P_B | P_L | P_U, P_I | P_B | P_L, P_B | P_L | P_U, P_O | P_B | P_L, P_B | P_L,
            P_U}))
        return TaggingScheme::BILOU;
    fail(
        "cannot detect the scheme from the references' prefixes (IOB2, IOE2, IOBES or BILOU "
        "with no other prefix)");
}

double divide(int64_t num, int64_t den, double zero_division) {
    return den == 0 ? zero_division : static_cast<double>(num) / static_cast<double>(den);
}

// sklearn's F-beta with beta = 1, in numpy's order of operations: 2 * p * r / (p + r).
double f1_of(double p, double r) {
    double denom = p + r;
    if (denom == 0.0) denom = 1.0;
    return 2.0 * p * r / denom;
}

}  // namespace

TaggingScheme parse_tagging_scheme(std::string_view name) {
    for (const auto& [n, value] : SCHEME_NAMES)
        if (n == name) return value;
    throw Error("seqeval: scheme should be one of [IOB1, IOB2, IOE1, IOE2, IOBES, BILOU], got '" +
                std::string(name) + "'");
}

std::map<std::string, double> SeqevalResult::run_ner_metrics(bool entity_level) const {
    if (!entity_level)
        return {{"precision", overall_precision},
                {"recall", overall_recall},
                {"f1", overall_f1},
                {"accuracy", overall_accuracy}};
    std::map<std::string, double> out;
    for (const auto& [type, s] : types) {
        out[type + "_precision"] = s.precision;
        out[type + "_recall"] = s.recall;
        out[type + "_f1"] = s.f1;
        out[type + "_number"] = static_cast<double>(s.number);
    }
    out["overall_precision"] = overall_precision;
    out["overall_recall"] = overall_recall;
    out["overall_f1"] = overall_f1;
    out["overall_accuracy"] = overall_accuracy;
    return out;
}

SeqevalMetric::SeqevalMetric(SeqevalOptions options) : options_(options) {}

SeqevalResult SeqevalMetric::compute(const TagSequences& predictions,
                                     const TagSequences& references) const {
    SeqevalMetric fresh(options_);
    fresh.add_batch(predictions, references);
    return fresh.compute();
}

void SeqevalMetric::add_batch(const TagSequences& predictions, const TagSequences& references) {
    // seqeval's check_consistent_length, before anything is counted.
    if (predictions.size() != references.size())
        fail("predictions have " + std::to_string(predictions.size()) + " sentences, references " +
             std::to_string(references.size()));
    for (size_t s = 0; s < references.size(); ++s)
        if (predictions[s].size() != references[s].size())
            fail("sentence " + std::to_string(sentences_ + static_cast<int64_t>(s)) + " has " +
                 std::to_string(predictions[s].size()) + " predicted tags and " +
                 std::to_string(references[s].size()) + " reference tags");
    if (options_.mode == SeqevalMode::STRICT && options_.scheme == TaggingScheme::AUTO) {
        held_predictions_.insert(held_predictions_.end(), predictions.begin(), predictions.end());
        held_references_.insert(held_references_.end(), references.begin(), references.end());
        sentences_ += static_cast<int64_t>(references.size());
        return;
    }
    add_counts(predictions, references, options_.scheme);
}

void SeqevalMetric::add_counts(const TagSequences& predictions, const TagSequences& references,
                               TaggingScheme scheme) {
    const bool suffix = options_.suffix;
    if (options_.mode == SeqevalMode::STRICT) {
        const SchemeRules& r = rules(scheme);
        // seqeval builds (and so rejects) every reference sentence before any prediction.
        std::vector<std::vector<StrictToken>> true_tokens;
        for (size_t s = 0; s < references.size(); ++s)
            true_tokens.push_back(strict_tokens(references[s], suffix, r, scheme,
                                                sentences_ + static_cast<int64_t>(s), "reference"));
        for (size_t s = 0; s < predictions.size(); ++s) {
            const auto pred_tokens =
                strict_tokens(predictions[s], suffix, r, scheme,
                              sentences_ + static_cast<int64_t>(s), "prediction");
            const auto truth = strict_entities(true_tokens[s], r);
            const auto pred = strict_entities(pred_tokens, r);
            for (const StrictEntity& e : truth) ++counts_[e.type].true_entities;
            for (const StrictEntity& e : pred) {
                Counts& c = counts_[e.type];
                ++c.predicted;
                // Both lists are sorted; entities of one sentence never share a span.
                const auto it = std::lower_bound(truth.begin(), truth.end(), e);
                if (it != truth.end() && it->start == e.start && it->end == e.end &&
                    it->type == e.type)
                    ++c.matched;
            }
        }
    } else {
        for (size_t s = 0; s < references.size(); ++s) {
            const int64_t index = sentences_ + static_cast<int64_t>(s);
            const size_t n = references[s].size();
            // The sentence, then the "O" seqeval puts after every sentence; both chunkers step
            // in lockstep, so a chunk both emit at the same position is the same span.
            for (size_t t = 0; t <= n; ++t) {
                static const std::string OUTSIDE = "O";
                const std::string& truth_tag = t < n ? references[s][t] : OUTSIDE;
                const std::string& pred_tag = t < n ? predictions[s][t] : OUTSIDE;
                if (truth_tag.empty()) fail("empty tag in " + where(index, truth_tag, "reference"));
                if (pred_tag.empty()) fail("empty tag in " + where(index, pred_tag, "prediction"));
                const auto truth = lenient_step(true_state_, truth_tag, suffix, position_);
                const auto pred = lenient_step(pred_state_, pred_tag, suffix, position_);
                if (truth) ++counts_[truth->type].true_entities;
                if (pred) ++counts_[pred->type].predicted;
                if (truth && pred && *truth == *pred) ++counts_[truth->type].matched;
                ++position_;
            }
        }
    }
    for (size_t s = 0; s < references.size(); ++s) {
        for (size_t t = 0; t < references[s].size(); ++t)
            correct_tokens_ += references[s][t] == predictions[s][t];
        total_tokens_ += static_cast<int64_t>(references[s].size());
    }
    sentences_ += static_cast<int64_t>(references.size());
}

SeqevalResult SeqevalMetric::result() const {
    if (total_tokens_ == 0) fail("no tokens to score (seqeval's accuracy divides by zero)");
    const double zd = options_.zero_division == ZeroDivision::ONE ? 1.0 : 0.0;
    SeqevalResult out;
    Counts total;
    for (const auto& [type, c] : counts_) {
        SeqevalTypeScores& s = out.types[type];
        s.precision = divide(c.matched, c.predicted, zd);
        s.recall = divide(c.matched, c.true_entities, zd);
        s.f1 = f1_of(s.precision, s.recall);
        s.number = c.true_entities;
        total.matched += c.matched;
        total.predicted += c.predicted;
        total.true_entities += c.true_entities;
    }
    out.overall_precision = divide(total.matched, total.predicted, zd);
    out.overall_recall = divide(total.matched, total.true_entities, zd);
    out.overall_f1 = f1_of(out.overall_precision, out.overall_recall);
    out.overall_accuracy =
        static_cast<double>(correct_tokens_) / static_cast<double>(total_tokens_);
    return out;
}

SeqevalResult SeqevalMetric::compute() {
    SeqevalMetric done(options_);
    std::swap(done, *this);  // leaves *this fresh whether or not scoring throws
    if (!done.held_references_.empty() || (done.options_.mode == SeqevalMode::STRICT &&
                                           done.options_.scheme == TaggingScheme::AUTO)) {
        const TaggingScheme scheme =
            done.held_references_.empty()
                ? TaggingScheme::AUTO
                : detect_scheme(done.held_references_, done.options_.suffix, 0);
        if (scheme != TaggingScheme::AUTO) {
            done.sentences_ = 0;
            done.add_counts(done.held_predictions_, done.held_references_, scheme);
        }
    }
    return done.result();
}

}  // namespace ft
