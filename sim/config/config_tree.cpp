#include "sim/config/config_tree.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/config/limits.h"

namespace bc {
namespace fs = std::filesystem;

CNode::CNode() = default;
CNode::~CNode() = default;
CNode::CNode(const CNode&) = default;
CNode::CNode(CNode&&) noexcept = default;
CNode& CNode::operator=(const CNode&) = default;
CNode& CNode::operator=(CNode&&) noexcept = default;

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

void check_utf8(const std::string& text, const std::string& name) {
  int line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    // The length of the sequence and the smallest code point it may encode
    // (overlong forms and surrogates are invalid too, RFC 3629).
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    bool ok = len > 0 && i + len <= text.size();
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (size_t j = 1; ok && j < len; ++j) {
      const auto d = static_cast<unsigned char>(text[i + j]);
      ok = (d & 0xC0) == 0x80;
      cp = (cp << 6) | (d & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    // A NUL is valid UTF-8 but no text input holds one (the YAML reader took
    // it for an escape and said so, misleadingly).
    if (c == 0)
      fail_input(SourceLoc{name, line, col}, "",
                 "a NUL byte (0x00): input text must not contain one (a binary file?)",
                 "give a text file");
    if (!ok) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      fail_input(SourceLoc{name, line, col}, "",
                 std::string("invalid UTF-8 byte ") + hex + ": input text must be UTF-8",
                 "re-save the file as UTF-8");
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += len;
  }
}

std::string read_input_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    fail_input(SourceLoc{path, 0, 0}, "", "cannot open file: it is a directory", "check the path");
  // A FIFO or a device would block or never end: inputs are regular files, as
  // included files are.
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec))
    fail_input(SourceLoc{path, 0, 0}, "",
               "cannot open file: it is not a regular file (a FIFO, device or socket)",
               "give an input file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input(SourceLoc{path, 0, 0}, "", "cannot open file", "check the path");
  // Read at most one byte past the limit, however large the file claims to be.
  std::string text;
  char buf[65536];
  while (in && static_cast<int64_t>(text.size()) <= limits::kMaxFileBytes) {
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<size_t>(in.gcount()));
  }
  if (static_cast<int64_t>(text.size()) > limits::kMaxFileBytes)
    fail_input(SourceLoc{path, 0, 0}, "",
               "file larger than " + std::to_string(limits::kMaxFileBytes >> 20) +
                   " MiB (the limit for an input file)",
               "");
  return text;
}

namespace {

SourceLoc loc_of(const YAML::Mark& m, const std::string& file) {
  // yaml-cpp marks are 0-based; messages are 1-based like compilers'.
  return SourceLoc{file, m.line + 1, m.column + 1};
}

// Converting walks aliases as copies, so a few lines of anchors can stand for
// billions of nodes ("billion laughs"): the walk counts nodes and depth and
// stops at the limits. It also keeps the path of keys to the node (for
// messages) and the file's text (to check quoted scalars' closing quotes).
struct Budget {
  int64_t nodes = 0;
  std::vector<std::string> path;
  const std::string* text = nullptr;
  std::string joined() const {
    std::string p;
    for (const std::string& k : path) p += (p.empty() || k[0] == '[' ? "" : ".") + k;
    return p;
  }
};

// The offset just past a quoted scalar's closing quote, from its opening
// quote at `at`, or npos: yaml-cpp reads an unclosed quote to the end of the
// file as one scalar, so `name: "abc` swallowed the lines after it silently.
size_t closing_quote(const std::string& t, size_t at) {
  const char q = t[at];
  for (size_t i = at + 1; i < t.size(); ++i) {
    if (q == '"' && t[i] == '\\') {
      ++i;
    } else if (t[i] == q) {
      if (q == '\'' && i + 1 < t.size() && t[i + 1] == '\'') {
        ++i;  // '' is a quote inside single quotes
        continue;
      }
      return i + 1;
    }
  }
  return std::string::npos;
}

CNode convert(const YAML::Node& n, const std::string& file, Budget& budget, int depth = 0) {
  CNode c;
  c.loc = loc_of(n.Mark(), file);
  if (++budget.nodes > limits::kMaxYamlNodes)
    fail_input(c.loc, "",
               "the YAML expands to more than " + std::to_string(limits::kMaxYamlNodes) +
                   " nodes (the limit; aliases repeat what they name)",
               "write the values out, or use fewer aliases");
  if (depth > limits::kMaxYamlDepth)
    fail_input(c.loc, "",
               "maps and lists nested deeper than " + std::to_string(limits::kMaxYamlDepth) +
                   " levels (the limit)",
               "");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      c.kind = CNode::Kind::Null;
      break;
    case YAML::NodeType::Scalar: {
      c.kind = CNode::Kind::Scalar;
      c.scalar = n.Scalar();
      const auto at = static_cast<size_t>(n.Mark().pos);
      if (n.Tag() == "!" && budget.text && at < budget.text->size() &&
          ((*budget.text)[at] == '"' || (*budget.text)[at] == '\'') &&
          closing_quote(*budget.text, at) == std::string::npos)
        fail_input(c.loc, budget.joined(),
                   std::string("a quoted string is not closed: its ") +
                       ((*budget.text)[at] == '"' ? "double" : "single") +
                       " quote opens here and the file ends before its closing quote (the "
                       "lines after it would be read as part of the string)",
                   "close the quote");
      break;
    }
    case YAML::NodeType::Sequence:
      c.kind = CNode::Kind::Seq;
      for (const auto& e : n) {
        budget.path.push_back("[" + std::to_string(c.seq.size()) + "]");
        c.seq.push_back(convert(e, file, budget, depth + 1));
        budget.path.pop_back();
      }
      break;
    case YAML::NodeType::Map: {
      c.kind = CNode::Kind::Map;
      std::set<std::string> seen;
      for (const auto& kv : n) {
        if (!kv.first.IsScalar())
          fail_input(loc_of(kv.first.Mark(), file), budget.joined(),
                     std::string("a key is a ") + (kv.first.IsSequence() ? "list" : "map") +
                         ": keys are names",
                     "write the key as a plain name");
        std::string key = kv.first.Scalar();
        budget.path.push_back(key);
        if (!seen.insert(key).second)
          fail_input(loc_of(kv.first.Mark(), file), budget.joined(),
                     "key appears twice in the same map", "remove one of them");
        CNode v = convert(kv.second, file, budget, depth + 1);
        budget.path.pop_back();
        v.key_loc = loc_of(kv.first.Mark(), file);
        if (v.kind == CNode::Kind::Null) v.loc = v.key_loc;
        c.map.emplace_back(key, std::move(v));
      }
      break;
    }
  }
  return c;
}

CNode convert(const YAML::Node& n, const std::string& file, const std::string* text = nullptr) {
  Budget budget;
  budget.text = text;
  return convert(n, file, budget);
}

// One document per file: a second one (after `---`) would be ignored silently.
YAML::Node parse_yaml(const std::string& text, const std::string& name) {
  check_utf8(text, name);
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1)
      fail_input(loc_of(docs[1].Mark(), name), "",
                 "a second YAML document: a file holds one (the rest would be ignored)",
                 "remove the `---` line and what follows, or merge the documents");
    return docs.empty() ? YAML::Node() : docs.front();
  } catch (const YAML::ParserException& e) {
    fail_input(loc_of(e.mark, name), "", "malformed YAML: " + e.msg, "");
  }
}

CNode load_recursive(const std::string& path, std::vector<std::string>& stack) {
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(path, ec);
  const std::string text = read_input_file(path);
  CNode doc = convert(parse_yaml(text, path), path, &text);
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
    if (!fs::exists(p, ec))
      fail_input(f->loc, "include", "included file \"" + p.string() + "\" does not exist", "");
    if (!fs::is_regular_file(p, ec))
      fail_input(f->loc, "include", "\"" + p.string() + "\" is not a regular file",
                 "include a YAML file");
    const std::string target = fs::weakly_canonical(p, ec).string();
    for (const auto& s : stack)
      if (s == target)
        fail_input(f->loc, "include",
                   "include cycle: \"" + p.string() + "\" is already being loaded (it includes " +
                       "this file, directly or through others)",
                   "remove one of the includes");
    if (stack.size() >= static_cast<size_t>(limits::kMaxIncludeDepth))
      fail_input(f->loc, "include",
                 "includes nested deeper than " + std::to_string(limits::kMaxIncludeDepth) +
                     " files (the limit)",
                 "");
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
  // A merged section is where its last writer wrote it: a check of the section
  // as a whole (noc.mesh) points at the file that set it last.
  base.loc = over.loc;
  for (const auto& entry : over.map) {
    const std::string& k = entry.first;  // a plain reference: lambdas capture it everywhere
    const CNode& v = entry.second;
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
  CNode doc = convert(parse_yaml(text, name), name, &text);
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
  CNode v = convert(parse_yaml(value, label), label, &value);
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
