// The Parquet schema tree resolved into the columns the reader decodes: flat primitives and lists
// of primitives (the 3-level LIST layout, the legacy 2-level one and bare repeated fields), each
// with its definition/repetition level bounds. Anything else nested is refused by name.
#pragma once

#include <string>
#include <vector>

#include "data/parquet_thrift.h"

namespace ft::data::parquet {

struct Leaf {
    std::string name;                         // the top-level column name
    std::vector<std::string> path_in_schema;  // what the column chunk must carry
    int32_t physical = 0;
    bool is_string = false;
    bool unsigned32 = false;  // UINT_8/16/32 in an INT32: zero-extend
    bool is_list = false;
    int max_def = 0;         // a value is present when its definition level equals this
    int max_rep = 0;         // 1 for lists
    int def_list_empty = 0;  // lists: the level of a present but empty list; below it, null
};

// Throws ft::Error("<file>: ...") for a malformed schema and for unsupported types, annotations
// and nesting ("unsupported: repeated/nested column 'x'").
std::vector<Leaf> resolve_columns(const std::vector<SchemaElement>& schema,
                                  const std::string& file);

}  // namespace ft::data::parquet
