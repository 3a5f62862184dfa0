#include "sim/config/config_tree.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace bc {
namespace fs = std::filesystem;

const CNode* CNode::get(const std::string& key) const {
  for (const auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

CNode* CNode::get(const std::string& key) {
  for (auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

const char* CNode::kind_name() const {
  switch (kind) {
    case Kind::Null:
      return "null";
    case Kind::Scalar:
      return "a scalar";
    case Kind::Map:
      return "a map";
    case Kind::Seq:
      return "a list";
  }
  return "?";
}

namespace {

SourceLoc loc_of(const YAML::Mark& m, const std::string& file) {
  // yaml-cpp marks are 0-based; messages are 1-based like compilers'.
  return SourceLoc{file, m.line + 1, m.column + 1};
}

CNode convert(const YAML::Node& n, const std::string& file) {
  CNode c;
  c.loc = loc_of(n.Mark(), file);
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      c.kind = CNode::Kind::Null;
      break;
    case YAML::NodeType::Scalar:
      c.kind = CNode::Kind::Scalar;
      c.scalar = n.Scalar();
      break;
    case YAML::NodeType::Sequence:
      c.kind = CNode::Kind::Seq;
      for (const auto& e : n) c.seq.push_back(convert(e, file));
      break;
    case YAML::NodeType::Map: {
      c.kind = CNode::Kind::Map;
      std::set<std::string> seen;
      for (const auto& kv : n) {
        std::string key = kv.first.Scalar();
        if (!seen.insert(key).second)
          fail_input(loc_of(kv.first.Mark(), file), key, "key appears twice in the same map",
                     "remove one of them");
        CNode v = convert(kv.second, file);
        v.key_loc = loc_of(kv.first.Mark(), file);
        if (v.kind == CNode::Kind::Null) v.loc = v.key_loc;
        c.map.emplace_back(key, std::move(v));
      }
      break;
    }
  }
  return c;
}

YAML::Node parse_yaml(const std::string& text, const std::string& name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail_input(loc_of(e.mark, name), "", "malformed YAML: " + e.msg, "");
  }
}

CNode load_recursive(const std::string& path, std::vector<std::string>& stack) {
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(path, ec);
  for (const auto& s : stack)
    if (s == canon.string())
      fail_input(SourceLoc{path, 0, 0}, "include", "include cycle through this file", "");
  std::ifstream in(path);
  if (!in || fs::is_directory(path, ec))
    fail_input(SourceLoc{path, 0, 0}, "", "cannot open file", "check the path");
  std::stringstream ss;
  ss << in.rdbuf();
  CNode doc = convert(parse_yaml(ss.str(), path), path);
  if (doc.kind == CNode::Kind::Null) {
    doc.kind = CNode::Kind::Map;
    doc.loc = {path, 1, 1};
  }
  if (!doc.is_map()) fail_input(doc.loc, "", "expected a map of keys at the top of the file", "");
  const CNode* inc = doc.get("include");
  if (!inc) return doc;
  std::vector<const CNode*> files;
  if (inc->is_scalar())
    files.push_back(inc);
  else if (inc->kind == CNode::Kind::Seq)
    for (const auto& e : inc->seq) files.push_back(&e);
  std::vector<Diagnostic> bad;
  for (const CNode* f : files)
    if (!f->is_scalar()) bad.push_back({f->loc, "include", "expected a file path", ""});
  if (files.empty())
    bad.push_back({inc->loc, "include", "expected a file path or a list of them", ""});
  if (!bad.empty()) throw InputError(bad);
  stack.push_back(canon.string());
  CNode merged;
  merged.kind = CNode::Kind::Map;
  merged.loc = doc.loc;
  for (const CNode* f : files) {
    fs::path p = fs::path(path).parent_path() / f->scalar;
    if (!fs::exists(p))
      fail_input(f->loc, "include", "included file \"" + p.string() + "\" does not exist", "");
    merge_into(merged, load_recursive(p.string(), stack));
  }
  stack.pop_back();
  CNode own = doc;
  std::erase_if(own.map, [](const auto& kv) { return kv.first == "include"; });
  merge_into(merged, own);
  return merged;
}

}  // namespace

void merge_into(CNode& base, const CNode& over) {
  if (!(base.is_map() && over.is_map())) {
    base = over;
    return;
  }
  for (const auto& [k, v] : over.map) {
    CNode* b = base.get(k);
    if (v.kind == CNode::Kind::Null && b) {
      std::erase_if(base.map, [&](const auto& kv) { return kv.first == k; });
    } else if (b) {
      SourceLoc key_loc = v.key_loc;
      merge_into(*b, v);
      b->key_loc = key_loc;
    } else {
      base.map.emplace_back(k, v);
    }
  }
}

CNode load_config_file(const std::string& path) {
  std::vector<std::string> stack;
  return load_recursive(path, stack);
}

CNode parse_config_text(const std::string& text, const std::string& name) {
  CNode doc = convert(parse_yaml(text, name), name);
  if (doc.kind == CNode::Kind::Null) doc.kind = CNode::Kind::Map;
  return doc;
}

void apply_set(CNode& root, const std::string& assignment) {
  SourceLoc where{"<command line>", 0, 0};
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    fail_input(where, "", "--set expects KEY.PATH=VALUE, got \"" + assignment + "\"",
               "e.g. --set memory.dram.bandwidth=\"3.35 TB/s\"");
  std::string path = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  std::string label = "--set " + assignment;
  CNode v = convert(parse_yaml(value, label), label);
  v.loc = SourceLoc{label, 0, 0};
  // Walk (creating maps as needed) to the parent of the last key.
  CNode* cur = &root;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) fail_input(where, path, "empty key in --set path", "");
    if (!cur->is_map()) {
      if (cur->kind != CNode::Kind::Null)
        fail_input(v.loc, path, "cannot set a key inside " + std::string(cur->kind_name()), "");
      cur->kind = CNode::Kind::Map;
    }
    CNode* next = cur->get(key);
    if (dot == std::string::npos) {
      if (next) {
        merge_into(*next, v);
        next->key_loc = v.loc;
      } else {
        CNode nv = v;
        nv.key_loc = v.loc;
        cur->map.emplace_back(key, nv);
      }
      return;
    }
    if (!next) {
      CNode m;
      m.kind = CNode::Kind::Map;
      m.loc = m.key_loc = v.loc;
      cur->map.emplace_back(key, m);
      next = &cur->map.back().second;
    }
    cur = next;
    start = dot + 1;
  }
}

}  // namespace bc
