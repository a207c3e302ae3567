// load_dataset: an ordered chain of lookup steps (local path, data_files, GLUE data_dir,
// registered sources such as the HF cache and hub, the embedded glue/cola), first hit wins.
#include <algorithm>
#include <mutex>

#include "data/hub_dataset_source.h"
#include "finetune/data.h"
#include "finetune/io.h"

extern "C" {
extern const char ft_embedded_cola_train_begin[], ft_embedded_cola_train_end[];
extern const char ft_embedded_cola_dev_begin[], ft_embedded_cola_dev_end[];
extern const char ft_embedded_cola_test_begin[], ft_embedded_cola_test_end[];
}

namespace ft {

namespace {

bool is_glue_name(const std::string& name) {
    return name == "glue" || name == "nyu-mll/glue";
}

std::string lower_ext(const fs::path& p) {
    std::string e = p.extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
    return e;
}

// The by-extension table: every file type load_dataset reads without being told the format.
struct FileType {
    const char* ext;
    Dataset (*read)(const fs::path&);
};
Dataset read_csv_file(const fs::path& p) {
    return read_csv(p);
}
Dataset read_tsv_file(const fs::path& p) {
    return read_csv(p, '\t');
}
constexpr FileType FILE_TYPES[] = {
    {".csv", read_csv_file},
    {".tsv", read_tsv_file},
    {".json", read_json},
    {".jsonl", read_json},
    {".parquet", read_parquet_dataset},
    {".conllu", read_conllu},
    {".conll", read_conll},
};

const FileType* file_type(const fs::path& p) {
    const std::string e = lower_ext(p);
    for (const FileType& t : FILE_TYPES)
        if (e == t.ext) return &t;
    return nullptr;
}

std::string known_extensions() {
    std::string s;
    for (const FileType& t : FILE_TYPES) s += (s.empty() ? "" : ", ") + std::string(t.ext);
    return s;
}

bool is_data_file(const fs::path& p) {
    return file_type(p) != nullptr;
}

// HF's split keywords for files in a data directory: the keyword at the start of the stem or
// after a separator, and followed by a separator or the end (train-00000-of-00001, dev.tsv,
// test_2.csv, en_ewt-ud-train.conllu), as datasets' "**[-._ 0-9/]train[-._ 0-9]*" patterns.
const std::vector<std::pair<std::string, std::vector<std::string>>>& split_keywords() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> k = {
        {"train", {"train", "training"}},
        {"validation", {"validation", "valid", "dev", "val"}},
        {"test", {"test", "testing", "eval", "evaluation"}}};
    return k;
}

std::string split_of(const fs::path& file) {
    std::string stem = file.stem().string();
    std::transform(stem.begin(), stem.end(), stem.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    auto is_sep = [](char c) {
        return std::string_view("-._ 0123456789").find(c) != std::string::npos;
    };
    for (const auto& [split, words] : split_keywords())
        for (const auto& w : words)
            for (size_t at = stem.find(w); at != std::string::npos; at = stem.find(w, at + 1))
                if ((at == 0 || is_sep(stem[at - 1])) &&
                    (at + w.size() == stem.size() || is_sep(stem[at + w.size()])))
                    return split;
    return {};
}

Dataset read_files(const std::vector<fs::path>& files, std::string_view builder = {}) {
    std::vector<Dataset> parts;
    for (const auto& f : files) parts.push_back(read_data_file(f, builder));
    return Dataset::concatenate(parts);
}

std::optional<DatasetDict> from_local_path(const LoadDatasetArgs& a) {
    const fs::path p = a.name_or_path;
    if (a.name_or_path.empty() || !fs::exists(p)) return std::nullopt;
    DatasetDict dd;
    if (fs::is_regular_file(p)) {
        dd.set("train", read_data_file(p));
        return dd;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && is_data_file(e.path())) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty())
        throw Error(p.string() + ": no data files (" + known_extensions() + ") in the directory");
    bool any_split = false;
    for (const auto& [split, words] : split_keywords()) {
        std::vector<fs::path> mine;
        for (const auto& f : files)
            if (split_of(f) == split) mine.push_back(f);
        if (!mine.empty()) {
            dd.set(split, read_files(mine));
            any_split = true;
        }
    }
    if (!any_split) dd.set("train", read_files(files));  // HF: no split names -> all is train
    return dd;
}

std::optional<DatasetDict> from_data_files(const LoadDatasetArgs& a) {
    if (a.data_files.empty()) return std::nullopt;
    DatasetDict dd;
    // A builder name ("conll", "conllu") reads every file with its reader, whatever the
    // extension (CoNLL-2003's train.txt); other names go by extension.
    for (const auto& [split, files] : a.data_files)
        dd.set(split, read_files(files, a.name_or_path));
    return dd;
}

std::optional<DatasetDict> from_glue_data_dir(const LoadDatasetArgs& a) {
    if (!is_glue_name(a.name_or_path) || a.data_dir.empty()) return std::nullopt;
    return load_glue_from_dir(glue_task(a.config), a.data_dir);
}

}  // namespace

bool has_embedded_copy(const LoadDatasetArgs& a) {
    return is_glue_name(a.name_or_path) && a.config == "cola";
}

namespace {

std::optional<DatasetDict> from_embedded(const LoadDatasetArgs& a) {
    if (!has_embedded_copy(a)) return std::nullopt;
    const GlueTask& task = glue_task("cola");
    auto view = [](const char* b, const char* e) {
        return std::string_view(b, static_cast<size_t>(e - b));
    };
    DatasetDict dd;
    dd.set("train",
           parse_glue_tsv(task, view(ft_embedded_cola_train_begin, ft_embedded_cola_train_end),
                          "<embedded>/glue/cola/train.tsv", false));
    dd.set("validation",
           parse_glue_tsv(task, view(ft_embedded_cola_dev_begin, ft_embedded_cola_dev_end),
                          "<embedded>/glue/cola/dev.tsv", false));
    dd.set("test",
           parse_glue_tsv(task, view(ft_embedded_cola_test_begin, ft_embedded_cola_test_end),
                          "<embedded>/glue/cola/test.tsv", true));
    return dd;
}

struct Registry {
    std::mutex mutex;
    // Steps registered by other layers (the HF datasets cache, then hub download), in order.
    std::vector<std::pair<std::string, DatasetSource>> sources;
};
Registry& registry() {
    static Registry r;
    return r;
}

}  // namespace

void add_dataset_source(std::string name, DatasetSource source) {
    std::lock_guard<std::mutex> lock(registry().mutex);
    registry().sources.emplace_back(std::move(name), std::move(source));
}

Dataset read_data_file(const fs::path& path) {
    if (const FileType* t = file_type(path)) return t->read(path);
    throw Error(path.string() + ": unknown data file type '" + lower_ext(path) + "' (" +
                known_extensions() +
                " are read; a CoNLL file of another name with the builder "
                "\"conll\" or \"conllu\")");
}

Dataset read_data_file(const fs::path& path, std::string_view builder) {
    if (builder == "conll") return read_conll(path);
    if (builder == "conllu") return read_conllu(path);
    return read_data_file(path);
}

DatasetDict load_dataset(const LoadDatasetArgs& args) {
    // The lookup order of the issue: local files first, then the given data, registered
    // sources, the hub cache, a Hub download, and last the embedded copy.
    std::vector<std::pair<std::string, DatasetSource>> chain = {
        {"local path", from_local_path},
        {"data_files", from_data_files},
        {"GLUE data_dir", from_glue_data_dir},
    };
    {
        std::lock_guard<std::mutex> lock(registry().mutex);
        chain.insert(chain.end(), registry().sources.begin(), registry().sources.end());
    }
    chain.emplace_back("hub cache", from_hub_cache);
    chain.emplace_back("Hub download", from_hub_download);
    chain.emplace_back("embedded glue/cola", from_embedded);
    if (is_glue_name(args.name_or_path)) glue_task(args.config);  // an unknown config fails here
    std::string tried;
    for (const auto& [name, source] : chain) {
        if (auto dd = source(args)) return std::move(*dd);
        tried += (tried.empty() ? "" : ", ") + name;
    }
    std::string what = args.name_or_path + (args.config.empty() ? "" : "/" + args.config);
    std::string hint = is_glue_name(args.name_or_path)
                           ? " (pass data_dir with the GLUE TSVs; only glue/cola is embedded)"
                           : "";
    throw Error("dataset '" + what + "' not found; tried: " + tried + hint);
}

DatasetDict load_dataset(const std::string& name_or_path, const std::string& config,
                         const fs::path& data_dir) {
    LoadDatasetArgs a;
    a.name_or_path = name_or_path;
    a.config = config;
    a.data_dir = data_dir;
    return load_dataset(a);
}

}  // namespace ft
