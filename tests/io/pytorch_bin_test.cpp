// Tests for the pytorch_model.bin reader and its restricted unpickler. PyTorch's own view of each
// checkpoint (dumped by tools/make_test_data.py) must match bit for bit, and every malformed file
// from tools/corrupt_files.py, or hand-assembled pickle, must fail with a clear ft::Error.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "finetune/io.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

void expect_same(const StateDict& got, const StateDict& want) {
    ASSERT_EQ(got.names(), want.names());
    for (const auto& [name, w] : want.entries()) {
        const Tensor& g = got.at(name);
        EXPECT_EQ(dtype_name(g.dtype), dtype_name(w.dtype)) << name;
        EXPECT_EQ(g.shape, w.shape) << name << ": " << g.shape.str() << " vs " << w.shape.str();
        EXPECT_TRUE(g.is_contiguous()) << name;
        EXPECT_TRUE(bit_equal(g, w)) << name;
    }
}

StateDict dump(const std::string& name) {
    return read_safetensors(test::testdata_dir() / name).tensors;
}

const uint8_t* bytes_of(const Tensor& t) {
    return static_cast<const uint8_t*>(t.data);
}

TEST(PytorchBinReference, TinyDistilbertMatchesTorch) {
    const StateDict sd = read_pytorch_bin(test::shared_dir() / "reference" / "tiny_distilbert" /
                                          "init" / "pytorch_model.bin");
    const StateDict want = dump("tiny_distilbert_dump.safetensors");
    EXPECT_EQ(want.size(), 40u);
    expect_same(sd, want);
}

TEST(PytorchBinReference, TinyBertWithPositionIdsMatchesTorch) {
    const StateDict sd = read_pytorch_bin(test::testdata_dir() / "tiny_bert" / "pytorch_model.bin");
    expect_same(sd, dump("tiny_bert_dump.safetensors"));
    const Tensor& ids = sd.at("bert.embeddings.position_ids");
    EXPECT_EQ(ids.dtype, DType::I64);
    EXPECT_EQ(ids.shape, (Shape{1, 64}));
    EXPECT_EQ(ids.ptr<int64_t>()[63], 63);
}

TEST(PytorchBinReference, TinyBertMlmTiedBiasSharesStorage) {
    const fs::path bin = test::testdata_dir() / "tiny_bert_mlm" / "pytorch_model.bin";
    const StateDict sd = read_pytorch_bin(bin);
    expect_same(sd, dump("tiny_bert_mlm_dump.safetensors"));
    EXPECT_EQ(sd.at("cls.predictions.bias").data, sd.at("cls.predictions.decoder.bias").data);
}

TEST(PytorchBinReference, TinyDistilbertMlmTiedProjectorSharesStorage) {
    const fs::path bin = test::testdata_dir() / "tiny_distilbert_mlm" / "pytorch_model.bin";
    const StateDict sd = read_pytorch_bin(bin);
    expect_same(sd, dump("tiny_distilbert_mlm_dump.safetensors"));
    EXPECT_EQ(sd.at("vocab_projector.weight").data,
              sd.at("distilbert.embeddings.word_embeddings.weight").data);
}

TEST(PytorchBinReference, MixedDtypesAndViewsMatchTorch) {
    const StateDict sd = read_pytorch_bin(test::testdata_dir() / "mixed_dtypes.bin");
    expect_same(sd, dump("mixed_dtypes_dump.safetensors"));
    EXPECT_EQ(sd.at("scalar").shape.ndim, 0);
    EXPECT_EQ(sd.at("empty").numel(), 0);
    EXPECT_EQ(sd.at("transposed").shape, (Shape{5, 6}));
    // Contiguous views of one storage stay views: shared_a starts at element 4, shared_b at 10.
    EXPECT_EQ(bytes_of(sd.at("shared_b")) - bytes_of(sd.at("shared_a")), 6 * 4);
    // Torch stores storages uncompressed and 64-byte aligned, so contiguous tensors are views of
    // the one mapped file (a copy would own its own buffer); the transposed one is a copy.
    EXPECT_EQ(sd.at("f32").owner, sd.at("i64").owner);
    EXPECT_EQ(sd.at("f32").owner, sd.at("shared_b").owner);
    EXPECT_NE(sd.at("f32").owner, sd.at("transposed").owner);
}

// Valid files made differently from torch's default must read the same as mixed_dtypes.bin.
TEST(PytorchBinReference, OtherWaysOfWritingMatchTorch) {
    const StateDict want = dump("mixed_dtypes_dump.safetensors");
    for (const char* name : {"protocol4.bin", "deflated.bin", "unaligned_stored.bin"}) {
        SCOPED_TRACE(name);
        const StateDict sd = read_pytorch_bin(test::testdata_dir() / "corrupt" / name);
        expect_same(sd, want);
        for (const auto& [n, t] : sd.entries())
            EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % dtype_size(t.dtype), 0u) << n;
    }
}

TEST(PytorchBinReference, TensorsKeepTheFileAlive) {
    Tensor t;
    {
        const StateDict sd = read_pytorch_bin(test::testdata_dir() / "mixed_dtypes.bin");
        t = sd.at("i64");
    }
    EXPECT_EQ(t.ptr<int64_t>()[0], -5);
    EXPECT_EQ(t.ptr<int64_t>()[11], 6);
}

struct CorruptCase {
    const char* file;
    std::vector<std::string> words;
};

TEST(PytorchBinCorrupt, EachFileFailsWithAClearError) {
    const std::vector<CorruptCase> cases = {
        {"global_os_system.bin", {"disallowed global 'os.system'", "GLOBAL", "byte 2"}},
        {"global_builtins_eval.bin", {"disallowed global 'builtins.eval'", "STACK_GLOBAL"}},
        {"global_getattr.bin", {"disallowed global '__builtin__.getattr'"}},
        {"inst_opcode.bin", {"INST", "not supported"}},
        {"no_data_pkl.bin", {"data.pkl is missing"}},
        {"missing_storage.bin", {"key '1'", "missing", "BINPERSID"}},
        {"short_storage.bin", {"key '0'", "holds 4 bytes", "need 24 bytes"}},
        {"storage_numel_beyond_record.bin", {"key '0'", "holds 24 bytes"}},
        {"truncated_pickle.bin", {"without a STOP"}},
        {"unknown_opcode.bin", {"unknown opcode", "0xff", "byte 2"}},
        {"top_level_list.bin", {"holds a list, not a dict"}},
        {"value_not_tensor.bin", {"'n' maps to an int, not a tensor"}},
        {"nested_state_dict.bin", {"'state_dict' maps to a dict, not a tensor"}},
        {"view_offset_past_storage.bin", {"reaches element 6", "holds only 6 elements"}},
        {"view_stride_past_storage.bin", {"reaches element 7", "holds only 6 elements"}},
        {"view_negative_stride.bin", {"negative"}},
        {"truncated_bin.bin", {"not a valid zip archive"}},
        {"legacy.bin", {"legacy", "torch>=1.6", "torch.save(torch.load(f), f)"}},
        {"not_a_zip.bin", {"not a PyTorch checkpoint", "neither a zip"}},
    };
    for (const CorruptCase& c : cases) {
        SCOPED_TRACE(c.file);
        const fs::path path = test::testdata_dir() / "corrupt" / c.file;
        ASSERT_TRUE(fs::exists(path)) << "run ctest -R make_test_data first";
        try {
            read_pytorch_bin(path);
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find(c.file), std::string::npos) << msg;
            for (const std::string& w : c.words)
                EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
        }
    }
}

TEST(PytorchBinCorrupt, MissingFileFails) {
    EXPECT_THROW(read_pytorch_bin(test::testdata_dir() / "no_such_file.bin"), Error);
}

// ---------------------------------------------------------------------------------------------
// The unpickler on hand-assembled pickles.

struct Pickle {
    std::vector<uint8_t> b;

    Pickle& op(uint8_t c) {
        b.push_back(c);
        return *this;
    }
    Pickle& raw(std::string_view s) {
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Pickle& le(uint64_t v, int n) {
        for (int k = 0; k < n; ++k) b.push_back(static_cast<uint8_t>(v >> (8 * k)));
        return *this;
    }
    Pickle& proto() { return op(0x80).op(2); }
    Pickle& glob(std::string_view module, std::string_view name) {
        return op('c').raw(module).op('\n').raw(name).op('\n');
    }
    Pickle& str(std::string_view s) { return op('X').le(s.size(), 4).raw(s); }
    Pickle& i32(int32_t v) { return op('J').le(static_cast<uint32_t>(v), 4); }
    Pickle& i64(int64_t v) { return op(0x8a).op(8).le(static_cast<uint64_t>(v), 8); }
    Pickle& ints(const std::vector<int64_t>& v) {
        op('(');
        for (int64_t x : v) i64(x);
        return op('t');
    }
    Pickle& ordered_dict() { return glob("collections", "OrderedDict").op(')').op('R'); }
    Pickle& storage(std::string_view key, int64_t numel, std::string_view type = "FloatStorage") {
        op('(').str("storage").glob("torch", type).str(key).str("cpu").i64(numel).op('t');
        return op('Q');
    }
    // _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())
    Pickle& tensor(std::string_view key, int64_t numel, int64_t offset,
                   const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
        glob("torch._utils", "_rebuild_tensor_v2").op('(');
        storage(key, numel).i64(offset).ints(size).ints(stride).op(0x89).ordered_dict();
        return op('t').op('R');
    }
    std::span<const uint8_t> span() const { return b; }
};

// Storages are views of one shared buffer holding the floats 0, 1, 2, ..., so views can be
// checked by value and the prefix and mutation tests below allocate nothing per storage.
struct FakeLoader {
    static constexpr int64_t CAPACITY = int64_t{1} << 21;  // floats
    int calls = 0;
    Tensor operator()(const std::string&, DType dtype, int64_t numel) {
        static const Tensor pattern = [] {
            Tensor t = Tensor::empty(DType::F32, Shape{CAPACITY * 2});
            for (int64_t i = 0; i < CAPACITY * 2; ++i) t.ptr<float>()[i] = static_cast<float>(i);
            return t;
        }();
        ++calls;
        if (numel > CAPACITY) throw Error("fake storage too large");
        return Tensor::view(pattern.data, dtype, Shape{numel}, pattern.owner);
    }
};

StateDict unpickle(const Pickle& p, FakeLoader* loader = nullptr) {
    FakeLoader local;
    FakeLoader* l = loader ? loader : &local;
    return unpickle_state_dict(
        p.span(), [l](const std::string& k, DType d, int64_t n) { return (*l)(k, d, n); },
        "test.pkl");
}

std::string error_of(const Pickle& p) {
    try {
        unpickle(p);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

Pickle dict_of(const std::vector<std::pair<std::string, Pickle>>& items) {
    Pickle p;
    p.proto().ordered_dict().op('(');
    for (const auto& [k, v] : items)
        p.str(k).raw({reinterpret_cast<const char*>(v.b.data()), v.b.size()});
    return p.op('u').op('.');
}

Pickle tensor(std::string_view key, int64_t numel, int64_t offset, const std::vector<int64_t>& size,
              const std::vector<int64_t>& stride) {
    Pickle p;
    p.tensor(key, numel, offset, size, stride);
    return p;
}

TEST(UnpicklerGlobals, DisallowedGlobalFailsBeforeAnythingElse) {
    // The rest of the pickle is garbage and truncated; the global's name is what gets reported.
    Pickle p;
    p.proto().glob("os", "system").op(0xff).op('X');
    const std::string msg = error_of(p);
    EXPECT_NE(msg.find("disallowed global 'os.system'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("test.pkl"), std::string::npos) << msg;
    EXPECT_NE(msg.find("byte 2 (opcode GLOBAL)"), std::string::npos) << msg;
}

TEST(UnpicklerGlobals, StackGlobalIsCheckedToo) {
    Pickle p;
    p.op(0x80).op(4).op(0x8c).op(8).raw("builtins").op(0x8c).op(4).raw("eval").op(0x93);
    EXPECT_NE(error_of(p).find("disallowed global 'builtins.eval'"), std::string::npos);
    Pickle q;  // a near miss of an allowed name is still refused
    q.proto().glob("torch._utils", "_rebuild_tensor_v3");
    EXPECT_NE(error_of(q).find("'torch._utils._rebuild_tensor_v3'"), std::string::npos);
}

TEST(UnpicklerGlobals, UnprintableNamesAreEscaped) {
    Pickle p;
    p.proto().glob(std::string("os\x01", 3), "x");
    EXPECT_NE(error_of(p).find("'os\\x01.x'"), std::string::npos) << error_of(p);
}

TEST(UnpicklerGlobals, AllowedGlobalsCannotBeCalledWrongly) {
    Pickle p;
    p.proto().glob("torch", "FloatStorage").op(')').op('R').op('.');
    EXPECT_NE(error_of(p).find("'torch.FloatStorage' cannot be called"), std::string::npos);
}

TEST(UnpicklerTensors, SharedStorageIsLoadedOnceAndShared) {
    FakeLoader loader;
    const StateDict sd = unpickle(
        dict_of({{"a", tensor("0", 24, 4, {3, 4}, {4, 1})}, {"b", tensor("0", 24, 10, {12}, {1})}}),
        &loader);
    EXPECT_EQ(loader.calls, 1);
    EXPECT_EQ(sd.at("a").ptr<float>()[0], 4.0f);
    EXPECT_EQ(sd.at("b").ptr<float>() - sd.at("a").ptr<float>(), 6);
}

TEST(UnpicklerTensors, NonContiguousViewsAreCopied) {
    const StateDict sd = unpickle(dict_of({{"t", tensor("0", 6, 0, {3, 2}, {1, 3})},
                                           {"e", tensor("1", 1, 0, {3}, {0})},
                                           {"s", tensor("2", 6, 5, {}, {})},
                                           {"z", tensor("3", 0, 0, {0, 5}, {5, 1})}}));
    const Tensor& t = sd.at("t");
    EXPECT_TRUE(t.is_contiguous());
    const std::vector<float> want = {0, 3, 1, 4, 2, 5};
    for (int i = 0; i < 6; ++i) EXPECT_EQ(t.ptr<float>()[i], want[i]);
    EXPECT_EQ(sd.at("e").shape, (Shape{3}));  // a broadcast (stride 0) view
    EXPECT_EQ(sd.at("s").shape.ndim, 0);
    EXPECT_EQ(sd.at("s").ptr<float>()[0], 5.0f);
    EXPECT_EQ(sd.at("z").numel(), 0);
}

TEST(UnpicklerTensors, BadViewsAreRejected) {
    EXPECT_NE(error_of(dict_of({{"t", tensor("0", 6, 6, {1}, {1})}})).find("reaches element 6"),
              std::string::npos);
    EXPECT_NE(error_of(dict_of({{"t", tensor("0", 6, 0, {-1}, {1})}})).find("negative"),
              std::string::npos);
    EXPECT_NE(error_of(dict_of({{"t", tensor("0", 6, -1, {1}, {1})}})).find("offset"),
              std::string::npos);
    EXPECT_NE(error_of(dict_of({{"t", tensor("0", 6, 0, {2, 3}, {3})}})).find("dimensions"),
              std::string::npos);
    EXPECT_NE(error_of(dict_of({{"t", tensor("0", 6, 0, std::vector<int64_t>(9, 1),
                                             std::vector<int64_t>(9, 1))}}))
                  .find("at most 8"),
              std::string::npos);
    const int64_t big = int64_t{1} << 62;
    EXPECT_NE(error_of(dict_of({{"t", tensor("0", 6, 0, {big, big}, {0, 0})}})).find("overflow"),
              std::string::npos);
    EXPECT_NE(error_of(dict_of({{"t", tensor("0", 6, 0, {3, 2}, {big, 1})}})).find("overflow"),
              std::string::npos);
    // A stride-0 view asking for gigabytes out of one element is refused, not allocated.
    EXPECT_NE(
        error_of(dict_of({{"t", tensor("0", 1, 0, {int64_t{1} << 40}, {0})}})).find("implausibly"),
        std::string::npos);
}

TEST(UnpicklerTensors, StorageReferencedWithTwoTypesIsRejected) {
    EXPECT_NE(
        error_of(dict_of({{"a", tensor("0", 6, 0, {6}, {1})}, {"b", tensor("0", 7, 0, {7}, {1})}}))
            .find("two different types"),
        std::string::npos);
}

TEST(UnpicklerTensors, ParameterWrappersAreUnwrapped) {
    Pickle param;
    param.glob("torch._utils", "_rebuild_parameter").op('(');
    param.tensor("0", 4, 0, {4}, {1}).op(0x88).ordered_dict().op('t').op('R');
    Pickle typed;
    typed.glob("torch._tensor", "_rebuild_from_type_v2").op('(');
    typed.glob("torch._utils", "_rebuild_tensor_v2")
        .glob("torch.nn.parameter", "Parameter")
        .op('(');
    typed.storage("1", 3).i64(1).ints({2}).ints({1}).op(0x89).ordered_dict().op('t');
    typed.op('N').op('t').op('R');
    const StateDict sd = unpickle(dict_of({{"p", param}, {"q", typed}}));
    EXPECT_EQ(sd.at("p").shape, (Shape{4}));
    EXPECT_EQ(sd.at("q").ptr<float>()[0], 1.0f);
}

TEST(UnpicklerTensors, DtypeGlobalMayNameTheStorageType) {
    Pickle p;
    p.glob("torch._utils", "_rebuild_tensor").op('(');
    p.storage("0", 2, "bfloat16").i64(0).ints({2}).ints({1}).op('t').op('R');
    EXPECT_EQ(unpickle(dict_of({{"x", p}})).at("x").dtype, DType::BF16);
}

TEST(UnpicklerTensors, LoaderErrorsCarryThePosition) {
    const std::string msg =
        error_of(dict_of({{"t", tensor("0", FakeLoader::CAPACITY + 1, 0, {1}, {1})}}));
    EXPECT_NE(msg.find("fake storage too large"), std::string::npos) << msg;
    EXPECT_NE(msg.find("BINPERSID"), std::string::npos) << msg;
}

TEST(UnpicklerStructure, RepeatedKeyKeepsFirstPositionAndLastValue) {
    const StateDict sd = unpickle(dict_of({{"a", tensor("0", 6, 0, {1}, {1})},
                                           {"b", tensor("0", 6, 1, {1}, {1})},
                                           {"a", tensor("0", 6, 2, {1}, {1})}}));
    EXPECT_EQ(sd.names(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(sd.at("a").ptr<float>()[0], 2.0f);
}

TEST(UnpicklerStructure, BuildOnTheDictIsIgnored) {
    Pickle p;
    p.proto().ordered_dict().str("w").tensor("0", 2, 0, {2}, {1}).op('s');
    p.op('}').str("_metadata").ordered_dict().op('s').op('b').op('.');
    EXPECT_EQ(unpickle(p).size(), 1u);
}

TEST(UnpicklerStructure, NonStringKeysAndNonTensorValuesAreRejected) {
    Pickle key;
    key.proto().op('}').op('K').op(1).tensor("0", 2, 0, {2}, {1}).op('s').op('.');
    EXPECT_NE(error_of(key).find("key is an int, not a string"), std::string::npos);
    Pickle value;
    value.proto().op('}').str("x").op('N').op('s').op('.');
    EXPECT_NE(error_of(value).find("'x' maps to a None, not a tensor"), std::string::npos);
    Pickle list;
    list.proto().op(']').op('.');
    EXPECT_NE(error_of(list).find("holds a list, not a dict"), std::string::npos);
}

TEST(UnpicklerStructure, SelfReferenceAndDeepNestingAreHarmless) {
    Pickle cycle;  // l = []; l.append(l)
    cycle.proto().op(']').op('q').op(0).op('h').op(0).op('a').op('.');
    EXPECT_NE(error_of(cycle).find("holds a list"), std::string::npos);
    Pickle marks;
    marks.proto();
    for (int i = 0; i < 70000; ++i) marks.op('(');
    EXPECT_NE(error_of(marks).find("too many nested MARKs"), std::string::npos);
    Pickle under;  // items below a MARK cannot be reached from above it
    under.proto().op('}').op('(').str("k").str("v").op('s');
    EXPECT_NE(error_of(under).find("stack underflow"), std::string::npos);
}

TEST(UnpicklerStructure, MalformedOperandsAreReported) {
    EXPECT_NE(error_of(Pickle().proto().op('h').op(3)).find("memo key 3 is not defined"),
              std::string::npos);
    EXPECT_NE(error_of(Pickle().proto().op(0x8a).op(9)).find("does not fit in 64 bits"),
              std::string::npos);
    EXPECT_NE(error_of(Pickle().proto().op('X').le(100, 4).raw("ab")).find("truncated"),
              std::string::npos);
    EXPECT_NE(error_of(Pickle().op(0x80).op(6)).find("protocol 6"), std::string::npos);
    EXPECT_NE(error_of(Pickle().proto().op('c').raw("torch")).find("newline"), std::string::npos);
    EXPECT_NE(error_of(Pickle()).find("without a STOP"), std::string::npos);
    EXPECT_NE(error_of(Pickle().proto().op('.')).find("stack underflow"), std::string::npos);
}

// The fuzz seeds double as regression inputs: each parses or fails cleanly, and so does every
// prefix and many random mutations of the valid ones.
std::vector<uint8_t> read_bytes(const fs::path& p) {
    const std::string s = read_text_file(p);
    return {s.begin(), s.end()};
}

fs::path corpus_dir() {
    return test::tools_dir().parent_path() / "fuzz" / "corpus" / "unpickler";
}

bool parses(std::span<const uint8_t> bytes) {
    FakeLoader loader;
    try {
        const StateDict sd = unpickle_state_dict(
            bytes, [&loader](const std::string& k, DType d, int64_t n) { return loader(k, d, n); },
            "mutant.pkl");
        for (const auto& [name, t] : sd.entries()) (void)bit_equal(t, t.contiguous_copy());
        return true;
    } catch (const Error&) {
        return false;
    }
}

TEST(UnpicklerCorpus, SeedsParseAndEveryPrefixFails) {
    ASSERT_TRUE(fs::is_directory(corpus_dir()));
    for (const char* name :
         {"tiny_distilbert.pkl", "mixed_dtypes.pkl", "mixed_dtypes_protocol4.pkl"}) {
        SCOPED_TRACE(name);
        const std::vector<uint8_t> seed = read_bytes(corpus_dir() / name);
        EXPECT_TRUE(parses(seed));
        // Every prefix of the small seeds; of the large one a sample (the cost is quadratic) plus
        // the tail, where the closing SETITEMS / BUILD / STOP live.
        const size_t step = seed.size() > 2048 ? 13 : 1;
        for (size_t n = 0; n < seed.size(); ++n) {
            if (n % step == 0 || n + 64 >= seed.size()) {
                EXPECT_FALSE(parses(std::span(seed).first(n))) << "prefix of " << n << " bytes";
            }
        }
    }
    for (const auto& entry : fs::directory_iterator(corpus_dir())) parses(read_bytes(entry.path()));
}

TEST(UnpicklerCorpus, RandomMutationsFailCleanly) {
    const std::vector<uint8_t> seed = read_bytes(corpus_dir() / "mixed_dtypes.pkl");
    std::mt19937 rng(12345);
    for (int trial = 0; trial < 3000; ++trial) {
        std::vector<uint8_t> m = seed;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t at = rng() % m.size();
            switch (rng() % 3) {
                case 0:
                    m[at] = static_cast<uint8_t>(rng());
                    break;
                case 1:
                    m.erase(m.begin() + static_cast<ptrdiff_t>(at));
                    break;
                default:
                    m.insert(m.begin() + static_cast<ptrdiff_t>(at), static_cast<uint8_t>(rng()));
            }
        }
        parses(m);  // must return or throw ft::Error; anything else fails the test
    }
}

}  // namespace
}  // namespace ft
