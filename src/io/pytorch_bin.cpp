// Reads pytorch_model.bin (torch >= 1.6 zip format): <prefix>/data.pkl goes through the
// restricted unpickler and each storage <prefix>/data/<key> becomes a tensor. Storages that the
// zip keeps uncompressed are zero-copy views into the memory-mapped file.
#include <zip.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "finetune/io.h"

namespace ft {
namespace {

// What a legacy (torch < 1.6 or _use_new_zipfile_serialization=False) file starts with: pickle
// protocol 2 and a LONG1 holding torch's magic number 0x1950a86a20f9469cfc6c.
constexpr uint8_t LEGACY_MAGIC[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                    0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
// Deflate cannot expand by much more than 1032:1; a record that claims more is lying.
constexpr uint64_t MAX_DEFLATE_RATIO = 1100;
constexpr uint64_t MAX_PICKLE_BYTES = uint64_t{1} << 31;

// A libzip source over the mapped bytes that remembers where its latest read landed. After one
// small read of an uncompressed entry that is where the entry's data starts in the file, which
// libzip does not otherwise tell; the tensor can then point straight into the mapping.
struct MappedSource {
    std::span<const uint8_t> bytes;
    uint64_t pos = 0;
    uint64_t reads = 0;
    uint64_t last_read_at = 0;
    uint64_t last_read_len = 0;
    zip_error_t error;
};

zip_int64_t mapped_source_cb(void* user, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    auto* s = static_cast<MappedSource*>(user);
    const uint64_t size = s->bytes.size();  // only read: the source outlives the archive
    switch (cmd) {
        case ZIP_SOURCE_OPEN:
            s->pos = 0;
            return 0;
        case ZIP_SOURCE_READ: {
            const uint64_t n = std::min<uint64_t>(len, size - std::min(s->pos, size));
            if (n) std::memcpy(data, s->bytes.data() + s->pos, n);
            ++s->reads;
            s->last_read_at = s->pos;
            s->last_read_len = n;
            s->pos += n;
            return static_cast<zip_int64_t>(n);
        }
        case ZIP_SOURCE_CLOSE:
            return 0;
        case ZIP_SOURCE_STAT: {
            auto* st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &s->error);
            if (!st) return -1;
            zip_stat_init(st);
            st->size = size;
            st->comp_size = size;
            st->comp_method = ZIP_CM_STORE;
            st->encryption_method = ZIP_EM_NONE;
            st->valid |= ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
                         ZIP_STAT_ENCRYPTION_METHOD;
            return sizeof(zip_stat_t);
        }
        case ZIP_SOURCE_ERROR:
            return zip_error_to_data(&s->error, data, len);
        case ZIP_SOURCE_FREE:
            return 0;  // the MappedSource belongs to the reader
        case ZIP_SOURCE_SEEK: {
            const zip_int64_t p =
                zip_source_seek_compute_offset(s->pos, size, data, len, &s->error);
            if (p < 0) return -1;
            s->pos = static_cast<uint64_t>(p);
            return 0;
        }
        case ZIP_SOURCE_TELL:
            return static_cast<zip_int64_t>(s->pos);
        case ZIP_SOURCE_SUPPORTS:
            return ZIP_SOURCE_SUPPORTS_SEEKABLE;
        default:
            zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0);
            return -1;
    }
}

struct ZipCloser {
    void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
    void operator()(zip_file_t* f) const { zip_fclose(f); }
};

class BinReader {
  public:
    explicit BinReader(const fs::path& path) : path_(path) {}
    StateDict read();

  private:
    // Inside the unpickler the message gets the pickle's name (which includes the path) and
    // position, so the path is not repeated.
    [[noreturn]] void fail(const std::string& msg) const {
        throw Error(unpickling_ ? msg : path_.string() + ": " + msg);
    }
    std::string zip_message() const { return zip_strerror(zip_.get()); }
    zip_stat_t stat_entry(zip_int64_t index, const std::string& name);
    std::unique_ptr<zip_file_t, ZipFileCloser> open_entry(zip_int64_t index,
                                                          const std::string& name);
    // Decompresses (or copies) the next `n` bytes of an open entry into `out`.
    void read_some(zip_file_t* f, const std::string& name, void* out, uint64_t n);
    void read_entry(zip_int64_t index, const std::string& name, void* out, uint64_t n) {
        read_some(open_entry(index, name).get(), name, out, n);
    }
    Tensor load_storage(const std::string& key, DType dtype, int64_t numel);

    fs::path path_;
    std::shared_ptr<MappedFile> file_;
    MappedSource source_;
    std::unique_ptr<zip_t, ZipCloser> zip_;
    std::string prefix_;
    bool unpickling_ = false;
};

zip_stat_t BinReader::stat_entry(zip_int64_t index, const std::string& name) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0)
        fail("cannot read zip entry '" + name + "': " + zip_message());
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) ||
        !(st.valid & ZIP_STAT_COMP_METHOD))
        fail("zip entry '" + name + "' has no size");
    return st;
}

std::unique_ptr<zip_file_t, ZipFileCloser> BinReader::open_entry(zip_int64_t index,
                                                                 const std::string& name) {
    std::unique_ptr<zip_file_t, ZipFileCloser> f(
        zip_fopen_index(zip_.get(), static_cast<zip_uint64_t>(index), 0));
    if (!f) fail("cannot open zip entry '" + name + "': " + zip_message());
    return f;
}

void BinReader::read_some(zip_file_t* f, const std::string& name, void* out, uint64_t n) {
    uint64_t done = 0;
    while (done < n) {
        const zip_int64_t got = zip_fread(f, static_cast<uint8_t*>(out) + done, n - done);
        if (got < 0) fail("cannot read zip entry '" + name + "': " + zip_file_strerror(f));
        if (got == 0) break;
        done += static_cast<uint64_t>(got);
    }
    if (done != n)
        fail("zip entry '" + name + "' ends after " + std::to_string(done) + " of " +
             std::to_string(n) + " bytes (truncated or corrupt)");
}

Tensor BinReader::load_storage(const std::string& key, DType dtype, int64_t numel) {
    const std::string name = prefix_ + "/data/" + key;
    const zip_int64_t index = zip_name_locate(zip_.get(), name.c_str(), 0);
    if (index < 0)
        fail("storage record '" + name + "' for key '" + key + "' is missing from the archive");
    const zip_stat_t st = stat_entry(index, name);
    const size_t es = dtype_size(dtype);
    const uint64_t need = static_cast<uint64_t>(numel) * es;  // numel < 2^60, checked by caller
    if (st.size < need)
        fail("storage record '" + name + "' (key '" + key + "') holds " + std::to_string(st.size) +
             " bytes but its " + std::to_string(numel) + " " + std::string(dtype_name(dtype)) +
             " elements need " + std::to_string(need) + " bytes");
    if (need == 0) return Tensor::empty(dtype, Shape{0});

    if (st.comp_method == ZIP_CM_STORE &&
        (!(st.valid & ZIP_STAT_ENCRYPTION_METHOD) || st.encryption_method == ZIP_EM_NONE)) {
        // Read a few bytes through libzip and see where in the file they came from.
        uint8_t probe[64];
        const uint64_t k = std::min<uint64_t>(sizeof probe, need);
        const auto f = open_entry(index, name);  // reads the local header
        const uint64_t reads_before = source_.reads;
        read_some(f.get(), name, probe, k);
        const uint64_t at = source_.last_read_at;
        const auto bytes = file_->bytes();
        if (source_.reads == reads_before + 1 && source_.last_read_len == k && at <= bytes.size() &&
            need <= bytes.size() - at) {
            const uint8_t* p = bytes.data() + at;
            if (std::memcmp(p, probe, k) == 0 && reinterpret_cast<uintptr_t>(p) % es == 0)
                return Tensor::view(const_cast<uint8_t*>(p), dtype, Shape{numel}, file_);
        }
    } else if (need > st.comp_size * MAX_DEFLATE_RATIO + (uint64_t{1} << 20)) {
        fail("storage record '" + name + "' claims " + std::to_string(st.size) +
             " bytes from only " + std::to_string(st.comp_size) + " compressed bytes");
    }
    // Compressed, encrypted-looking or misaligned: an owned copy.
    Tensor t = Tensor::empty(dtype, Shape{numel});
    read_entry(index, name, t.data, need);
    return t;
}

StateDict BinReader::read() {
    file_ = MappedFile::open(path_);
    const auto bytes = file_->bytes();

    if (bytes.size() >= sizeof LEGACY_MAGIC &&
        std::memcmp(bytes.data(), LEGACY_MAGIC, sizeof LEGACY_MAGIC) == 0)
        fail(
            "this is the legacy (pre-1.6) torch.save format, which is not supported; re-save it "
            "with torch>=1.6: torch.save(torch.load(f), f)");
    const bool zip_magic = bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' &&
                           ((bytes[2] == 3 && bytes[3] == 4) || (bytes[2] == 5 && bytes[3] == 6));
    if (!zip_magic)
        fail(
            "not a PyTorch checkpoint: neither a zip archive (torch>=1.6 format) nor the legacy "
            "torch.save format");

    source_.bytes = bytes;
    zip_error_init(&source_.error);
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_function_create(mapped_source_cb, &source_, &err);
    if (!src) fail(std::string("cannot read the zip archive: ") + zip_error_strerror(&err));
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY, &err);
    if (!z) {
        zip_source_free(src);
        const std::string msg = zip_error_strerror(&err);
        zip_error_fini(&err);
        fail("not a valid zip archive (truncated or corrupt?): " + msg);
    }
    zip_error_fini(&err);
    zip_.reset(z);

    // Exactly one <prefix>/data.pkl at the top level: "archive" in new torch, the file stem in old.
    const zip_int64_t count = zip_get_num_entries(z, 0);
    zip_int64_t pkl_index = -1;
    for (zip_int64_t i = 0; i < count; ++i) {
        const char* n = zip_get_name(z, static_cast<zip_uint64_t>(i), 0);
        if (!n) continue;
        const std::string_view name(n);
        const size_t slash = name.find('/');
        if (slash == std::string_view::npos || slash == 0 || name.substr(slash) != "/data.pkl")
            continue;
        if (pkl_index >= 0)
            fail("the archive holds more than one data.pkl ('" + prefix_ + "/data.pkl' and '" +
                 std::string(name) + "')");
        pkl_index = i;
        prefix_ = std::string(name.substr(0, slash));
    }
    if (pkl_index < 0)
        fail(
            "zip archive has no <folder>/data.pkl; data.pkl is missing, so this is not a "
            "torch.save checkpoint");

    // torch >= 2.1 records the byte order; storages are read as little-endian.
    const std::string order_name = prefix_ + "/byteorder";
    const zip_int64_t order_index = zip_name_locate(z, order_name.c_str(), 0);
    if (order_index >= 0) {
        const zip_stat_t st = stat_entry(order_index, order_name);
        if (st.size > 16) fail("'" + order_name + "' is not 'little' or 'big'");
        std::string order(static_cast<size_t>(st.size), '\0');
        read_entry(order_index, order_name, order.data(), st.size);
        if (order != "little")
            fail("storages are stored '" + order + "'-endian; only little-endian is supported");
    }

    const std::string pkl_name = prefix_ + "/data.pkl";
    const zip_stat_t st = stat_entry(pkl_index, pkl_name);
    if (st.size > MAX_PICKLE_BYTES ||
        (st.comp_method != ZIP_CM_STORE && st.size > st.comp_size * MAX_DEFLATE_RATIO + 4096))
        fail("'" + pkl_name + "' claims an implausible size of " + std::to_string(st.size) +
             " bytes");
    std::vector<uint8_t> pickle(static_cast<size_t>(st.size));
    read_entry(pkl_index, pkl_name, pickle.data(), st.size);

    unpickling_ = true;
    StateDict sd = unpickle_state_dict(
        pickle,
        [this](const std::string& key, DType dtype, int64_t numel) {
            return load_storage(key, dtype, numel);
        },
        path_.string() + ":" + pkl_name);
    unpickling_ = false;
    zip_.reset();
    return sd;
}

}  // namespace

StateDict read_pytorch_bin(const fs::path& path) {
    BinReader reader(path);
    return reader.read();
}

}  // namespace ft
