// A YAML document as a tree whose every node remembers file:line:column, so a
// value merged from a base file, a variant and --set still reports where it
// came from. Loading resolves `include:` (base files that this file overrides).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/config/error.h"

namespace bc {

struct CNode {
  // Declared here, defined in config_tree.cpp: a map's entries hold CNodes, and
  // clang with libstdc++ (the fuzz build, tests/fuzz/) needs CNode complete
  // before it looks at std::pair<std::string, CNode>'s special members.
  CNode();
  ~CNode();
  CNode(const CNode&);
  CNode(CNode&&) noexcept;
  CNode& operator=(const CNode&);
  CNode& operator=(CNode&&) noexcept;

  enum class Kind { Null, Scalar, Map, Seq };
  Kind kind = Kind::Null;
  std::string scalar;
  std::vector<std::pair<std::string, CNode>> map;  // keys in file order
  std::vector<CNode> seq;
  SourceLoc loc;      // where the value is
  SourceLoc key_loc;  // where its key is (map entries)

  bool is_map() const { return kind == Kind::Map; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  const CNode* get(const std::string& key) const;
  CNode* get(const std::string& key);
  const char* kind_name() const;
};

// Loads a YAML file. A top-level `include:` (a path or a list of paths, relative
// to the including file) names base files: they are loaded and merged in order,
// then this file's keys override theirs (maps merge key by key; a scalar, a
// list or null replaces; null deletes the key). Errors carry file:line:column.
CNode load_config_file(const std::string& path);

// An input file's text (any config, model, recipe, trace or CSV), refused with
// an InputError when it cannot be read or is larger than limits::kMaxFileBytes.
std::string read_input_file(const std::string& path);

// Throws an InputError at the line and column of the first byte of `text` that
// is not UTF-8 (name: the file, for the message).
void check_utf8(const std::string& text, const std::string& name);

// Parses YAML text held in memory (name is used in messages).
CNode parse_config_text(const std::string& text, const std::string& name);

// Applies "key.path=value" (value parsed as YAML) on top of root; the location
// of the new value is the command-line argument itself.
void apply_set(CNode& root, const std::string& assignment);

// Deep merge of `over` onto `base` (the same rules as include).
void merge_into(CNode& base, const CNode& over);

}  // namespace bc
