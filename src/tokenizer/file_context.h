// Names a tokenizer file in the errors raised while a tokenizer is built from it. Private to
// src/tokenizer.
#pragma once

#include <string>
#include <utility>

#include "finetune/core.h"

namespace ft::tokenization {

// make()'s result; an ft::Error it throws (a special token missing, ...) comes out prefixed with
// `file` unless its message already starts with it.
template <class F>
auto with_file_context(const std::string& file, F&& make) -> decltype(make()) {
    try {
        return std::forward<F>(make)();
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.rfind(file, 0) == 0) throw;
        throw Error(file + ": " + what);
    }
}

}  // namespace ft::tokenization
