// Runs a Program on the SystemC model of a chip. SystemC elaborates once per
// process: call simulate() at most once per process (sweeps and tests that need
// several runs use a child process each, see sim/cli/isolate.h).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/config/hw_config.h"
#include "sim/mapping/program.h"

namespace bc {

struct OpResult {
  double start_s = 0, end_s = 0;
  int critical_core = -1;
  double compute_cycles = 0, memory_stall_cycles = 0, dependency_stall_cycles = 0;
  double precompute_cycles = 0;    // of compute_cycles, spent building LUT tables
  double backpressure_cycles = 0;  // dataflow: waiting for consumers to free stream buffers
};

struct SimResult {
  double latency_s = 0;
  std::vector<OpResult> ops;
  int num_actions = 0;
  std::vector<int> unit_action_base;
  std::vector<double> op_counts;    // ops x num_actions
  std::vector<double> core_counts;  // cores x num_actions
  uint64_t events = 0;
  double wall_s = 0;
  // Busiest instance of each shared resource, seconds busy (utilisation = / latency).
  std::array<double, kTiers> tier_channel_busy_s{};  // by memory tier (Level)
  double noc_link_busy_s = 0, dma_busy_s = 0;
  double chip_link_busy_s = 0;      // busiest chip-to-chip link
  double stream_bytes = 0;          // dataflow: bytes pulled from other core groups' SRAM
  std::vector<double> unit_busy_s;  // per unit of HwConfig::units: busy s summed over cores
};

class Timeline;
// `timeline` (optional) records the run's trace events (models/timeline.h).
// Called as ops complete (ops done, ops in the program): `run` draws progress
// with it on a terminal.
using OpProgress = std::function<void(size_t done, size_t total)>;

// Throws the InputError of a run whose simulated time reaches limits::kMaxTicks
// (simulate() and the analytical mode refuse such a run rather than wrap),
// naming the config key behind the op the mapper expected to take longest.
[[noreturn]] void refuse_simulated_time(const HwConfig& hw, const Program& prog);

SimResult simulate(const HwConfig& hw, const Program& prog, Timeline* timeline = nullptr,
                   const OpProgress* progress = nullptr);

}  // namespace bc
