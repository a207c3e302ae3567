// finetune/io.h — model files in and out: safetensors (single and sharded), pytorch_model.bin
// (read-only, through a restricted unpickler that never executes anything), atomic file writes
// and JSON helpers. Tensors come back as ft::Tensor views that keep their file alive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "finetune/core.h"

namespace ft {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// StateDict: named tensors in insertion order (the order a file lists them), with lookup by name.

class StateDict {
  public:
    void insert(const std::string& name, Tensor t);  // throws ft::Error on a duplicate name
    const Tensor* find(const std::string& name) const;
    Tensor* find(const std::string& name);
    const Tensor& at(const std::string& name) const;  // throws ft::Error naming the key
    bool contains(const std::string& name) const { return find(name) != nullptr; }
    bool erase(const std::string& name);

    size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    const std::vector<std::pair<std::string, Tensor>>& entries() const { return entries_; }
    std::vector<std::string> names() const;

  private:
    std::vector<std::pair<std::string, Tensor>> entries_;
    std::map<std::string, size_t, std::less<>> index_;
};

// ---------------------------------------------------------------------------------------------
// Files.

// A read-only memory mapping of a whole file; shared so tensors can keep it alive.
class MappedFile {
  public:
    static std::shared_ptr<MappedFile> open(const fs::path& path);  // throws ft::Error
    ~MappedFile();
    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    const fs::path& path() const { return path_; }

  private:
    MappedFile() = default;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    fs::path path_;
};

// Writes `path` atomically: `write` fills a temporary file beside it (flushed and fsync'd), which
// is then renamed over `path`. On any exception the temporary is removed and `path` is untouched.
void write_file_atomic(const fs::path& path, const std::function<void(std::FILE*)>& write);
void write_text_atomic(const fs::path& path, std::string_view text);
std::string read_text_file(const fs::path& path);  // throws ft::Error naming the file

// ---------------------------------------------------------------------------------------------
// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
// then the data. Reading maps the file and returns zero-copy views.

struct SafetensorsFile {
    StateDict tensors;
    std::map<std::string, std::string> metadata;
};

// Reads and validates a file (header bound, JSON, dtypes, shape x dtype size == span, spans
// inside the data and non-overlapping). Each violation is an ft::Error naming file and tensor.
SafetensorsFile read_safetensors(const fs::path& path);
// Same validation on bytes already in memory; `owner` keeps them alive for the returned views.
// `source` names the bytes in error messages.
SafetensorsFile parse_safetensors(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner,
                                  std::string_view source);
// Writes tensors (made contiguous) in the given order, 8-byte aligned header, atomically.
void write_safetensors(const fs::path& path, const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The sharded form: model.safetensors.index.json {"metadata": {...}, "weight_map": {name: file}}.
SafetensorsFile read_safetensors_sharded(const fs::path& index_path);
// Splits into shards of at most max_shard_bytes (one tensor never split), named like HF:
// model-00001-of-0000N.safetensors, plus the index with metadata.total_size.
void write_safetensors_sharded(const fs::path& dir, const StateDict& tensors,
                               size_t max_shard_bytes,
                               const std::map<std::string, std::string>& metadata = {});

// ---------------------------------------------------------------------------------------------
// pytorch_model.bin (torch >= 1.6 zip format): <prefix>/data.pkl, <prefix>/data/<key> storages.
// The unpickler understands only what state dicts use and imports or executes nothing.

StateDict read_pytorch_bin(const fs::path& path);

// The unpickler alone, for tests and fuzzing: `load_storage(key, dtype, numel)` returns the
// bytes of one storage record (or throws). `source` names the pickle in error messages.
using StorageLoader = std::function<Tensor(const std::string& key, DType dtype, int64_t numel)>;
StateDict unpickle_state_dict(std::span<const uint8_t> pickle, const StorageLoader& load_storage,
                              std::string_view source);

}  // namespace ft
