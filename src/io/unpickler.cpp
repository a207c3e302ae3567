// A restricted pickle VM for PyTorch state dicts (the data.pkl inside a pytorch_model.bin).
// It understands only the opcodes and the handful of torch globals that a state dict uses; it
// imports and executes nothing, and any other global is refused the moment it is named.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "finetune/io.h"

namespace ft {
namespace {

// Bounds no real state dict comes near; they keep hostile input from exhausting memory.
constexpr size_t MAX_STACK = size_t{1} << 20;
constexpr size_t MAX_MARKS = size_t{1} << 16;
constexpr size_t MAX_MEMO = size_t{1} << 21;
constexpr size_t MAX_OBJECTS = size_t{1} << 22;
constexpr size_t MAX_GLOBAL_LINE = 256;
// Non-contiguous views are copied; this caps how far copies may outgrow the storages they
// read (a stride-0 view of one element could otherwise ask for gigabytes).
constexpr size_t COPY_SLACK_BYTES = size_t{64} << 20;
constexpr size_t COPY_STORAGE_FACTOR = 4;

enum class Kind : uint8_t {
    NONE,
    BOOL,
    INT,
    FLOAT,
    STR,
    BYTES,
    TUPLE,
    LIST,
    DICT,
    GLOBAL,
    STORAGE,
    TENSOR
};

// The globals a state-dict pickle may name.
enum class Global : uint8_t {
    ORDERED_DICT,
    REBUILD_TENSOR,
    REBUILD_TENSOR_V2,
    REBUILD_PARAMETER,
    REBUILD_PARAMETER_WITH_STATE,
    REBUILD_FROM_TYPE_V2,
    TENSOR_TYPE,   // torch.Tensor / torch.nn.parameter.Parameter, as _rebuild_from_type_v2's type
    STORAGE_TYPE,  // torch.FloatStorage, ... (dtype says which)
    DTYPE,         // torch.float32, ... (newer torch may name a dtype where a storage type was)
};

struct GlobalEntry {
    std::string_view module;
    std::string_view name;
    Global global;
    DType dtype;
};

constexpr GlobalEntry ALLOWED_GLOBALS[] = {
    {"collections", "OrderedDict", Global::ORDERED_DICT, DType::F32},
    {"torch._utils", "_rebuild_tensor", Global::REBUILD_TENSOR, DType::F32},
    {"torch._utils", "_rebuild_tensor_v2", Global::REBUILD_TENSOR_V2, DType::F32},
    {"torch._utils", "_rebuild_parameter", Global::REBUILD_PARAMETER, DType::F32},
    {"torch._utils", "_rebuild_parameter_with_state", Global::REBUILD_PARAMETER_WITH_STATE,
     DType::F32},
    {"torch._tensor", "_rebuild_from_type_v2", Global::REBUILD_FROM_TYPE_V2, DType::F32},
    {"torch", "Tensor", Global::TENSOR_TYPE, DType::F32},
    {"torch.nn.parameter", "Parameter", Global::TENSOR_TYPE, DType::F32},
    {"torch", "FloatStorage", Global::STORAGE_TYPE, DType::F32},
    {"torch", "DoubleStorage", Global::STORAGE_TYPE, DType::F64},
    {"torch", "HalfStorage", Global::STORAGE_TYPE, DType::F16},
    {"torch", "BFloat16Storage", Global::STORAGE_TYPE, DType::BF16},
    {"torch", "LongStorage", Global::STORAGE_TYPE, DType::I64},
    {"torch", "IntStorage", Global::STORAGE_TYPE, DType::I32},
    {"torch", "ShortStorage", Global::STORAGE_TYPE, DType::I16},
    {"torch", "CharStorage", Global::STORAGE_TYPE, DType::I8},
    {"torch", "ByteStorage", Global::STORAGE_TYPE, DType::U8},
    {"torch", "BoolStorage", Global::STORAGE_TYPE, DType::BOOL},
    // Untyped storages count bytes.
    {"torch", "UntypedStorage", Global::STORAGE_TYPE, DType::U8},
    {"torch.storage", "UntypedStorage", Global::STORAGE_TYPE, DType::U8},
    {"torch", "float32", Global::DTYPE, DType::F32},
    {"torch", "float", Global::DTYPE, DType::F32},
    {"torch", "float64", Global::DTYPE, DType::F64},
    {"torch", "double", Global::DTYPE, DType::F64},
    {"torch", "float16", Global::DTYPE, DType::F16},
    {"torch", "half", Global::DTYPE, DType::F16},
    {"torch", "bfloat16", Global::DTYPE, DType::BF16},
    {"torch", "int64", Global::DTYPE, DType::I64},
    {"torch", "long", Global::DTYPE, DType::I64},
    {"torch", "int32", Global::DTYPE, DType::I32},
    {"torch", "int", Global::DTYPE, DType::I32},
    {"torch", "int16", Global::DTYPE, DType::I16},
    {"torch", "short", Global::DTYPE, DType::I16},
    {"torch", "int8", Global::DTYPE, DType::I8},
    {"torch", "uint8", Global::DTYPE, DType::U8},
    {"torch", "bool", Global::DTYPE, DType::BOOL},
};

// One pickled value. Objects live in the VM's pool and refer to each other by raw pointer, so
// self-referencing structures (legal in pickle) neither leak nor recurse.
struct Obj {
    Kind kind = Kind::NONE;
    Global global = Global::ORDERED_DICT;
    DType dtype = DType::F32;
    bool flag = false;
    int64_t i = 0;
    double f = 0;
    uint32_t tensor = 0;      // STORAGE / TENSOR: index into the VM's tensor pool
    std::string s;            // STR / BYTES, or a GLOBAL's dotted name
    std::vector<Obj*> items;  // TUPLE / LIST
    std::vector<std::pair<Obj*, Obj*>> entries;  // DICT, in insertion order
};

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::NONE:
            return "None";
        case Kind::BOOL:
            return "bool";
        case Kind::INT:
            return "int";
        case Kind::FLOAT:
            return "float";
        case Kind::STR:
            return "str";
        case Kind::BYTES:
            return "bytes";
        case Kind::TUPLE:
            return "tuple";
        case Kind::LIST:
            return "list";
        case Kind::DICT:
            return "dict";
        case Kind::GLOBAL:
            return "global";
        case Kind::STORAGE:
            return "storage";
        case Kind::TENSOR:
            return "tensor";
    }
    return "?";
}

// "an int", "a list": for messages.
std::string a_kind(Kind k) {
    const std::string name = kind_name(k);
    return (name[0] == 'i' ? "an " : "a ") + name;
}

const char* op_name(uint8_t op) {
    switch (op) {
        case 0x80:
            return "PROTO";
        case 0x95:
            return "FRAME";
        case '.':
            return "STOP";
        case '(':
            return "MARK";
        case '0':
            return "POP";
        case '1':
            return "POP_MARK";
        case '2':
            return "DUP";
        case '}':
            return "EMPTY_DICT";
        case ']':
            return "EMPTY_LIST";
        case ')':
            return "EMPTY_TUPLE";
        case 'd':
            return "DICT";
        case 'l':
            return "LIST";
        case 't':
            return "TUPLE";
        case 0x85:
            return "TUPLE1";
        case 0x86:
            return "TUPLE2";
        case 0x87:
            return "TUPLE3";
        case 'q':
            return "BINPUT";
        case 'r':
            return "LONG_BINPUT";
        case 0x94:
            return "MEMOIZE";
        case 'h':
            return "BINGET";
        case 'j':
            return "LONG_BINGET";
        case 'J':
            return "BININT";
        case 'K':
            return "BININT1";
        case 'M':
            return "BININT2";
        case 0x8a:
            return "LONG1";
        case 0x8b:
            return "LONG4";
        case 'X':
            return "BINUNICODE";
        case 0x8c:
            return "SHORT_BINUNICODE";
        case 0x8d:
            return "BINUNICODE8";
        case 'U':
            return "SHORT_BINSTRING";
        case 'T':
            return "BINSTRING";
        case 'C':
            return "SHORT_BINBYTES";
        case 'B':
            return "BINBYTES";
        case 0x8e:
            return "BINBYTES8";
        case 0x88:
            return "NEWTRUE";
        case 0x89:
            return "NEWFALSE";
        case 'N':
            return "NONE";
        case 'G':
            return "BINFLOAT";
        case 's':
            return "SETITEM";
        case 'u':
            return "SETITEMS";
        case 'a':
            return "APPEND";
        case 'e':
            return "APPENDS";
        case 'c':
            return "GLOBAL";
        case 0x93:
            return "STACK_GLOBAL";
        case 'R':
            return "REDUCE";
        case 'b':
            return "BUILD";
        case 'Q':
            return "BINPERSID";
        case 0x81:
            return "NEWOBJ";
        // Known to pickle but never in a state dict; named so the error says which.
        case 'i':
            return "INST";
        case 'o':
            return "OBJ";
        case 'P':
            return "PERSID";
        case 'I':
            return "INT";
        case 'L':
            return "LONG";
        case 'F':
            return "FLOAT";
        case 'S':
            return "STRING";
        case 'V':
            return "UNICODE";
        case 'p':
            return "PUT";
        case 'g':
            return "GET";
        case 0x82:
            return "EXT1";
        case 0x83:
            return "EXT2";
        case 0x84:
            return "EXT4";
        case 0x8f:
            return "EMPTY_SET";
        case 0x90:
            return "ADDITEMS";
        case 0x91:
            return "FROZENSET";
        case 0x92:
            return "NEWOBJ_EX";
        case 0x96:
            return "BYTEARRAY8";
        case 0x97:
            return "NEXT_BUFFER";
        case 0x98:
            return "READONLY_BUFFER";
        default:
            return nullptr;
    }
}

// Names from a hostile pickle go into error messages; keep them short and printable.
std::string printable(std::string_view s) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (size_t k = 0; k < s.size() && k < 120; ++k) {
        const auto c = static_cast<unsigned char>(s[k]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    if (s.size() > 120) out += "...";
    return out;
}

class Unpickler {
  public:
    Unpickler(std::span<const uint8_t> bytes, const StorageLoader& load_storage,
              std::string_view source)
        : bytes_(bytes), load_storage_(load_storage), source_(source) {}

    StateDict run();

  private:
    [[noreturn]] void fail(const std::string& msg) const;

    // Reading the opcode stream; each read is bounds-checked against the end of the pickle.
    const uint8_t* take(uint64_t n);
    uint8_t u8() { return *take(1); }
    uint64_t le(int n);
    std::string_view text_line();

    Obj* make(Kind k);
    Obj* make_int(int64_t v);
    void push(Obj* o);
    Obj* pop();
    Obj* top();
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    size_t pop_mark();     // index of the first item above the most recent MARK
    Obj* below(size_t k);  // the item just under stack index k (SETITEMS' dict, APPENDS' list)
    void memo_put(uint64_t key);

    void step(uint8_t op);
    Obj* global(std::string_view module, std::string_view name);
    Obj* call(Obj* fn, Obj* args);
    Obj* persistent_load(Obj* pid);
    Obj* rebuild_tensor(Obj* storage, Obj* offset, Obj* size, Obj* stride);
    std::vector<int64_t> int_tuple(Obj* o, const char* what);
    StateDict finish(Obj* result);

    std::span<const uint8_t> bytes_;
    const StorageLoader& load_storage_;
    std::string_view source_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    uint8_t op_ = 0;
    bool at_end_ = false;

    std::vector<Obj*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Obj*> memo_;
    std::deque<Obj> pool_;
    std::deque<Tensor> tensors_;
    std::unordered_map<std::string, Obj*> storages_;  // by persistent key: shared storages
    size_t storage_bytes_ = 0;
    size_t copy_bytes_ = 0;
};

void Unpickler::fail(const std::string& msg) const {
    std::string where;
    if (at_end_) {
        where = "at byte " + std::to_string(op_pos_) + " (end of data)";
    } else {
        const char* name = op_name(op_);
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op_);
        where = "at byte " + std::to_string(op_pos_) + " (opcode " +
                (name ? std::string(name) : std::string(hex)) + ")";
    }
    throw Error("pickle " + std::string(source_) + " " + where + ": " + msg);
}

const uint8_t* Unpickler::take(uint64_t n) {
    if (n > bytes_.size() - pos_)
        fail("truncated: needs " + std::to_string(n) + " more bytes but only " +
             std::to_string(bytes_.size() - pos_) + " remain");
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += static_cast<size_t>(n);
    return p;
}

uint64_t Unpickler::le(int n) {
    const uint8_t* p = take(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | p[k];
    return v;
}

std::string_view Unpickler::text_line() {
    const size_t limit = std::min(bytes_.size() - pos_, MAX_GLOBAL_LINE + 1);
    const uint8_t* begin = bytes_.data() + pos_;
    const void* nl = std::memchr(begin, '\n', limit);
    if (!nl) {
        if (limit > MAX_GLOBAL_LINE) fail("GLOBAL name is too long");
        fail("truncated: GLOBAL name has no terminating newline");
    }
    const size_t len = static_cast<size_t>(static_cast<const uint8_t*>(nl) - begin);
    pos_ += len + 1;
    return {reinterpret_cast<const char*>(begin), len};
}

Obj* Unpickler::make(Kind k) {
    if (pool_.size() >= MAX_OBJECTS) fail("too many objects");
    Obj& o = pool_.emplace_back();
    o.kind = k;
    return &o;
}

Obj* Unpickler::make_int(int64_t v) {
    Obj* o = make(Kind::INT);
    o->i = v;
    return o;
}

void Unpickler::push(Obj* o) {
    if (stack_.size() >= MAX_STACK) fail("stack too deep");
    stack_.push_back(o);
}

Obj* Unpickler::pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    Obj* o = stack_.back();
    stack_.pop_back();
    return o;
}

Obj* Unpickler::top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
}

size_t Unpickler::pop_mark() {
    if (marks_.empty()) fail("no MARK to match");
    const size_t k = marks_.back();
    marks_.pop_back();
    return k;
}

Obj* Unpickler::below(size_t k) {
    if (k <= floor()) fail("stack underflow");
    return stack_[k - 1];
}

void Unpickler::memo_put(uint64_t key) {
    Obj* o = top();
    auto it = memo_.find(key);
    if (it != memo_.end()) {
        it->second = o;
        return;
    }
    if (memo_.size() >= MAX_MEMO) fail("memo too large");
    memo_.emplace(key, o);
}

Obj* Unpickler::global(std::string_view module, std::string_view name) {
    for (const GlobalEntry& g : ALLOWED_GLOBALS) {
        if (g.module == module && g.name == name) {
            Obj* o = make(Kind::GLOBAL);
            o->global = g.global;
            o->dtype = g.dtype;
            o->s = std::string(module) + "." + std::string(name);
            return o;
        }
    }
    fail("refers to disallowed global '" + printable(module) + "." + printable(name) +
         "'; only the torch state-dict globals are allowed (nothing is imported or executed)");
}

std::vector<int64_t> Unpickler::int_tuple(Obj* o, const char* what) {
    if (o->kind != Kind::TUPLE && o->kind != Kind::LIST)
        fail(std::string(what) + " is " + a_kind(o->kind) + ", not a tuple");
    if (o->items.size() > MAX_DIMS)
        fail(std::string(what) + " has " + std::to_string(o->items.size()) +
             " dimensions; at most " + std::to_string(MAX_DIMS) + " are supported");
    std::vector<int64_t> v;
    for (Obj* x : o->items) {
        if (x->kind != Kind::INT) fail(std::string(what) + " holds " + a_kind(x->kind));
        if (x->i < 0) fail(std::string(what) + " holds a negative value " + std::to_string(x->i));
        v.push_back(x->i);
    }
    return v;
}

Obj* Unpickler::persistent_load(Obj* pid) {
    if (pid->kind != Kind::TUPLE || pid->items.size() != 5)
        fail("persistent id is not a ('storage', type, key, location, numel) tuple");
    Obj* tag = pid->items[0];
    Obj* type = pid->items[1];
    Obj* key = pid->items[2];
    Obj* numel = pid->items[4];
    if (tag->kind != Kind::STR || tag->s != "storage")
        fail("persistent id does not start with 'storage'");
    if (type->kind != Kind::GLOBAL ||
        (type->global != Global::STORAGE_TYPE && type->global != Global::DTYPE))
        fail("persistent id names no storage type");
    if (key->kind != Kind::STR) fail("storage key is " + a_kind(key->kind));
    if (numel->kind != Kind::INT || numel->i < 0) fail("storage size is not a non-negative int");
    const DType dtype = type->dtype;
    if (numel->i > INT64_MAX / 8) fail("storage '" + printable(key->s) + "' is implausibly large");

    auto it = storages_.find(key->s);
    if (it != storages_.end()) {
        const Tensor& t = tensors_[it->second->tensor];
        if (t.dtype != dtype || t.numel() != numel->i)
            fail("storage '" + printable(key->s) + "' is referenced with two different types");
        return it->second;
    }

    Tensor t;
    try {
        t = load_storage_(key->s, dtype, numel->i);
    } catch (const Error& e) {
        fail(e.what());
    }
    if (t.dtype != dtype || t.shape.ndim != 1 || t.numel() != numel->i || !t.is_contiguous() ||
        (numel->i > 0 && t.data == nullptr))
        fail("storage loader returned the wrong tensor for storage '" + printable(key->s) + "'");
    storage_bytes_ += t.nbytes();
    Obj* o = make(Kind::STORAGE);
    o->tensor = static_cast<uint32_t>(tensors_.size());
    tensors_.push_back(std::move(t));
    storages_.emplace(key->s, o);
    return o;
}

// torch._utils._rebuild_tensor(storage, storage_offset, size, stride): the view is validated
// against its storage, and copied only when it is not contiguous.
Obj* Unpickler::rebuild_tensor(Obj* storage, Obj* offset, Obj* size, Obj* stride) {
    if (storage->kind != Kind::STORAGE) fail("tensor storage is " + a_kind(storage->kind));
    if (offset->kind != Kind::INT || offset->i < 0)
        fail("storage offset is not a non-negative int");
    const std::vector<int64_t> sizes = int_tuple(size, "tensor size");
    const std::vector<int64_t> strides = int_tuple(stride, "tensor stride");
    if (sizes.size() != strides.size())
        fail("tensor size has " + std::to_string(sizes.size()) + " dimensions but stride has " +
             std::to_string(strides.size()));
    const Tensor& st = tensors_[storage->tensor];

    int64_t numel = 1;
    for (int64_t s : sizes)
        if (__builtin_mul_overflow(numel, s, &numel)) fail("tensor size overflows");
    // The copy (if any) is numel elements; refuse sizes whose byte count cannot be formed.
    if (numel > INT64_MAX / 8) fail("tensor size overflows");

    Tensor t;
    t.dtype = st.dtype;
    t.shape = Shape::from(sizes);
    t.strides = Shape::from(strides);
    if (numel == 0) {
        // Torch keeps empty tensors whatever their offset; nothing is read from the storage.
        t = Tensor::empty(st.dtype, t.shape);
    } else {
        int64_t last = offset->i;
        for (size_t d = 0; d < sizes.size(); ++d) {
            int64_t span;
            if (__builtin_mul_overflow(sizes[d] - 1, strides[d], &span) ||
                __builtin_add_overflow(last, span, &last))
                fail("tensor view overflows");
        }
        if (last >= st.numel())
            fail("tensor view " + t.shape.str() + " with stride " + t.strides.str() +
                 " and offset " + std::to_string(offset->i) + " reaches element " +
                 std::to_string(last) + " but its storage holds only " +
                 std::to_string(st.numel()) + " elements");
        t.data =
            static_cast<uint8_t*>(st.data) + static_cast<size_t>(offset->i) * dtype_size(st.dtype);
        t.owner = st.owner;
        if (t.is_contiguous()) {
            t.strides = contiguous_strides(t.shape);  // size-1 dimensions may carry any stride
        } else {
            const size_t bytes = t.nbytes();
            if (bytes > COPY_STORAGE_FACTOR * storage_bytes_ + COPY_SLACK_BYTES - copy_bytes_)
                fail("non-contiguous tensor view " + t.shape.str() + " with stride " +
                     t.strides.str() + " expands its storage implausibly far");
            copy_bytes_ += bytes;
            t = t.contiguous_copy();
        }
    }
    Obj* o = make(Kind::TENSOR);
    o->tensor = static_cast<uint32_t>(tensors_.size());
    tensors_.push_back(std::move(t));
    return o;
}

// REDUCE / NEWOBJ: only the allowed globals can be called, each with the arguments torch uses.
Obj* Unpickler::call(Obj* fn, Obj* args) {
    if (fn->kind != Kind::GLOBAL) fail("cannot call " + a_kind(fn->kind));
    if (args->kind != Kind::TUPLE)
        fail("arguments of " + fn->s + " are " + a_kind(args->kind) + ", not a tuple");
    const std::vector<Obj*>& a = args->items;
    const auto arity = [&](size_t lo, size_t hi) {
        if (a.size() < lo || a.size() > hi)
            fail(fn->s + " called with " + std::to_string(a.size()) + " arguments");
    };
    switch (fn->global) {
        case Global::ORDERED_DICT:
            // Pickle fills the dict afterwards with SETITEMS. The OrderedDict(items) form is
            // refused: copying a memoized item list on every call would let a small pickle ask
            // for quadratic memory.
            arity(0, 0);
            return make(Kind::DICT);
        case Global::REBUILD_TENSOR:
            arity(4, 4);
            return rebuild_tensor(a[0], a[1], a[2], a[3]);
        case Global::REBUILD_TENSOR_V2:
            // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata]); the
            // autograd fields mean nothing to a loaded state dict.
            arity(6, 7);
            return rebuild_tensor(a[0], a[1], a[2], a[3]);
        case Global::REBUILD_PARAMETER:
        case Global::REBUILD_PARAMETER_WITH_STATE:
            arity(fn->global == Global::REBUILD_PARAMETER ? 3 : 4,
                  fn->global == Global::REBUILD_PARAMETER ? 3 : 4);
            if (a[0]->kind != Kind::TENSOR) fail("parameter data is " + a_kind(a[0]->kind));
            return a[0];
        case Global::REBUILD_FROM_TYPE_V2: {
            // (func, new_type, args, state): func rebuilds a plain tensor; the subclass is dropped.
            arity(4, 4);
            Obj* func = a[0];
            if (func->kind != Kind::GLOBAL ||
                (func->global != Global::REBUILD_TENSOR &&
                 func->global != Global::REBUILD_TENSOR_V2 &&
                 func->global != Global::REBUILD_PARAMETER &&
                 func->global != Global::REBUILD_PARAMETER_WITH_STATE))
                fail("_rebuild_from_type_v2 wraps something other than a tensor rebuild");
            if (a[1]->kind != Kind::GLOBAL || a[1]->global != Global::TENSOR_TYPE)
                fail("_rebuild_from_type_v2 names a type other than Tensor or Parameter");
            return call(func, a[2]);
        }
        case Global::TENSOR_TYPE:
        case Global::STORAGE_TYPE:
        case Global::DTYPE:
            break;
    }
    fail("'" + fn->s + "' cannot be called");
}

void Unpickler::step(uint8_t op) {
    switch (op) {
        case 0x80: {  // PROTO
            const uint8_t v = u8();
            if (v > 5) fail("unsupported pickle protocol " + std::to_string(v));
            return;
        }
        case 0x95: {  // FRAME: framing is only a read-ahead hint; check it is not truncated
            const uint64_t n = le(8);
            if (n > bytes_.size() - pos_) fail("truncated: frame runs past the end");
            return;
        }
        case '(':
            if (marks_.size() >= MAX_MARKS) fail("too many nested MARKs");
            marks_.push_back(stack_.size());
            return;
        case '0':
            pop();
            return;
        case '1':
            stack_.resize(pop_mark());
            return;
        case '2':
            push(top());
            return;
        case '}':
            push(make(Kind::DICT));
            return;
        case ']':
            push(make(Kind::LIST));
            return;
        case ')':
            push(make(Kind::TUPLE));
            return;
        case 't':
        case 'l': {
            const size_t k = pop_mark();
            Obj* o = make(op == 't' ? Kind::TUPLE : Kind::LIST);
            o->items.assign(stack_.begin() + static_cast<ptrdiff_t>(k), stack_.end());
            stack_.resize(k);
            push(o);
            return;
        }
        case 'd': {
            const size_t k = pop_mark();
            if ((stack_.size() - k) % 2) fail("odd number of items for a dict");
            Obj* o = make(Kind::DICT);
            for (size_t j = k; j < stack_.size(); j += 2)
                o->entries.emplace_back(stack_[j], stack_[j + 1]);
            stack_.resize(k);
            push(o);
            return;
        }
        case 0x85:
        case 0x86:
        case 0x87: {
            const size_t n = op - 0x84u;
            if (stack_.size() < floor() + n) fail("stack underflow");
            Obj* o = make(Kind::TUPLE);
            o->items.assign(stack_.end() - static_cast<ptrdiff_t>(n), stack_.end());
            stack_.resize(stack_.size() - n);
            push(o);
            return;
        }
        case 'q':
            memo_put(u8());
            return;
        case 'r':
            memo_put(le(4));
            return;
        case 0x94:
            memo_put(memo_.size());
            return;
        case 'h':
        case 'j': {
            const uint64_t key = op == 'h' ? u8() : le(4);
            auto it = memo_.find(key);
            if (it == memo_.end()) fail("memo key " + std::to_string(key) + " is not defined");
            push(it->second);
            return;
        }
        case 'J':
            push(make_int(static_cast<int32_t>(static_cast<uint32_t>(le(4)))));
            return;
        case 'K':
            push(make_int(u8()));
            return;
        case 'M':
            push(make_int(static_cast<int64_t>(le(2))));
            return;
        case 0x8a:
        case 0x8b: {  // LONG1 / LONG4: little-endian two's complement of n bytes
            const uint64_t n = op == 0x8a ? u8() : le(4);
            if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
            const int bytes = static_cast<int>(n);
            uint64_t v = bytes ? le(bytes) : 0;
            if (bytes > 0 && bytes < 8 && (v >> (8 * bytes - 1)) & 1)
                v |= ~uint64_t{0} << (8 * bytes);  // sign-extend
            push(make_int(static_cast<int64_t>(v)));
            return;
        }
        case 'X':
        case 0x8c:
        case 0x8d:
        case 'U':
        case 'T':
        case 'C':
        case 'B':
        case 0x8e: {
            uint64_t n;
            if (op == 0x8c || op == 'U' || op == 'C') {
                n = u8();
            } else if (op == 0x8d || op == 0x8e) {
                n = le(8);
            } else {
                n = le(4);
                if (op == 'T' && (n >> 31)) fail("negative string length");
            }
            const uint8_t* p = take(n);
            const bool text = op == 'X' || op == 0x8c || op == 0x8d || op == 'U' || op == 'T';
            Obj* o = make(text ? Kind::STR : Kind::BYTES);
            o->s.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
            push(o);
            return;
        }
        case 0x88:
        case 0x89: {
            Obj* o = make(Kind::BOOL);
            o->flag = op == 0x88;
            push(o);
            return;
        }
        case 'N':
            push(make(Kind::NONE));
            return;
        case 'G': {  // BINFLOAT: big-endian IEEE double
            const uint8_t* p = take(8);
            uint64_t bits = 0;
            for (int k = 0; k < 8; ++k) bits = (bits << 8) | p[k];
            Obj* o = make(Kind::FLOAT);
            std::memcpy(&o->f, &bits, sizeof bits);
            push(o);
            return;
        }
        case 's': {
            Obj* value = pop();
            Obj* key = pop();
            Obj* d = top();
            if (d->kind != Kind::DICT) fail("SETITEM on " + a_kind(d->kind));
            d->entries.emplace_back(key, value);
            return;
        }
        case 'u': {
            const size_t k = pop_mark();
            Obj* d = below(k);
            if (d->kind != Kind::DICT) fail("SETITEMS on " + a_kind(d->kind));
            if ((stack_.size() - k) % 2) fail("odd number of items for SETITEMS");
            for (size_t j = k; j < stack_.size(); j += 2)
                d->entries.emplace_back(stack_[j], stack_[j + 1]);
            stack_.resize(k);
            return;
        }
        case 'a': {
            Obj* value = pop();
            Obj* l = top();
            if (l->kind != Kind::LIST) fail("APPEND on " + a_kind(l->kind));
            l->items.push_back(value);
            return;
        }
        case 'e': {
            const size_t k = pop_mark();
            Obj* l = below(k);
            if (l->kind != Kind::LIST) fail("APPENDS on " + a_kind(l->kind));
            l->items.insert(l->items.end(), stack_.begin() + static_cast<ptrdiff_t>(k),
                            stack_.end());
            stack_.resize(k);
            return;
        }
        case 'c': {
            // Checked here, before anything else happens, so a hostile pickle fails on the
            // name itself.
            const std::string_view module = text_line();
            const std::string_view name = text_line();
            push(global(module, name));
            return;
        }
        case 0x93: {
            Obj* name = pop();
            Obj* module = pop();
            if (name->kind != Kind::STR || module->kind != Kind::STR)
                fail("STACK_GLOBAL needs two strings");
            push(global(module->s, name->s));
            return;
        }
        case 'R': {
            Obj* args = pop();
            Obj* fn = pop();
            push(call(fn, args));
            return;
        }
        case 0x81: {  // NEWOBJ: cls.__new__(cls, *args); only OrderedDict() is a state-dict class
            Obj* args = pop();
            Obj* cls = pop();
            if (cls->kind != Kind::GLOBAL || cls->global != Global::ORDERED_DICT ||
                args->kind != Kind::TUPLE || !args->items.empty())
                fail("NEWOBJ of anything but OrderedDict() is not supported");
            push(make(Kind::DICT));
            return;
        }
        case 'b': {
            // The only state a state dict carries is OrderedDict's _metadata attribute (per-module
            // versions), which loading does not need.
            Obj* state = pop();
            Obj* o = top();
            (void)state;
            if (o->kind != Kind::DICT && o->kind != Kind::TENSOR)
                fail("BUILD on " + a_kind(o->kind) + " is not supported");
            return;
        }
        case 'Q': {
            Obj* pid = pop();
            push(persistent_load(pid));
            return;
        }
        default:
            fail(op_name(op) ? "opcode is not supported in a state dict" : "unknown opcode");
    }
}

StateDict Unpickler::finish(Obj* result) {
    if (result->kind != Kind::DICT)
        fail("the pickle holds " + a_kind(result->kind) + ", not a dict of tensors");
    // Python dict semantics: a repeated key keeps its first position and takes the last value.
    std::vector<std::pair<std::string, Obj*>> items;
    std::unordered_map<std::string_view, size_t> seen;
    items.reserve(result->entries.size());
    for (const auto& [key, value] : result->entries) {
        if (key->kind != Kind::STR)
            fail("a state-dict key is " + a_kind(key->kind) + ", not a string");
        if (value->kind != Kind::TENSOR)
            fail("'" + printable(key->s) + "' maps to " + a_kind(value->kind) + ", not a tensor");
        auto [it, fresh] = seen.emplace(key->s, items.size());
        if (fresh)
            items.emplace_back(key->s, value);
        else
            items[it->second].second = value;
    }
    StateDict sd;
    for (auto& [name, value] : items) sd.insert(name, tensors_[value->tensor]);
    return sd;
}

StateDict Unpickler::run() {
    for (;;) {
        op_pos_ = pos_;
        if (pos_ >= bytes_.size()) {
            at_end_ = true;
            fail("the pickle ends without a STOP opcode (truncated?)");
        }
        op_ = bytes_[pos_++];
        if (op_ == '.') {
            Obj* result = top();
            return finish(result);
        }
        step(op_);
    }
}

}  // namespace

StateDict unpickle_state_dict(std::span<const uint8_t> pickle, const StorageLoader& load_storage,
                              std::string_view source) {
    Unpickler vm(pickle, load_storage, source);
    return vm.run();
}

}  // namespace ft
