// The protobuf wire format of a SentencePiece model file: varints, length-delimited fields and
// fixed32 floats, enough for ModelProto's pieces and the specs' scalar fields.
#include "tokenizer/sentencepiece_model.h"

#include <cstring>

#include "finetune/core.h"

namespace ft::spm {
namespace {

enum WireType : int { VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5 };

// A cursor over one message's bytes; `fail` names the fault.
struct Reader {
    std::string_view s;
    size_t pos = 0;
    const std::string* source;

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(*source + ": not a SentencePiece model (" + what + " at byte " +
                    std::to_string(pos) + ")");
    }
    bool done() const { return pos >= s.size(); }
    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= s.size()) fail("truncated varint");
            const uint8_t b = uint8_t(s[pos++]);
            v |= uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        fail("varint too long");
    }
    std::string_view take(size_t n) {
        if (n > s.size() - pos) fail("truncated field");
        std::string_view out = s.substr(pos, n);
        pos += n;
        return out;
    }
    // One field: its number and wire type, the value's bytes (a varint's value in *v).
    bool next(int* field, int* wire, std::string_view* bytes, uint64_t* v) {
        if (done()) return false;
        const uint64_t key = varint();
        *field = int(key >> 3);
        *wire = int(key & 7);
        if (*field == 0) fail("field number 0");
        const size_t start = pos;
        switch (*wire) {
            case VARINT:
                *v = varint();
                break;
            case FIXED64:
                take(8);
                break;
            case LEN:
                take(size_t(varint()));
                break;
            case FIXED32:
                take(4);
                break;
            default:
                fail("wire type " + std::to_string(*wire));
        }
        *bytes = s.substr(start, pos - start);
        return true;
    }
};

void append_varint(std::string* out, uint64_t v) {
    while (v >= 0x80) {
        out->push_back(char(uint8_t(v) | 0x80));
        v >>= 7;
    }
    out->push_back(char(v));
}

// The payload of a LEN field's bytes (its length prefix skipped).
std::string_view payload(std::string_view bytes, const std::string& source) {
    Reader r{bytes, 0, &source};
    const size_t n = size_t(r.varint());
    return r.take(n);
}

}  // namespace

ModelFile parse_model(std::string_view bytes, const std::string& source) {
    ModelFile m;
    Reader r{bytes, 0, &source};
    int field = 0, wire = 0;
    std::string_view value;
    uint64_t v = 0;
    while (!r.done()) {
        const size_t start = r.pos;
        r.next(&field, &wire, &value, &v);
        if ((field == 1 || field == 2 || field == 3) && wire != LEN)
            r.fail("field " + std::to_string(field) + " is not a message");
        if (field == 1) {
            Piece p;
            Reader pr{payload(value, source), 0, &source};
            int f = 0, w = 0;
            std::string_view b;
            uint64_t pv = 0;
            while (pr.next(&f, &w, &b, &pv)) {
                if (f == 1 && w == LEN) {
                    p.piece = std::string(payload(b, source));
                } else if (f == 2 && w == FIXED32) {
                    std::memcpy(&p.score, b.data(), 4);  // little-endian, as x86-64
                } else if (f == 3 && w == VARINT) {
                    p.type = int(pv);
                }
            }
            m.pieces.push_back(std::move(p));
        } else if (field == 2) {
            m.trainer_spec += payload(value, source);
        } else if (field == 3) {
            m.normalizer_spec += payload(value, source);
        } else {
            m.rest += bytes.substr(start, r.pos - start);
        }
    }
    return m;
}

std::string serialize_model(const ModelFile& m) {
    std::string out;
    for (const Piece& p : m.pieces) {
        std::string piece;
        append_bytes_field(&piece, 1, p.piece);
        piece.push_back(char(2 << 3 | FIXED32));
        char score[4];
        std::memcpy(score, &p.score, 4);
        piece.append(score, 4);
        if (p.type != NORMAL) append_varint_field(&piece, 3, p.type);
        append_bytes_field(&out, 1, piece);
    }
    append_bytes_field(&out, 2, m.trainer_spec);
    append_bytes_field(&out, 3, m.normalizer_spec);
    out += m.rest;
    return out;
}

std::optional<uint64_t> varint_field(std::string_view message, int field) {
    static const std::string source = "SentencePiece spec";
    Reader r{message, 0, &source};
    int f = 0, w = 0;
    std::string_view b;
    uint64_t v = 0;
    std::optional<uint64_t> out;
    while (r.next(&f, &w, &b, &v))
        if (f == field && w == VARINT) out = v;
    return out;
}

std::optional<std::string_view> bytes_field(std::string_view message, int field) {
    static const std::string source = "SentencePiece spec";
    Reader r{message, 0, &source};
    int f = 0, w = 0;
    std::string_view b;
    uint64_t v = 0;
    std::optional<std::string_view> out;
    while (r.next(&f, &w, &b, &v))
        if (f == field && w == LEN) out = payload(b, source);
    return out;
}

void append_varint_field(std::string* message, int field, int64_t value) {
    append_varint(message, uint64_t(field) << 3 | VARINT);
    append_varint(message, uint64_t(value));
}

void append_bytes_field(std::string* message, int field, std::string_view value) {
    append_varint(message, uint64_t(field) << 3 | LEN);
    append_varint(message, value.size());
    message->append(value);
}

}  // namespace ft::spm
