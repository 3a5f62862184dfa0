// A design-space sweep spec (`bitcycle sweep SPEC.yaml`): hardware configs,
// workloads, and config parameters to vary by their key path (as --set names
// them), combined as a grid, zipped, or sampled at random with a seed, with
// constraints that skip invalid points and the metrics of a Pareto front.
// Parsed by the project's config parser (sim/config_tree.h, sim/params.h), so
// every error names spec file:line:column; each varied key and value is checked
// against each base config before anything runs.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/config_tree.h"
#include "sim/config/error.h"
#include "sim/config/params.h"
#include "sim/config/quantity.h"

namespace bc {

// One value of a varied parameter: the YAML text --set would take, and where
// the spec wrote it.
struct SweepValue {
  std::string text;
  SourceLoc loc;
};

struct SweepParam {
  std::string key;  // dotted key path, e.g. core.sram.size
  SourceLoc key_loc;
  std::vector<SweepValue> values;
};

struct SweepWorkload {
  std::string model = "llama-3.1-8b", quant = "w8a8-int", phase = "decode";
  int64_t batch = 1, context = 4096, seq = 2048;
  bool lm_head = true, embedding = true;
};

// `metric OP number [unit]`, checked on a loaded config before a point runs.
// The metric is area_mm2, cores, or a config key path (its resolved SI value).
struct SweepConstraint {
  std::string text, metric, op;
  double value = 0;
  std::optional<Dim> dim;  // the bound's dimension, when given as a quantity
  SourceLoc loc;
};

struct ParetoObjective {
  std::string metric;
  bool maximize = false;
};

// One run: a design point (a config and its --set overrides) and a workload.
struct SweepPoint {
  std::string hw;                                         // config path as resolved
  std::vector<std::pair<std::string, std::string>> sets;  // key path, value text
  std::vector<int> value_index;                           // per spec param: which value
  SweepWorkload wl;
  // Identity in the results store: config, overrides, workload and fidelity.
  // Paths inside the repository are taken relative to it, so a store stays
  // valid in another checkout (or on cluster nodes that mount it elsewhere).
  std::string key(const std::string& fidelity) const;
  std::string hw_label() const;               // the config path as the key and the store show it
  std::vector<std::string> set_args() const;  // "key=value" for load_hw_config
};

struct SweepSpec {
  std::string path, name;
  std::vector<std::string> hw;  // resolved paths, in spec order
  std::vector<SweepParam> params;
  std::string combine = "grid";  // grid | zip | random
  int64_t samples = 0;           // random: points drawn from the grid
  uint64_t seed = 1;
  std::vector<SweepWorkload> workloads;
  std::vector<SweepConstraint> constraints;
  std::vector<ParetoObjective> pareto;
  // Workload fields each front is taken within (empty: one front per workload).
  std::vector<std::string> pareto_by;
  // Identity of the spec for the store: every top-level key's value as JSON
  // (but description, pareto and pareto_by, which change no run), and where
  // each key is (for "store from a different spec" errors).
  nlohmann::json canonical;
  std::map<std::string, SourceLoc> top_key_loc;
  // "--set KEY=VALUE" label -> where the spec wrote the value, so the config
  // loader's errors on an override point at the spec.
  std::map<std::string, SourceLoc> set_locs;
};

// Parses and checks a spec. With check_configs, every varied key path must
// exist in every config (its resolved tree, defaults filled) and every value
// must load on it. Throws InputError with all problems found.
SweepSpec load_sweep_spec(const std::string& path, bool check_configs = true);

// The parameter combinations: per combination, the value index of each param.
// grid: all, the last param varying fastest; zip: the i-th value of each;
// random: `samples` distinct grid points drawn with the seed (in grid order).
std::vector<std::vector<int>> combine_params(const SweepSpec& spec);

// Every run: configs x combinations x workloads (workload fastest).
std::vector<SweepPoint> expand_points(const SweepSpec& spec);

// Rewrites diagnostics of a --set override so they point at the spec value.
InputError remap_set_errors(const InputError& e, const std::map<std::string, SourceLoc>& locs);

// A path inside the repository, relative to it; others unchanged.
std::string repo_relative(const std::string& path);

// A config tree's node at a dotted key path (null when absent).
const CNode* node_at(const CNode& root, const std::string& path);
// Whether a key path can be varied on a config: written in it (includes
// applied), or declared with a default inside a section it has.
bool config_key_exists(const CNode& raw, const std::vector<ParamDoc>& docs, const std::string& key);
// The SI value of a key on a config (as written, else its declared default).
bool config_key_number(const CNode& raw, const std::vector<ParamDoc>& docs, const std::string& key,
                       double* out);
// A plain number or a quantity with any unit ("4 MiB", "3.2 TB/s"), in SI.
bool number_or_quantity(const std::string& text, double* out);

}  // namespace bc
