// One pass over the text for the normaliser and pre-tokenizer. ASCII takes a table-driven fast
// path; a word holding anything else goes through the Unicode path (accents, punctuation).
#include "tokenizer/pre_tokenizer.h"

#include <array>

#include "tokenizer/unicode.h"

namespace ft {
namespace {

enum AsciiKind : uint8_t { kPlain, kDrop, kSpace, kPunct };

constexpr std::array<uint8_t, 128> make_ascii_kinds() {
    std::array<uint8_t, 128> k{};
    for (int c = 0; c < 128; ++c) {
        if (c == '\t' || c == '\n' || c == '\r' || c == ' ')
            k[c] = kSpace;
        else if (c < 0x20 || c == 0x7F)
            k[c] = kDrop;
        else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                 (c >= 123 && c <= 126))
            k[c] = kPunct;
        else
            k[c] = kPlain;
    }
    return k;
}
constexpr std::array<uint8_t, 128> kAsciiKinds = make_ascii_kinds();

// Python's str.isspace(), for the split when clean_text is off and nothing became ' '.
bool is_python_space(int32_t cp) {
    if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85) return true;
    if (cp < 0x80) return false;
    const unicode::CharClass c = unicode::classify(cp);
    return c == unicode::CharClass::Separator || (c == unicode::CharClass::Space);
}

// Per-thread working strings, so that splitting allocates nothing once warm.
struct Scratch {
    std::string token, lowered, one_char, stripped;
};

class Splitter {
  public:
    Splitter(const BertNormalizerOptions& options, WordList* words, Scratch* scratch)
        : options_(options),
          strip_(options.strips_accents()),
          words_(words),
          token_(scratch->token),
          lowered_(scratch->lowered),
          scratch_(scratch->one_char),
          stripped_(scratch->stripped) {
        token_.clear();
    }

    void run(std::string_view text) {
        size_t pos = 0;
        while (pos < text.size()) {
            const auto b = static_cast<uint8_t>(text[pos]);
            if (b < 0x80) {
                ++pos;
                ascii(b);
                continue;
            }
            const int32_t cp = unicode::next_code_point(text, &pos);
            if (options_.lowercase) {
                lowered_.clear();
                unicode::append_lower(cp, &lowered_);
                size_t p = 0;
                while (p < lowered_.size()) non_ascii(unicode::next_code_point(lowered_, &p));
            } else {
                non_ascii(cp);
            }
        }
        end_token();
    }

  private:
    void ascii(uint8_t b) {
        uint8_t kind = kAsciiKinds[b];
        if (!options_.clean_text && kind == kDrop) kind = is_python_space(b) ? kSpace : kPlain;
        switch (kind) {
            case kPlain:
                token_.push_back(char(options_.lowercase && b >= 'A' && b <= 'Z' ? b + 32 : b));
                break;
            case kSpace:
                end_token();
                break;
            case kPunct:
                // A punctuation character is a starter: splitting before stripping accents
                // gives what HF's split-after-stripping gives.
                end_token();
                emit(std::string_view(reinterpret_cast<const char*>(&b), 1));
                break;
            default:
                break;  // dropped control character
        }
    }

    void non_ascii(int32_t cp) {
        if (options_.clean_text) {
            switch (unicode::classify(cp)) {
                case unicode::CharClass::Drop:
                    return;
                case unicode::CharClass::Space:
                case unicode::CharClass::Separator:
                    end_token();
                    return;
                default:
                    break;
            }
        } else if (is_python_space(cp)) {
            end_token();
            return;
        }
        if (options_.handle_chinese_chars && unicode::is_chinese_char(cp)) {
            end_token();
            scratch_.clear();
            unicode::append_utf8(cp, &scratch_);
            emit(scratch_);
            return;
        }
        unicode::append_utf8(cp, &token_);
        token_has_non_ascii_ = true;
    }

    // A whitespace-delimited token ends: strip its accents, split off its punctuation.
    void end_token() {
        if (token_.empty()) return;
        if (!token_has_non_ascii_) {
            emit(token_);
        } else {
            std::string_view t = token_;
            if (strip_) {
                stripped_.clear();
                unicode::strip_accents(token_, &stripped_);
                t = stripped_;
            }
            size_t pos = 0, word_begin = 0;
            while (pos < t.size()) {
                const size_t at = pos;
                const int32_t cp = unicode::next_code_point(t, &pos);
                if (unicode::is_punctuation(cp)) {
                    if (at > word_begin) emit(t.substr(word_begin, at - word_begin));
                    emit(t.substr(at, pos - at));
                    word_begin = pos;
                }
            }
            if (t.size() > word_begin) emit(t.substr(word_begin));
        }
        token_.clear();
        token_has_non_ascii_ = false;
    }

    void emit(std::string_view w) {
        words_->chars.append(w);
        words_->ends.push_back(uint32_t(words_->chars.size()));
    }

    const BertNormalizerOptions& options_;
    const bool strip_;
    WordList* words_;
    std::string& token_;
    bool token_has_non_ascii_ = false;
    std::string &lowered_, &scratch_, &stripped_;
};

}  // namespace

void split_words(std::string_view text, const BertNormalizerOptions& options, WordList* words) {
    thread_local Scratch scratch;
    Splitter(options, words, &scratch).run(text);
}

}  // namespace ft
