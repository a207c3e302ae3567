// finetune/tokenizer.h — the Tokenizer interface the library uses, load_tokenizer (AutoTokenizer's
// choice of kind), and its kinds. The BERT WordPiece tokenizer, id for id HuggingFace's
// BertTokenizer as AutoTokenizer.from_pretrained loads it: BertNormalizer + BertPreTokenizer +
// WordPiece, special tokens never split, the [CLS] A [SEP] (B [SEP]) templates, truncation,
// padding and decode. Loads vocab.txt (+ tokenizer_config.json) or tokenizer.json; saves both.
// RoBERTa's byte-level BPE tokenizer (RobertaTokenizer below), from vocab.json + merges.txt or
// tokenizer.json. XLM-RoBERTa's SentencePiece tokenizer (XlmRobertaTokenizer below), from
// sentencepiece.bpe.model or tokenizer.json. Each kind also encodes pre-split words
// (is_split_into_words, run_ner's call) with the word of every token (word_ids()).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ft {

// BertNormalizer's switches, named as in tokenizer_config.json. strip_accents unset means
// "follow lowercase", as HF does.
struct BertNormalizerOptions {
    bool clean_text = true;
    bool handle_chinese_chars = true;
    std::optional<bool> strip_accents;
    bool lowercase = true;

    bool strips_accents() const { return strip_accents.value_or(lowercase); }
};

// The special tokens, by their text. Each one is matched literally in the input and never split.
struct SpecialTokens {
    std::string unk = "[UNK]";
    std::string sep = "[SEP]";
    std::string pad = "[PAD]";
    std::string cls = "[CLS]";
    std::string mask = "[MASK]";
    std::vector<std::string> additional;  // additional_special_tokens and added_tokens
};

// HF's truncation strategies. `truncation=True` is LongestFirst.
enum class Truncation { None, LongestFirst, OnlyFirst, OnlySecond };
// HF's padding strategies. `padding=True` is Longest (within a batch; a single text is its own
// batch). Right padding, as BERT tokenizers pad.
enum class Padding { None, Longest, MaxLength };

// Parses HF's spellings: "true"/"longest_first"/"only_first"/"only_second"/"false"/
// "do_not_truncate", and "true"/"longest"/"max_length"/"false"/"do_not_pad".
Truncation parse_truncation(std::string_view s);
Padding parse_padding(std::string_view s);

struct EncodeOptions {
    bool add_special_tokens = true;
    Truncation truncation = Truncation::None;
    Padding padding = Padding::None;
    // Unset with truncation or max_length padding means the tokenizer's model_max_length.
    std::optional<int64_t> max_length;
    std::optional<int64_t> pad_to_multiple_of;
};

// One encoded text or pair. `length` counts the real tokens (before padding).
struct Encoding {
    std::vector<int32_t> input_ids;
    std::vector<int32_t> token_type_ids;  // empty where the tokenizer returns none
    std::vector<int32_t> attention_mask;
    int64_t length = 0;
    // HF's word_ids(): per token the index of the word it came from, -1 (Python's None) for
    // special tokens and padding. Filled by encode_words only; empty otherwise.
    std::vector<int32_t> word_ids;
};

// What the rest of the library needs from a tokenizer: HF's __call__ on a text or pair and on a
// batch (truncation, padding), tokenize, decode, the vocabulary, the special ids a collator or a
// model needs, and save_pretrained. One implementation per tokenizer kind (BertTokenizer below);
// load_tokenizer picks the kind from a directory's files.
class Tokenizer {
  public:
    // A model_max_length that means "no limit" (HF's VERY_LARGE_INTEGER), used when no config
    // gives one.
    static constexpr int64_t kNoMaxLength = int64_t(1) << 62;

    virtual ~Tokenizer() = default;

    // HF's tokenizer_config.json "tokenizer_class" of this kind, e.g. "BertTokenizer".
    virtual std::string_view tokenizer_class() const = 0;

    // Pieces of one text, without special tokens added (HF's tokenize()).
    virtual std::vector<std::string> tokenize(std::string_view text) const = 0;
    // Ids of one text without special tokens added. Throws ft::Error on invalid UTF-8.
    virtual std::vector<int32_t> encode_ids(std::string_view text) const = 0;
    // HF's __call__ on one text or pair: the kind's template, truncation, padding.
    virtual Encoding encode(std::string_view text,
                            std::optional<std::string_view> pair = std::nullopt,
                            const EncodeOptions& options = {}) const = 0;
    // HF's __call__ on a batch; `pairs` empty or as long as `texts`. Longest padding pads to the
    // longest in the batch. Implementations may use all threads.
    virtual std::vector<Encoding> encode_batch(std::span<const std::string> texts,
                                               std::span<const std::string> pairs = {},
                                               const EncodeOptions& options = {}) const = 0;
    // HF's __call__ on pre-split words, tokenizer(words, is_split_into_words=True, ...), with
    // word_ids() filled: each word is encoded on its own (the kind's normaliser, pre-tokenizer
    // and added tokens run per word; a word with spaces inside splits further but keeps one word
    // id; a word that gives no tokens, e.g. "" or " ", is skipped and its index unused), then the
    // template, truncation and padding as encode does them for one text. RoBERTa's byte-level
    // kind always gives each word its leading space, as run_ner's add_prefix_space=True does.
    // Throws ft::Error naming the word on invalid UTF-8.
    Encoding encode_words(std::span<const std::string> words,
                          const EncodeOptions& options = {}) const;
    // encode_words on a batch of sentences, on all threads; Longest padding pads to the longest
    // in the batch. The first error names its sentence.
    std::vector<Encoding> encode_words_batch(
        std::span<const std::span<const std::string>> sentences,
        const EncodeOptions& options = {}) const;
    // HF's decode, optionally without the special tokens, with clean_up_tokenization_spaces.
    virtual std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false,
                               bool clean_up_tokenization_spaces = true) const = 0;

    virtual int32_t token_to_id(std::string_view token) const = 0;  // the unknown id when absent
    virtual const std::string& id_to_token(int32_t id) const = 0;   // ft::Error when out of range
    virtual int64_t vocab_size() const = 0;
    virtual int64_t model_max_length() const = 0;
    // The special ids by HF's role names. cls opens and sep closes a sequence: [CLS]/[SEP] for
    // BERT, <s>/</s> for RoBERTa (whose bos/eos are the same tokens).
    virtual int32_t pad_token_id() const = 0;
    virtual int32_t unk_token_id() const = 0;
    virtual int32_t cls_token_id() const = 0;
    virtual int32_t sep_token_id() const = 0;
    virtual int32_t mask_token_id() const = 0;
    // How many special tokens the template adds to one text or to a pair.
    virtual int num_special_tokens_to_add(bool pair) const = 0;
    // Whether encode fills token_type_ids (HF's model_input_names has them): BERT's do,
    // RoBERTa's do not.
    virtual bool returns_token_type_ids() const = 0;

    // Writes the kind's files so that HF's AutoTokenizer (and load_tokenizer) load the directory.
    virtual void save_pretrained(const std::filesystem::path& dir) const = 0;

  protected:
    Tokenizer() = default;
    Tokenizer(const Tokenizer&) = default;
    Tokenizer(Tokenizer&&) = default;
    Tokenizer& operator=(const Tokenizer&) = default;
    Tokenizer& operator=(Tokenizer&&) = default;

    // For encode_words: the ids of one pre-split word (valid UTF-8), no special tokens added.
    virtual void append_split_word_ids(std::string_view word, std::vector<int32_t>* ids) const = 0;
    // For encode_words: the kind's template around one sequence, after `truncation`, unpadded.
    // The template must put at most one token before the sequence.
    virtual Encoding build_single(std::vector<int32_t> ids, Truncation truncation,
                                  const EncodeOptions& options) const = 0;

  private:
    Encoding encode_words_unpadded(std::span<const std::string> words, Truncation truncation,
                                   const EncodeOptions& options) const;
};

// AutoTokenizer's choice of kind for a directory, first match wins: tokenizer_config.json's
// "tokenizer_class" (a "Fast" suffix ignored), tokenizer.json's model.type, config.json's
// "model_type", then the slow tokenizer's vocabulary file (vocab.txt). An unknown class or type
// is an ft::Error naming the file and the value; so is a directory with none of these files.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir);

class BertTokenizer final : public Tokenizer {
  public:
    // `vocab` lists the tokens in id order. Throws ft::Error if a special token is not in it.
    BertTokenizer(std::vector<std::string> vocab, BertNormalizerOptions normalizer,
                  SpecialTokens special, int64_t model_max_length = kNoMaxLength,
                  int max_input_chars_per_word = 100, std::string continuing_prefix = "##");

    // A directory as the Hub gives it: tokenizer.json if present (what AutoTokenizer's fast
    // tokenizer reads), else vocab.txt; tokenizer_config.json and special_tokens_map.json on top.
    static BertTokenizer from_pretrained(const std::filesystem::path& dir);
    static BertTokenizer from_vocab_file(const std::filesystem::path& vocab_txt,
                                         BertNormalizerOptions normalizer = {},
                                         SpecialTokens special = {},
                                         int64_t model_max_length = kNoMaxLength);
    static BertTokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json);
    // The same from the file's text; `source` names it in errors (the fuzzer's entry point).
    static BertTokenizer from_tokenizer_json_text(const std::string& text,
                                                  const std::string& source);

    // Writes vocab.txt, tokenizer_config.json, special_tokens_map.json and tokenizer.json, each
    // atomically, so that both HF's slow and fast tokenizers load the directory.
    void save_pretrained(const std::filesystem::path& dir) const override;

    // Word pieces of one text, without special tokens added (HF's tokenize()).
    std::vector<std::string> tokenize(std::string_view text) const override;
    // Ids of one text without special tokens added. Throws ft::Error on invalid UTF-8.
    std::vector<int32_t> encode_ids(std::string_view text) const override;

    // HF's __call__ on one text or pair.
    Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                    const EncodeOptions& options = {}) const override;
    // HF's __call__ on a batch, on all threads; `pairs` empty or as long as `texts`. Longest
    // padding pads to the longest in the batch.
    std::vector<Encoding> encode_batch(std::span<const std::string> texts,
                                       std::span<const std::string> pairs = {},
                                       const EncodeOptions& options = {}) const override;

    // HF's decode: pieces joined ("##" continuations glued on), optional removal of the special
    // tokens, and HF's clean_up_tokenization_spaces.
    std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false,
                       bool clean_up_tokenization_spaces = true) const override;

    int32_t token_to_id(std::string_view token) const override;  // the [UNK] id when absent
    const std::string& id_to_token(int32_t id) const override;   // ft::Error when out of range
    int64_t vocab_size() const override { return int64_t(vocab_.size()); }
    int64_t model_max_length() const override { return model_max_length_; }
    const BertNormalizerOptions& normalizer() const { return normalizer_; }
    const SpecialTokens& special_tokens() const { return special_; }
    int32_t pad_token_id() const override { return pad_id_; }
    int32_t cls_token_id() const override { return cls_id_; }
    int32_t sep_token_id() const override { return sep_id_; }
    int32_t unk_token_id() const override { return unk_id_; }
    int32_t mask_token_id() const override { return mask_id_; }
    // How many special tokens the template adds: 2 for one text, 3 for a pair.
    int num_special_tokens_to_add(bool pair) const override { return pair ? 3 : 2; }
    // [CLS] A [SEP] B [SEP] gives 0s for A's part and 1s for B's.
    bool returns_token_type_ids() const override { return true; }
    std::string_view tokenizer_class() const override { return "BertTokenizer"; }

  protected:
    void append_split_word_ids(std::string_view word, std::vector<int32_t>* ids) const override;
    Encoding build_single(std::vector<int32_t> ids, Truncation truncation,
                          const EncodeOptions& options) const override;

  private:
    static BertTokenizer tokenizer_json_body(const std::string& text, const std::string& source);
    struct StringHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept;
    };
    // One text to ids: special tokens split out, the rest normalised, pre-tokenised, WordPiece.
    void append_ids(std::string_view text, std::vector<int32_t>* ids) const;
    void append_word_ids(std::string_view word, std::vector<int32_t>* ids) const;
    Encoding encode_unpadded(std::string_view text, std::optional<std::string_view> pair,
                             Truncation truncation, const EncodeOptions& options) const;
    Encoding build(std::vector<int32_t> a, std::optional<std::vector<int32_t>> b,
                   Truncation truncation, const EncodeOptions& options) const;
    int64_t resolved_max_length(const EncodeOptions& options) const;

    std::vector<std::string> vocab_;
    std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids_;
    // The same vocabulary, continuation pieces keyed without their "##" prefix.
    std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> continuation_ids_;
    BertNormalizerOptions normalizer_;
    SpecialTokens special_;
    std::vector<std::string> no_split_;  // every special token, longest first
    std::vector<int32_t> special_ids_;   // sorted, for skip_special_tokens
    int64_t model_max_length_;
    int max_input_chars_per_word_;
    std::string continuing_prefix_;
    int32_t unk_id_ = 0, sep_id_ = 0, pad_id_ = 0, cls_id_ = 0, mask_id_ = 0;
};

// An added token as HF's AddedToken describes it: matched literally in the input and never split;
// lstrip / rstrip take the whitespace on that side into the token (RoBERTa's "<mask>" has lstrip,
// so "a <mask>" gives "a" then "<mask>", the space absorbed).
struct AddedToken {
    std::string content;
    bool lstrip = false;
    bool rstrip = false;
    bool special = true;  // dropped by decode(skip_special_tokens)
};

// RoBERTa's special tokens and switches, named as in tokenizer_config.json; the defaults are
// roberta-base's. bos/eos are usually the same tokens as cls/sep.
struct RobertaOptions {
    std::string bos = "<s>", eos = "</s>", sep = "</s>", cls = "<s>", unk = "<unk>", pad = "<pad>";
    AddedToken mask{"<mask>", /*lstrip=*/true};
    std::vector<AddedToken> additional;  // more added tokens (tokenizer.json, additional_special)
    bool add_prefix_space = false;       // a space before each text, so its first word is a word
    bool trim_offsets = true;            // kept for save_pretrained; offsets are not computed
    int64_t model_max_length = Tokenizer::kNoMaxLength;
};

// The RoBERTa family's tokenizer surface, shared by RobertaTokenizer and XlmRobertaTokenizer: a
// vocabulary in id order holding RobertaOptions' special tokens, added tokens split out first
// (longest first, with lstrip / rstrip), RobertaProcessing's <s> A </s> and <s> A </s></s> B </s>
// with no token_type_ids, tokenizers' truncation and right padding. A kind adds the model that
// turns the text between added tokens into ids, its decode, and its files.
class RobertaStyleTokenizer : public Tokenizer {
  public:
    // Tokens of one text, without special tokens added.
    std::vector<std::string> tokenize(std::string_view text) const override;
    std::vector<int32_t> encode_ids(std::string_view text) const override;
    // HF's __call__. As transformers does for one text, an empty `pair` is no pair.
    Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                    const EncodeOptions& options = {}) const override;
    std::vector<Encoding> encode_batch(std::span<const std::string> texts,
                                       std::span<const std::string> pairs = {},
                                       const EncodeOptions& options = {}) const override;

    int32_t token_to_id(std::string_view token) const override;  // the <unk> id when absent
    const std::string& id_to_token(int32_t id) const override;   // ft::Error when out of range
    int64_t vocab_size() const override { return int64_t(vocab_.size()); }
    int64_t model_max_length() const override { return options_.model_max_length; }
    const RobertaOptions& options() const { return options_; }
    int32_t pad_token_id() const override { return pad_id_; }
    int32_t unk_token_id() const override { return unk_id_; }
    int32_t cls_token_id() const override { return cls_id_; }
    int32_t sep_token_id() const override { return sep_id_; }
    int32_t mask_token_id() const override { return mask_id_; }
    int32_t bos_token_id() const { return bos_id_; }
    int32_t eos_token_id() const { return eos_id_; }
    // <s> A </s> adds 2; <s> A </s></s> B </s> adds 4.
    int num_special_tokens_to_add(bool pair) const override { return pair ? 4 : 2; }
    bool returns_token_type_ids() const override { return false; }

  protected:
    // `vocab` lists the tokens in id order. Throws ft::Error, prefixed with `source` when it is
    // not empty, if the vocabulary is empty or a special or added token is not in it.
    RobertaStyleTokenizer(std::vector<std::string> vocab, RobertaOptions options,
                          const std::string& source = "");
    // The ids of one stretch of text between added tokens (the kind's model); `split_word`
    // when the text is a pre-split word (encode_words).
    virtual void append_segment_ids(std::string_view segment, bool split_word,
                                    std::vector<int32_t>* ids) const = 0;
    bool is_special(int32_t id) const;
    void append_split_word_ids(std::string_view word, std::vector<int32_t>* ids) const override;
    Encoding build_single(std::vector<int32_t> ids, Truncation truncation,
                          const EncodeOptions& options) const override;

    struct StringHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept;
    };
    struct Added {
        std::string content;
        int32_t id;
        bool lstrip, rstrip;
    };

    std::vector<std::string> vocab_;
    std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids_;
    RobertaOptions options_;
    std::vector<Added> added_;          // every added token, longest first
    std::vector<int32_t> special_ids_;  // sorted, for skip_special_tokens
    int32_t unk_id_ = 0, sep_id_ = 0, pad_id_ = 0, cls_id_ = 0, mask_id_ = 0, bos_id_ = 0,
            eos_id_ = 0;

  private:
    void append_ids(std::string_view text, std::vector<int32_t>* ids) const;
    Encoding encode_unpadded(std::string_view text, std::optional<std::string_view> pair,
                             Truncation truncation, const EncodeOptions& options) const;
    int64_t resolved_max_length(const EncodeOptions& options) const;
};

class ByteLevelBpe;

// RoBERTa's byte-level BPE tokenizer, id for id HF's RobertaTokenizerFast (tokenizers' BPE with
// the ByteLevel pre-tokenizer and decoder and RobertaProcessing): added tokens split out first,
// the GPT-2 pattern, bytes to GPT-2's characters, merges by rank; <s> A </s> and
// <s> A </s></s> B </s>; no token_type_ids; tokenizers' truncation and right padding; the
// byte-level decode. Loads vocab.json + merges.txt (+ tokenizer_config.json,
// special_tokens_map.json) or tokenizer.json; saves all of them.
class RobertaTokenizer final : public RobertaStyleTokenizer {
  public:
    // `vocab` lists the tokens in id order and `merges` the BPE merges in rank order, both in
    // GPT-2's byte-level spelling ("Ġworld"). Throws ft::Error if a special token, a merge's part
    // or a merge's result is not in the vocabulary.
    RobertaTokenizer(std::vector<std::string> vocab,
                     std::vector<std::pair<std::string, std::string>> merges,
                     RobertaOptions options = {});

    // A directory as the Hub gives it: tokenizer.json if present (what AutoTokenizer's fast
    // tokenizer reads), else vocab.json + merges.txt; tokenizer_config.json and
    // special_tokens_map.json on top.
    static RobertaTokenizer from_pretrained(const std::filesystem::path& dir);
    static RobertaTokenizer from_vocab_files(const std::filesystem::path& vocab_json,
                                             const std::filesystem::path& merges_txt,
                                             RobertaOptions options = {});
    static RobertaTokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json);

    // Writes vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json and
    // tokenizer.json, each atomically, so that HF's AutoTokenizer loads the directory.
    void save_pretrained(const std::filesystem::path& dir) const override;

    // The tokens' bytes, invalid UTF-8 replaced by U+FFFD. clean_up_tokenization_spaces is
    // ignored, as transformers 5 ignores it for BPE tokenizers (it would eat real spaces).
    std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false,
                       bool clean_up_tokenization_spaces = true) const override;

    std::string_view tokenizer_class() const override { return "RobertaTokenizer"; }

  private:
    // A pre-split word always gets its leading space (run_ner loads RoBERTa's tokenizers with
    // add_prefix_space=True; transformers 5 with it false gives words no space, which its docs
    // call unsupported).
    void append_segment_ids(std::string_view segment, bool split_word,
                            std::vector<int32_t>* ids) const override;

    std::vector<std::pair<std::string, std::string>> merges_;
    std::shared_ptr<const ByteLevelBpe> bpe_;
};

// XLM-RoBERTa's SentencePiece tokenizer, id for id HF's XLMRobertaTokenizer (transformers 5:
// tokenizers' Unigram with the Precompiled normalizer, WhitespaceSplit + Metaspace, the RoBERTa
// templates). libsentencepiece does the normalisation (the model's precompiled charsmap), then
// tokenizers' Unigram Viterbi (in double precision, so ties break as HF's do) segments each
// "▁" word; around it: added tokens split out first (<mask> with lstrip), Unicode
// whitespace split on as WhitespaceSplit does, fairseq's ids (<s>=0 <pad>=1 </s>=2 <unk>=3, the
// SentencePiece model's own pieces at their id + 1, <mask> last), <s> A </s> and
// <s> A </s></s> B </s> with no token_type_ids, tokenizers' truncation and right padding, the
// Metaspace decode. Loads sentencepiece.bpe.model (+ tokenizer_config.json,
// special_tokens_map.json) or tokenizer.json (model type Unigram); saves all of them.
class XlmRobertaTokenizer final : public RobertaStyleTokenizer {
  public:
    // A directory as the Hub gives it: tokenizer.json if present, else sentencepiece.bpe.model;
    // tokenizer_config.json and special_tokens_map.json on top.
    static XlmRobertaTokenizer from_pretrained(const std::filesystem::path& dir);
    // `model` is a SentencePiece model file's bytes (a serialized ModelProto, Unigram, <unk>
    // first); `source` names it in errors. `options.add_prefix_space` is Metaspace's prepend (true
    // for XLM-R).
    static XlmRobertaTokenizer from_spm_model(const std::string& model, RobertaOptions options,
                                              const std::string& source);
    static XlmRobertaTokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json);
    // The options XLM-R's files mean where they say nothing: roberta's tokens, <mask> with lstrip,
    // add_prefix_space true.
    static RobertaOptions default_options();

    // Writes sentencepiece.bpe.model (when loaded from one), tokenizer.json,
    // tokenizer_config.json and special_tokens_map.json, each atomically.
    void save_pretrained(const std::filesystem::path& dir) const override;

    // Metaspace's decode: pieces joined, "▁" to a space, the first piece's dropped. With
    // clean_up_tokenization_spaces, HF's clean-up (" ." to "." ...), which transformers 5 applies
    // to Unigram tokenizers when asked; its default for XLM-R is false.
    std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false,
                       bool clean_up_tokenization_spaces = true) const override;

    std::string_view tokenizer_class() const override { return "XLMRobertaTokenizer"; }

    struct Model;  // the SentencePiece processor and its ModelProto (src/tokenizer)

  private:
    XlmRobertaTokenizer(std::shared_ptr<const Model> model, RobertaOptions options,
                        const std::string& source);
    // A pre-split word is encoded as a text: Metaspace prepends "▁" to each one already.
    void append_segment_ids(std::string_view segment, bool split_word,
                            std::vector<int32_t>* ids) const override;
    // tokenizers' Unigram on one normalised pre-token ("▁word").
    void append_unigram_ids(std::string_view pretoken, std::vector<int32_t>* ids) const;

    std::shared_ptr<const Model> model_;
    // The White_Space characters the normaliser keeps: WhitespaceSplit splits on them.
    std::vector<int32_t> split_chars_;
    // tokenizers' Unigram: each piece's score in double precision, the score of an unknown
    // character (the lowest score less 10) and the longest piece in bytes.
    std::vector<double> scores_;
    double unk_score_ = 0;
    size_t longest_piece_ = 0;
};

}  // namespace ft
