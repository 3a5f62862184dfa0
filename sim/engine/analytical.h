// The analytical fidelity: a Program evaluated in closed form, without the
// SystemC engine, so a sweep can evaluate thousands of design points a minute
// and prune before cycle-mode runs.
//
// Time: each op takes the mapper's own estimate (OpPlan::est_cycles from
// sim/mapping/cost_model.h: the engine's resources, routes and unit cycle counts,
// without queueing), the objective its tiling search minimised. An op the
// mapper did not estimate takes a roofline over the same tiles the engine
// would run: the slowest of its critical core's compute (the units' own
// TileCost cycles, SRAM bank time included), each memory level's bytes over
// that level's bandwidth, each core's DMA bytes over its engine's bandwidth,
// and the busiest mesh link's bytes over the link bandwidth, plus one load and
// one store latency; `crosscheck` prints both. Collectives take the
// chip-to-chip link model (models/chip_links.h) run for that collective alone.
// Nothing queues behind anything else: there is no contention, which is the
// difference `bitcycle crosscheck` shows against the cycle mode.
//
// Ops are placed along the program: an op starts when its dependencies have
// finished (plus the kernel launch gap, as the engine waits it) and its cores
// (or its chip's link process) are free, so a
// kernel-by-kernel program is the sum of its ops and a pipelined system
// overlaps its stages. A streamed (dataflow) input lets a consumer start with
// its producer; it ends no earlier than its own last row block after the
// producer's end (a one-row decode step runs them in series).
//
// Energy: the action counts are the engine's, counted from the same tiles
// (compute actions and SRAM bytes from the TileCosts, memory-level and SRAM
// bytes of every load and store, NoC byte-hops over the same XY routes and
// channel placement, chip-link bytes from the link model). Dataflow pulls count
// their hops over the average route from the producer's core group (the engine
// rotates the source cores tile by tile). The result is a SimResult, so the
// report (energy, area, breakdowns, utilisations) is built by the same code as
// for a simulated run.
#pragma once

#include <string>
#include <vector>

#include "sim/config/hw_config.h"
#include "sim/engine/engine.h"
#include "sim/mapping/program.h"

namespace bc {

// Per op: the two closed-form times and which one the analytical mode used.
struct AnalyticalOp {
  double mapper_cycles = 0;    // OpPlan::est_cycles (0: the mapper gave none)
  double roofline_cycles = 0;  // the roofline over the op's tiles
  double cycles = 0;           // the one used
  std::string source;          // "mapper", "roofline" or "links"
  std::string bound;           // the binding resource (the mapper's, else the roofline's):
                               // compute, dram, shared_sram, ddr, dma, noc, sram, latency, links
};

// `roofline_time`: every op takes its roofline, the lower bound on its time
// (the power limit uses it: the run's highest power, sim/cli/power_cap.h).
SimResult analytical_simulate(const HwConfig& hw, const Program& prog,
                              std::vector<AnalyticalOp>* detail = nullptr,
                              bool roofline_time = false);

}  // namespace bc
