// `bitcycle sweep` and `bitcycle crosscheck`.
//
// A sweep expands its spec (sim/sweep_spec.h) into runs, skips those already in
// its results store (sim/sweep_store.h), and evaluates the rest in worker
// processes: a SystemC kernel elaborates once per process, so in cycle mode
// each run is one forked child; analytical runs need no kernel and go to a
// child in batches. -j children run at once; each writes one JSON row per run
// to its pipe and the parent stores the rows. Slurm: the runs are split into
// shards of a job array; each task runs its shard into its own part file, and
// the parts are merged into the store when the array has finished.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/cli/sweep_spec.h"

namespace bc {

int cmd_sweep(int argc, char** argv);
int cmd_crosscheck(int argc, char** argv);

// One run, as the results row the store keeps: identity, workload, varied
// parameters (their resolved SI values), status ("ok", "skipped" by a
// constraint, "error") and the report's metrics.
nlohmann::ordered_json evaluate_point(const SweepSpec& spec, const SweepPoint& p,
                                      const std::string& fidelity);

// Indices of the points no other point dominates (every objective minimised:
// a point is dominated by one at most as large in every objective and smaller
// in one). Identical points are all kept.
std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& objectives);

}  // namespace bc
