// safetensors: files written by the independent plain-Python writer read correctly, our files load
// in plain Python, round trips are bit-identical (single and sharded), and every kind of corrupt
// header is an ft::Error that names the file, the tensor and what is wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "finetune/io.h"
#include "test_env.h"

namespace ft {
namespace {

using json = nlohmann::json;

std::string read_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, std::string_view bytes) {
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string u64le(uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i, n >>= 8) s[i] = static_cast<char>(n & 0xff);
    return s;
}

fs::path temp_dir() {
    static const fs::path dir = test::make_temp_dir("safetensors");
    return dir;
}

// A hand-made file: 8-byte length (the header's size unless overridden), header, data.
fs::path craft(const std::string& name, const std::string& header, const std::string& data = "",
               std::optional<uint64_t> length = std::nullopt) {
    const fs::path p = temp_dir() / name;
    write_bytes(p, u64le(length.value_or(header.size())) + header + data);
    return p;
}

// Asserts that reading `p` throws ft::Error whose message names the file and contains `words`.
void expect_read_error(const fs::path& p, std::initializer_list<std::string_view> words) {
    try {
        read_safetensors(p);
        ADD_FAILURE() << p << ": read succeeded, expected an error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(p.filename().string()), std::string::npos) << msg;
        for (std::string_view w : words)
            EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
    }
}

template <class T>
Tensor make(DType dtype, const Shape& shape, std::initializer_list<T> values) {
    Tensor t = Tensor::empty(dtype, shape);
    EXPECT_EQ(static_cast<size_t>(t.numel()), values.size());
    EXPECT_EQ(sizeof(T), dtype_size(dtype));
    std::memcpy(t.data, values.begin(), values.size() * sizeof(T));
    return t;
}

template <class T>
std::vector<T> values_of(const Tensor& t) {
    EXPECT_EQ(sizeof(T), dtype_size(t.dtype));
    const Tensor c = t.contiguous_copy();
    std::vector<T> out(static_cast<size_t>(c.numel()));
    if (!out.empty()) std::memcpy(out.data(), c.data, out.size() * sizeof(T));
    return out;
}

std::string hex_of(const Tensor& t) {
    const Tensor c = t.contiguous_copy();
    std::string out;
    const auto* p = static_cast<const uint8_t*>(c.data);
    for (size_t i = 0; i < c.nbytes(); ++i) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", p[i]);
        out += b;
    }
    return out;
}

// Every dtype, a 0-d tensor, an empty tensor and awkward floats (NaN payload, -0, subnormal).
StateDict all_dtypes() {
    StateDict sd;
    const float nan_payload = [] {
        uint32_t bits = 0x7fc01234u;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }();
    sd.insert("f32",
              make<float>(DType::F32, {2, 3}, {0.5f, -1.25f, 3.f, nan_payload, -0.f, 1e-45f}));
    sd.insert("f64", make<double>(DType::F64, {2}, {1e300, -1.0 / 3.0}));
    sd.insert("f16", make<uint16_t>(DType::F16, {3}, {f32_to_f16(1.5f), f32_to_f16(-2.f), 0x7c00}));
    sd.insert("bf16",
              make<uint16_t>(DType::BF16, {3}, {f32_to_bf16(1.f), f32_to_bf16(-3.5f), 0x0001}));
    sd.insert("i64", make<int64_t>(DType::I64, {3},
                                   {std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::max(), -1}));
    sd.insert("i32", make<int32_t>(DType::I32, {2}, {-7, 2147483647}));
    sd.insert("i16", make<int16_t>(DType::I16, {2}, {-32768, 12345}));
    sd.insert("i8", make<int8_t>(DType::I8, {2}, {-128, 127}));
    sd.insert("u8", make<uint8_t>(DType::U8, {2}, {255, 0}));
    sd.insert("bool", make<uint8_t>(DType::BOOL, {4}, {1, 0, 0, 1}));
    sd.insert("scalar", make<float>(DType::F32, {}, {42.f}));
    sd.insert("empty", Tensor::empty(DType::F32, {0, 3}));
    sd.insert("name with \"quotes\" and é", make<int8_t>(DType::I8, {1}, {5}));
    return sd;
}

// A 2x3 matrix [[0,1,2],[3,4,5]] viewed as its 3x2 transpose: [[0,3],[1,4],[2,5]].
Tensor transposed_view() {
    Tensor m = make<float>(DType::F32, {2, 3}, {0, 1, 2, 3, 4, 5});
    Tensor t = m;
    t.shape = {3, 2};
    t.strides = {1, 3};
    return t;
}

// ---------------------------------------------------------------------------------------------
// Files written by tools/safetensors_plain.py (PyTorch's view of the tensors).

TEST(SafetensorsRead, MixedDtypesDumpFromPlainPython) {
    const auto f = read_safetensors(test::testdata_dir() / "mixed_dtypes_dump.safetensors");
    EXPECT_TRUE(f.metadata.empty());
    const std::vector<std::string> names = {
        "f32", "f64",  "f16",    "bf16",  "i64",        "i32",          "i16",      "i8",
        "u8",  "bool", "scalar", "empty", "transposed", "strided_rows", "shared_a", "shared_b"};
    EXPECT_EQ(f.tensors.names(), names);
    const StateDict& sd = f.tensors;

    EXPECT_EQ(sd.at("f32").dtype, DType::F32);
    EXPECT_EQ(sd.at("f32").shape, (Shape{3, 4}));
    EXPECT_EQ(sd.at("f64").dtype, DType::F64);
    EXPECT_EQ(sd.at("f16").dtype, DType::F16);
    EXPECT_EQ(sd.at("f16").shape, (Shape{4, 3}));
    EXPECT_EQ(f16_to_f32(values_of<uint16_t>(sd.at("f16"))[0]), 0.75537109375f);
    EXPECT_EQ(sd.at("bf16").dtype, DType::BF16);
    EXPECT_EQ(sd.at("bf16").shape, (Shape{5, 2}));
    EXPECT_EQ(bf16_to_f32(values_of<uint16_t>(sd.at("bf16"))[0]), 1.296875f);

    const Tensor& i64 = sd.at("i64");
    EXPECT_EQ(i64.dtype, DType::I64);
    EXPECT_EQ(i64.shape, (Shape{3, 4}));
    std::vector<int64_t> arange;
    for (int64_t v = -5; v < 7; ++v) arange.push_back(v);
    EXPECT_EQ(values_of<int64_t>(i64), arange);
    EXPECT_EQ(values_of<int32_t>(sd.at("i32")), (std::vector<int32_t>{-3, -2, -1, 0, 1, 2}));
    EXPECT_EQ(values_of<int16_t>(sd.at("i16")), (std::vector<int16_t>{-4, -3, -2, -1, 0, 1, 2, 3}));
    EXPECT_EQ(values_of<int8_t>(sd.at("i8")), (std::vector<int8_t>{-4, -3, -2, -1, 0, 1, 2, 3}));
    EXPECT_EQ(sd.at("u8").dtype, DType::U8);
    EXPECT_EQ(values_of<uint8_t>(sd.at("u8")),
              (std::vector<uint8_t>{0, 25, 50, 75, 100, 125, 150, 175, 200, 225}));
    EXPECT_EQ(sd.at("bool").dtype, DType::BOOL);
    EXPECT_EQ(values_of<uint8_t>(sd.at("bool")), (std::vector<uint8_t>{1, 0, 1}));

    const Tensor& scalar = sd.at("scalar");
    EXPECT_EQ(scalar.shape.ndim, 0);
    EXPECT_EQ(values_of<float>(scalar), std::vector<float>{3.5f});
    EXPECT_EQ(sd.at("empty").shape, (Shape{0, 4}));
    EXPECT_EQ(sd.at("empty").nbytes(), 0u);

    // The dump holds contiguous copies of the strided and shared views.
    EXPECT_EQ(sd.at("transposed").shape, (Shape{5, 6}));
    EXPECT_EQ(sd.at("strided_rows").shape, (Shape{3, 5}));
    std::vector<float> a, b;
    for (int v = 4; v < 16; ++v) a.push_back(static_cast<float>(v));
    for (int v = 10; v < 22; ++v) b.push_back(static_cast<float>(v));
    EXPECT_EQ(values_of<float>(sd.at("shared_a")), a);
    EXPECT_EQ(values_of<float>(sd.at("shared_b")), b);
    // Row 0 of strided_rows is row 0 of the base matrix, whose column 0 starts "transposed".
    EXPECT_EQ(values_of<float>(sd.at("strided_rows"))[0], values_of<float>(sd.at("transposed"))[0]);
}

TEST(SafetensorsRead, TinyDistilbertDumpAndViewsOutliveTheFile) {
    Tensor ln, word;
    {
        const auto f = read_safetensors(test::testdata_dir() / "tiny_distilbert_dump.safetensors");
        EXPECT_EQ(f.tensors.size(), 40u);
        EXPECT_EQ(f.tensors.names().front(), "distilbert.embeddings.word_embeddings.weight");
        EXPECT_EQ(f.tensors.names().back(), "classifier.bias");
        word = f.tensors.at("distilbert.embeddings.word_embeddings.weight");
        ln = f.tensors.at("distilbert.transformer.layer.1.sa_layer_norm.weight");
        EXPECT_EQ(f.tensors.at("classifier.weight").shape, (Shape{2, 32}));
        EXPECT_EQ(f.tensors.at("distilbert.transformer.layer.0.ffn.lin1.weight").shape,
                  (Shape{37, 32}));
        // Zero-copy: consecutive tensors sit back to back in one mapping that the views own.
        const Tensor& pos = f.tensors.at("distilbert.embeddings.position_embeddings.weight");
        EXPECT_EQ(static_cast<const uint8_t*>(pos.data),
                  static_cast<const uint8_t*>(word.data) + word.nbytes());
        EXPECT_EQ(pos.owner.get(), word.owner.get());
        EXPECT_NE(word.owner, nullptr);
    }
    // The SafetensorsFile is gone; the views keep the mapping alive.
    EXPECT_EQ(word.shape, (Shape{30522, 32}));
    EXPECT_EQ(values_of<float>(ln), std::vector<float>(32, 1.0f));
    EXPECT_EQ(values_of<float>(word)[0], 0.0f);  // padding row of the init
}

TEST(SafetensorsRead, RewritingAPlainPythonFileIsByteIdentical) {
    // Our writer's layout matches the plain writer's (compact JSON, same key order, padding).
    const fs::path src = test::testdata_dir() / "mixed_dtypes_dump.safetensors";
    const auto f = read_safetensors(src);
    const fs::path out = temp_dir() / "rewritten.safetensors";
    write_safetensors(out, f.tensors, f.metadata);
    EXPECT_EQ(read_bytes(out), read_bytes(src));
}

TEST(SafetensorsRead, ParsesBytesInMemoryNamingTheSource) {
    const std::string ok = u64le(2) + "{}";
    const auto* p = reinterpret_cast<const uint8_t*>(ok.data());
    EXPECT_TRUE(parse_safetensors({p, ok.size()}, nullptr, "mem").tensors.empty());
    const std::string bad = u64le(2) + "[]";
    try {
        parse_safetensors({reinterpret_cast<const uint8_t*>(bad.data()), bad.size()}, nullptr,
                          "in-memory bytes");
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("in-memory bytes"), std::string::npos) << e.what();
    }
}

TEST(SafetensorsRead, LenientAboutHolesAndNullMetadata) {
    // HF's reader insists the spans tile the data; we accept gaps (and trailing bytes).
    const auto p =
        craft("holes.safetensors",
              R"({"__metadata__":null,"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
              R"("b":{"dtype":"U8","shape":[1],"data_offsets":[5,6]}})",
              "\x01\x02xyz\x03zz");
    const auto f = read_safetensors(p);
    EXPECT_TRUE(f.metadata.empty());
    EXPECT_EQ(values_of<uint8_t>(f.tensors.at("a")), (std::vector<uint8_t>{1, 2}));
    EXPECT_EQ(values_of<uint8_t>(f.tensors.at("b")), (std::vector<uint8_t>{3}));
}

TEST(SafetensorsRead, ZeroLengthSpansOverlapNothing) {
    const auto p = craft("zero_spans.safetensors",
                         R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("e1":{"dtype":"F32","shape":[0],"data_offsets":[2,2]},)"
                         R"("e2":{"dtype":"I64","shape":[3,0],"data_offsets":[2,2]},)"
                         R"("e3":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                         std::string(4, '\0'));
    EXPECT_EQ(read_safetensors(p).tensors.size(), 4u);
}

TEST(SafetensorsRead, EmptyFileOfTensorsAndMappedEmptyData) {
    const auto f = read_safetensors(craft("no_tensors.safetensors", "{}      "));
    EXPECT_TRUE(f.tensors.empty());
    const auto m =
        read_safetensors(craft("meta_only.safetensors", R"({"__metadata__":{"k":"v"}})"));
    EXPECT_EQ(m.metadata.at("k"), "v");
}

// ---------------------------------------------------------------------------------------------
// Writing

TEST(SafetensorsWrite, RoundTripIsBitIdentical) {
    const StateDict sd = all_dtypes();
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "héllo \"x\""}};
    const fs::path p = temp_dir() / "roundtrip.safetensors";
    write_safetensors(p, sd, meta);
    const auto f = read_safetensors(p);
    EXPECT_EQ(f.metadata, meta);
    ASSERT_EQ(f.tensors.names(), sd.names());
    for (const auto& [name, t] : sd.entries()) {
        const Tensor& r = f.tensors.at(name);
        EXPECT_TRUE(bit_equal(r, t)) << name;
        EXPECT_EQ(r.shape, t.shape) << name;
    }
    EXPECT_EQ(f.tensors.at("scalar").shape.ndim, 0);
}

TEST(SafetensorsWrite, StridedViewIsWrittenAsItsContiguousCopy) {
    StateDict sd;
    const Tensor t = transposed_view();
    ASSERT_FALSE(t.is_contiguous());
    sd.insert("t", t);
    const fs::path p = temp_dir() / "strided.safetensors";
    write_safetensors(p, sd);
    const auto f = read_safetensors(p);
    const Tensor& r = f.tensors.at("t");
    EXPECT_EQ(r.shape, (Shape{3, 2}));
    EXPECT_TRUE(r.is_contiguous());
    EXPECT_EQ(values_of<float>(r), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(SafetensorsWrite, HeaderIsPaddedTo8AndMetadataOnlyWhenPresent) {
    StateDict sd;
    sd.insert("abc", make<float>(DType::F32, {1}, {1.f}));
    const fs::path p = temp_dir() / "padded.safetensors";
    write_safetensors(p, sd);
    const std::string bytes = read_bytes(p);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
    EXPECT_EQ(n % 8, 0u);
    EXPECT_EQ(bytes.size(), 8 + n + 4);
    const std::string header = bytes.substr(8, n);
    EXPECT_EQ(header.find("__metadata__"), std::string::npos) << header;
    EXPECT_EQ(header.substr(0, header.find_last_not_of(' ') + 1),
              R"({"abc":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})");
}

TEST(SafetensorsWrite, RejectsTheReservedMetadataName) {
    StateDict sd;
    sd.insert("__metadata__", make<float>(DType::F32, {1}, {1.f}));
    const fs::path p = temp_dir() / "reserved.safetensors";
    EXPECT_THROW(write_safetensors(p, sd), Error);
    EXPECT_FALSE(fs::exists(p));
}

// ---------------------------------------------------------------------------------------------
// Python reads what we write: tools/check_safetensors.py loads the file with the plain reader.

TEST(SafetensorsPython, FileWrittenHereLoadsInPlainPython) {
    StateDict sd = all_dtypes();
    sd.erase("f32");  // holds a NaN, which JSON cannot carry; the bytes are checked above
    sd.insert("transposed", transposed_view());
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "héllo"}};
    const fs::path p = temp_dir() / "for_python.safetensors";
    const fs::path out = temp_dir() / "for_python.json";
    write_safetensors(p, sd, meta);
    std::string log;
    const int rc = test::run_command(test::python() + " " +
                                         (test::tools_dir() / "check_safetensors.py").string() +
                                         " " + p.string() + " " + out.string(),
                                     &log);
    ASSERT_EQ(rc, 0) << log;
    const json j = json::parse(read_text_file(out));

    EXPECT_EQ((j["metadata"].get<std::map<std::string, std::string>>()), meta);
    ASSERT_EQ(j["tensors"].size(), sd.size());
    size_t i = 0;
    for (const auto& [name, t] : sd.entries()) {
        const json& e = j["tensors"][i++];
        EXPECT_EQ(e["name"], name);
        EXPECT_EQ(e["dtype"], std::string(dtype_name(t.dtype))) << name;
        EXPECT_EQ(e["shape"].get<std::vector<int64_t>>(), t.shape.to_vector()) << name;
        EXPECT_EQ(e["hex"], hex_of(t)) << name;
    }
    // The values as torch interprets them, against what this test put in.
    auto values = [&](const std::string& name) {
        for (const json& e : j["tensors"])
            if (e["name"] == name) return e["values"];
        return json();
    };
    EXPECT_EQ(values("f64").get<std::vector<double>>(), (std::vector<double>{1e300, -1.0 / 3.0}));
    EXPECT_TRUE(values("f16").is_null());  // holds +inf
    EXPECT_EQ(values("bf16").get<std::vector<double>>(),
              (std::vector<double>{1.0, -3.5, std::ldexp(1.0, -133)}));
    EXPECT_EQ(values("i64").get<std::vector<int64_t>>(),
              (std::vector<int64_t>{std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::max(), -1}));
    EXPECT_EQ(values("i32").get<std::vector<int64_t>>(), (std::vector<int64_t>{-7, 2147483647}));
    EXPECT_EQ(values("i16").get<std::vector<int64_t>>(), (std::vector<int64_t>{-32768, 12345}));
    EXPECT_EQ(values("i8").get<std::vector<int64_t>>(), (std::vector<int64_t>{-128, 127}));
    EXPECT_EQ(values("u8").get<std::vector<int64_t>>(), (std::vector<int64_t>{255, 0}));
    EXPECT_EQ(values("bool").get<std::vector<int64_t>>(), (std::vector<int64_t>{1, 0, 0, 1}));
    EXPECT_EQ(values("scalar").get<std::vector<double>>(), std::vector<double>{42.0});
    EXPECT_TRUE(values("empty").empty());
    EXPECT_EQ(values("transposed").get<std::vector<double>>(),
              (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

// ---------------------------------------------------------------------------------------------
// Sharded checkpoints

StateDict shard_tensors() {
    StateDict sd;
    auto filled = [](DType dt, int64_t n, int seed) {
        Tensor t = Tensor::empty(dt, {n});
        auto* p = static_cast<uint8_t*>(t.data);
        for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(i * 7 + seed);
        return t;
    };
    sd.insert("a", filled(DType::F32, 10, 1));   // 40 bytes
    sd.insert("b", filled(DType::F32, 30, 2));   // 120
    sd.insert("c", filled(DType::I8, 5, 3));     // 5
    sd.insert("d", filled(DType::F32, 100, 4));  // 400: over the limit, alone in its shard
    sd.insert("e", filled(DType::BF16, 4, 5));   // 8
    return sd;
}

fs::path write_shards(const std::string& tag) {
    const fs::path dir = temp_dir() / tag;
    write_safetensors_sharded(dir, shard_tensors(), 128, {{"format", "pt"}});
    return dir;
}

TEST(SafetensorsSharded, RoundTripWithHfNamesAndTotalSize) {
    const fs::path dir = write_shards("sharded_ok");
    const json index = json::parse(read_text_file(dir / "model.safetensors.index.json"));
    EXPECT_EQ(index["metadata"]["total_size"], 573);
    const std::map<std::string, std::string> expected = {{"a", "model-00001-of-00004.safetensors"},
                                                         {"b", "model-00002-of-00004.safetensors"},
                                                         {"c", "model-00002-of-00004.safetensors"},
                                                         {"d", "model-00003-of-00004.safetensors"},
                                                         {"e", "model-00004-of-00004.safetensors"}};
    EXPECT_EQ(index["weight_map"].get<decltype(expected)>(), expected);
    for (const auto& [name, file] : expected) EXPECT_TRUE(fs::exists(dir / file)) << file;
    EXPECT_EQ(read_safetensors(dir / "model-00002-of-00004.safetensors").tensors.names(),
              (std::vector<std::string>{"b", "c"}));

    const auto f = read_safetensors_sharded(dir / "model.safetensors.index.json");
    const StateDict sd = shard_tensors();
    EXPECT_EQ(f.tensors.names(), sd.names());
    for (const auto& [name, t] : sd.entries())
        EXPECT_TRUE(bit_equal(f.tensors.at(name), t)) << name;
    EXPECT_EQ(f.metadata.at("format"), "pt");
    EXPECT_EQ(f.metadata.at("total_size"), "573");
}

TEST(SafetensorsSharded, OneShardWhenEverythingFits) {
    const fs::path dir = temp_dir() / "sharded_one";
    write_safetensors_sharded(dir, shard_tensors(), size_t(1) << 30);
    EXPECT_TRUE(fs::exists(dir / "model-00001-of-00001.safetensors"));
    EXPECT_EQ(read_safetensors_sharded(dir / "model.safetensors.index.json").tensors.size(), 5u);
}

void expect_sharded_error(const fs::path& index, std::initializer_list<std::string_view> words) {
    try {
        read_safetensors_sharded(index);
        ADD_FAILURE() << index << ": read succeeded, expected an error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        for (std::string_view w : words)
            EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
    }
}

void edit_index(const fs::path& dir, const std::function<void(json&)>& edit) {
    const fs::path p = dir / "model.safetensors.index.json";
    json j = json::parse(read_text_file(p));
    edit(j);
    write_text_atomic(p, j.dump(2));
}

TEST(SafetensorsSharded, MissingShardFileIsAnErrorNamingIt) {
    const fs::path dir = write_shards("sharded_missing_file");
    fs::remove(dir / "model-00002-of-00004.safetensors");
    expect_sharded_error(dir / "model.safetensors.index.json",
                         {"model.safetensors.index.json", "model-00002-of-00004.safetensors", "'b'",
                          "does not exist"});
}

TEST(SafetensorsSharded, TensorMissingFromItsShardIsAnError) {
    const fs::path dir = write_shards("sharded_missing_tensor");
    edit_index(dir, [](json& j) { j["weight_map"]["zzz"] = "model-00003-of-00004.safetensors"; });
    expect_sharded_error(dir / "model.safetensors.index.json",
                         {"'zzz'", "model-00003-of-00004.safetensors", "does not contain"});
}

TEST(SafetensorsSharded, TensorInAShardButNotInTheIndexIsAnError) {
    const fs::path dir = write_shards("sharded_extra_tensor");
    edit_index(dir, [](json& j) { j["weight_map"].erase("c"); });
    expect_sharded_error(dir / "model.safetensors.index.json",
                         {"model-00002-of-00004.safetensors", "'c'", "does not map it"});
}

TEST(SafetensorsSharded, ShardOutsideTheIndexDirectoryIsRejected) {
    const fs::path dir = write_shards("sharded_escape");
    edit_index(dir, [](json& j) { j["weight_map"]["a"] = "../x.safetensors"; });
    expect_sharded_error(dir / "model.safetensors.index.json",
                         {"../x.safetensors", "'a'", "inside the index's directory"});
}

TEST(SafetensorsSharded, MalformedIndexIsAnError) {
    const fs::path dir = write_shards("sharded_bad_index");
    edit_index(dir, [](json& j) { j["weight_map"]["a"] = 7; });
    expect_sharded_error(dir / "model.safetensors.index.json", {"'a'", "not a file name"});
    write_text_atomic(dir / "model.safetensors.index.json", "{\"metadata\": {}}");
    expect_sharded_error(dir / "model.safetensors.index.json", {"weight_map"});
    write_text_atomic(dir / "model.safetensors.index.json", "{oops");
    expect_sharded_error(dir / "model.safetensors.index.json",
                         {"model.safetensors.index.json", "invalid JSON"});
}

// ---------------------------------------------------------------------------------------------
// Corrupt files: each is an ft::Error naming the file, the tensor where there is one, and the
// fault.

const std::string ONE = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

TEST(SafetensorsCorrupt, TruncatedInTheDataSection) {
    StateDict sd;
    sd.insert("first", make<float>(DType::F32, {2}, {1, 2}));
    sd.insert("second", make<float>(DType::F32, {3}, {3, 4, 5}));
    const fs::path good = temp_dir() / "good.safetensors";
    write_safetensors(good, sd);
    const std::string bytes = read_bytes(good);
    const fs::path cut = temp_dir() / "truncated.safetensors";
    write_bytes(cut, bytes.substr(0, bytes.size() - 5));
    expect_read_error(cut, {"'second'", "past the end of the data", "truncated"});
}

TEST(SafetensorsCorrupt, ShorterThanTheLengthField) {
    const fs::path p = temp_dir() / "tiny.safetensors";
    write_bytes(p, std::string("\x05\0\0", 3));
    expect_read_error(p, {"3 bytes", "too short"});
    write_bytes(p, "");
    expect_read_error(p, {"0 bytes", "too short"});
}

TEST(SafetensorsCorrupt, HeaderLengthPastTheEndOfTheFile) {
    expect_read_error(craft("long_header.safetensors", ONE, std::string(8, '\0'), 1000),
                      {"header length 1000", "past the end of the file"});
    expect_read_error(craft("huge_header.safetensors", ONE, "", ~uint64_t(0)),
                      {"header length 18446744073709551615", "exceeds"});
}

TEST(SafetensorsCorrupt, InvalidJson) {
    expect_read_error(craft("bad_json.safetensors", R"({"t": {"dtype": "F32",)"), {"invalid JSON"});
    expect_read_error(craft("not_object.safetensors", "[1, 2, 3]"), {"header", "not an object"});
}

TEST(SafetensorsCorrupt, InvalidUtf8InTheHeader) {
    expect_read_error(craft("bad_utf8.safetensors",
                            "{\"t\xff\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                            std::string(4, '\0')),
                      {"invalid JSON", "UTF-8"});
}

TEST(SafetensorsCorrupt, UnknownDtype) {
    expect_read_error(craft("bad_dtype.safetensors",
                            R"({"weight":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})",
                            std::string(2, '\0')),
                      {"'weight'", "unknown dtype 'F8_E4M3'"});
}

TEST(SafetensorsCorrupt, SpanDoesNotMatchShape) {
    expect_read_error(craft("mismatch.safetensors",
                            R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
                            std::string(20, '\0')),
                      {"'w'", "[2, 3]", "needs 24 bytes", "span 20"});
}

TEST(SafetensorsCorrupt, OverlappingSpans) {
    expect_read_error(craft("overlap.safetensors",
                            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                            std::string(12, '\0')),
                      {"'a'", "'b'", "overlap"});
}

TEST(SafetensorsCorrupt, EndOffsetPastTheData) {
    expect_read_error(craft("past_end.safetensors", ONE, std::string(4, '\0')),
                      {"'t'", "end 8", "past the end of the data (4 bytes"});
}

TEST(SafetensorsCorrupt, BeginAfterEnd) {
    expect_read_error(
        craft("begin_after_end.safetensors",
              R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", std::string(8, '\0')),
        {"'t'", "begin 8 is after end 0"});
}

TEST(SafetensorsCorrupt, NegativeDimension) {
    expect_read_error(craft("negative_dim.safetensors",
                            R"({"t":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,0]}})"),
                      {"'t'", "negative dimension -1"});
}

TEST(SafetensorsCorrupt, ShapeOverflow) {
    expect_read_error(
        craft("overflow.safetensors",
              R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
        {"'t'", "overflows"});
    expect_read_error(
        craft("overflow_bytes.safetensors",
              R"({"t":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}})"),
        {"'t'", "overflows"});
    expect_read_error(craft("too_many_dims.safetensors",
                            R"({"t":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],)"
                            R"("data_offsets":[0,4]}})",
                            std::string(4, '\0')),
                      {"'t'", "9 dimensions"});
}

TEST(SafetensorsCorrupt, NonStringMetadataValue) {
    expect_read_error(craft("meta_number.safetensors", R"({"__metadata__":{"step":5}})"),
                      {"__metadata__", "'step'", "not a string"});
    expect_read_error(craft("meta_array.safetensors", R"({"__metadata__":[1]})"),
                      {"__metadata__", "not an object"});
}

TEST(SafetensorsCorrupt, MissingOrMistypedFields) {
    expect_read_error(craft("no_offsets.safetensors", R"({"t":{"dtype":"F32","shape":[2]}})"),
                      {"'t'", "missing \"data_offsets\""});
    expect_read_error(
        craft("no_shape.safetensors", R"({"t":{"dtype":"F32","data_offsets":[0,0]}})"),
        {"'t'", "missing \"shape\""});
    expect_read_error(craft("entry_array.safetensors", R"({"t":[1,2]})"), {"'t'", "not an object"});
    expect_read_error(
        craft("dtype_number.safetensors", R"({"t":{"dtype":1,"shape":[],"data_offsets":[0,4]}})"),
        {"'t'", "\"dtype\"", "not a string"});
    expect_read_error(craft("shape_string.safetensors",
                            R"({"t":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})"),
                      {"'t'", "\"shape\"", "not an array"});
    expect_read_error(craft("float_dim.safetensors",
                            R"({"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})"),
                      {"'t'", "non-integer dimension"});
    expect_read_error(craft("offsets_three.safetensors",
                            R"({"t":{"dtype":"F32","shape":[],"data_offsets":[0,4,8]}})"),
                      {"'t'", "data_offsets", "[begin, end]"});
    expect_read_error(craft("offsets_negative.safetensors",
                            R"({"t":{"dtype":"F32","shape":[],"data_offsets":[-4,0]}})"),
                      {"'t'", "data_offsets", "non-negative"});
}

TEST(SafetensorsCorrupt, DuplicateTensorName) {
    expect_read_error(craft("duplicate.safetensors",
                            R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                            R"("t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                            "ab"),
                      {"duplicate key 't'"});
}

TEST(SafetensorsCorrupt, MissingFileAndDirectory) {
    expect_read_error(temp_dir() / "does_not_exist.safetensors", {"cannot open"});
    const fs::path d = temp_dir() / "a_directory.safetensors";
    fs::create_directories(d);
    expect_read_error(d, {"not a regular file"});
}

}  // namespace
}  // namespace ft
