// safetensors in and out, single-file and sharded (model.safetensors.index.json), as HF writes
// them. Reading validates the header completely before handing out zero-copy views, because the
// bytes come from the Hub or a user's disk and a bad header must be an ft::Error, never a crash.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "finetune/io.h"

namespace ft {

// The format stores the header length and every tensor little-endian; we copy bytes as they are.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes little-endian");

namespace {

using json = nlohmann::json;

// HF's reader refuses headers above 100 MB; a larger one is corrupt or hostile, not a model.
constexpr uint64_t MAX_HEADER_BYTES = 100'000'000;
constexpr std::string_view METADATA_KEY = "__metadata__";
constexpr std::string_view INDEX_NAME = "model.safetensors.index.json";

[[noreturn]] void fail(std::string_view source, const std::string& msg) {
    throw Error(std::string(source) + ": " + msg);
}

[[noreturn]] void fail_tensor(std::string_view source, const std::string& name,
                              const std::string& msg) {
    fail(source, "tensor '" + name + "': " + msg);
}

std::string json_type(const json& j) {
    return j.type_name();
}

// A SAX pass over the header before the DOM parse. It rejects duplicate keys in any object
// (nlohmann would silently keep the last one, and two entries for one tensor name make the file
// ambiguous) and records the order of the top-level keys, which std::map-backed json objects
// forget. nlohmann's callback parser could do both, but it rescans the parent object after every
// nested object, which is quadratic in the number of tensors: a hostile header would hang us.
class KeyChecker : public nlohmann::json_sax<json> {
  public:
    KeyChecker(std::string_view source, std::vector<std::string>* top_level_keys)
        : source_(source), top_level_keys_(top_level_keys) {}

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
        seen_.emplace_back();
        return true;
    }
    bool key(string_t& k) override {
        if (!seen_.back().insert(k).second)
            fail(source_, "duplicate key '" + k + "' in JSON header");
        if (seen_.size() == 1 && depth_in_arrays_ == 0 && top_level_keys_)
            top_level_keys_->push_back(k);
        return true;
    }
    bool end_object() override {
        seen_.pop_back();
        return true;
    }
    // Arrays matter only for telling the top-level object's keys from those of objects nested in
    // arrays at the top level (which the caller rejects anyway).
    bool start_array(std::size_t) override {
        if (seen_.empty()) ++depth_in_arrays_;
        return true;
    }
    bool end_array() override {
        if (seen_.empty()) --depth_in_arrays_;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const json::exception& e) override {
        // Covers syntax errors and strings that are not valid UTF-8.
        fail(source_, std::string("invalid JSON: ") + e.what());
    }

  private:
    std::string_view source_;
    std::vector<std::string>* top_level_keys_;
    std::vector<std::set<std::string>> seen_;  // one key set per object being parsed
    int depth_in_arrays_ = 0;
};

json parse_json_strict(std::string_view text, std::string_view source,
                       std::vector<std::string>* top_level_keys) {
    KeyChecker checker(source, top_level_keys);
    json::sax_parse(text.begin(), text.end(), &checker);
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {  // not expected after the SAX pass accepted the text
        fail(source, std::string("invalid JSON: ") + e.what());
    }
}

uint64_t read_u64_le(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// Reads a non-negative JSON integer; false for anything else (negative numbers, floats such as
// 3.0, strings, ...), since offsets and dimensions written as floats are not what HF writes.
bool json_to_u64(const json& j, uint64_t* out) {
    if (j.is_number_unsigned()) {
        *out = j.get<uint64_t>();
        return true;
    }
    if (j.is_number_integer()) {  // signed storage: nlohmann uses it only for negative literals
        const int64_t v = j.get<int64_t>();
        if (v < 0) return false;
        *out = static_cast<uint64_t>(v);
        return true;
    }
    return false;
}

struct Span {
    uint64_t begin, end;
    const std::string* name;
};

// Validates one header entry and returns its view into `data`.
Tensor parse_entry(std::string_view source, const std::string& name, const json& entry,
                   std::span<const uint8_t> data, const std::shared_ptr<const void>& owner,
                   std::vector<Span>* spans) {
    if (!entry.is_object())
        fail_tensor(source, name, "header entry is a JSON " + json_type(entry) + ", not an object");
    for (const char* field : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(field))
            fail_tensor(source, name, std::string("missing \"") + field + "\"");

    const json& jdtype = entry["dtype"];
    if (!jdtype.is_string())
        fail_tensor(source, name, "\"dtype\" is a JSON " + json_type(jdtype) + ", not a string");
    DType dtype;
    const auto& dtype_str = jdtype.get_ref<const std::string&>();
    if (!dtype_from_name(dtype_str, &dtype))
        fail_tensor(source, name, "unknown dtype '" + dtype_str + "'");

    const json& jshape = entry["shape"];
    if (!jshape.is_array())
        fail_tensor(source, name, "\"shape\" is a JSON " + json_type(jshape) + ", not an array");
    if (jshape.size() > static_cast<size_t>(MAX_DIMS))
        fail_tensor(source, name,
                    "shape has " + std::to_string(jshape.size()) + " dimensions; at most " +
                        std::to_string(MAX_DIMS) + " are supported");
    Shape shape;
    uint64_t numel = 1;
    for (const json& jd : jshape) {
        if (jd.is_number_integer() && !jd.is_number_unsigned() && jd.get<int64_t>() < 0)
            fail_tensor(source, name,
                        "negative dimension " + std::to_string(jd.get<int64_t>()) + " in shape " +
                            jshape.dump());
        uint64_t d;
        if (!json_to_u64(jd, &d))
            fail_tensor(source, name, "shape " + jshape.dump() + " holds a non-integer dimension");
        if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
            __builtin_mul_overflow(numel, d, &numel))
            fail_tensor(source, name, "shape " + jshape.dump() + " overflows 64 bits");
        shape.dims[shape.ndim++] = static_cast<int64_t>(d);
    }
    uint64_t nbytes;
    if (numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(dtype)), &nbytes))
        fail_tensor(source, name, "shape " + jshape.dump() + " overflows 64 bits");

    const json& joff = entry["data_offsets"];
    uint64_t begin, end;
    if (!joff.is_array() || joff.size() != 2 || !json_to_u64(joff[0], &begin) ||
        !json_to_u64(joff[1], &end))
        fail_tensor(
            source, name,
            "\"data_offsets\" must be [begin, end] with non-negative integers, got " + joff.dump());
    if (begin > end)
        fail_tensor(
            source, name,
            "data_offsets begin " + std::to_string(begin) + " is after end " + std::to_string(end));
    if (end > data.size())
        fail_tensor(source, name,
                    "data_offsets end " + std::to_string(end) + " is past the end of the data (" +
                        std::to_string(data.size()) + " bytes; file truncated?)");
    if (end - begin != nbytes)
        fail_tensor(source, name,
                    "shape " + shape.str() + " of " + dtype_str + " needs " +
                        std::to_string(nbytes) + " bytes but data_offsets [" +
                        std::to_string(begin) + ", " + std::to_string(end) + "] span " +
                        std::to_string(end - begin) + " bytes");
    if (end > begin) spans->push_back({begin, end, &name});

    // The views are read-only in practice (the mapping is PROT_READ); Tensor has no const flavour.
    auto* p = const_cast<uint8_t*>(data.data()) + begin;
    return Tensor::view(p, dtype, shape, owner);
}

void check_no_overlap(std::string_view source, std::vector<Span>& spans) {
    // Holes between spans are allowed (HF's reader refuses them; we are lenient), overlaps are not:
    // two tensors sharing bytes would alias each other's storage.
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < spans.size(); ++i) {
        const Span& a = spans[i - 1];
        const Span& b = spans[i];
        if (b.begin < a.end)
            fail(source, "tensors '" + *a.name + "' [" + std::to_string(a.begin) + ", " +
                             std::to_string(a.end) + ") and '" + *b.name + "' [" +
                             std::to_string(b.begin) + ", " + std::to_string(b.end) +
                             ") overlap in the data");
    }
}

void parse_metadata(std::string_view source, const json& j,
                    std::map<std::string, std::string>* out) {
    if (j.is_null()) return;  // HF's reader accepts "__metadata__": null as no metadata
    if (!j.is_object())
        fail(source, "\"__metadata__\" is a JSON " + json_type(j) + ", not an object");
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string())
            fail(source, "\"__metadata__\" value for key '" + key + "' is a JSON " +
                             json_type(value) + ", not a string");
        (*out)[key] = value.get<std::string>();
    }
}

// JSON-escapes a string, turning nlohmann's invalid-UTF-8 error into one that names the string.
std::string json_string(const fs::path& path, const std::string& what, const std::string& s) {
    try {
        return json(s).dump();
    } catch (const json::exception&) {
        throw Error(path.string() + ": " + what + " is not valid UTF-8");
    }
}

void write_all(std::FILE* f, const void* p, size_t n, const fs::path& path) {
    if (n > 0 && std::fwrite(p, 1, n, f) != n)
        throw Error(path.string() + ": write failed: " + std::strerror(errno));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading

SafetensorsFile parse_safetensors(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner,
                                  std::string_view source) {
    if (bytes.size() < 8)
        fail(source, "file is " + std::to_string(bytes.size()) +
                         " bytes, too short for the 8-byte header length");
    const uint64_t header_len = read_u64_le(bytes.data());
    if (header_len > MAX_HEADER_BYTES)
        fail(source, "header length " + std::to_string(header_len) + " exceeds the limit of " +
                         std::to_string(MAX_HEADER_BYTES) + " bytes");
    if (header_len > bytes.size() - 8)
        fail(source, "header length " + std::to_string(header_len) +
                         " runs past the end of the file (" + std::to_string(bytes.size()) +
                         " bytes; truncated?)");

    const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8, header_len);
    std::vector<std::string> keys;
    const json header = parse_json_strict(text, source, &keys);
    if (!header.is_object())
        fail(source, "header is a JSON " + json_type(header) + ", not an object");

    const auto data = bytes.subspan(8 + header_len);
    SafetensorsFile out;
    std::vector<Span> spans;
    spans.reserve(keys.size());
    for (const std::string& name : keys) {
        const auto it = header.find(name);
        FT_ASSERT(it != header.end(), "top-level key recorded while parsing is missing");
        if (name == METADATA_KEY) {
            parse_metadata(source, *it, &out.metadata);
            continue;
        }
        out.tensors.insert(name, parse_entry(source, name, *it, data, owner, &spans));
    }
    check_no_overlap(source, spans);
    return out;
}

SafetensorsFile read_safetensors(const fs::path& path) {
    auto file = MappedFile::open(path);
    const auto bytes = file->bytes();
    return parse_safetensors(bytes, std::move(file), path.string());
}

// ---------------------------------------------------------------------------------------------
// Writing

void write_safetensors(const fs::path& path, const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata) {
    // The header is built by hand rather than as a json object so that the tensors keep the
    // StateDict's order (nlohmann objects sort their keys). The layout matches HF's writer and
    // tools/safetensors_plain.py: compact JSON, "__metadata__" first, then dtype/shape/offsets.
    std::string header = "{";
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [k, v] : metadata) {
            if (!first) header += ',';
            first = false;
            header += json_string(path, "metadata key '" + k + "'", k) + ':' +
                      json_string(path, "metadata value for '" + k + "'", v);
        }
        header += '}';
    }
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors.entries()) {
        if (name == METADATA_KEY)
            throw Error(path.string() + ": '__metadata__' is reserved and cannot name a tensor");
        for (int i = 0; i < t.shape.ndim; ++i)
            if (t.shape.dims[i] < 0)
                throw Error(path.string() + ": tensor '" + name + "' has negative shape " +
                            t.shape.str());
        if (t.numel() > 0 && !t.data)
            throw Error(path.string() + ": tensor '" + name + "' has no data");
        if (header.size() > 1) header += ',';
        const uint64_t end = offset + t.nbytes();
        header += json_string(path, "tensor name '" + name + "'", name) + ":{\"dtype\":\"" +
                  std::string(dtype_name(t.dtype)) + "\",\"shape\":[";
        for (int i = 0; i < t.shape.ndim; ++i) {
            if (i) header += ',';
            header += std::to_string(t.shape.dims[i]);
        }
        header +=
            "],\"data_offsets\":[" + std::to_string(offset) + ',' + std::to_string(end) + "]}";
        offset = end;
    }
    header += '}';
    // Spaces pad the header so the data section starts 8-byte aligned in the file (and therefore
    // in a page-aligned mapping), which keeps f64/i64 views aligned when spans are packed.
    header.append((8 - header.size() % 8) % 8, ' ');

    write_file_atomic(path, [&](std::FILE* f) {
        uint8_t len[8];
        uint64_t n = header.size();
        for (int i = 0; i < 8; ++i, n >>= 8) len[i] = static_cast<uint8_t>(n & 0xff);
        write_all(f, len, 8, path);
        write_all(f, header.data(), header.size(), path);
        for (const auto& [name, t] : tensors.entries()) {
            if (t.numel() == 0) continue;
            if (t.is_contiguous()) {
                write_all(f, t.data, t.nbytes(), path);
            } else {
                // One tensor at a time, so a strided model costs one tensor of extra memory.
                const Tensor c = t.contiguous_copy();
                write_all(f, c.data, c.nbytes(), path);
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Sharded

SafetensorsFile read_safetensors_sharded(const fs::path& index_path) {
    const std::string source = index_path.string();
    const json index = parse_json_strict(read_text_file(index_path), source, nullptr);
    if (!index.is_object()) fail(source, "index is a JSON " + json_type(index) + ", not an object");
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
        fail(source, "missing \"weight_map\" object");

    // Shards in file-name order: HF's zero-padded names make that the order they were written.
    std::map<std::string, std::vector<std::string>> by_shard;
    const json& weight_map = index["weight_map"];
    for (const auto& [name, file] : weight_map.items()) {
        if (!file.is_string())
            fail(source, "weight_map entry for tensor '" + name + "' is a JSON " + json_type(file) +
                             ", not a file name");
        by_shard[file.get<std::string>()].push_back(name);
    }

    SafetensorsFile out;
    const fs::path dir = index_path.parent_path();
    for (const auto& [file, names] : by_shard) {
        const fs::path rel(file);
        // The index comes with a download; it must not point outside its own directory.
        if (rel.empty() || rel.is_absolute() ||
            std::any_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; }))
            fail(source, "shard file name '" + file + "' (tensor '" + names.front() +
                             "') must be a path inside the index's directory");
        const fs::path shard_path = dir / rel;
        std::error_code ec;
        if (!fs::exists(shard_path, ec))
            fail(source, "shard file '" + file + "' (holding tensor '" + names.front() +
                             "') does not exist");
        SafetensorsFile shard = read_safetensors(shard_path);
        for (const std::string& name : names)
            if (!shard.tensors.contains(name))
                fail(source, "tensor '" + name + "' is mapped to shard '" + file +
                                 "', which does not contain it");
        for (auto& [name, t] : shard.tensors.entries()) {
            const auto it = weight_map.find(name);
            if (it == weight_map.end() || it->get_ref<const std::string&>() != file)
                fail(shard_path.string(), "tensor '" + name + "' is in this shard but " + source +
                                              " does not map it here");
            out.tensors.insert(name, t);
        }
        // Shard metadata (HF writes {"format": "pt"} into each); the first shard's value wins.
        for (auto& [k, v] : shard.metadata) out.metadata.emplace(k, v);
    }

    // The index's own metadata overrides; non-string values (HF's numeric total_size) become
    // their JSON text, since SafetensorsFile metadata is string to string.
    if (index.contains("metadata") && !index["metadata"].is_null()) {
        const json& m = index["metadata"];
        if (!m.is_object())
            fail(source, "\"metadata\" is a JSON " + json_type(m) + ", not an object");
        for (const auto& [k, v] : m.items())
            out.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
    return out;
}

void write_safetensors_sharded(const fs::path& dir, const StateDict& tensors,
                               size_t max_shard_bytes,
                               const std::map<std::string, std::string>& metadata) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(dir.string() + ": cannot create directory: " + ec.message());

    // Greedy in StateDict order, like HF's shard_checkpoint: start a new shard when the next
    // tensor would overflow the current one, unless the current one is empty (a tensor larger
    // than the limit gets a shard of its own; tensors are never split).
    std::vector<std::vector<size_t>> shards(1);
    size_t shard_bytes = 0;
    uint64_t total = 0;
    const auto& entries = tensors.entries();
    for (size_t i = 0; i < entries.size(); ++i) {
        const size_t n = entries[i].second.nbytes();
        if (!shards.back().empty() && shard_bytes + n > max_shard_bytes) {
            shards.emplace_back();
            shard_bytes = 0;
        }
        shards.back().push_back(i);
        shard_bytes += n;
        total += n;
    }

    json weight_map = json::object();
    const size_t count = shards.size();
    for (size_t s = 0; s < count; ++s) {
        char file[64];
        std::snprintf(file, sizeof file, "model-%05zu-of-%05zu.safetensors", s + 1, count);
        StateDict part;  // views only; no tensor data is copied here
        for (size_t i : shards[s]) {
            part.insert(entries[i].first, entries[i].second);
            weight_map[entries[i].first] = file;
        }
        write_safetensors(dir / file, part, metadata);
    }

    // Written last, so a reader never sees an index naming shards that are not there yet.
    // Same shape as HF's: sorted keys, two-space indent.
    const json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    std::string text;
    try {
        text = index.dump(2) + "\n";
    } catch (const json::exception&) {
        throw Error((dir / INDEX_NAME).string() + ": a tensor name is not valid UTF-8");
    }
    write_text_atomic(dir / INDEX_NAME, text);
}

}  // namespace ft
