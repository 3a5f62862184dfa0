#include "sim/cli/sweep_spec.h"

#include <glob.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <random>
#include <set>
#include <sstream>

#include "sim/config/config_tree.h"
#include "sim/config/hw_config.h"
#include "sim/config/limits.h"
#include "sim/config/params.h"
#include "sim/config/quantity.h"
#include "workloads/model.h"
#include "workloads/quant.h"

namespace bc {
namespace fs = std::filesystem;

namespace {

// Metrics a constraint may name besides config key paths: known from the
// loaded config alone, before anything is simulated.
const std::vector<std::string> kConstraintMetrics = {"area_mm2", "cores"};

// A value as YAML flow text for --set: scalars JSON-quoted (YAML reads JSON
// strings), so "1.6 TB/s" or a name with a colon survives the round trip; the
// config parser keeps scalars as text, so quoting changes no meaning.
std::string flow_text(const CNode& n) {
  switch (n.kind) {
    case CNode::Kind::Null:
      return "null";
    case CNode::Kind::Scalar:
      return nlohmann::json(n.scalar).dump();
    case CNode::Kind::Seq: {
      std::string s = "[";
      for (size_t i = 0; i < n.seq.size(); ++i) s += (i ? ", " : "") + flow_text(n.seq[i]);
      return s + "]";
    }
    case CNode::Kind::Map: {
      std::string s = "{";
      for (size_t i = 0; i < n.map.size(); ++i)
        s += (i ? ", " : "") + nlohmann::json(n.map[i].first).dump() + ": " +
             flow_text(n.map[i].second);
      return s + "}";
    }
  }
  return "null";
}

nlohmann::json to_json(const CNode& n) {
  switch (n.kind) {
    case CNode::Kind::Null:
      return nullptr;
    case CNode::Kind::Scalar:
      return n.scalar;
    case CNode::Kind::Seq: {
      auto a = nlohmann::json::array();
      for (const auto& e : n.seq) a.push_back(to_json(e));
      return a;
    }
    case CNode::Kind::Map: {
      auto o = nlohmann::json::object();
      for (const auto& [k, v] : n.map) o[k] = to_json(v);
      return o;
    }
  }
  return nullptr;
}

// A scalar or a list of scalars, as a list of nodes.
std::vector<const CNode*> as_list(const CNode* n) {
  std::vector<const CNode*> out;
  if (!n) return out;
  if (n->kind == CNode::Kind::Seq)
    for (const auto& e : n->seq) out.push_back(&e);
  else
    out.push_back(n);
  return out;
}

// Every dotted path of a config tree, for "did you mean".
void node_paths(const CNode& n, const std::string& prefix, std::vector<std::string>& out) {
  if (!n.is_map()) return;
  for (const auto& [k, v] : n.map) {
    std::string p = prefix.empty() ? k : prefix + "." + k;
    out.push_back(p);
    node_paths(v, p, out);
  }
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

// A declared key ("core.units.<mac_array>.rows") matches a user's key path
// ("core.units.mac.rows") segment by segment; <...> stands for any name.
bool doc_matches(const std::string& doc_key, const std::string& key) {
  auto d = split_path(doc_key), k = split_path(key);
  if (d.size() != k.size()) return false;
  for (size_t i = 0; i < d.size(); ++i)
    if (d[i] != k[i] && !(d[i].size() > 1 && d[i][0] == '<')) return false;
  return true;
}

// Relative config paths: the spec's folder first, then the repository root.
std::string resolve_config(const std::string& spec_path, const std::string& p) {
  if (fs::path(p).is_absolute()) return p;
  fs::path beside = fs::path(spec_path).parent_path() / p;
  std::error_code ec;  // a name too long for the file system does not exist
  if (fs::exists(beside, ec)) return beside.lexically_normal().string();
  return (fs::path(project_root()) / p).lexically_normal().string();
}

std::vector<std::string> glob_paths(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
  globfree(&g);
  return out;  // glob sorts its matches
}

bool parse_int(const std::string& s, int64_t* v) {
  try {
    size_t used = 0;
    *v = std::stoll(s, &used);
    return used == s.size();
  } catch (const std::exception&) {
    return false;
  }
}

// A constraint's right-hand side: a plain number, or a quantity of any unit.
// Finite and decimal: a nan bound would skip no point, or every one. `dim`,
// when given, is set to the quantity's dimension (empty: a plain number).
bool parse_number_or_quantity(const std::string& s, double* v, std::optional<Dim>* dim = nullptr) {
  if (dim) dim->reset();
  char* end = nullptr;
  *v = read_decimal(s.c_str(), &end);
  if (end != s.c_str() && *end == '\0') return std::isfinite(*v);
  for (Dim d : {Dim::Frequency, Dim::Bytes, Dim::Bandwidth, Dim::Energy, Dim::Power, Dim::Area,
                Dim::Length, Dim::Time}) {
    ParsedQuantity q = parse_quantity(s, d);
    if (q.error.empty()) {
      *v = q.value;
      if (dim) *dim = d;
      return true;
    }
  }
  return false;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

const CNode* node_at(const CNode& root, const std::string& path) {
  const CNode* cur = &root;
  for (const auto& part : split_path(path)) {
    if (!cur->is_map()) return nullptr;
    cur = cur->get(part);
    if (!cur) return nullptr;
  }
  return cur;
}

bool number_or_quantity(const std::string& text, double* out) {
  return parse_number_or_quantity(text, out);
}

bool config_key_exists(const CNode& raw, const std::vector<ParamDoc>& docs,
                       const std::string& key) {
  if (node_at(raw, key)) return true;
  // Not written but declared with a default, inside a section the config has
  // (so core.sram.banks counts, while memory.ddr.* on a chip without DDR would
  // add a memory tier rather than vary one).
  const size_t dot = key.rfind('.');
  const CNode* parent = dot == std::string::npos ? &raw : node_at(raw, key.substr(0, dot));
  if (!parent || !parent->is_map()) return false;
  return std::any_of(docs.begin(), docs.end(),
                     [&](const ParamDoc& d) { return doc_matches(d.key, key); });
}

namespace {
// The text of a config key's value as a run reads it: written, or its default.
std::optional<std::string> config_key_text(const CNode& raw, const std::vector<ParamDoc>& docs,
                                           const std::string& key) {
  if (const CNode* n = node_at(raw, key))
    return n->is_scalar() ? std::optional<std::string>(n->scalar) : std::nullopt;
  for (const auto& d : docs)
    if (doc_matches(d.key, key)) {
      std::string def = d.def;
      if (def.size() >= 2 && def.front() == '"' && def.back() == '"')
        def = def.substr(1, def.size() - 2);
      return def;
    }
  return std::nullopt;
}
}  // namespace

bool config_key_number(const CNode& raw, const std::vector<ParamDoc>& docs, const std::string& key,
                       double* out) {
  const std::optional<std::string> text = config_key_text(raw, docs, key);
  return text && parse_number_or_quantity(*text, out);
}

std::string repo_relative(const std::string& path) {
  const std::string root = fs::path(project_root()).lexically_normal().string() + "/";
  return path.rfind(root, 0) == 0 ? path.substr(root.size()) : path;
}

std::string SweepPoint::hw_label() const { return repo_relative(hw); }

std::string SweepPoint::key(const std::string& fidelity) const {
  nlohmann::json j = {{"hw", hw_label()},
                      {"set", nlohmann::json::array()},
                      {"model", repo_relative(wl.model)},
                      {"quant", repo_relative(wl.quant)},
                      {"phase", wl.phase},
                      {"batch", wl.batch},
                      {"context", wl.context},
                      {"seq", wl.seq},
                      {"lm_head", wl.lm_head},
                      {"embedding", wl.embedding},
                      {"fidelity", fidelity}};
  for (const auto& [k, v] : sets) j["set"].push_back(k + "=" + v);
  return j.dump();
}

std::vector<std::string> SweepPoint::set_args() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : sets) out.push_back(k + "=" + v);
  return out;
}

InputError remap_set_errors(const InputError& e, const std::map<std::string, SourceLoc>& locs) {
  std::vector<Diagnostic> d = e.diagnostics();
  for (auto& x : d) {
    auto it = locs.find(x.loc.file);
    if (it != locs.end()) x.loc = it->second;
  }
  return InputError(d);
}

namespace {

// `hw`: a config path or a glob, or a list of them.
void read_hw(Params& top, const std::string& path, DiagnosticSink& sink, SweepSpec& spec) {
  // Hardware configs: a path or glob, or a list of them.
  const CNode* hw = top.raw("hw");
  if (!hw) top.error("hw", "required: a config path, a glob or a list of them");
  // An empty list would sweep nothing (and leave an empty store behind).
  if (hw && !hw->is_scalar() && as_list(hw).empty())
    sink.add({hw->loc, "hw", "the list is empty: a sweep needs at least one config",
              "e.g. hw: configs/hw/default.yaml"});
  // A config listed twice (by two entries, or an entry and a glob) would be
  // one config's runs announced twice and run once: an error at the later
  // entry, as a value given twice in `params` is.
  std::map<std::string, size_t> listed;  // the file (links resolved) -> its entry, 1-based
  size_t entry = 0;
  auto add = [&](const CNode* h, const std::string& config, bool glob) {
    std::error_code ec;
    const fs::path file = fs::weakly_canonical(config, ec);
    const auto [it, fresh] = listed.emplace(ec ? config : file.string(), entry);
    if (fresh) {
      spec.hw.push_back(config);
      return true;
    }
    sink.add({h->loc, "hw",
              (glob ? "the glob \"" + h->scalar + "\" matches \"" + repo_relative(config) + "\","
                    : "config \"" + h->scalar + "\" is") +
                  " listed already (entry " + std::to_string(it->second) + ")",
              "list each config once"});
    return false;
  };
  for (const CNode* h : as_list(hw)) {
    ++entry;
    if (!h->is_scalar()) {
      sink.add({h->loc, "hw", "expected a config path or a glob", ""});
      continue;
    }
    const std::string& p = h->scalar;
    if (p.find_first_of("*?[") != std::string::npos) {
      std::string pat = fs::path(p).is_absolute() ? p : (fs::path(project_root()) / p).string();
      std::string beside = (fs::path(path).parent_path() / p).string();
      auto m = glob_paths(beside);
      if (m.empty()) m = glob_paths(pat);
      if (m.empty()) sink.add({h->loc, "hw", "the glob \"" + p + "\" matches no file", ""});
      for (auto& x : m)  // one error an entry
        if (!add(h, fs::path(x).lexically_normal().string(), true)) break;
    } else {
      std::string r = resolve_config(path, p);
      std::error_code ec;
      if (!fs::exists(r, ec))
        sink.add({h->loc, "hw", "config \"" + p + "\" does not exist",
                  "paths are relative to the spec's folder or the repository root"});
      else if (!fs::is_regular_file(r, ec))  // a folder: at this line, not at the folder
        sink.add({h->loc, "hw", "\"" + p + "\" is not a file",
                  "name a hardware config YAML file, or a glob such as configs/hw/*.yaml"});
      else
        add(h, r, false);
    }
  }
}

// `params`, `combine`, `samples`, `seed`.
void read_params(Params& top, DiagnosticSink& sink, SweepSpec& spec) {
  // Varied parameters, by key path.
  const CNode* params = top.raw("params");
  if (params && !params->is_map() && params->kind != CNode::Kind::Null)
    sink.add({params->loc, "params", "expected a map of key paths to value lists", ""});
  if (params && params->is_map())
    for (const auto& [k, v] : params->map) {
      SweepParam sp{k, v.key_loc, {}};
      if (v.kind == CNode::Kind::Seq) {
        for (const auto& e : v.seq) sp.values.push_back({flow_text(e), e.loc});
        if (v.seq.empty())
          sink.add({v.loc, "params." + k, "empty list of values: the grid would be empty",
                    "give at least one value"});
      } else {
        sp.values.push_back({flow_text(v), v.loc});
      }
      std::set<std::string> seen;
      for (const auto& val : sp.values)
        if (!seen.insert(val.text).second)
          sink.add({val.loc, "params." + k, "value " + val.text + " appears twice", ""});
      spec.params.push_back(std::move(sp));
    }
  spec.combine = top.choice("combine", std::string("grid"), {"grid", "zip", "random"},
                            "grid: every combination; zip: the i-th value of each parameter; "
                            "random: `samples` grid points drawn with `seed`");
  spec.samples = top.integer("samples", 0, "random: points to draw", 0);
  spec.seed = static_cast<uint64_t>(top.integer("seed", 1, "random: seed", 0));
  if (spec.combine == "zip" && !spec.params.empty()) {
    const size_t n = spec.params[0].values.size();
    for (const auto& p : spec.params)
      if (p.values.size() != n)
        sink.add({p.key_loc, "params." + p.key,
                  "zip needs lists of one length: " + std::to_string(p.values.size()) +
                      " values here, " + std::to_string(n) + " for " + spec.params[0].key,
                  ""});
  }
  if (spec.combine == "random") {
    double grid = 1;
    for (const auto& p : spec.params) grid *= static_cast<double>(p.values.size());
    if (spec.samples < 1)
      top.error("samples", "random needs samples >= 1");
    else if (grid > 0x1p62)  // grid indices are 64-bit integers
      top.error("params", "a grid of more than 2^62 points (the limit of combine: random)",
                "fewer parameters or values");
    else if (static_cast<double>(spec.samples) > grid)
      top.error("samples", "asks for " + std::to_string(spec.samples) + " points of a grid of " +
                               std::to_string(static_cast<int64_t>(grid)));
  } else if (top.has("samples") || top.has("seed")) {
    top.error(top.has("samples") ? "samples" : "seed", "only used with combine: random");
  }
}

// `workload`: each field a value or a list, crossed; names checked here.
void read_workloads(Params& top, const CNode& root, const std::string& path, DiagnosticSink& sink,
                    SweepSpec& spec) {
  // Workloads: each field a value or a list; all lists are crossed.
  {
    Params w = top.map("workload", "the workloads: each field a value or a list (crossed)");
    std::vector<std::string> models, quants, phases;
    std::vector<int64_t> batches, contexts, seqs;
    std::vector<bool> heads, embeds;
    auto texts = [&](const std::string& key, const std::string& def,
                     std::vector<std::string>& out) {
      const CNode* n = w.raw(key);
      if (!n) out.push_back(def);
      for (const CNode* e : as_list(n)) {
        if (!e->is_scalar())
          sink.add({e->loc, "workload." + key, "expected a name", ""});
        else
          out.push_back(e->scalar);
      }
      if (n && n->kind == CNode::Kind::Seq && n->seq.empty())
        sink.add({n->loc, "workload." + key, "empty list", ""});
    };
    auto ints = [&](const std::string& key, int64_t def, int64_t min, std::vector<int64_t>& out) {
      const CNode* n = w.raw(key);
      if (!n) out.push_back(def);
      for (const CNode* e : as_list(n)) {
        int64_t v = 0;
        if (!e->is_scalar() || !parse_int(e->scalar, &v) || v < min)
          sink.add({e->loc, "workload." + key,
                    "expected an integer >= " + std::to_string(min) +
                        (e->is_scalar() ? ", got \"" + e->scalar + "\"" : ""),
                    ""});
        else
          out.push_back(v);
      }
      if (n && n->kind == CNode::Kind::Seq && n->seq.empty())
        sink.add({n->loc, "workload." + key, "empty list", ""});
    };
    auto bools = [&](const std::string& key, std::vector<bool>& out) {
      const CNode* n = w.raw(key);
      if (!n) out.push_back(true);
      for (const CNode* e : as_list(n)) {
        if (e->is_scalar() && (e->scalar == "true" || e->scalar == "false"))
          out.push_back(e->scalar == "true");
        else
          sink.add({e->loc, "workload." + key, "expected true or false", ""});
      }
    };
    texts("model", "llama-3.1-8b", models);
    texts("quant", "w8a8-int", quants);
    texts("phase", "decode", phases);
    ints("batch", 1, 1, batches);
    ints("context", 4096, 0, contexts);
    ints("seq", 2048, 1, seqs);
    bools("lm_head", heads);
    bools("embedding", embeds);
    // Names are checked here, so a typo is an error at its line, not a
    // failed point per run.
    auto check_loaded = [&](const std::string& key, const std::vector<std::string>& names,
                            const std::function<void(const std::string&)>& load) {
      const CNode* n = w.has(key) ? root.get("workload")->get(key) : nullptr;
      auto nodes = as_list(n);
      for (size_t i = 0; i < names.size(); ++i) {
        try {
          std::string p = names[i];
          if (p.find('/') != std::string::npos) p = resolve_config(path, p);
          load(p);
        } catch (const InputError& e) {
          SourceLoc at = i < nodes.size() ? nodes[i]->loc : w.loc_of(key);
          for (auto d : e.diagnostics()) {
            if (d.loc.file == "<command line>" || d.loc.line == 0) {
              d.loc = at;
              d.key = "workload." + key;  // not the --model option the loader names
            }
            sink.add(d);
          }
        }
      }
    };
    check_loaded("model", models, [](const std::string& m) { load_model(m); });
    check_loaded("quant", quants, [](const std::string& q) { load_quant(q); });
    for (const auto& ph : phases)
      if (ph != "decode" && ph != "prefill")
        w.error("phase", "expected decode or prefill, got \"" + ph + "\"");
    auto fix = [&](std::string p) {
      return p.find('/') != std::string::npos ? resolve_config(path, p) : p;
    };
    for (const auto& m : models)
      for (const auto& q : quants)
        for (const auto& ph : phases)
          for (int64_t b : batches)
            for (int64_t c : contexts)
              for (int64_t s : seqs)
                for (bool h : heads)
                  for (bool e : embeds) {
                    if (ph == "decode" && c < 1) continue;  // reported below
                    SweepWorkload x{fix(m), fix(q), ph, b, c, s, h, e};
                    // seq means nothing to decode: one run, not one per seq.
                    if (ph == "decode") x.seq = seqs.front();
                    bool dup = false;
                    for (const auto& y : spec.workloads)
                      dup |= y.model == x.model && y.quant == x.quant && y.phase == x.phase &&
                             y.batch == x.batch && y.context == x.context && y.seq == x.seq &&
                             y.lm_head == x.lm_head && y.embedding == x.embedding;
                    if (!dup) spec.workloads.push_back(x);
                  }
    for (int64_t c : contexts)
      if (c < 1 && std::find(phases.begin(), phases.end(), "decode") != phases.end())
        w.error("context", "decode needs a context >= 1");
  }
}

// The numeric result columns a Pareto objective can name (sweep.cpp's
// add_metrics and evaluate_point): fixed ones, per-part ones by prefix, the
// workload's numbers and the varied parameters.
const char* const kParetoMetrics[] = {"latency_s",
                                      "step_period_s",
                                      "tokens",
                                      "tokens_per_s",
                                      "tokens_per_s_per_user",
                                      "token_latency_s",
                                      "energy_j",
                                      "dynamic_energy_j",
                                      "leakage_energy_j",
                                      "energy_per_token_j",
                                      "average_power_w",
                                      "area_mm2",
                                      "communication_s",
                                      "communication_share",
                                      "precompute_share",
                                      "system_area_mm2",
                                      "global_memory_bytes",
                                      "batch",
                                      "context",
                                      "seq",
                                      "load_s",
                                      "map_s",
                                      "eval_s",
                                      "report_s",
                                      "point_wall_s"};

bool is_pareto_metric(const std::string& m, const SweepSpec& spec) {
  for (const char* k : kParetoMetrics)
    if (m == k) return true;
  for (const char* prefix : {"utilization.", "energy_j.", "area_mm2.", "time_s.",
                             "peak_ops_per_s_per_mm2.", "peak_ops_per_s_per_w."})
    if (m.size() > std::strlen(prefix) && m.rfind(prefix, 0) == 0) return true;
  for (const auto& p : spec.params)
    if (m == p.key) return true;
  return false;
}

// `constraints`, `pareto`, `pareto_by`.
void read_constraints_and_pareto(Params& top, DiagnosticSink& sink, SweepSpec& spec) {
  // Constraints: "metric OP value".
  const CNode* cons = top.raw("constraints");
  for (const CNode* c : as_list(cons)) {
    if (!c->is_scalar()) {
      sink.add({c->loc, "constraints", "expected a text like \"area_mm2 <= 400\"", ""});
      continue;
    }
    SweepConstraint sc;
    sc.text = c->scalar;
    sc.loc = c->loc;
    size_t pos = std::string::npos, len = 0;
    for (const char* op : {"<=", ">=", "==", "!=", "<", ">"}) {
      size_t p = sc.text.find(op);
      if (p != std::string::npos) {
        pos = p, len = std::string(op).size();
        sc.op = op;
        break;
      }
    }
    if (pos == std::string::npos) {
      sink.add({c->loc, "constraints", "no comparison in \"" + sc.text + "\"",
                "write METRIC <= VALUE (or <, >=, >, ==, !=)"});
      continue;
    }
    sc.metric = trim(sc.text.substr(0, pos));
    std::string rhs = trim(sc.text.substr(pos + len));
    if (!parse_number_or_quantity(rhs, &sc.value, &sc.dim)) {
      sink.add({c->loc, "constraints", "\"" + rhs + "\" is not a number or a quantity",
                "e.g. 400, 4 MiB, 3.2 TB/s"});
      continue;
    }
    // area_mm2 is in mm2: a plain number, or an area (converted); cores a count.
    if (sc.metric == "area_mm2" && sc.dim == Dim::Area) {
      sc.value *= 1e6, sc.dim.reset();
    } else if ((sc.metric == "area_mm2" || sc.metric == "cores") && sc.dim) {
      sink.add({c->loc, "constraints",
                sc.metric + " is " + (sc.metric == "cores" ? "a count" : "an area in mm2") +
                    ", not a " + dim_name(*sc.dim) + " (\"" + rhs + "\")",
                sc.metric == "cores" ? "write a plain number" : "write e.g. 400 or 400 mm2"});
      continue;
    }
    spec.constraints.push_back(sc);
  }

  // Pareto objectives: minimised, or maximised with "max:".
  const CNode* par = top.raw("pareto");
  for (const CNode* p : as_list(par)) {
    if (!p->is_scalar()) {
      sink.add({p->loc, "pareto", "expected a metric name", ""});
      continue;
    }
    ParetoObjective o;
    o.metric = p->scalar;
    if (o.metric.rfind("max:", 0) == 0) o.maximize = true, o.metric = trim(o.metric.substr(4));
    if (o.metric.rfind("min:", 0) == 0) o.metric = trim(o.metric.substr(4));
    // A metric no run has would leave every front empty, silently.
    if (!is_pareto_metric(o.metric, spec)) {
      std::vector<std::string> known(std::begin(kParetoMetrics), std::end(kParetoMetrics));
      const std::string near = nearest(o.metric, known);
      sink.add({p->loc, "pareto", "unknown metric \"" + o.metric + "\"",
                (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                    "a numeric result column: latency_s, tokens_per_s, energy_per_token_j, "
                    "area_mm2, ..., utilization.X, energy_j.X, area_mm2.X, time_s.KIND, "
                    "a workload field or a varied parameter; max:NAME maximises"});
      continue;
    }
    spec.pareto.push_back(o);
  }
  const std::vector<std::string> fields = {"model",   "quant", "phase",   "batch",
                                           "context", "seq",   "lm_head", "embedding"};
  for (const CNode* b : as_list(top.raw("pareto_by"))) {
    if (!b->is_scalar() || std::find(fields.begin(), fields.end(), b->scalar) == fields.end())
      sink.add({b->loc, "pareto_by", "expected a workload field",
                "one of model, quant, phase, batch, context, seq, lm_head, embedding"});
    else
      spec.pareto_by.push_back(b->scalar);
  }
}

// Every varied key must exist in every base config and every value must load
// on it; constraint metrics must be known there.
void check_against_configs(DiagnosticSink& sink, SweepSpec& spec, bool check_configs) {
  if (check_configs) {
    for (const auto& hw_path : spec.hw) {
      std::vector<ParamDoc> docs;
      CNode raw;
      try {
        load_hw_config(hw_path, {}, &docs);
        raw = load_config_file(hw_path);
      } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) sink.add(d);
        continue;
      }
      std::vector<std::string> paths;
      node_paths(raw, "", paths);
      for (const auto& d : docs)
        if (d.key.find('<') == std::string::npos) paths.push_back(d.key);
      for (const auto& p : spec.params) {
        if (!config_key_exists(raw, docs, p.key)) {
          // A key of a section the config lacks (memory.ddr.* on a chip with
          // no DDR) is a real key: varying it would add hardware, not vary it.
          const size_t dot = p.key.rfind('.');
          const std::string section = dot == std::string::npos ? "" : p.key.substr(0, dot);
          if (!section.empty() && !node_at(raw, section) &&
              std::find(paths.begin(), paths.end(), p.key) != paths.end()) {
            sink.add({p.key_loc, "params." + p.key,
                      hw_path + " has no " + section +
                          " section: a sweep varies what its configs have, it does not add it",
                      "add " + section + " to that config, or sweep a config that has it"});
            continue;
          }
          std::string near = nearest(p.key, paths);
          sink.add({p.key_loc, "params." + p.key, "no such key in " + hw_path,
                    near.empty() || near == p.key ? "see bitcycle explain " + hw_path + " --keys"
                                                  : "did you mean " + near + "?"});
          continue;
        }
        for (const auto& v : p.values) {
          const std::string set = p.key + "=" + v.text;
          spec.set_locs["--set " + set] = v.loc;
          try {
            load_hw_config(hw_path, {set});
          } catch (const InputError& e) {
            const InputError remapped = remap_set_errors(e, spec.set_locs);
            for (const auto& d : remapped.diagnostics()) sink.add(d);
          }
        }
      }
      for (const auto& c : spec.constraints) {
        bool known = std::find(kConstraintMetrics.begin(), kConstraintMetrics.end(), c.metric) !=
                         kConstraintMetrics.end() ||
                     config_key_exists(raw, docs, c.metric);
        if (!known) {
          sink.add(
              {c.loc, "constraints",
               "\"" + c.metric + "\" is neither area_mm2, cores nor a numeric key of " + hw_path,
               ""});
          continue;
        }
        // A quantity bound must be of the key's dimension: 4 MiB against a
        // bandwidth would compare bytes with bytes a second.
        const std::optional<std::string> text = config_key_text(raw, docs, c.metric);
        std::optional<Dim> key_dim;
        double ignored = 0;
        if (c.dim && text && parse_number_or_quantity(*text, &ignored, &key_dim) && key_dim &&
            *key_dim != *c.dim)
          sink.add({c.loc, "constraints",
                    c.metric + " is a " + dim_name(*key_dim) + " in " + hw_path + ", the bound a " +
                        dim_name(*c.dim),
                    "give the bound in the key's unit, as its value " + *text + " is"});
      }
    }
  } else {
    for (const auto& p : spec.params)
      for (const auto& v : p.values) spec.set_locs["--set " + p.key + "=" + v.text] = v.loc;
  }
}

}  // namespace

SweepSpec load_sweep_spec(const std::string& path, bool check_configs) {
  CNode root = load_config_file(path);
  SweepSpec spec;
  spec.path = path;
  DiagnosticSink sink;
  // What the runs depend on identifies the spec; the description and the
  // fronts (recomputed from the stored rows every time) do not.
  for (const auto& [k, v] : root.map) {
    if (k == "description" || k == "pareto" || k == "pareto_by") continue;
    spec.canonical[k] = to_json(v);
    spec.top_key_loc[k] = v.key_loc;
  }
  {
    Params top(&root, "", &sink);
    spec.name = top.text("name", fs::path(path).stem().string(),
                         "sweep name: names the output folder (default: the spec's file name)");
    // It names a folder under sweeps/: "", "a/b" or ".." would name another place.
    if (spec.name.empty() || spec.name.find('/') != std::string::npos ||
        spec.name.find("..") != std::string::npos)
      top.error("name",
                "\"" + spec.name +
                    "\" cannot name the output folder sweeps/NAME: expected a "
                    "folder name, not empty and without \"/\" or \"..\"",
                "e.g. name: dram-x-sram, or --out DIR for another place");
    top.text("description", "", "free text");
    read_hw(top, path, sink, spec);
    read_params(top, sink, spec);
    read_workloads(top, root, path, sink, spec);
    read_constraints_and_pareto(top, sink, spec);
    // The runs a spec expands to, counted in a double (a grid of many long
    // lists overflows 64 bits) against the documented limit.
    double combos = 1;
    if (spec.combine == "random")
      combos = static_cast<double>(spec.samples);
    else if (spec.combine == "zip")
      combos = spec.params.empty() ? 1 : static_cast<double>(spec.params[0].values.size());
    else
      for (const auto& p : spec.params) combos *= static_cast<double>(p.values.size());
    const double runs = combos * static_cast<double>(std::max<size_t>(1, spec.hw.size())) *
                        static_cast<double>(std::max<size_t>(1, spec.workloads.size()));
    if (runs > static_cast<double>(limits::kMaxSweepRuns)) {
      std::ostringstream os;
      os << std::fixed << std::setprecision(0) << "the spec expands to " << runs
         << " runs, more than " << limits::kMaxSweepRuns << " (the limit of one sweep)";
      top.error(top.has("params") ? "params" : "workload", os.str(),
                "sweep a coarser grid, or use combine: random with samples");
    }
  }
  check_against_configs(sink, spec, check_configs);
  sink.throw_if_any();
  return spec;
}

std::vector<std::vector<int>> combine_params(const SweepSpec& spec) {
  std::vector<std::vector<int>> out;
  const size_t np = spec.params.size();
  if (np == 0) return {{}};
  if (spec.combine == "zip") {
    for (size_t i = 0; i < spec.params[0].values.size(); ++i)
      out.push_back(std::vector<int>(np, static_cast<int>(i)));
    return out;
  }
  // Grid index g <-> value indices, the last parameter fastest.
  int64_t total = 1;
  for (const auto& p : spec.params) total *= static_cast<int64_t>(p.values.size());
  auto decode = [&](int64_t g) {
    std::vector<int> idx(np);
    for (size_t k = np; k-- > 0;) {
      const int64_t n = static_cast<int64_t>(spec.params[k].values.size());
      idx[k] = static_cast<int>(g % n);
      g /= n;
    }
    return idx;
  };
  if (spec.combine == "grid") {
    for (int64_t g = 0; g < total; ++g) out.push_back(decode(g));
    return out;
  }
  // random: Floyd's algorithm draws `samples` distinct grid indices; the raw
  // mt19937_64 stream (not a std distribution, whose algorithm differs between
  // standard libraries) keeps a seed's points the same everywhere.
  std::mt19937_64 rng(spec.seed);
  std::set<int64_t> chosen;
  for (int64_t j = total - spec.samples; j < total; ++j) {
    const int64_t t = static_cast<int64_t>(rng() % static_cast<uint64_t>(j + 1));
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  for (int64_t g : chosen) out.push_back(decode(g));
  return out;
}

std::vector<SweepPoint> expand_points(const SweepSpec& spec) {
  std::vector<SweepPoint> out;
  const auto combos = combine_params(spec);
  for (const auto& hw : spec.hw)
    for (const auto& c : combos)
      for (const auto& wl : spec.workloads) {
        SweepPoint p;
        p.hw = hw;
        p.value_index = c;
        for (size_t k = 0; k < spec.params.size(); ++k)
          p.sets.push_back({spec.params[k].key, spec.params[k].values[c[k]].text});
        p.wl = wl;
        out.push_back(std::move(p));
      }
  return out;
}

}  // namespace bc
