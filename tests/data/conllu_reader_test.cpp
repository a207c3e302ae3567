// The CoNLL-U reader: hand-worked sentences (comments, multiword tokens and empty nodes skipped,
// conllu's str() forms of FEATS/HEAD/DEPS/MISC, a last sentence without a blank line), every
// error naming file:line, and UD English EWT against HF's loader logic
// (tests/goldens/conllu/en_ewt.json, made by tools/gen_conllu_goldens.py).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "finetune/data.h"
#include "finetune/io.h"
#include "hub/hub_internal.h"
#include "test_env.h"

namespace ft {

namespace {

using json = nlohmann::json;

// Tab-separated token line from space-separated fields (keeps the test text readable).
std::string tok(const std::string& spaced) {
    std::string s = spaced;
    std::replace(s.begin(), s.end(), ' ', '\t');
    return s + "\n";
}

const std::string SAMPLE =
    "# newdoc id = d1\n"
    "# sent_id = s-1\n"
    "# text = I don't know.\n" +
    tok("1 I I PRON PRP Case=Nom|Number=Sing 4 nsubj 4:nsubj _") +
    tok("2-3 don't _ _ _ _ _ _ _ _") +  // multiword token: skipped
    tok("2 do do AUX VBP Mood=Ind 4 aux 4:aux _") + tok("3 n't not PART RB _ 4 advmod 4:advmod _") +
    tok("4 know know VERB VB VerbForm=Inf 0 root 0:root|4.1:conj SpaceAfter=No") +
    tok("4.1 knew know VERB VBD _ _ _ 4:conj CopyOf=4") +  // empty node: skipped
    tok("5 . . PUNCT . _ 4 punct 4:punct _") +
    "\n"
    "\n"  // two blank lines: still one sentence break
    "# sent_id = s-2\n" +
    tok("1 Hi hi INTJ UH A|B=|=C|D=E=F|A=Z 0 root _ _") +      // conllu's dict corner cases
    "\n" + tok("1 Yes yes INTJ UH _ 0 root 0:root:x|1:2x _");  // no comments, no final blank line

std::string error_of(const std::string& text) {
    return test::error_of([&] { parse_conllu(text, "ud.conllu"); });
}

}  // namespace

TEST(ConlluReader, HandWorkedSentences) {
    const Dataset ds = parse_conllu(SAMPLE, "s.conllu");
    ASSERT_EQ(ds.num_rows(), 3);
    EXPECT_EQ(ds.column_names(),
              (std::vector<std::string>{"idx", "text", "tokens", "lemmas", "upos", "xpos", "feats",
                                        "head", "deprel", "deps", "misc"}));
    EXPECT_EQ(ds.feature("upos").repr(),
              "List(ClassLabel(names=['NOUN', 'PUNCT', 'ADP', 'NUM', 'SYM', 'SCONJ', 'ADJ', "
              "'PART', 'DET', 'CCONJ', 'PROPN', 'PRON', 'X', '_', 'ADV', 'INTJ', 'VERB', "
              "'AUX']))");
    EXPECT_EQ(ds.feature("tokens").repr(), "List(Value('string'))");
    EXPECT_EQ(ds[0].repr(),
              "{'idx': 's-1', 'text': \"I don't know.\", 'tokens': ['I', 'do', \"n't\", 'know', "
              "'.'], 'lemmas': ['I', 'do', 'not', 'know', '.'], 'upos': [11, 17, 7, 16, 1], "
              "'xpos': ['PRP', 'VBP', 'RB', 'VB', '.'], 'feats': [\"{'Case': 'Nom', 'Number': "
              "'Sing'}\", \"{'Mood': 'Ind'}\", 'None', \"{'VerbForm': 'Inf'}\", 'None'], 'head': "
              "['4', '4', '4', '0', '4'], 'deprel': ['nsubj', 'aux', 'advmod', 'root', 'punct'], "
              "'deps': [\"[('nsubj', 4)]\", \"[('aux', 4)]\", \"[('advmod', 4)]\", \"[('root', "
              "0), ('conj', (4, '.', 1))]\", \"[('punct', 4)]\"], 'misc': ['None', 'None', "
              "'None', \"{'SpaceAfter': 'No'}\", 'None']}");
    // conllu's dicts: a part without '=' maps to '', '_'/empty values are None, a value stops
    // at the second '=', a repeated key keeps its first place and its last value.
    EXPECT_EQ(ds[1].string_list("feats"),
              (std::vector<std::string>{"{'A': 'Z', 'B': None, 'D': 'E'}"}));
    EXPECT_EQ(ds[1].string_list("deps"), (std::vector<std::string>{"None"}));
    // No sent_id: the sentence's number; no text: the tokens joined.
    EXPECT_EQ(ds[2].str("idx"), "2");
    EXPECT_EQ(ds[2].str("text"), "Yes");
    // A DEPS part whose relation segment starts with a digit fails conllu's pattern: the raw field.
    EXPECT_EQ(ds[2].string_list("deps"), (std::vector<std::string>{"0:root:x|1:2x"}));
    EXPECT_EQ(ds[0].string_list("deps")[3], "[('root', 0), ('conj', (4, '.', 1))]");
    // Each row remembers the line its sentence starts on.
    EXPECT_EQ(ds.row_origin(0)->str(), "s.conllu:1");
    EXPECT_EQ(ds.row_origin(1)->str(), "s.conllu:13");
    EXPECT_EQ(ds.row_origin(2)->str(), "s.conllu:16");
}

TEST(ConlluReader, CrlfBomAndWhitespaceLines) {
    const std::string text = "\xEF\xBB\xBF# sent_id = a\r\n" + tok("1 x x X FW _ 0 root _ _") +
                             "  \t\r\n" + tok("1 y y NUM CD _ 0 root _ _");
    std::string crlf;
    for (char c : text) {
        if (c == '\n' && (crlf.empty() || crlf.back() != '\r')) crlf += '\r';
        crlf += c;
    }
    const Dataset ds = parse_conllu(crlf, "c.conllu");
    ASSERT_EQ(ds.num_rows(), 2);
    EXPECT_EQ(ds[0].str("idx"), "a");
    EXPECT_EQ(ds[0].string_list("misc"), (std::vector<std::string>{"None"}));  // no stray \r
    EXPECT_EQ(ds[1].int_list("upos"), (std::vector<int32_t>{3}));
    EXPECT_EQ(ds.row_origin(1)->line, 4);
}

TEST(ConlluReader, CommentOnlyBlockIsAnEmptySentenceAsInConllu) {
    const Dataset ds = parse_conllu("# sent_id = only\n\n" + tok("1 a a X _ _ 0 root _ _"), "e");
    ASSERT_EQ(ds.num_rows(), 2);
    EXPECT_TRUE(ds[0].string_list("tokens").empty());
    EXPECT_EQ(ds[0].str("text"), "");
}

TEST(ConlluReader, ErrorsNameFileAndLine) {
    const std::string head = "# sent_id = 1\n" + tok("1 a a NOUN NN _ 0 root _ _") + "\n";
    // Line 4: nine fields.
    EXPECT_NE(error_of(head + "# c\n1\ta\ta\tNOUN\tNN\t_\t0\troot\t_\n")
                  .find("ud.conllu:5: expected 10 tab-separated fields, found 9"),
              std::string::npos)
        << error_of(head + "# c\n1\ta\ta\tNOUN\tNN\t_\t0\troot\t_\n");
    EXPECT_NE(error_of(head + tok("1 a a NOUN NN _ 0 root _ _ extra"))
                  .find("ud.conllu:4: expected 10 tab-separated fields, found 11"),
              std::string::npos);
    // Spaces are not separators (conllu also splits on two spaces; we do not).
    EXPECT_NE(error_of("1  a  a  NOUN  NN  _  0  root  _  _\n").find("ud.conllu:1: expected 10"),
              std::string::npos);
    EXPECT_NE(error_of(head + tok("1 a a NOUN NN _ 0 root _ _") + tok("2 b b NOUNS NN _ 1 x _ _"))
                  .find("ud.conllu:5: unknown UPOS tag 'NOUNS'"),
              std::string::npos);
    EXPECT_NE(error_of(head + tok("x a a NOUN NN _ 0 root _ _")).find("ud.conllu:4: ID 'x'"),
              std::string::npos);
    EXPECT_NE(error_of(head + tok("01 a a NOUN NN _ 0 root _ _")).find("ud.conllu:4: ID '01'"),
              std::string::npos);
    EXPECT_NE(error_of(head + tok("_ a a NOUN NN _ 0 root _ _")).find("ud.conllu:4: ID '_'"),
              std::string::npos);
    EXPECT_NE(error_of(head + tok("1 a a NOUN NN _ one root _ _")).find("ud.conllu:4: HEAD 'one'"),
              std::string::npos);
    EXPECT_NE(error_of(head + tok("1 a a NOUN NN _ -0 root _ _")).find("ud.conllu:4: HEAD '-0'"),
              std::string::npos);
    EXPECT_NE(error_of(head + tok("3-2 ab _ _ _ _ _ _ _ _")).find("ud.conllu:4: multiword range"),
              std::string::npos);
    EXPECT_NE(error_of(head + tok("1 a a NOUN NN _ 0 root 3-2:x _")).find("ud.conllu:4: DEPS"),
              std::string::npos);
    EXPECT_NE(error_of(head + "\n\n" + tok("1 \xFF a NOUN NN _ 0 root _ _"))
                  .find("ud.conllu:6: invalid UTF-8"),
              std::string::npos);
    // What conllu accepts, we accept: a negative head, head '_', id 0.
    EXPECT_EQ(error_of(tok("1 a a NOUN NN _ -1 root _ _") + tok("0 b b NOUN NN _ _ x _ _")),
              "(no error)");
}

TEST(ConlluReader, LoadDatasetByExtensionAndBuilderName) {
    const fs::path dir = test::make_temp_dir("conllu_load");
    std::ofstream(dir / "en_x-ud-train.conllu") << SAMPLE;
    std::ofstream(dir / "en_x-ud-dev.conllu") << tok("1 b b NOUN NN _ 0 root _ _");
    std::ofstream(dir / "ud_test.txt") << tok("1 c c NOUN NN _ 0 root _ _");
    const DatasetDict dd = load_dataset(dir.string());  // HF's split names inside the file name
    EXPECT_EQ(dd.split_names(), (std::vector<std::string>{"train", "validation"}));
    EXPECT_EQ(dd["train"].num_rows(), 3);
    LoadDatasetArgs a;
    a.name_or_path = "conllu";
    a.data_files = {{"test", {dir / "ud_test.txt"}}};
    EXPECT_EQ(load_dataset(a)["test"][0].string_list("tokens"), (std::vector<std::string>{"c"}));
    EXPECT_NE(test::error_of([&] { read_data_file(dir / "ud_test.txt"); }).find("'.txt'"),
              std::string::npos);
}

// UD English EWT (../shared/data/ud/en_ewt) against HF's loader logic run through conllu 6.0.0.
TEST(ConlluReader, UdEnglishEwtMatchesHfLoader) {
    const fs::path ud = test::shared_dir() / "data/ud/en_ewt";
    if (!fs::exists(ud / "en_ewt-ud-train.conllu")) GTEST_SKIP() << "no " << ud.string();
    const fs::path golden_path = test::tools_dir() / "../tests/goldens/conllu/en_ewt.json";
    const json golden = json::parse(read_text_file(golden_path));
    const std::map<std::string, int64_t> expected_rows = {
        {"train", 12544}, {"validation", 2001}, {"test", 2077}};
    for (const auto& [split, g] : golden.at("splits").items()) {
        SCOPED_TRACE(split);
        const Dataset ds = read_data_file(ud / g.at("file").get<std::string>());
        ASSERT_EQ(ds.num_rows(), expected_rows.at(split));
        ASSERT_EQ(ds.num_rows(), g.at("num_rows").get<int64_t>());
        EXPECT_EQ(static_cast<int64_t>(ds.column("tokens").string_list_values().size()),
                  g.at("num_tokens").get<int64_t>());
        // The digests of tools/gen_conllu_goldens.py: one line per row, values joined by U+001F.
        for (const std::string col : {"tokens", "upos", "xpos"}) {
            std::string text;
            for (int64_t r = 0; r < ds.num_rows(); ++r) {
                if (r) text += '\n';
                const Row row = ds[r];
                if (col == "upos") {
                    const auto& ids = row.int_list(col);
                    for (size_t k = 0; k < ids.size(); ++k)
                        text += (k ? "\x1f" : "") + std::to_string(ids[k]);
                } else {
                    const auto& v = row.string_list(col);
                    for (size_t k = 0; k < v.size(); ++k) text += (k ? "\x1f" : "") + v[k];
                }
            }
            const fs::path tmp = test::make_temp_dir("conllu_digest") / "d.txt";
            std::ofstream(tmp, std::ios::binary) << text;
            EXPECT_EQ(hub::sha256_file_hex(tmp), g.at("sha256").at(col).get<std::string>()) << col;
        }
        for (const auto& [n, want] : g.at("rows").items()) {
            const Row row = ds[std::stoll(n)];
            SCOPED_TRACE("row " + n);
            EXPECT_EQ(row.str("idx"), want.at("idx").get<std::string>());
            EXPECT_EQ(row.str("text"), want.at("text").get<std::string>());
            EXPECT_EQ(row.int_list("upos"), want.at("upos").get<std::vector<int32_t>>());
            for (const char* c :
                 {"tokens", "lemmas", "xpos", "feats", "head", "deprel", "deps", "misc"})
                EXPECT_EQ(row.string_list(c), want.at(c).get<std::vector<std::string>>()) << c;
        }
    }
    // The first sentence by hand, and one with a multiword token (train row 8: "don't").
    const Dataset train = read_conllu(ud / "en_ewt-ud-train.conllu");
    EXPECT_EQ(train[0].str("idx"),
              "weblog-juancole.com_juancole_20051126063000_ENG_20051126_063000-0001");
    const auto tokens = train[0].string_list("tokens");
    EXPECT_EQ(std::vector<std::string>(tokens.begin(), tokens.begin() + 5),
              (std::vector<std::string>{"Al", "-", "Zaman", ":", "American"}));
    const auto upos = train[0].int_list("upos");
    const Feature& names = train.feature("upos");
    std::vector<std::string> first5;
    for (int k = 0; k < 5; ++k) first5.push_back(names.int2str(upos[static_cast<size_t>(k)]));
    EXPECT_EQ(first5, (std::vector<std::string>{"PROPN", "PUNCT", "PROPN", "PUNCT", "ADJ"}));
    const auto t8 = train[8].string_list("tokens");
    EXPECT_EQ(std::vector<std::string>(t8.begin() + 17, t8.begin() + 21),
              (std::vector<std::string>{"I", "do", "n't", "find"}));
    EXPECT_EQ(train.row_origin(8)->line, 185);
}

}  // namespace ft
