// StateDict: named tensors kept in the order a file or a model lists them, with a name index,
// so that writers reproduce the reader's order and loaders look tensors up by their HF names.
#include "finetune/io.h"

namespace ft {

void StateDict::insert(const std::string& name, Tensor t) {
    // Two tensors under one name would make a checkpoint ambiguous; never overwrite silently.
    if (index_.count(name)) throw Error("duplicate tensor name '" + name + "'");
    index_.emplace(name, entries_.size());
    entries_.emplace_back(name, std::move(t));
}

const Tensor* StateDict::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
}

Tensor* StateDict::find(const std::string& name) {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const Tensor& StateDict::at(const std::string& name) const {
    const Tensor* t = find(name);
    if (!t) throw Error("tensor '" + name + "' not found in state dict");
    return *t;
}

bool StateDict::erase(const std::string& name) {
    auto it = index_.find(name);
    if (it == index_.end()) return false;
    const size_t pos = it->second;
    index_.erase(it);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(pos));
    // Entries after the erased one moved down by one; keep the index pointing at them.
    for (size_t i = pos; i < entries_.size(); ++i) index_[entries_[i].first] = i;
    return true;
}

std::vector<std::string> StateDict::names() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back(e.first);
    return out;
}

}  // namespace ft
