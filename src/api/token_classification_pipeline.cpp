// HF's token-classification ("ner") pipeline: words through the tokenizer and the token head,
// then its postprocess (softmax, aggregation by strategy, grouping of B-/I- labels, ignore_labels),
// plus run_ner's first-sub-token label per word. Offsets are rebuilt from the words (no offset
// mapping), exactly where the pieces allow it.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "finetune/finetune.h"
#include "finetune/pipeline.h"

namespace ft {

namespace {

constexpr std::string_view kContinuation = "##";  // WordPiece's continuing_subword_prefix

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

void replace_all(std::string* s, std::string_view from, std::string_view to) {
    for (size_t pos = 0; (pos = s->find(from, pos)) != std::string::npos; pos += to.size())
        s->replace(pos, from.size(), to);
}

// numpy's argmax: the first index of the maximum.
size_t argmax_of(std::span<const double> v) {
    size_t best = 0;
    for (size_t k = 1; k < v.size(); ++k)
        if (v[k] > v[best]) best = k;
    return best;
}

// np.nanmean: NaNs are left out of the sum and the count.
double nanmean(std::span<const double> v) {
    double sum = 0;
    size_t n = 0;
    for (double x : v)
        if (!std::isnan(x)) sum += x, ++n;
    return n == 0 ? std::nan("") : sum / double(n);
}

std::vector<double> softmax(std::span<const float> logits) {
    std::vector<double> p(logits.begin(), logits.end());
    double mx = p.empty() ? 0 : *std::max_element(p.begin(), p.end()), sum = 0;
    for (double& v : p) sum += v = std::exp(v - mx);
    for (double& v : p) v /= sum;
    return p;
}

bool is_ignored(const std::string& label, const std::vector<std::string>& ignore) {
    return std::find(ignore.begin(), ignore.end(), label) != ignore.end();
}

TokenEntity token_entity(const TokenScores& t, std::span<const double> scores,
                         const std::vector<std::string>& id2label, std::string word) {
    const size_t k = argmax_of(scores);
    if (k >= id2label.size())
        throw Error("token-classification: " + std::to_string(scores.size()) +
                    " scores for a model with " + std::to_string(id2label.size()) +
                    " labels (id2label)");
    return {id2label[k], scores[k],     std::move(word), t.start,
            t.end,       t.start_exact, t.end_exact,     -1};
}

// HF's aggregate_word: one entity for a word's tokens, by the strategy's choice of scores.
TokenEntity aggregate_word(std::span<const TokenScores> tokens,
                           const std::vector<std::string>& id2label, AggregationStrategy strategy,
                           const TokensToString& join) {
    std::vector<std::string> pieces;
    for (const TokenScores& t : tokens) pieces.push_back(t.token);
    std::vector<double> scores;
    switch (strategy) {
        case AggregationStrategy::FIRST:
            scores = tokens.front().scores;
            break;
        case AggregationStrategy::MAX: {
            // Python's max(): the first token whose top score is highest.
            size_t best = 0;
            auto top = [&](size_t i) {
                return *std::max_element(tokens[i].scores.begin(), tokens[i].scores.end());
            };
            for (size_t i = 1; i < tokens.size(); ++i)
                if (top(i) > top(best)) best = i;
            scores = tokens[best].scores;
            break;
        }
        case AggregationStrategy::AVERAGE: {
            scores.resize(tokens.front().scores.size());
            std::vector<double> column(tokens.size());
            for (size_t k = 0; k < scores.size(); ++k) {
                for (size_t i = 0; i < tokens.size(); ++i) column[i] = tokens[i].scores.at(k);
                scores[k] = nanmean(column);
            }
            break;
        }
        case AggregationStrategy::NONE:
        case AggregationStrategy::SIMPLE:
            throw Error("token-classification: NONE and SIMPLE do not aggregate words");
    }
    TokenEntity e = token_entity(tokens.front(), scores, id2label, join(pieces));
    e.end = tokens.back().end;
    e.end_exact = tokens.back().end_exact;
    return e;
}

}  // namespace

AggregationStrategy parse_aggregation_strategy(std::string_view name) {
    std::string s(name);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (AggregationStrategy a :
         {AggregationStrategy::NONE, AggregationStrategy::SIMPLE, AggregationStrategy::FIRST,
          AggregationStrategy::AVERAGE, AggregationStrategy::MAX})
        if (s == aggregation_strategy_name(a)) return a;
    throw Error("token-classification: unknown aggregation_strategy '" + std::string(name) +
                "' (expected none, simple, first, average or max)");
}

std::string_view aggregation_strategy_name(AggregationStrategy s) {
    switch (s) {
        case AggregationStrategy::NONE:
            return "none";
        case AggregationStrategy::SIMPLE:
            return "simple";
        case AggregationStrategy::FIRST:
            return "first";
        case AggregationStrategy::AVERAGE:
            return "average";
        case AggregationStrategy::MAX:
            return "max";
    }
    return "none";
}

std::string wordpiece_tokens_to_string(std::span<const std::string> tokens) {
    // tokenizers cleans each token after its prefix or space, not the joined text, so " ' t"
    // across tokens stays as it is.
    static constexpr std::pair<std::string_view, std::string_view> kCleanups[] = {
        {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
        {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
        {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
        std::string token;
        if (i == 0)
            token = tokens[i];
        else if (starts_with(tokens[i], kContinuation))
            token = tokens[i].substr(kContinuation.size());
        else
            token.append(" ").append(tokens[i]);
        for (const auto& [from, to] : kCleanups) replace_all(&token, from, to);
        out += token;
    }
    return out;
}

std::pair<char, std::string_view> entity_tag(std::string_view label) {
    if (starts_with(label, "B-")) return {'B', label.substr(2)};
    if (starts_with(label, "I-")) return {'I', label.substr(2)};
    return {'I', label};  // no prefix: read as a continuation
}

std::vector<TokenEntity> group_entities(std::span<const TokenEntity> entities,
                                        const TokensToString& join) {
    std::vector<TokenEntity> groups;
    // HF's group_sub_entities: named by the first label's text after its first "-" (which is
    // not get_tag's parse: "E-ORG" groups as "E-ORG" but is named "ORG").
    auto close = [&](std::span<const TokenEntity> members) {
        const std::string& first = members.front().entity;
        const size_t dash = first.find('-');
        std::vector<double> scores;
        std::vector<std::string> words;
        for (const TokenEntity& m : members) scores.push_back(m.score), words.push_back(m.word);
        groups.push_back({dash == std::string::npos ? first : first.substr(dash + 1),
                          nanmean(scores), join(words), members.front().start, members.back().end,
                          members.front().start_exact, members.back().end_exact, -1});
    };
    size_t begin = 0;
    for (size_t i = 1; i < entities.size(); ++i) {
        const auto [bi, tag] = entity_tag(entities[i].entity);
        const auto [last_bi, last_tag] = entity_tag(entities[i - 1].entity);
        if (tag == last_tag && bi != 'B') continue;
        close(entities.subspan(begin, i - begin));
        begin = i;
    }
    if (begin < entities.size()) close(entities.subspan(begin));
    return groups;
}

std::vector<TokenEntity> aggregate_tokens(std::span<const TokenScores> tokens,
                                          const std::vector<std::string>& id2label,
                                          AggregationStrategy strategy, const TokensToString& join,
                                          const std::vector<std::string>& ignore_labels) {
    std::vector<TokenEntity> entities;
    if (strategy == AggregationStrategy::NONE || strategy == AggregationStrategy::SIMPLE) {
        for (const TokenScores& t : tokens) {
            entities.push_back(token_entity(t, t.scores, id2label, t.token));
            entities.back().index = t.index;
        }
    } else {
        // HF's aggregate_words: a word is a token and the is_subword tokens that follow it.
        size_t begin = 0;
        for (size_t i = 1; i <= tokens.size(); ++i) {
            if (i < tokens.size() && tokens[i].is_subword) continue;
            entities.push_back(
                aggregate_word(tokens.subspan(begin, i - begin), id2label, strategy, join));
            begin = i;
        }
    }
    if (strategy != AggregationStrategy::NONE) entities = group_entities(entities, join);
    std::erase_if(entities,
                  [&](const TokenEntity& e) { return is_ignored(e.entity, ignore_labels); });
    return entities;
}

// ---------------------------------------------------------------------------------------------
// The pipeline.

TokenClassificationPipeline TokenClassificationPipeline::from_pretrained(
    const std::string& name_or_path) {
    const fs::path dir = hub::resolve_pretrained(name_or_path);
    LoadOptions options;
    options.task = ModelTask::TOKEN_CLASSIFICATION;
    return TokenClassificationPipeline(
        std::make_unique<PretrainedModel>(load_pretrained(dir, options)), load_tokenizer(dir));
}

TokenClassificationPipeline::TokenClassificationPipeline(std::unique_ptr<PretrainedModel> model,
                                                         std::unique_ptr<Tokenizer> tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {
    if (model_->config.task != ModelTask::TOKEN_CLASSIFICATION)
        throw Error("token-classification: the model is a " +
                    std::string(task_name(model_->config.task)) + " model (" +
                    model_->config.classifier_architecture() +
                    "); load it with AutoModelForTokenClassification");
    engine_ = std::make_unique<SequenceClassifier>(model_->config, model_->weights);
    wordpiece_ = tokenizer_->tokenizer_class() == "BertTokenizer";
}

TokenClassificationPipeline::TokenClassificationPipeline(TokenClassificationPipeline&&) noexcept =
    default;
TokenClassificationPipeline::~TokenClassificationPipeline() = default;

TokenClassification TokenClassificationPipeline::operator()(const std::vector<std::string>& words,
                                                            AggregationStrategy strategy) {
    // HF's is_split_into_words rebuilds the sentence as the words joined by the delimiter " ".
    std::string text;
    std::vector<std::pair<int64_t, int64_t>> spans;
    for (const std::string& w : words) {
        if (!spans.empty()) text.push_back(' ');
        spans.emplace_back(int64_t(text.size()), int64_t(text.size() + w.size()));
        text += w;
    }
    return run(std::move(text), words, std::move(spans), strategy);
}

TokenClassification TokenClassificationPipeline::operator()(std::string_view text,
                                                            AggregationStrategy strategy) {
    static constexpr std::string_view kSpace = " \t\n\r\v\f";
    std::vector<std::string> words;
    std::vector<std::pair<int64_t, int64_t>> spans;
    for (size_t pos = text.find_first_not_of(kSpace); pos != std::string_view::npos;) {
        const size_t end = std::min(text.find_first_of(kSpace, pos), text.size());
        words.emplace_back(text.substr(pos, end - pos));
        spans.emplace_back(int64_t(pos), int64_t(end));
        pos = text.find_first_not_of(kSpace, end);
    }
    return run(std::string(text), std::move(words), std::move(spans), strategy);
}

std::string TokenClassificationPipeline::tokens_to_string(
    std::span<const std::string> tokens) const {
    if (wordpiece_) return wordpiece_tokens_to_string(tokens);
    // Other kinds: runs of vocabulary entries through the kind's decode (byte-level BPE's bytes,
    // SentencePiece's "▁"); text that is no entry (a word already joined) is kept as it is.
    std::string out;
    std::vector<int32_t> run;
    const int32_t unk = tokenizer_->unk_token_id();
    for (const std::string& t : tokens) {
        const int32_t id = tokenizer_->token_to_id(t);
        if (id != unk || t == tokenizer_->id_to_token(unk)) {
            run.push_back(id);
            continue;
        }
        out += tokenizer_->decode(run, false, false);
        run.clear();
        out += t;
    }
    return out + tokenizer_->decode(run, false, false);
}

TokenClassification TokenClassificationPipeline::run(std::string text,
                                                     std::vector<std::string> words,
                                                     std::vector<std::pair<int64_t, int64_t>> spans,
                                                     AggregationStrategy strategy) {
    EncodeOptions opts;
    opts.truncation = Truncation::LongestFirst;
    opts.max_length = std::min<int64_t>(tokenizer_->model_max_length(), config().max_positions());
    const Encoding e = tokenizer_->encode_words(words, opts);
    PackedBatch b;
    b.input_ids = e.input_ids;
    if (config().uses_token_types()) b.token_type_ids = e.token_type_ids;
    b.offsets = {0, static_cast<int32_t>(e.input_ids.size())};
    engine_->forward(b, /*train=*/false);
    const auto K = static_cast<size_t>(config().num_labels());
    const auto T = e.input_ids.size();
    FT_ASSERT(engine_->logit_rows() == int64_t(T), "token head: a row of logits per token");
    const bool truncated = int64_t(T) >= *opts.max_length;

    TokenClassification out;
    out.text = std::move(text);
    for (size_t w = 0; w < words.size(); ++w)
        out.words.push_back({std::move(words[w]), spans[w].first, spans[w].second, std::nullopt});

    std::vector<TokenScores> tokens;
    for (size_t t = 0; t < T;) {
        const int32_t w = e.word_ids[t];
        if (w < 0) {  // a special token: HF's special_tokens_mask leaves it out
            ++t;
            continue;
        }
        size_t n = 1;  // the word's tokens, t .. t+n-1
        while (t + n < T && e.word_ids[t + n] == w) ++n;
        WordTag& word = out.words.at(size_t(w));
        const bool last_cut = truncated && (t + n + 1 >= T);  // only [SEP] after it: maybe cut

        // Where each piece sits in the word: exact when the pieces spell the (ASCII) word, which
        // is WordPiece's case whenever the normaliser only lowercased it; a word that is one
        // whole token spans the word.
        std::vector<int64_t> cut(n + 1, 0);
        bool spelled = wordpiece_;
        for (size_t i = 0; i < n && spelled; ++i) {
            const int32_t id = e.input_ids[t + i];
            std::string_view piece = tokenizer_->id_to_token(id);
            if (i > 0 && starts_with(piece, kContinuation))
                piece.remove_prefix(kContinuation.size());
            const auto at = size_t(cut[i]);
            spelled = id != tokenizer_->unk_token_id() && at + piece.size() <= word.word.size();
            for (size_t c = 0; spelled && c < piece.size(); ++c) {
                const auto ch = static_cast<unsigned char>(word.word[at + c]);
                spelled = ch < 0x80 && std::tolower(ch) == std::tolower(piece[c]);
            }
            cut[i + 1] = int64_t(at + piece.size());
        }
        if (spelled && !last_cut && cut[n] != int64_t(word.word.size())) spelled = false;
        const bool whole = n == 1 && !last_cut;

        for (size_t i = 0; i < n; ++i) {
            const int32_t id = e.input_ids[t + i];
            TokenScores s;
            s.scores = softmax(std::span<const float>(engine_->logits() + (t + i) * K, K));
            s.token = tokenizer_->id_to_token(id);
            s.index = int64_t(t + i);
            if (spelled) {
                s.start = word.start + cut[i];
                s.end = word.start + cut[i + 1];
            } else {
                s.start = word.start;
                s.end = word.end;
                s.start_exact = i == 0;
                s.end_exact = i + 1 == n && !last_cut;
            }
            if (whole || spelled) s.start_exact = s.end_exact = true;
            // An unknown token shows the text it stands for, when we know it (HF's word_ref).
            if (id == tokenizer_->unk_token_id() && whole) s.token = word.word;
            // HF's is_subword: WordPiece marks continuations with "##" (an unknown token never
            // continues); other kinds fall back to "not after whitespace", i.e. not a word's
            // first token.
            s.is_subword =
                wordpiece_ ? id != tokenizer_->unk_token_id() && starts_with(s.token, kContinuation)
                           : i > 0;
            if (i == 0) {
                const size_t k = argmax_of(s.scores);
                word.tag = LabelScore{config().id2label.at(k), s.scores[k]};
            }
            tokens.push_back(std::move(s));
        }
        t += n;
    }
    out.entities = aggregate_tokens(
        tokens, config().id2label, strategy,
        [this](std::span<const std::string> pieces) { return tokens_to_string(pieces); },
        ignore_labels_);
    return out;
}

}  // namespace ft
