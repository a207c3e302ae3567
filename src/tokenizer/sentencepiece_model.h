// A SentencePiece model file (a serialized sentencepiece.ModelProto) read and written at the wire
// level: the pieces (piece, score, type) decoded, TrainerSpec and NormalizerSpec kept as their
// bytes with scalar fields read from them or overridden by appending (in protobuf the last value
// of a scalar field wins), every other field kept verbatim. Field numbers are SentencePiece's.
// Hand-written rather than protoc-generated: libsentencepiece exports its own bundled protobuf
// runtime, and a second one (libprotobuf) in the same process crashes. Private to src/tokenizer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ft::spm {

// ModelProto.SentencePiece.Type.
enum PieceType : int {
    NORMAL = 1,
    UNKNOWN = 2,
    CONTROL = 3,
    USER_DEFINED = 4,
    UNUSED = 5,
    BYTE = 6
};

struct Piece {
    std::string piece;
    float score = 0;
    int type = NORMAL;
};

// TrainerSpec and NormalizerSpec fields used here.
inline constexpr int kModelType = 3, kByteFallback = 35, kUnkId = 40, kBosId = 41, kEosId = 42,
                     kPadId = 43, kUnkPiece = 45, kBosPiece = 46, kEosPiece = 47, kPadPiece = 48,
                     kVocabSize = 4;
inline constexpr int kName = 1, kPrecompiledCharsmap = 2, kAddDummyPrefix = 3,
                     kRemoveExtraWhitespaces = 4, kEscapeWhitespaces = 5;

struct ModelFile {
    std::vector<Piece> pieces;    // field 1
    std::string trainer_spec;     // field 2's bytes
    std::string normalizer_spec;  // field 3's bytes
    std::string rest;             // the other fields, as they were
};

// Throws ft::Error "<source>: not a SentencePiece model (...)" where the bytes do not parse.
ModelFile parse_model(std::string_view bytes, const std::string& source);
std::string serialize_model(const ModelFile& model);

// The last value of a varint / length-delimited field in a message's bytes, if any.
std::optional<uint64_t> varint_field(std::string_view message, int field);
std::optional<std::string_view> bytes_field(std::string_view message, int field);
// Appends a field (an int32 as protobuf writes it: negative ones in ten bytes).
void append_varint_field(std::string* message, int field, int64_t value);
void append_bytes_field(std::string* message, int field, std::string_view value);

}  // namespace ft::spm
