#include "sim/engine/core.h"

#include <algorithm>

#include "sim/engine/timeline.h"
#include "sim/mapping/unit_pipeline.h"

namespace bc {

using sc_core::sc_time;

ChipContext::ChipContext(const HwConfig& h, const Program& p)
    : hw(h),
      prog(p),
      ops(p.ops.size()),
      op_done(p.ops.size()),
      period_ps(1e12 / h.freq_hz),
      launch_gap(h.execution == "kernel" && !h.deterministic ? seconds_to_ticks(h.launch_gap_s)
                                                             : 0),
      frontier(p.ops.size()),
      watermark(p.ops.size(), 0),
      rows_ev(p.ops.size()) {
  for (int k = 0; k < p.chips; ++k) chips.push_back(make_chip_resources(h));
  if (h.system.present) links = std::make_unique<ChipLinks>(h.system);
  for (int64_t c = 0; c < h.cores() * p.chips; ++c) {
    sram.push_back(make_core_sram(h));
    dma.emplace_back(h.dma_bandwidth);
  }
  unit_busy.assign(h.units.size(), 0);
  unit_action_base = unit_action_bases(build_units(h.units), &num_actions);
  op_counts.assign(p.ops.size() * num_actions, 0.0);
  core_counts.assign(static_cast<size_t>(h.cores() * p.chips) * num_actions, 0.0);
  for (const auto& core_ops : p.cores) {
    stream_slot.emplace_back();
    for (const auto& co : core_ops) {
      ops[co.op].remaining++;
      const bool streamed = p.ops[co.op].core_count > 0 && p.ops[co.op].rows > 0;
      stream_slot.back().push_back(streamed ? static_cast<int>(frontier[co.op].size()) : -1);
      if (streamed) frontier[co.op].push_back(0);
    }
  }
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (!p.ops[i].collective.empty()) ops[i].remaining = 1;  // the chip's link process
}

void ChipContext::wait_done(int op) {
  while (!(ops[op].complete && ops[op].end <= sc_core::sc_time_stamp().value())) {
    sc_core::wait(op_done[op]);
    ++events;
  }
}

void ChipContext::wait_launch(const OpPlan& plan, const std::vector<int>* streamed) {
  Tick last = 0;
  for (int d : plan.deps) {
    if (streamed && std::find(streamed->begin(), streamed->end(), d) != streamed->end()) continue;
    wait_done(d);
    last = std::max(last, ops[d].end);
  }
  const Tick now = sc_core::sc_time_stamp().value();
  if (launch_gap > 0 && last + launch_gap > now) {
    sc_core::wait(sc_time::from_value(last + launch_gap - now));
    ++events;
  }
}

void ChipContext::advance(int op, int slot, int64_t rows) {
  std::vector<int64_t>& f = frontier[op];
  const bool was_min = f[slot] == watermark[op];
  f[slot] = std::max(f[slot], rows);
  if (!was_min) return;
  const int64_t m = *std::min_element(f.begin(), f.end());
  if (m > watermark[op]) {
    watermark[op] = m;
    rows_ev[op].notify();
  }
}

bool ChipContext::wait_rows(int op, int64_t rows) {
  bool waited = false;
  while (watermark[op] < rows) {
    sc_core::wait(rows_ev[op]);
    ++events;
    waited = true;
  }
  return waited;
}

void ChipContext::core_done(int op, int core, Tick finish, Tick compute, Tick dep_stall,
                            Tick mem_stall, Tick precompute, Tick backpressure) {
  OpRecord& r = ops[op];
  if (r.critical_core < 0 || finish > r.end) {
    r.end = finish;
    r.critical_core = core;
    r.compute = compute;
    r.dependency_stall = dep_stall;
    r.memory_stall = mem_stall;
    r.precompute = precompute;
    r.backpressure = backpressure;
  }
  if (--r.remaining == 0) {
    r.complete = true;
    if (progress) (*progress)(++ops_done, ops.size());
    Tick now = sc_core::sc_time_stamp().value();
    op_done[op].notify(sc_time::from_value(r.end > now ? r.end - now : 0));
  }
}

Core::Core(const sc_core::sc_module_name& name, int id, ChipContext& chip)
    : sc_module(name),
      buffers_(static_cast<uint64_t>(chip.hw.load_stages)),
      id_(id),
      node_(id % chip.hw.cores()),
      res_(chip.chips[static_cast<size_t>(id / chip.hw.cores())]),
      chip_(chip),
      ops_(chip.prog.cores[id]),
      dep_ready_(chip.prog.cores[id].size(), 0),
      row_wait_(chip.prog.cores[id].size(), 0),
      ready_at_(buffers_, 0),
      unit_free_(chip.hw.units.size(), 0),
      in_flight_(chip.hw.concurrent_units ? buffers_ : 1) {
  SC_THREAD(dma_process);
  SC_THREAD(compute_process);
}

void Core::wait_ticks(Tick t) {
  if (t == 0) return;
  if (t >= kMaxTicks - std::min(now(), kMaxTicks)) {
    // Time would pass the limit (and, waited on, wrap): stop here, simulate()
    // refuses the run. This process waits for nothing more.
    chip_.time_limit_reached = true;
    sc_core::sc_stop();
    wait(sc_core::sc_event());
  }
  wait(sc_time::from_value(t));
  ++chip_.events;
}

void Core::wait_for(Tick t, sc_core::sc_event& ev) {
  if (t == kNever) {
    wait(ev);
    ++chip_.events;
    return;
  }
  const Tick n = now();
  if (t <= n) return;
  if (t - n >= kMaxTicks - std::min(n, kMaxTicks)) wait_ticks(t - n);  // stops at the limit
  wait(sc_time::from_value(t - n), ev);
  ++chip_.events;
}

Tick Core::pull(int op, double bytes, uint64_t seq) {
  const OpPlan& src = chip_.prog.ops[chip_.prog.ops[op].stream_src];
  const int64_t cores = chip_.hw.cores();
  const int64_t chip_base = (id_ / cores) * cores;
  const int64_t n = std::min<int64_t>(kStreamSources, src.core_count);
  Tick done = now();
  if (chip_.timeline) chip_.timeline->set_op(op);
  for (int64_t k = 0; k < n; ++k) {
    // Sources spread over the producer's group, rotating tile by tile, so the
    // pulls use all of its scratchpads and the mesh links around them.
    const int64_t s =
        chip_base + src.core_base +
        static_cast<int64_t>((static_cast<uint64_t>(k * src.core_count / n) + seq + id_) %
                             static_cast<uint64_t>(src.core_count));
    done = std::max(done,
                    chip_.dma[id_].pull(now(), bytes / static_cast<double>(n),
                                        chip_.prog.ops[op].stream_readers, s % cores, chip_.sram[s],
                                        node_, res_.noc, chip_.sram[id_], chip_.sink(op, id_)));
  }
  chip_.stream_bytes += bytes;
  if (chip_.timeline) chip_.timeline->transfer(id_, now(), done, op, bytes, Timeline::kPull);
  return done;
}

Tick Core::transfer(int op, double bytes, int level, bool load, double multicast) {
  MemoryChannels& mem = res_.level(static_cast<Level>(level));
  const int rd = tier_read_action(level), wr = tier_write_action(level);
  if (chip_.timeline) chip_.timeline->set_op(op);
  const Tick done = chip_.dma[id_].transfer(now(), bytes, load, mem, rd, wr, node_, res_.noc,
                                            chip_.sram[id_], chip_.sink(op, id_), multicast);
  if (chip_.timeline)
    chip_.timeline->transfer(id_, now(), done, op, bytes,
                             load ? Timeline::kLoad : Timeline::kStore);
  return done;
}

// The DMA process walks the ops' tiles and issues each tile's loads when a
// buffer is free. While it only waits for a buffer, the compute process
// issues the next load itself when it frees one and the load would not wait
// for streamed rows (buffer_freed), at the moment the DMA process would have:
// a process switch a tile saved, the same loads at the same times. The DMA
// process is woken for what only it does: an op's start (dependencies,
// launch), streamed rows.
void Core::dma_process() {
  for (dma_op_ = 0; dma_op_ < ops_.size(); ++dma_op_) {
    const CoreOp& co = ops_[dma_op_];
    const OpPlan& plan = chip_.prog.ops[co.op];
    chip_.wait_launch(plan, &plan.stream_in);
    dep_ready_[dma_op_] = now();
    dma_first_ = true;
    dma_tile_ = 0, dma_repeat_ = 0;
    op_first_seq_ = dma_seq_;
    while (dma_tile_ < co.tiles.size()) {
      while (dma_tile_ < co.tiles.size() &&
             (dma_seq_ >= computed_ + stages_of(dma_op_) || retire_pending())) {
        dma_parked_ = true;
        wait(computed_ev_);
        dma_parked_ = false;
        ++chip_.events;
      }
      if (dma_tile_ >= co.tiles.size()) break;  // the compute process issued the rest
      if (dma_seq_ > computed_ && dma_seq_ < op_first_seq_ + stages_of(dma_op_)) {
        // The op's first loads, issued at its start, go to the memories in
        // rounds: every core's first, then every core's second, as arbiters
        // take requesters in turn. Issued one core after another, a core's
        // whole prefetch queued ahead of the next core's first load, so more
        // stages made the last core start later (default decode, batch 16,
        // 4 stages: 1.45 % slower than 2). One delta cycle per round; the
        // compute process issues loads only for a parked DMA process, so this
        // tile is still the next and its buffer still free.
        wait(sc_core::SC_ZERO_TIME);
      }
      // A tile whose buffer holds an earlier tile's output loads once that
      // output's store has completed (Tile::after_store). Not parked meanwhile,
      // so the compute process does not issue it.
      if (co.tiles[dma_tile_].after_store > 0 && stored_at_ > now()) {
        wait(sc_time::from_value(stored_at_ - now()));
        ++chip_.events;
      }
      if (!plan.stream_in.empty()) {  // the streamed inputs' rows this tile reads
        const Tick before = now();
        for (int p : plan.stream_in) chip_.wait_rows(p, co.tiles[dma_tile_].rows_need);
        row_wait_[dma_op_] += now() - before;
      }
      issue_load();
    }
  }
}

// Whether the streamed inputs' rows the DMA process's next tile reads are
// all complete (then it would not wait for them).
bool Core::rows_ready() const {
  const CoreOp& co = ops_[dma_op_];
  for (int p : chip_.prog.ops[co.op].stream_in)
    if (chip_.watermark[p] < static_cast<int64_t>(co.tiles[dma_tile_].rows_need)) return false;
  return true;
}

// Whether the DMA process's next tile waits for an earlier tile to retire:
// to issue its store (Tile::after_store), or to stop reading a buffer
// (Tile::after_retire).
bool Core::retire_pending() const {
  const Tile& t = ops_[dma_op_].tiles[dma_tile_];
  // Also a tile that waits for an earlier tile to retire (Tile::after_retire).
  for (const uint8_t back : {t.after_store, t.after_retire})
    if (back > 0 && computed_ + back <= dma_seq_) return true;
  return false;
}

// Issues the loads of the DMA process's next tile, now, and moves it on.
void Core::issue_load() {
  const CoreOp& co = ops_[dma_op_];
  const Tile& t = co.tiles[dma_tile_];
  if (dma_first_) {
    chip_.ops[co.op].start = std::min(chip_.ops[co.op].start, now());
    dma_first_ = false;
  }
  Tick done = now();
  for (int l = 0; l < kLevels; ++l)
    if (t.load_bytes[l] > 0)
      done = std::max(done, l == kStream ? pull(static_cast<int>(co.op), t.load_bytes[l], dma_seq_)
                                         : transfer(static_cast<int>(co.op), t.load_bytes[l], l,
                                                    true, t.multicast(l)));
  ready_at_[dma_seq_ % buffers_] = done;
  issued_ = ++dma_seq_;
  loaded_ev_.notify();
  if (++dma_repeat_ == t.repeat) ++dma_tile_, dma_repeat_ = 0;
}

// A buffer was freed: the DMA process's next load, if it is parked for one
// and this op has another tile; else the DMA process is woken.
void Core::buffer_freed() {
  if (dma_parked_) {
    const CoreOp& co = ops_[dma_op_];
    while (dma_tile_ < co.tiles.size() && dma_seq_ < computed_ + stages_of(dma_op_) &&
           !retire_pending()) {
      const Tile& t = co.tiles[dma_tile_];
      // Streamed rows and a store to wait for: the DMA process waits itself.
      if (!rows_ready() || (t.after_store > 0 && stored_at_ > now())) break;
      issue_load();
    }
    // Still parked: for the next buffer, or for an earlier tile to retire.
    if (dma_tile_ < co.tiles.size() &&
        (dma_seq_ >= computed_ + stages_of(dma_op_) || retire_pending()))
      return;
  }
  computed_ev_.notify();
}

void Core::compute_process() {
  uint64_t seq = 0;               // tiles admitted to the compute pipeline
  Tick free_at = 0;               // when this core finished its previous op's compute
  std::vector<InFlight> flights;  // admitted, not yet retired, oldest first
  auto step_ticks = [this](const ComputeStep& st) {
    return chip_.cycles_to_ticks(static_cast<double>(chip_.prog.costs[st.cost].cycles));
  };
  flights.reserve(in_flight_);
  // A retired tile freed a buffer: the DMA process's next load is issued (or
  // the DMA process woken) when this process next waits, where the DMA process
  // used to run after being notified.
  bool freed = false;
  auto flush = [&] {
    if (freed) freed = false, buffer_freed();
  };
  for (size_t j = 0; j < ops_.size(); ++j) {
    const CoreOp& co = ops_[j];
    const int op = static_cast<int>(co.op);
    const OpPlan& plan = chip_.prog.ops[op];
    const int slot = chip_.stream_slot[id_][j];
    int64_t front = 0;  // this core's output rows done
    CountSink counts = chip_.sink(op, id_);
    // busy: time at least one unit worked (steps start in time order, so the
    // union of their intervals is kept with one running end, `covered`).
    Tick busy = 0, covered = 0, finish = 0, first_start = 0, pre = 0, bp = 0;
    bool first = true;
    size_t ti = 0;  // next tile to admit: co.tiles[ti], its repeat r
    uint32_t r = 0;
    while (ti < co.tiles.size() || !flights.empty()) {
      const Tick t_now = now();  // one read of the kernel's clock per pass
      // Retire finished tiles in order: free the buffer, publish rows, store.
      if (!flights.empty() && flights.front().step == flights.front().tile->nsteps &&
          flights.front().at <= t_now) {
        const Tile& t = *flights.front().tile;
        flights.erase(flights.begin());
        ++computed_;
        freed = true;
        if (slot >= 0 && t.rows_done > front) chip_.advance(op, slot, front = t.rows_done);
        for (int l = 0; l < kLevels; ++l)
          if (t.store_bytes[l] > 0 && l != kStream) {  // streamed results stay in SRAM
            const Tick done = transfer(op, t.store_bytes[l], l, false);
            finish = std::max(finish, done);
            stored_at_ = std::max(stored_at_, done);
          }
        continue;
      }
      // Admit the next tile once its loads have landed and a pipeline slot is free.
      bool held = false;  // the next tile waits for the tiles in flight to retire
      if (ti < co.tiles.size() && flights.size() < in_flight_ && issued_ > seq &&
          ready_at_[seq % buffers_] <= t_now) {
        const Tile& t = co.tiles[ti];
        const bool pressure = t.rows_done > front && !plan.stream_out.empty();
        held = pressure && !flights.empty();
        if (!held) {
          if (first) first_start = t_now, first = false;
          if (pressure) {
            // Back-pressure: the rows this tile completes must fit the stream
            // buffer, which holds what the slowest consumer has not used yet.
            const Tick before = now();
            flush();
            for (int c : plan.stream_out)
              chip_.wait_rows(c, static_cast<int64_t>(t.rows_done) - plan.buffer_rows);
            bp += now() - before;
          }
          flights.push_back({&t, 0, now()});
          ++seq;
          if (++r == t.repeat) ++ti, r = 0;
          continue;
        }
      }
      // Start a step whose operands are ready on a free unit (the rule of
      // sim/mapping/unit_pipeline.h: oldest tile first, younger ones backfill).
      Tick next = kNever;  // the next time something can happen
      InFlight* go = next_step(flights, unit_free_, t_now, step_ticks, &next);
      if (go) {
        const ComputeStep& st = go->tile->steps[go->step];
        const TileCost& c = chip_.prog.costs[st.cost];
        const Tick unit_time = step_ticks(st);
        const Tick unit_end = sat_add(t_now, unit_time);
        // Operand reads and result writes share the banks with DMA traffic.
        const Tick sram_done =
            chip_.sram[id_].access(t_now, c.sram_read_bytes + c.sram_write_bytes);
        const Tick end = std::max(unit_end, sram_done);
        if (unit_end > covered) busy += unit_end - std::max(t_now, covered), covered = unit_end;
        chip_.unit_busy[st.unit] += unit_time;
        if (chip_.timeline) chip_.timeline->unit_step(id_, st.unit, t_now, unit_time, op, st.tag);
        if (st.tag == kStepPrecompute) pre += unit_time;
        const int base = chip_.unit_action_base[st.unit];
        for (const ActionCount& a : c.actions) counts.add(base + a.action, a.count);
        counts.add(kSramRead, c.sram_read_bytes);
        counts.add(kSramWrite, c.sram_write_bytes);
        unit_free_[st.unit] = end;
        go->at = end;
        ++go->step;
        continue;
      }
      // Nothing to do now: wait for the next step, retirement or load.
      flush();
      if (ti < co.tiles.size() && !held && flights.size() < in_flight_ && issued_ > seq)
        next = std::min(next, ready_at_[seq % buffers_]);
      // Woken early by the next tile's loads only when they could start work
      // at once: nothing is in flight, or its first step's unit is idle.
      if (next == kNever ||
          (issued_ <= seq && ti < co.tiles.size() && flights.size() < in_flight_ &&
           co.tiles[ti].nsteps > 0 && unit_free_[co.tiles[ti].steps[0].unit] <= t_now))
        wait_for(next, loaded_ev_);
      else
        wait_ticks(next - t_now);
    }
    finish = std::max(finish, now());
    // In a dataflow group, idle before the first tile is a dependency stall while
    // the op's inputs were not yet produced, a memory stall after; idle between
    // tiles and the final store drain are memory stalls.
    // Streaming: loads held for a producer's rows count as dependency stall,
    // waits for consumers to free buffers as back-pressure.
    // Kernel by kernel (the op has the whole chip) an op begins when its
    // producers are done and it is launched: a core that had no part in the ops
    // before it idled through their time, which is theirs, so its window opens
    // at the launch and its cycles add up to the op's latency. In a dataflow
    // group the op is resident and the wait for its producers is its own.
    const bool kernel = plan.core_count == 0;
    const Tick from = kernel ? std::max(free_at, std::min(dep_ready_[j], first_start)) : free_at;
    Tick dep =
        !kernel && dep_ready_[j] > free_at ? std::min(dep_ready_[j], first_start) - free_at : 0;
    Tick window = finish - from;
    Tick idle = window > busy + dep + bp ? window - busy - dep - bp : 0;
    const Tick held_rows = std::min(idle, row_wait_[j]);
    dep += held_rows;
    chip_.core_done(op, id_, finish, busy, dep, idle - held_rows, pre, bp);
    if (slot >= 0) chip_.advance(op, slot, plan.rows);
    free_at = now();
  }
  flush();
}

LinkProcess::LinkProcess(const sc_core::sc_module_name& name, int chip, std::vector<int> ops,
                         ChipContext& ctx)
    : sc_module(name), chip_(chip), ops_(std::move(ops)), ctx_(ctx) {
  SC_THREAD(run);
}

std::vector<std::vector<int64_t>> LinkProcess::groups(const OpPlan& op) const {
  const SystemConfig& s = ctx_.hw.system;
  std::vector<std::vector<int64_t>> g;
  const int64_t stage = op.chip;
  for (int64_t r = 0; r < s.dp(); ++r) {
    const int64_t base = (r * s.pp + stage) * s.tp;  // chip id of rank 0 of this stage
    if (op.collective == "send") {
      if (stage + 1 >= s.pp) continue;  // the last stage has no next stage
      for (int64_t i = 0; i < s.tp; ++i) g.push_back({base + i, base + s.tp + i});
    } else {
      std::vector<int64_t> ranks;
      for (int64_t i = 0; i < s.tp; ++i) ranks.push_back(base + i);
      g.push_back(std::move(ranks));
    }
  }
  return g;
}

void LinkProcess::run() {
  const int core = chip_ * static_cast<int>(ctx_.hw.cores());  // where link counts are booked
  for (int op : ops_) {
    const OpPlan& p = ctx_.prog.ops[op];
    ctx_.wait_launch(p);
    const Tick start = sc_core::sc_time_stamp().value();
    ctx_.ops[op].start = std::min(ctx_.ops[op].start, start);
    Tick done = start;
    if (ctx_.links) {
      const double local = ctx_.links->local_bytes, global = ctx_.links->global_bytes;
      done = ctx_.links->collective(start, p.collective, groups(p), p.collective_bytes);
      CountSink counts = ctx_.sink(op, core);
      counts.add(kLinkByte, ctx_.links->local_bytes - local);
      counts.add(kGlobalLinkByte, ctx_.links->global_bytes - global);
    }
    if (ctx_.timeline) ctx_.timeline->collective(chip_, start, done, op);
    if (done > start) {
      sc_core::wait(sc_time::from_value(done - start));
      ++ctx_.events;
    }
    ctx_.core_done(op, -1, done, 0, 0, done - start, 0);
  }
}

}  // namespace bc
