#include "sim/engine/engine.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "sim/config/quantity.h"
#include "sim/engine/core.h"
#include "sim/engine/timeline.h"

namespace bc {

// The config key that sets the resource a cost-model estimate is bound by
// (CostModel::estimate's names); empty when no one key does.
static std::string bound_key(const std::string& bound) {
  for (int l = 0; l < kTiers; ++l)
    if (bound == level_name(static_cast<Level>(l)))
      return std::string("memory.") + level_name(static_cast<Level>(l)) + ".bandwidth";
  if (bound == "noc") return "noc.link_bandwidth";
  if (bound == "dma") return "core.dma.bandwidth";
  if (bound == "compute") return "frequency";
  if (bound == "sram") return "core.sram.bank_width";
  if (bound == "latency") return "memory.dram.latency";
  if (bound == "power") return "power.tdp";
  return "";
}

void refuse_simulated_time(const HwConfig& hw, const Program& prog) {
  const OpPlan* slowest = nullptr;
  for (const OpPlan& op : prog.ops)
    if (!slowest || op.est_cycles > slowest->est_cycles) slowest = &op;
  const std::string key = slowest ? bound_key(slowest->est_bound) : "";
  std::string what =
      "the simulated time reaches 2^62 ps (about 53 days), the limit of the 64-bit clock";
  if (!key.empty())
    what += ": the slowest op in the mapper's estimate, " + slowest->name + " (" +
            format_quantity(slowest->est_cycles / hw.freq_hz, Dim::Time) + "), is bound by " +
            slowest->est_bound + ", which " + key + " sets";
  else
    what += ": a rate or a latency of this config is far off";
  fail_input(key.empty() ? SourceLoc{hw.path, 0, 0} : hw.loc_of(key), key, what,
             key.empty() ? "check the bandwidths, latencies and frequency for a unit slip"
                         : "check " + key + " for a unit slip");
}

SimResult simulate(const HwConfig& hw, const Program& prog, Timeline* timeline,
                   const OpProgress* progress) {
  auto t0 = std::chrono::steady_clock::now();
  ChipContext chip(hw, prog);
  chip.progress = progress;
  if (timeline) {
    chip.timeline = timeline;
    timeline->attach(chip);
  }
  std::vector<std::unique_ptr<Core>> cores;
  for (int64_t c = 0; c < hw.cores() * prog.chips; ++c) {
    if (prog.cores[c].empty()) continue;  // idle cores need no process
    std::string name = "core_" + std::to_string(c);
    cores.push_back(std::make_unique<Core>(name.c_str(), static_cast<int>(c), chip));
  }
  // Each simulated chip's collectives, in program order, on its link process.
  std::vector<std::vector<int>> coll(static_cast<size_t>(prog.chips));
  for (size_t i = 0; i < prog.ops.size(); ++i)
    if (!prog.ops[i].collective.empty()) coll[prog.ops[i].chip].push_back(static_cast<int>(i));
  std::vector<std::unique_ptr<LinkProcess>> link_procs;
  for (int k = 0; k < prog.chips; ++k)
    if (!coll[k].empty()) {
      std::string name = "links_" + std::to_string(k);
      link_procs.push_back(std::make_unique<LinkProcess>(name.c_str(), k, coll[k], chip));
    }
  // A run that reaches the clock's limit stops through sc_stop (Core::wait_ticks)
  // and simulate() refuses it with one message: SystemC's own notes on the stop
  // (an info line, and a warning when a second core stops too) would print on
  // stdout beside it.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                          sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions(sc_core::SC_ID_SIMULATION_STOP_CALLED_TWICE_,
                                          sc_core::SC_DO_NOTHING);
  sc_core::sc_start();
  bool over = chip.time_limit_reached;
  for (const OpRecord& rec : chip.ops) over = over || rec.end >= kMaxTicks;
  if (over) refuse_simulated_time(hw, prog);

  SimResult r;
  r.ops.resize(prog.ops.size());
  double cyc = 1e12 / hw.freq_hz;  // ps per cycle
  for (size_t i = 0; i < prog.ops.size(); ++i) {
    const OpRecord& rec = chip.ops[i];
    OpResult& o = r.ops[i];
    if (!rec.complete) {
      // Every op has work; one left incomplete means the processes blocked each
      // other (a stream buffer too small for the consumers' row needs).
      throw std::logic_error("simulation ended with op " + prog.ops[i].name +
                             " incomplete: the engine deadlocked");
    }
    o.start_s = ticks_to_seconds(rec.start == ~Tick(0) ? rec.end : rec.start);
    o.end_s = ticks_to_seconds(rec.end);
    o.critical_core = rec.critical_core;
    o.compute_cycles = static_cast<double>(rec.compute) / cyc;
    o.memory_stall_cycles = static_cast<double>(rec.memory_stall) / cyc;
    o.dependency_stall_cycles = static_cast<double>(rec.dependency_stall) / cyc;
    o.precompute_cycles = static_cast<double>(rec.precompute) / cyc;
    o.backpressure_cycles = static_cast<double>(rec.backpressure) / cyc;
    r.latency_s = std::max(r.latency_s, o.end_s);
  }
  r.num_actions = chip.num_actions;
  r.unit_action_base = chip.unit_action_base;
  r.op_counts = std::move(chip.op_counts);
  r.core_counts = std::move(chip.core_counts);
  r.events = chip.events;
  r.stream_bytes = chip.stream_bytes;
  for (Tick b : chip.unit_busy) r.unit_busy_s.push_back(ticks_to_seconds(b));
  for (const auto& c : chip.chips) {
    for (int t = 0; t < kTiers; ++t)
      if (c.tiers[t].present())
        r.tier_channel_busy_s[t] = std::max(r.tier_channel_busy_s[t], c.tiers[t].busy_max_s());
    r.noc_link_busy_s = std::max(r.noc_link_busy_s, c.noc.link_busy_max_s());
  }
  if (chip.links) r.chip_link_busy_s = chip.links->busiest_link_s();
  for (const auto& d : chip.dma) r.dma_busy_s = std::max(r.dma_busy_s, d.busy_s());
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace bc
