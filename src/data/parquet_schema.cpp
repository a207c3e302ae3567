// Resolves the flattened Parquet schema (a depth-first list of SchemaElements with child counts)
// into decodable columns, checking physical types and logical/converted annotations on the way.
#include "data/parquet_schema.h"

#include "finetune/core.h"

namespace ft::data::parquet {
namespace {

constexpr int32_t CONVERTED_LIST = 3;
constexpr int16_t LOGICAL_LIST = 3;

[[noreturn]] void fail(const std::string& where, const std::string& msg) {
    throw Error(where + ": " + msg);
}

// Checks a primitive's physical type and annotations; fills what decoding needs.
void describe_primitive(const SchemaElement& e, const std::string& column, const std::string& file,
                        Leaf* leaf) {
    const std::string where = file + ": column '" + column + "'";
    if (!e.type) fail(where, "schema leaf has no physical type");
    leaf->physical = *e.type;
    switch (leaf->physical) {
        case BOOLEAN:
        case INT32:
        case INT64:
        case FLOAT:
        case DOUBLE:
        case BYTE_ARRAY:
            break;
        default:
            fail(where, "unsupported physical type " + physical_type_name(leaf->physical));
    }
    const bool int_type = leaf->physical == INT32 || leaf->physical == INT64;
    auto unsupported = [&](const std::string& what) {
        fail(where, "unsupported " + what + " on " + physical_type_name(leaf->physical));
    };
    if (e.logical_type && e.logical_type->kind != 0) {
        const LogicalType& lt = *e.logical_type;
        const std::string name = "logical type " + logical_type_name(lt.kind);
        switch (lt.kind) {
            case LOGICAL_STRING:
            case LOGICAL_ENUM:
            case LOGICAL_JSON:
                if (leaf->physical != BYTE_ARRAY) unsupported(name);
                leaf->is_string = true;
                break;
            case LOGICAL_INTEGER:
                if (!int_type) unsupported(name);
                if (!lt.int_signed && lt.int_bit_width == 64)
                    unsupported("logical type INTEGER(64, unsigned)");
                leaf->unsigned32 = !lt.int_signed && leaf->physical == INT32;
                break;
            case LOGICAL_UNKNOWN:  // an all-null column
                break;
            default:
                unsupported(name);
        }
    } else if (e.converted_type) {
        const int32_t c = *e.converted_type;
        const std::string name = "converted type " + converted_type_name(c);
        switch (c) {
            case UTF8:
            case ENUM:
            case JSON:
                if (leaf->physical != BYTE_ARRAY) unsupported(name);
                leaf->is_string = true;
                break;
            case INT_8:
            case INT_16:
            case INT_32:
            case INT_64:
                if (!int_type) unsupported(name);
                break;
            case UINT_8:
            case UINT_16:
            case UINT_32:
                if (!int_type) unsupported(name);
                leaf->unsigned32 = leaf->physical == INT32;
                break;
            default:
                unsupported(name);
        }
    }
}

bool annotated_list(const SchemaElement& e) {
    if (e.logical_type && e.logical_type->kind != 0) return e.logical_type->kind == LOGICAL_LIST;
    return e.converted_type == CONVERTED_LIST;
}

class SchemaWalk {
  public:
    SchemaWalk(const std::vector<SchemaElement>& schema, const std::string& file)
        : schema_(schema), file_(file) {}

    const SchemaElement& next() {
        if (pos_ >= schema_.size())
            fail(file_, "schema ends inside a group (child counts exceed the elements)");
        return schema_[pos_++];
    }
    size_t pos() const { return pos_; }

    // One top-level field of the root and everything under it.
    Leaf column() {
        const SchemaElement& e = next();
        const int32_t rep = e.repetition.value_or(REQUIRED);
        Leaf leaf;
        leaf.name = e.name;
        leaf.path_in_schema = {e.name};
        if (e.num_children <= 0) {
            describe_primitive(e, e.name, file_, &leaf);
            if (rep == REPEATED) {  // a bare repeated field: a list that is never null
                leaf.is_list = true;
                leaf.max_rep = leaf.max_def = 1;
            } else {
                leaf.max_def = rep == OPTIONAL ? 1 : 0;
            }
            return leaf;
        }
        if (!annotated_list(e) || e.num_children != 1 || rep == REPEATED) nested(e.name);
        const int list_optional = rep == OPTIONAL ? 1 : 0;
        const SchemaElement& repeated = next();
        if (repeated.repetition.value_or(REQUIRED) != REPEATED) nested(e.name);
        leaf.is_list = true;
        leaf.max_rep = 1;
        leaf.def_list_empty = list_optional;
        leaf.path_in_schema.push_back(repeated.name);
        if (repeated.num_children <= 0) {  // legacy 2-level list: the repeated field is the element
            describe_primitive(repeated, e.name, file_, &leaf);
            leaf.max_def = list_optional + 1;
            return leaf;
        }
        // 3-level: a repeated group holding one element. A group named "array" or "<name>_tuple"
        // is, by the spec's compatibility rules, itself the (struct) element: not supported.
        if (repeated.num_children != 1 || repeated.name == "array" ||
            repeated.name == e.name + "_tuple")
            nested(e.name);
        const SchemaElement& element = next();
        const int32_t element_rep = element.repetition.value_or(REQUIRED);
        if (element.num_children > 0 || element_rep == REPEATED) nested(e.name);
        describe_primitive(element, e.name, file_, &leaf);
        leaf.path_in_schema.push_back(element.name);
        leaf.max_def = list_optional + 1 + (element_rep == OPTIONAL ? 1 : 0);
        return leaf;
    }

  private:
    [[noreturn]] void nested(const std::string& name) const {
        fail(file_, "unsupported: repeated/nested column '" + name + "'");
    }

    const std::vector<SchemaElement>& schema_;
    const std::string& file_;
    size_t pos_ = 0;
};

}  // namespace

std::vector<Leaf> resolve_columns(const std::vector<SchemaElement>& schema,
                                  const std::string& file) {
    if (schema.empty()) fail(file, "footer has an empty schema");
    SchemaWalk walk(schema, file);
    const SchemaElement& root = walk.next();
    if (root.num_children < 0 || static_cast<size_t>(root.num_children) > schema.size() - 1)
        fail(file, "schema root claims " + std::to_string(root.num_children) + " children but " +
                       std::to_string(schema.size() - 1) + " elements follow");
    std::vector<Leaf> leaves;
    for (int32_t i = 0; i < root.num_children; ++i) leaves.push_back(walk.column());
    if (walk.pos() != schema.size())
        fail(file, "schema has " + std::to_string(schema.size() - walk.pos()) +
                       " elements outside the root's children");
    return leaves;
}

}  // namespace ft::data::parquet
