// A core: a SystemC module with two processes, its DMA engine and its compute
// pipeline. The DMA process issues a tile's loads as soon as one of the two
// buffers is free (double buffering), without waiting for earlier loads to land,
// so several requests are in flight and memory latency overlaps; it waits for
// an op's dependencies before loading its first tile. While it waits only for
// a buffer, the compute process issues the load when it frees one (a process
// switch a tile saved; see Core::buffer_freed).
// The compute process runs each tile's steps on the units, reading operands from
// the banked SRAM, then hands the results to the DMA engine to store. With
// core.concurrent_units on, the units are pipelines of their own: a loaded tile's step
// starts as soon as its unit is free and the tile's previous step is done, so
// with two tiles in their buffers the MAC array works on one while the vector
// unit finishes the other. A tile's steps stay in order, and buffers are freed
// in tile order.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "models/dma_engine.h"
#include "sim/config/hw_config.h"
#include "sim/engine/chip_links.h"
#include "sim/mapping/fabric.h"
#include "sim/mapping/program.h"

namespace bc {

class Timeline;

// Per op: when it started and ended, and the timing of its critical core.
struct OpRecord {
  Tick start = ~Tick(0);
  Tick end = 0;
  int remaining = 0;  // cores still working on it
  bool complete = false;
  int critical_core = -1;
  Tick compute = 0, memory_stall = 0, dependency_stall = 0;  // critical core's
  Tick precompute = 0;    // critical core's busy time in table precompute (part of compute)
  Tick backpressure = 0;  // critical core's wait for its consumers to free stream buffers
};

// Shared state of the simulated chips (one, or one per pipeline stage of a
// system): their resources, the chip-to-chip links, the op scoreboard and the
// action counters.
struct ChipContext {
  ChipContext(const HwConfig& hw, const Program& prog);

  const HwConfig& hw;
  const Program& prog;
  std::vector<ChipResources> chips;
  std::unique_ptr<ChipLinks> links;  // a system's links (null: one chip)
  std::vector<SramBanks> sram;       // per core of every simulated chip
  std::vector<DmaEngine> dma;
  std::vector<OpRecord> ops;
  std::vector<sc_core::sc_event> op_done;  // notified when an op completes on all cores
  std::vector<int> unit_action_base;       // first counter of each unit's actions
  int num_actions = 0;
  std::vector<double> op_counts;    // ops x num_actions
  std::vector<double> core_counts;  // cores x num_actions
  double period_ps;
  Tick launch_gap = 0;          // per kernel (HwConfig::launch_gap_s), 0 where it does not apply
  uint64_t events = 0;          // timed waits and wake-ups processed
  std::vector<Tick> unit_busy;  // per unit: busy time summed over all cores
  Timeline* timeline = nullptr;
  const std::function<void(size_t, size_t)>* progress = nullptr;  // told as ops complete
  size_t ops_done = 0;  // optional trace-event recorder (run --timeline)

  Tick cycles_to_ticks(double cycles) const {
    const double ps = cycles * period_ps;
    return ps < static_cast<double>(kMaxTicks) ? static_cast<Tick>(std::llround(ps)) : kMaxTicks;
  }
  // Set when simulated time reached kMaxTicks: the run stopped there and is refused.
  bool time_limit_reached = false;
  CountSink sink(int op, int core) {
    return {&op_counts[static_cast<size_t>(op) * num_actions],
            &core_counts[static_cast<size_t>(core) * num_actions]};
  }
  void wait_done(int op);
  // Waits for the op's dependencies (all of them, or those not in `streamed`),
  // then for the launch gap after the last of them ended.
  void wait_launch(const OpPlan& plan, const std::vector<int>* streamed = nullptr);
  void core_done(int op, int core, Tick finish, Tick compute, Tick dep_stall, Tick mem_stall,
                 Tick precompute, Tick backpressure = 0);

  // Row streaming (dataflow): per streamed op, each of its cores' frontier (rows
  // below it are done on that core) and the op's watermark, the lowest frontier:
  // every output row below it is complete.
  std::vector<std::vector<int64_t>> frontier;
  std::vector<int64_t> watermark;
  std::vector<sc_core::sc_event> rows_ev;     // notified when an op's watermark rises
  std::vector<std::vector<int>> stream_slot;  // per core, per CoreOp: its frontier slot
  double stream_bytes = 0;                    // bytes pulled between core groups
  void advance(int op, int slot, int64_t rows);
  // Waits until op's watermark reaches `rows`; returns whether it had to wait.
  bool wait_rows(int op, int64_t rows);
};

// A chip's link engine: runs the chip's collectives in program order, each
// once its dependencies are met, for every rank and replica at once (see
// ChipLinks), and completes the op when the last rank is done.
class LinkProcess : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(LinkProcess);
  LinkProcess(const sc_core::sc_module_name& name, int chip, std::vector<int> ops,
              ChipContext& ctx);

 private:
  void run();
  // Chip ids taking part in op `op`: the tensor groups of the op's stage in
  // every replica, or (send) pairs of a rank and the same rank of the next stage.
  std::vector<std::vector<int64_t>> groups(const OpPlan& op) const;
  int chip_;
  std::vector<int> ops_;
  ChipContext& ctx_;
};

class Core : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Core);
  Core(const sc_core::sc_module_name& name, int id, ChipContext& chip);

 private:
  void dma_process();
  void compute_process();
  void issue_load();
  void buffer_freed();
  bool rows_ready() const;
  bool retire_pending() const;
  void wait_ticks(Tick t);
  // Waits until time `t` or `ev`, whichever comes first (t = kNever: only ev).
  void wait_for(Tick t, sc_core::sc_event& ev);

  Tick now() const { return sc_core::sc_time_stamp().value(); }
  // `multicast`: of a load's bytes, those a cluster peer reads for this core.
  Tick transfer(int op, double bytes, int level, bool load, double multicast = 0);
  // A kStream load: the bytes come from the producer's core group, in pieces
  // from up to kStreamSources of its cores (rotating with `seq`).
  Tick pull(int op, double bytes, uint64_t seq);
  // Not a published figure: a modelling choice that spreads a pull's traffic
  // over several producer scratchpads without one route per producer core.
  static constexpr int kStreamSources = 4;

  const uint64_t buffers_;  // tile loads in flight (core.dma.stages)
  // Loads in flight the mapper planned op j's tiles for (its buffers fit SRAM
  // beside its tiles): core.dma.stages or fewer.
  uint64_t stages_of(size_t j) const {
    return static_cast<uint64_t>(
        chip_.prog.ops[ops_[j].op].stages_on(static_cast<int64_t>(buffers_)));
  }
  int id_;
  int64_t node_;
  ChipResources& res_;
  ChipContext& chip_;
  const std::vector<CoreOp>& ops_;
  std::vector<Tick> dep_ready_;         // per op of this core: when its dependencies were met
  std::vector<Tick> row_wait_;          // per op of this core: loads held for streamed rows
  uint64_t issued_ = 0, computed_ = 0;  // tiles whose loads were issued / computed
  Tick stored_at_ = 0;                  // when the stores issued so far complete
  std::vector<Tick> ready_at_;          // when each buffer's loads complete
  std::vector<Tick> unit_free_;         // per unit: when its current step ends
  const uint64_t in_flight_;            // tiles computed at once (1: units in series)
  sc_core::sc_event loaded_ev_, computed_ev_;
  // The DMA process's place: op, tile, repeat, loads issued; parked: waiting
  // for a buffer (the compute process may issue for it).
  size_t dma_op_ = 0, dma_tile_ = 0;
  uint32_t dma_repeat_ = 0;
  uint64_t dma_seq_ = 0, op_first_seq_ = 0;  // loads issued; the first of this op
  bool dma_first_ = true, dma_parked_ = false;
};

}  // namespace bc
