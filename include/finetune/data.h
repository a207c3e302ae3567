// finetune/data.h — the datasets layer, mirroring HF `datasets`: columnar Dataset and DatasetDict
// with HF's features (Value, ClassLabel, List), select / shuffle / filter / map / splits, readers
// for GLUE TSV, CSV and JSON, the GLUE task table, load_dataset, samplers and the batch collator.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "finetune/core.h"
#include "finetune/model.h"
#include "finetune/tokenizer.h"

namespace ft {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Features: what a column means, as HF declares it. Storage is coarser than the declared dtype:
// every integer Value and ClassLabel is stored as int64, float32/float64 as double (float32
// values are rounded to float on the way in, so they print as HF prints them), integer lists and
// lists of ClassLabel ids as int32, lists of strings as strings with offsets.

enum class ColumnType { STRING, INT64, FLOAT64, BOOL, INT32_LIST, STRING_LIST };

struct Feature {
    enum class Kind { VALUE, CLASS_LABEL, LIST };
    Kind kind = Kind::VALUE;
    // VALUE: HF's dtype ("string", "int64", "int32", "int8", "float32", "float64", "bool").
    // LIST: the element dtype ("int32", "int8", ..., "string"; "int64" for ClassLabel elements).
    // CLASS_LABEL: "int64".
    std::string dtype = "string";
    // CLASS_LABEL, and LIST with class_label_elements: the class names in id order.
    std::vector<std::string> names;
    bool class_label_elements = false;  // LIST only: List(ClassLabel(names=[...]))

    static Feature value(std::string dtype);  // throws ft::Error for an unknown dtype
    static Feature class_label(std::vector<std::string> names);
    // HF's Sequence(Value(dtype)) / List(Value(dtype)): integer dtypes and "string".
    static Feature list(std::string element_dtype);
    // HF's Sequence(ClassLabel(names=...)): a token-tag column (upos, ner_tags); ids as int32.
    static Feature class_label_list(std::vector<std::string> names);
    bool is_class_label_list() const { return kind == Kind::LIST && class_label_elements; }
    // The element feature of a LIST (Value(dtype) or ClassLabel(names)); throws for a non-list.
    Feature element() const;

    ColumnType storage() const;
    int64_t num_classes() const { return static_cast<int64_t>(names.size()); }
    int64_t str2int(std::string_view name) const;  // throws ft::Error naming the label
    const std::string& int2str(int64_t id) const;  // throws ft::Error for an id out of range
    // HF's repr (datasets >= 4, checked with 5.2.0, which prints a Sequence as List too):
    // Value('string'), ClassLabel(names=['a', 'b']), List(Value('int32')),
    // List(Value('string')), List(ClassLabel(names=['B-PER', 'O'])).
    std::string repr() const;
    bool operator==(const Feature& o) const = default;
};

// ---------------------------------------------------------------------------------------------
// A column: one storage vector (chosen by the feature) plus its feature.

class Column {
  public:
    Column() = default;
    static Column strings(std::vector<std::string> v, Feature f = Feature::value("string"));
    static Column int64s(std::vector<int64_t> v, Feature f = Feature::value("int64"));
    static Column float64s(std::vector<double> v, Feature f = Feature::value("float64"));
    static Column bools(std::vector<uint8_t> v, Feature f = Feature::value("bool"));
    static Column int32_lists(const std::vector<std::vector<int32_t>>& v,
                              Feature f = Feature::list("int32"));
    // Flat form of a list column: values and (rows + 1) offsets.
    static Column int32_lists(std::vector<int32_t> values, std::vector<int64_t> offsets,
                              Feature f = Feature::list("int32"));
    // Lists of strings (tokens, string tags): List(Value('string')).
    static Column string_lists(const std::vector<std::vector<std::string>>& v,
                               Feature f = Feature::list("string"));
    static Column string_lists(std::vector<std::string> values, std::vector<int64_t> offsets,
                               Feature f = Feature::list("string"));

    ColumnType type() const { return type_; }
    const Feature& feature() const { return feature_; }
    int64_t size() const;

    const std::vector<std::string>& as_strings() const;  // each throws unless the type matches
    const std::vector<int64_t>& as_int64() const;
    const std::vector<double>& as_float64() const;
    const std::vector<uint8_t>& as_bool() const;
    std::span<const int32_t> list_at(int64_t row) const;
    const std::vector<int32_t>& list_values() const;
    const std::vector<int64_t>& list_offsets() const;  // INT32_LIST or STRING_LIST
    std::span<const std::string> string_list_at(int64_t row) const;
    const std::vector<std::string>& string_list_values() const;

    Column take(std::span<const int64_t> rows) const;               // rows in the given order
    static Column concat(const std::vector<const Column*>& parts);  // same type and feature

  private:
    ColumnType type_ = ColumnType::STRING;
    Feature feature_;
    std::vector<std::string> strings_;
    std::vector<int64_t> ints_;
    std::vector<double> floats_;
    std::vector<uint8_t> bools_;
    std::vector<int32_t> list_values_;
    std::vector<int64_t> list_offsets_{0};
};

// ---------------------------------------------------------------------------------------------
// One row, like `dataset["train"][0]`: named values in column order.

using Scalar = std::variant<std::string, int64_t, double, bool, std::vector<int32_t>,
                            std::vector<std::string>>;

struct Row {
    std::vector<std::string> keys;
    std::vector<Scalar> values;

    const Scalar& operator[](std::string_view key) const;  // throws ft::Error naming the key
    const std::string& str(std::string_view key) const;
    int64_t int64(std::string_view key) const;
    double float64(std::string_view key) const;
    const std::vector<std::string>& string_list(std::string_view key) const;
    const std::vector<int32_t>& int_list(std::string_view key) const;
    // Python's dict repr: {'sentence': "Our friends won't ...", 'label': 1, 'idx': 0}
    std::string repr() const;
};

// Where a row was read from: the file and the 1-based line its record starts on (a CoNLL
// sentence's first line, a JSON Lines row's line), for errors found after reading.
struct RowOrigin {
    std::string file;
    int64_t line = 0;
    std::string str() const { return file + ":" + std::to_string(line); }
};

// ---------------------------------------------------------------------------------------------
// Dataset: named columns of equal length. Columns are shared between datasets derived from one
// another (rename, remove, add never copy data); select/shuffle/filter copy the rows they keep.

class Dataset;
// map's function: receives a batch (a Dataset of up to batch_size rows) and returns the new or
// replaced columns for those rows (a Dataset with the same number of rows).
using MapFunction = std::function<Dataset(const Dataset& batch)>;

struct MapOptions {
    bool batched = false;  // false: the function sees one row at a time (batch of 1), like HF
    int64_t batch_size = 1000;
    std::vector<std::string> remove_columns{};
    int num_threads = 0;  // 0: ft::get_num_threads()
};

class Dataset {
  public:
    Dataset() = default;

    int64_t num_rows() const { return num_rows_; }
    int64_t num_columns() const { return static_cast<int64_t>(columns_.size()); }
    std::vector<std::string> column_names() const;
    bool has_column(std::string_view name) const;
    const Column& column(std::string_view name) const;  // throws ft::Error naming the column
    const Feature& feature(std::string_view name) const { return column(name).feature(); }
    // HF's features repr: {'sentence': Value('string'), 'label': ClassLabel(names=[...]), ...}
    std::string features_repr() const;

    Row operator[](int64_t row) const;  // throws ft::Error for a row out of range

    Dataset select(std::span<const int64_t> indices) const;
    Dataset select(const std::vector<int64_t>& indices) const {
        return select(std::span<const int64_t>(indices));
    }
    Dataset select_range(int64_t begin, int64_t end) const;
    // A seeded permutation (Fisher-Yates over Philox). Same seed, same order; the order differs
    // from HF's, which draws from numpy's PCG64.
    Dataset shuffle(uint64_t seed) const;
    Dataset filter(const std::function<bool(const Row&)>& predicate) const;
    Dataset rename_column(const std::string& from, const std::string& to) const;
    Dataset remove_columns(const std::vector<std::string>& names) const;
    Dataset add_column(const std::string& name, Column column) const;  // replaces none: throws
    Dataset cast_column(const std::string& name, const Feature& feature) const;
    // Applies fn over batches on several threads; output row order equals input order and the
    // result is the same for any thread count. Returned columns replace same-named ones.
    Dataset map(const MapFunction& fn, const MapOptions& options = {}) const;

    // Rows of `a` then rows of `b`; both must have the same columns and features.
    static Dataset concatenate(const std::vector<Dataset>& parts);

    // HF's repr: Dataset({\n    features: ['sentence', 'label', 'idx'],\n    num_rows: 8551\n})
    std::string repr() const;

    // The file and line row `row` came from, when its reader recorded them (the text readers
    // do). select, shuffle, filter, concatenate and the column edits keep the record; map keeps
    // it because rows stay in place. Nothing when unknown.
    std::optional<RowOrigin> row_origin(int64_t row) const;
    // This dataset with every row's origin set: `lines` holds one 1-based line per row.
    Dataset with_row_origins(const std::string& file, std::vector<int64_t> lines) const;

  private:
    struct RowOrigins {
        std::vector<std::string> files;
        std::vector<int32_t> file;  // per row: an index into files
        std::vector<int64_t> line;  // per row
    };
    std::vector<std::pair<std::string, std::shared_ptr<const Column>>> columns_;
    int64_t num_rows_ = 0;
    std::shared_ptr<const RowOrigins> origins_;    // null: not known
    size_t index_of(std::string_view name) const;  // columns_.size() when absent
};

// ---------------------------------------------------------------------------------------------
// DatasetDict: named splits in the order they were added (HF's order: train, validation, test).

class DatasetDict {
  public:
    void set(const std::string& split, Dataset ds);  // replaces an existing split in place
    bool contains(std::string_view split) const;
    const Dataset& operator[](std::string_view split) const;  // throws ft::Error naming the split
    Dataset& operator[](std::string_view split);
    std::vector<std::string> split_names() const;
    size_t size() const { return splits_.size(); }
    const std::vector<std::pair<std::string, Dataset>>& splits() const { return splits_; }

    DatasetDict map(const MapFunction& fn, const MapOptions& options = {}) const;
    DatasetDict rename_column(const std::string& from, const std::string& to) const;
    DatasetDict remove_columns(const std::vector<std::string>& names) const;
    DatasetDict shuffle(uint64_t seed) const;

    // HF's repr: DatasetDict({\n    train: Dataset({ ... })\n    ...\n})
    std::string repr() const;

  private:
    std::vector<std::pair<std::string, Dataset>> splits_;
};

// HF's Dataset.train_test_split: a float test_size in (0, 1) takes ceil(test_size * n) rows for
// test, an integer count takes exactly that many; train gets the rest (or train_size). Rows are
// drawn from a seeded permutation (ours, not numpy's). Returns {"train", "test"}.
struct SplitSize {
    std::optional<double> fraction;
    std::optional<int64_t> count;
    static SplitSize of(double f) { return {f, std::nullopt}; }
    static SplitSize rows(int64_t n) { return {std::nullopt, n}; }
};
DatasetDict train_test_split(const Dataset& ds, SplitSize test_size, uint64_t seed,
                             std::optional<SplitSize> train_size = std::nullopt,
                             bool shuffle = true);

// ---------------------------------------------------------------------------------------------
// Readers. Each error names the file and line (and field or column where there is one); text
// must be valid UTF-8.

// CSV per RFC 4180 with a header row: quoted fields may hold commas, newlines and doubled
// quotes. Types are inferred per column like HF's csv loader (pandas): int64 when every value
// is an integer, float64 when every value is a number, bool when every value is True/False,
// else string. An empty field in a numeric column makes it float64 with NaN.
Dataset read_csv(const fs::path& path, char delimiter = ',');
Dataset parse_csv(std::string_view text, const std::string& source, char delimiter = ',');
// JSON Lines (one object per line) or a JSON array of objects. Integers -> int64, numbers ->
// float64, strings, booleans, arrays of integers -> List(Value('int32')), arrays of strings ->
// List(Value('string')) (token and tag lists); an empty array takes the kind of the column's
// other rows. A key missing from a row, a value of another type than the earlier rows' or a
// list mixing strings and numbers is an error naming the line and key. JSON Lines rows record
// their line (Dataset::row_origin).
Dataset read_json(const fs::path& path);
Dataset parse_json(std::string_view text, const std::string& source);

// CoNLL-U (Universal Dependencies), one row per sentence, as HF's universal_dependencies loader
// builds them through the `conllu` package: idx (the sent_id comment, else the sentence's
// 0-based number), text (the text comment, else the tokens joined by spaces), tokens, lemmas,
// upos (List(ClassLabel) over UPOS_NAMES), xpos, feats, head, deprel, deps, misc (lists of
// strings; feats, head, deps and misc hold the Python str() of what `conllu` parses, e.g.
// "{'Number': 'Sing'}", "None", "[('nsubj', 2)]", as HF stores them). Differences from HF:
// multiword-token lines (3-4) and empty nodes (5.1) are skipped, so every row holds the
// sentence's syntactic words only (HF keeps them, with upos '_' and xpos None); fields are
// split on tabs only (conllu also splits on runs of two spaces). Sentences end at blank
// lines or the end of the file. Errors name the file and 1-based line: a token line without
// exactly 10 tab-separated fields, an id that is not a number, an unknown UPOS tag, a head that
// is neither '_' nor an integer, invalid UTF-8.
Dataset read_conllu(const fs::path& path);
Dataset parse_conllu(std::string_view text, const std::string& source);
// HF's universal_dependencies UPOS ClassLabel names, in its order ('_' is the multiword
// tokens' tag there).
const std::vector<std::string>& upos_names();

// CoNLL-2003-style column files: one token per line, whitespace-separated columns, blank lines
// between sentences, -DOCSTART- lines skipped. Columns: id (the sentence's 0-based number as a
// string, like HF's conll2003), tokens, then string tags by column count: 2 -> ner_tags;
// 4 -> pos_tags, chunk_tags, ner_tags (HF's conll2003); any other count n >= 2 -> tags_1 ..
// tags_{n-1}. Tags stay strings; class_label_tag_columns turns them into ClassLabels. Errors
// name the file and line: a line with another column count than the file's first token line,
// a single-column line, invalid UTF-8.
Dataset read_conll(const fs::path& path);
Dataset parse_conll(std::string_view text, const std::string& source);

// A tab-separated file without quoting (GLUE's format: quotes are literal): the rows' fields and
// the line each row came from (1-based). A UTF-8 BOM is dropped; a trailing \r is dropped.
struct TsvTable {
    std::vector<std::vector<std::string>> rows;
    std::vector<int64_t> lines;
};
TsvTable read_tsv_rows(std::string_view text, const std::string& source);

// ---------------------------------------------------------------------------------------------
// GLUE: the task table of HF's nyu-mll/glue.

struct GlueSplit {
    std::string name;  // HF's split name ("train", "validation_matched", ...)
    std::string file;  // the GLUE zip's file ("train.tsv", "dev_matched.tsv", ...)
};

struct GlueTask {
    std::string name;  // "cola", ...
    // HF feature name -> TSV header column; CoLA's train/dev have no header (see glue.cpp).
    std::vector<std::pair<std::string, std::string>> text_features;
    std::vector<std::string> label_names;  // empty: a float32 label (stsb)
    std::string label_column;              // the TSV column holding the label
    std::vector<std::string> metrics;      // as evaluate's glue returns them
    std::vector<GlueSplit> splits;
    bool is_regression() const { return label_names.empty(); }
    // text features (string), label (ClassLabel or float32), idx (int32).
    std::vector<std::pair<std::string, Feature>> features() const;
};

const std::vector<GlueTask>& glue_tasks();
const GlueTask& glue_task(std::string_view name);  // throws ft::Error listing the known tasks

// Reads a GLUE task from a directory of the GLUE zip's TSVs (train.tsv, dev.tsv, test.tsv; MNLI's
// dev_matched.tsv ...). For MRPC, when msr_paraphrase_train.txt, msr_paraphrase_test.txt and
// dev_ids.tsv are there, reads them as HF does (idx = row of the Microsoft file, test labelled);
// otherwise the GLUE TSVs. Test splits without labels get -1. Missing split files are skipped;
// no split at all is an error.
DatasetDict load_glue_from_dir(const GlueTask& task, const fs::path& dir);
// One split's TSV text (for the embedded copy and tests).
Dataset parse_glue_tsv(const GlueTask& task, std::string_view text, const std::string& source,
                       bool is_test);

// ---------------------------------------------------------------------------------------------
// run_glue.py's reading of a dataset: what the labels are and which columns hold the text.

// The labels of a run. A ClassLabel gives its names; float labels make a regression (no names);
// integer labels become the sorted distinct values of the reference split (-1 marks unlabelled
// rows): values 0..n-1 keep their ids (LABEL_0 ...), any others are renumbered in every split
// in sorted order and named by their value, as run_glue's label_to_id does (so one label of
// 2000000000 is one class, not two billion).
struct GlueLabels {
    bool is_regression = false;
    std::vector<std::string> label_list;  // class names in id order; empty for a regression
    int64_t num_labels() const {
        return is_regression ? 1 : static_cast<int64_t>(label_list.size());
    }
};
// Reads the 'label' column of `reference_split` (and renumbers integer labels in every split of
// `raw`, see above). A missing column, a split without labels or a label that is neither an
// integer, a ClassLabel nor a float is an ft::Error naming the split.
GlueLabels infer_glue_labels(DatasetDict& raw, const std::string& reference_split);

// The columns tokenised as text (and text pair): a GLUE task's from its table; for any other
// dataset (empty task) sentence1 and sentence2 when both are there, else the first two string
// columns other than label, labels and idx, else the first alone. No string column -> ft::Error.
struct TextColumns {
    std::string text;
    std::string pair;  // empty: single texts
};
TextColumns choose_text_columns(const Dataset& reference, std::string_view task_name = "");

// ---------------------------------------------------------------------------------------------
// load_dataset

struct LoadDatasetArgs {
    std::string name_or_path;  // "glue", a local file or directory, or a format ("csv", "json")
    std::string config;        // "cola", ...
    fs::path data_dir;
    // split -> files, as HF's data_files={"train": [...], ...}
    std::vector<std::pair<std::string, std::vector<fs::path>>> data_files;
};

// Tries, in order: a local file or directory; data_files with a format name; GLUE-format TSVs in
// data_dir; the sources registered with add_dataset_source (the HF cache and hub download plug
// in here, see load_dataset.cpp); the copy of glue/cola embedded in the library.
DatasetDict load_dataset(const LoadDatasetArgs& args);
DatasetDict load_dataset(const std::string& name_or_path, const std::string& config = "",
                         const fs::path& data_dir = {});

// A lookup step: returns nothing when it does not hold the dataset, throws on a real failure.
using DatasetSource = std::function<std::optional<DatasetDict>(const LoadDatasetArgs&)>;
// Registers a step that runs after the local and data_dir steps and before the embedded copy.
void add_dataset_source(std::string name, DatasetSource source);

// Reads one local file by extension (.csv, .tsv, .json, .jsonl, .parquet, .conllu, .conll).
// With the builder name "conll" or "conllu" (load_dataset's name_or_path with data_files), that
// reader reads the file whatever its extension (CoNLL-2003's train.txt); any other name goes by
// the extension.
Dataset read_data_file(const fs::path& path);
Dataset read_data_file(const fs::path& path, std::string_view builder);
// A Parquet file (as the Hub stores datasets) with the features of its `huggingface` metadata
// (ClassLabel names, Value dtypes, Sequence of ints), else features from the Parquet types.
// Null values are an error naming the column and row.
Dataset read_parquet_dataset(const fs::path& path);

// ---------------------------------------------------------------------------------------------
// run_ner.py's label lists: string tag columns become List(ClassLabel) columns.

// For each column in `columns` (e.g. {"ner_tags"} or {"upos", "xpos"}): a List(ClassLabel)
// column keeps its names; a List(Value('string')) column gets run_ner's get_label_list, the
// sorted unique tags of `reference_split` (Python's sorted(): by code point), and every split's
// tags become ids. Returns the new DatasetDict; `raw` is untouched. A tag of another split that
// the reference split lacks is an ft::Error naming the split, the tag, the column and the row's
// file:line when known (else its row index); a missing column or split, or a column of another
// type, is an ft::Error naming it.
DatasetDict class_label_tag_columns(const DatasetDict& raw, const std::vector<std::string>& columns,
                                    const std::string& reference_split = "train");

// ---------------------------------------------------------------------------------------------
// Tokenising a dataset: the seed's `tokenizer(examples["sentence"], truncation=True)` inside
// map(batched=True). HF's features for the outputs: input_ids List(int32), token_type_ids and
// attention_mask List(int8).

struct TokenizeColumns {
    std::string text_column = "sentence";
    std::string pair_column;  // empty: single texts
    EncodeOptions options;
    bool token_type_ids = true;  // false for DistilBERT; only where the tokenizer makes them
};
Dataset tokenize_columns(const Tokenizer& tokenizer, const Dataset& batch,
                         const TokenizeColumns& spec);

// run_ner.py's tokenize_and_align_labels, for map(batched=True): each row's words (a
// List(Value('string')) column) through Tokenizer::encode_words (is_split_into_words=True), and its
// tags (a List(ClassLabel) column) aligned by word_ids(): -100 on special tokens, the word's tag on
// its first sub-token, and on the others -100, or with label_all_tokens the tag with B-X turned
// into I-X (b_to_i_label). Outputs input_ids, token_type_ids (where the tokenizer makes them),
// attention_mask and labels (List(Value('int64'))). No label_column: no labels (prediction).
struct TokenizeAndAlignLabels {
    std::string text_column = "tokens";
    std::string label_column = "ner_tags";
    EncodeOptions options;  // truncation and max_length (run_ner: max_seq_length)
    bool label_all_tokens = false;
    bool token_type_ids = true;  // false for DistilBERT; only where the tokenizer makes them
};
Dataset tokenize_and_align_labels(const Tokenizer& tokenizer, const Dataset& batch,
                                  const TokenizeAndAlignLabels& spec);
// run_ner's b_to_i_label: for each label id, the id of "I-X" when the label is "B-X" and "I-X"
// exists, else the label itself.
std::vector<int32_t> b_to_i_label(const std::vector<std::string>& names);

// ---------------------------------------------------------------------------------------------
// Samplers: the order in which a Trainer visits rows.

std::vector<int64_t> sequential_sampler(int64_t n);
// The length of each row's list in `column` (HF's LengthGroupedSampler reads input_ids).
std::vector<int64_t> list_lengths(const Dataset& ds, std::string_view column = "input_ids");
// A seeded permutation of 0..n-1 (same seed, same order; not torch's randperm order).
std::vector<int64_t> random_sampler(int64_t n, uint64_t seed);
// HF's LengthGroupedSampler (get_length_grouped_indices): a random permutation cut into
// megabatches of mega_batch_mult * batch_size (default min(n / (4 * batch_size), 50), at least
// 1), each sorted by length descending (stable), and the longest item swapped to the front.
std::vector<int64_t> group_by_length_sampler(std::span<const int64_t> lengths, int64_t batch_size,
                                             uint64_t seed, int64_t mega_batch_mult = 0);
// The same from a given permutation (for tests: HF's algorithm on a hand-chosen order).
std::vector<int64_t> group_by_length_from_permutation(std::span<const int64_t> lengths,
                                                      std::vector<int64_t> permutation,
                                                      int64_t batch_size, int64_t mega_batch_mult);

// ---------------------------------------------------------------------------------------------
// Collation: tokenised rows (input_ids, optional token_type_ids, label or labels) into the
// engine's packed batch, and DataCollatorWithPadding's padded view for API parity.

// Rows `indices` of `ds`: input_ids (list), token_type_ids (list, optional), and a label column
// named "label" or "labels": int -> PackedBatch::labels, float -> PackedBatch::targets.
PackedBatch collate_packed(const Dataset& ds, std::span<const int64_t> indices);

// Padding is the tokenizer's enum; None pads like Longest (rows of a batch must line up).
struct PaddingOptions {
    Padding padding = Padding::Longest;
    int64_t max_length = 0;          // for MAX_LENGTH
    int64_t pad_to_multiple_of = 0;  // 0: none
    int32_t pad_token_id = 0;
    int32_t pad_token_type_id = 0;
};

// DataCollatorWithPadding's output: row-major (B, L) tensors, right padding, "label" renamed
// "labels" as HF does.
struct PaddedBatch {
    int64_t batch_size = 0, length = 0;
    std::vector<int32_t> input_ids;       // (B*L)
    std::vector<int32_t> token_type_ids;  // (B*L); empty when the rows have none
    std::vector<int32_t> attention_mask;  // (B*L)
    std::vector<int64_t> labels;          // (B) class ids, (B*L) token labels, or empty
    std::vector<float> float_labels;      // (B) regression targets, or empty
    // A list-valued labels column: labels are per token, padded with -100 (HF's
    // DataCollatorForTokenClassification, label_pad_token_id = -100).
    bool token_labels = false;
};
PaddedBatch collate_padded(const Dataset& ds, std::span<const int64_t> indices,
                           const PaddingOptions& options = {});
// The packed batch holding the padded batch's non-pad tokens (attention_mask == 1).
PackedBatch pack_padded_batch(const PaddedBatch& padded);

// HF's DataCollatorWithPadding(tokenizer): pads a batch's rows with the tokenizer's pad id.
// The Trainer computes the same batch packed (pack()): the same logits and loss, no padding.
class DataCollatorWithPadding {
  public:
    explicit DataCollatorWithPadding(const Tokenizer& tokenizer, PaddingOptions options = {});
    PaddedBatch operator()(const Dataset& ds, std::span<const int64_t> indices) const;
    PackedBatch pack(const Dataset& ds, std::span<const int64_t> indices) const;
    const PaddingOptions& options() const { return options_; }

  private:
    PaddingOptions options_;
};

}  // namespace ft
