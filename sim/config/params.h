// Typed, checked access to one map of a config tree. Every parameter is declared
// where it is read, with its type, unit, range, default and help text; the same
// declarations produce the key reference (`bitcycle explain --keys`). Problems
// are collected (not thrown) so all errors of a file are reported at once, and
// keys nobody read are reported as unknown, with the nearest valid key.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/config_tree.h"
#include "sim/config/error.h"
#include "sim/config/quantity.h"

namespace bc {

struct ParamDoc {
  std::string key;   // dotted path; named entries shown as <name>
  std::string type;  // "size", "integer", "one of: a|b", ...
  std::string def;   // default as text, or "required"
  std::string help;
};

struct Sourced {
  double value = 0;
  std::string source;
};

// The range every quantity of a dimension must lie in (limits.h); keys narrow it.
std::pair<double, double> quantity_range(Dim dim);

class Params {
 public:
  // `node` may be null: an absent optional section (defaults apply).
  Params(const CNode* node, std::string path, DiagnosticSink* sink,
         std::vector<ParamDoc>* docs = nullptr, std::string doc_path = "");
  Params(Params&& o) noexcept;
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;
  ~Params();  // finishes: reports unknown keys

  static constexpr double kInf = std::numeric_limits<double>::infinity();

  // A value with a unit; min is exclusive when min_exclusive (default: > 0).
  double quantity(const std::string& key, Dim dim, std::optional<double> def,
                  const std::string& help, double min = 0, bool min_exclusive = true,
                  double max = kInf);
  int64_t integer(const std::string& key, std::optional<int64_t> def, const std::string& help,
                  int64_t min = 1, int64_t max = std::numeric_limits<int64_t>::max());
  double number(const std::string& key, std::optional<double> def, const std::string& help,
                double min = 0, double max = kInf);
  bool boolean(const std::string& key, std::optional<bool> def, const std::string& help);
  std::string choice(const std::string& key, std::optional<std::string> def,
                     const std::vector<std::string>& choices, const std::string& help);
  std::string text(const std::string& key, std::optional<std::string> def, const std::string& help);
  // {value: <quantity>, source: "<citation>"}: constants of the component library.
  Sourced sourced(const std::string& key, Dim dim, std::optional<double> def,
                  const std::string& help, double min = 0, bool min_exclusive = false);
  // A number given with its source: {value: 0.51, source: "..."}.
  Sourced sourced_number(const std::string& key, const std::string& help, double min = 0);
  // A sub-map. Required and absent -> error; optional and absent -> empty Params.
  // doc_key names the entry in the key reference when key is a user's name
  // (e.g. "<unit>" for core.units.mac).
  Params map(const std::string& key, const std::string& help, bool required = false,
             const std::string& doc_key = "", bool document_entries = true);
  // For a map of named entries (units, components): the names in file order.
  // Each entry is then read with map(name, help, true, "<placeholder>").
  std::vector<std::string> entry_names();

  // The raw node under key (lists, free-form sections), marked as read.
  const CNode* raw(const std::string& key) { return lookup(key); }
  bool has(const std::string& key) const;
  bool present() const { return node_ != nullptr; }
  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const;
  SourceLoc loc_of(const std::string& key) const;      // where the key's value is
  SourceLoc key_loc_of(const std::string& key) const;  // where the key itself is
  void error(const std::string& key, const std::string& message, const std::string& hint = "");
  DiagnosticSink* sink() const { return sink_; }
  // Reports keys nobody read as unknown (idempotent; the destructor calls it).
  void finish();
  std::vector<ParamDoc>* docs() const { return docs_; }
  // For a default that follows another key: the key reference shows `text`
  // instead of the number it happened to resolve to.
  void document_default(const std::string& key, const std::string& text);
  const std::string& doc_path() const { return doc_path_; }

 private:
  const CNode* lookup(const std::string& key);  // marks the key used
  const CNode* scalar_or_error(const std::string& key, const char* expected);
  void missing(const std::string& key, const std::string& message, const std::string& hint);
  void doc(const std::string& key, const std::string& type, const std::string& def,
           const std::string& help);

  const CNode* node_;
  std::string path_;
  std::string doc_path_;
  DiagnosticSink* sink_;
  std::vector<ParamDoc>* docs_;
  std::vector<std::string> used_;
  bool finished_ = false;
  bool broken_ = false;  // the section was not a map (already reported)
};

}  // namespace bc
