#include "sim/config/params.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "sim/config/limits.h"

namespace bc {

std::pair<double, double> quantity_range(Dim dim) {
  switch (dim) {
    case Dim::Frequency:
      return {limits::kMinFrequencyHz, limits::kMaxFrequencyHz};
    case Dim::Bandwidth:
      return {limits::kMinBandwidthBps, limits::kMaxBandwidthBps};
    case Dim::Bytes:
      return {0, limits::kMaxSizeBytes};
    case Dim::Time:
      return {0, limits::kMaxTimeS};
    case Dim::Cycles:
      return {0, limits::kMaxCycles};
    case Dim::Power:
      return {0, limits::kMaxPowerW};
    case Dim::Energy:
      return {0, limits::kMaxActionEnergyJ};
    case Dim::Area:
      return {0, limits::kMaxAreaM2};
    case Dim::Length:
      return {limits::kMinNodeM, limits::kMaxNodeM};
    default:
      return {-Params::kInf, Params::kInf};
  }
}

namespace {
std::string num_text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

Params::Params(const CNode* node, std::string path, DiagnosticSink* sink,
               std::vector<ParamDoc>* docs, std::string doc_path)
    : node_(node),
      path_(std::move(path)),
      doc_path_(doc_path.empty() ? path_ : doc_path),
      sink_(sink),
      docs_(docs) {
  if (node_ && node_->kind == CNode::Kind::Null) node_ = nullptr;
  if (node_ && !node_->is_map()) {
    sink_->add(
        {node_->loc, path_, std::string("expected a map of keys, got ") + node_->kind_name(), ""});
    node_ = nullptr;
    broken_ = true;  // reported once here; its keys are not "missing" on top
  }
}

Params::Params(Params&& o) noexcept
    : node_(o.node_),
      path_(std::move(o.path_)),
      doc_path_(std::move(o.doc_path_)),
      sink_(o.sink_),
      docs_(o.docs_),
      used_(std::move(o.used_)),
      finished_(o.finished_),
      broken_(o.broken_) {
  o.finished_ = true;
}

Params::~Params() { finish(); }

std::string Params::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool Params::has(const std::string& key) const { return node_ && node_->get(key); }

SourceLoc Params::key_loc_of(const std::string& key) const {
  if (node_)
    if (const CNode* n = node_->get(key)) return n->key_loc.line ? n->key_loc : n->loc;
  return loc_of(key);
}

SourceLoc Params::loc_of(const std::string& key) const {
  if (node_) {
    if (const CNode* n = node_->get(key)) return n->loc;
    return node_->loc;
  }
  return {};
}

void Params::error(const std::string& key, const std::string& message, const std::string& hint) {
  sink_->add({loc_of(key), key_path(key), message, hint});
}

const CNode* Params::lookup(const std::string& key) {
  used_.push_back(key);
  if (!node_) return nullptr;
  return node_->get(key);
}

void Params::doc(const std::string& key, const std::string& type, const std::string& def,
                 const std::string& help) {
  if (!docs_) return;
  std::string k = doc_path_.empty() ? key : doc_path_ + "." + key;
  for (const auto& d : *docs_)
    if (d.key == k) return;
  docs_->push_back({k, type, def, help});
}

void Params::document_default(const std::string& key, const std::string& text) {
  if (!docs_) return;
  std::string k = doc_path_.empty() ? key : doc_path_ + "." + key;
  for (auto& d : *docs_)
    if (d.key == k) d.def = text;
}

// A required key that is absent (a present key of the wrong kind was reported already).
void Params::missing(const std::string& key, const std::string& message, const std::string& hint) {
  if (broken_ || (node_ && node_->get(key))) return;
  sink_->add({node_ ? node_->loc : SourceLoc{}, key_path(key), message, hint});
}

const CNode* Params::scalar_or_error(const std::string& key, const char* expected) {
  const CNode* n = lookup(key);
  if (n && !n->is_scalar()) {
    sink_->add({n->loc, key_path(key),
                std::string("expected ") + expected + ", got " + n->kind_name(), ""});
    return nullptr;
  }
  return n;
}

double Params::quantity(const std::string& key, Dim dim, std::optional<double> def,
                        const std::string& help, double min, bool min_exclusive, double max) {
  doc(key, std::string(dim_name(dim)) + " (e.g. \"" + dim_example(dim) + "\")",
      def ? format_quantity(*def, dim) : "required", help);
  const CNode* n = scalar_or_error(key, dim_example(dim));
  if (!n) {
    if (!def)
      missing(key, "missing required key (a " + std::string(dim_name(dim)) + ")",
              std::string("add e.g. ") + key + ": " + dim_example(dim));
    return def.value_or(0);
  }
  ParsedQuantity q = parse_quantity(n->scalar, dim);
  if (!q.error.empty()) {
    sink_->add({n->loc, key_path(key), q.error, q.hint});
    return def.value_or(0);
  }
  bool low = min_exclusive ? !(q.value > min) : q.value < min;
  if (low || q.value > max) {
    std::string range = std::string(min_exclusive ? "> " : ">= ") + format_quantity(min, dim);
    if (max < kInf) range += " and <= " + format_quantity(max, dim);
    sink_->add(
        {n->loc, key_path(key), "value " + n->scalar + " out of range: must be " + range, ""});
    return def.value_or(0);
  }
  // Every dimension that sets a time or a size has a documented range
  // (limits.h), so that no derived product leaves 64 bits.
  auto [dim_min, dim_max] = quantity_range(dim);
  if (q.value < dim_min || q.value > dim_max) {
    const bool below = q.value < dim_min;
    sink_->add({n->loc, key_path(key),
                "value " + n->scalar + " out of range: must be " + (below ? ">= " : "<= ") +
                    format_quantity(below ? dim_min : dim_max, dim) + ", the " +
                    (below ? "smallest " : "largest ") + dim_name(dim) + " BitCycle accepts",
                "check the unit"});
    return def.value_or(0);
  }
  // A size or a width is a count of bytes: 0.5 B (4 bit) would be a fraction of one.
  if (dim == Dim::Bytes && q.value != std::floor(q.value)) {
    sink_->add({n->loc, key_path(key),
                "value " + n->scalar + " is " + num_text(q.value) + " bytes, not a whole number",
                "sizes and widths are whole bytes, e.g. " + std::string(dim_example(dim))});
    return def.value_or(0);
  }
  return q.value;
}

int64_t Params::integer(const std::string& key, std::optional<int64_t> def, const std::string& help,
                        int64_t min, int64_t max) {
  doc(key, "integer >= " + std::to_string(min), def ? std::to_string(*def) : "required", help);
  const CNode* n = scalar_or_error(key, "an integer");
  if (!n) {
    if (!def) missing(key, "missing required key (an integer)", "");
    return def.value_or(min);
  }
  try {
    size_t used = 0;
    long long v = std::stoll(n->scalar, &used);
    if (used != n->scalar.size()) throw std::invalid_argument("trailing");
    if (v < min || v > max) {
      std::string range = ">= " + std::to_string(min);
      if (max < std::numeric_limits<int64_t>::max()) range += " and <= " + std::to_string(max);
      sink_->add(
          {n->loc, key_path(key), "value " + n->scalar + " out of range: must be " + range, ""});
      return def.value_or(min);
    }
    return v;
  } catch (const std::exception&) {
    sink_->add({n->loc, key_path(key), "expected an integer, got \"" + n->scalar + "\"", ""});
    return def.value_or(min);
  }
}

double Params::number(const std::string& key, std::optional<double> def, const std::string& help,
                      double min, double max) {
  doc(key, "number", def ? num_text(*def) : "required", help);
  const CNode* n = scalar_or_error(key, "a number");
  if (!n) {
    if (!def) missing(key, "missing required key (a number)", "");
    return def.value_or(min);
  }
  try {
    char* end = nullptr;
    const double v = read_decimal(n->scalar.c_str(), &end);
    if (end == n->scalar.c_str() || *end != '\0' || !std::isfinite(v))
      throw std::invalid_argument("not a decimal number");
    if (v < min || v > max) {
      std::string range = ">= " + num_text(min);
      if (max < kInf) range += " and <= " + num_text(max);
      sink_->add(
          {n->loc, key_path(key), "value " + n->scalar + " out of range: must be " + range, ""});
      return def.value_or(min);
    }
    return v;
  } catch (const std::exception&) {
    sink_->add({n->loc, key_path(key), "expected a number, got \"" + n->scalar + "\"", ""});
    return def.value_or(min);
  }
}

bool Params::boolean(const std::string& key, std::optional<bool> def, const std::string& help) {
  doc(key, "true|false", def ? (*def ? "true" : "false") : "required", help);
  const CNode* n = scalar_or_error(key, "true or false");
  if (!n) {
    if (!def) missing(key, "missing required key (true or false)", "");
    return def.value_or(false);
  }
  if (n->scalar == "true") return true;
  if (n->scalar == "false") return false;
  sink_->add({n->loc, key_path(key), "expected true or false, got \"" + n->scalar + "\"", ""});
  return def.value_or(false);
}

std::string Params::choice(const std::string& key, std::optional<std::string> def,
                           const std::vector<std::string>& choices, const std::string& help) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
  doc(key, "one of " + list, def.value_or("required"), help);
  const CNode* n = scalar_or_error(key, "a name");
  if (!n) {
    if (!def) missing(key, "missing required key (one of " + list + ")", "");
    return def.value_or(choices.front());
  }
  if (std::find(choices.begin(), choices.end(), n->scalar) != choices.end()) return n->scalar;
  std::string near = nearest(n->scalar, choices);
  sink_->add({n->loc, key_path(key), "unknown value \"" + n->scalar + "\"; expected one of " + list,
              near.empty() ? "" : "did you mean \"" + near + "\"?"});
  return def.value_or(choices.front());
}

std::string Params::text(const std::string& key, std::optional<std::string> def,
                         const std::string& help) {
  doc(key, "text", def ? "\"" + *def + "\"" : "required", help);
  const CNode* n = scalar_or_error(key, "a string");
  if (!n) {
    if (!def) missing(key, "missing required key (a string)", "");
    return def.value_or("");
  }
  return n->scalar;
}

Sourced Params::sourced(const std::string& key, Dim dim, std::optional<double> def,
                        const std::string& help, double min, bool min_exclusive) {
  Sourced s;
  if (!has(key) && def) {
    lookup(key);
    s.value = *def;
    s.source = "default";
    return s;
  }
  Params m = map(key, help, true);
  s.value = m.quantity("value", dim, std::nullopt, help, min, min_exclusive);
  s.source = m.text("source", std::nullopt, "publication or derivation this value comes from");
  if (m.present() && s.source.empty())
    m.error("source", "empty source: every constant names where it comes from");
  return s;
}

Sourced Params::sourced_number(const std::string& key, const std::string& help, double min) {
  Params m = map(key, help, true);
  Sourced s;
  s.value = m.number("value", std::nullopt, help, min);
  s.source = m.text("source", std::nullopt, "publication or derivation this value comes from");
  if (m.present() && s.source.empty())
    m.error("source", "empty source: every constant names where it comes from");
  return s;
}

Params Params::map(const std::string& key, const std::string& help, bool required,
                   const std::string& doc_key, bool document_entries) {
  const std::string& dk = doc_key.empty() ? key : doc_key;
  doc(dk, "map", required ? "required" : "optional", help);
  const CNode* n = lookup(key);
  // A required section that is absent or null is reported once, here; the keys
  // it should have held are not reported again one by one.
  const bool absent = !n || n->kind == CNode::Kind::Null;
  if (absent && required && !broken_)
    sink_->add({n       ? n->loc
                : node_ ? node_->loc
                        : SourceLoc{},
                key_path(key), n ? "required section is null" : "missing required section",
                n ? "give it its keys, or remove the line to see what it needs" : ""});
  Params child(n, key_path(key), sink_, document_entries ? docs_ : nullptr,
               doc_path_.empty() ? dk : doc_path_ + "." + dk);
  // Inside a broken or missing section, nothing is "missing" either.
  child.broken_ = child.broken_ || broken_ || (absent && required);
  return child;
}

std::vector<std::string> Params::entry_names() {
  std::vector<std::string> names;
  if (!node_) return names;
  for (const auto& [k, v] : node_->map) {
    names.push_back(k);
    used_.push_back(k);
  }
  return names;
}

void Params::finish() {
  if (finished_) return;
  finished_ = true;
  if (!node_) return;
  std::vector<std::string> valid = used_;
  std::sort(valid.begin(), valid.end());
  valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
  for (const auto& [k, v] : node_->map) {
    if (std::find(valid.begin(), valid.end(), k) != valid.end()) continue;
    std::string near = nearest(k, valid);
    std::string list;
    for (const auto& s : valid) list += (list.empty() ? "" : ", ") + s;
    std::string hint = near.empty() ? "" : "did you mean \"" + near + "\"? ";
    hint += list.empty() ? "this section takes no keys" : "valid keys: " + list;
    sink_->add({v.key_loc.line ? v.key_loc : v.loc, key_path(k), "unknown key", hint});
  }
}

}  // namespace bc
