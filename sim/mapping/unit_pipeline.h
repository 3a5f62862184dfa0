// A core's units as pipelines of their own (core.concurrent_units): the rule
// that picks which loaded tile's next step starts on a free unit, shared by the
// engine (sim/engine/core.cpp, in simulated time) and the cost model (here, in
// cycles, for a tile class's steady-state period), so both time overlap alike.
//
// The rule is conservative backfilling (as batch schedulers use it): tiles have
// priority in program order; a younger tile's step may take a free unit only
// if it ends before the next step of every older tile waiting for that unit
// becomes ready. Overlap then never delays an older tile, whose retirement
// frees the buffer the next load needs. It is the order FlashAttention-3 keeps
// with its named barriers (one warp group's matrix products, then the other's,
// each overlapping the other's softmax). Greedy first-come order was tried: on
// latency-bound attention it delayed retirements and made runs up to 3 % slower
// than units in series.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/busy_server.h"
#include "sim/mapping/program.h"

namespace bc {

// A loaded tile in the compute pipeline: its next step, and when that step's
// operands are ready (the previous step's end; the load's, before the first).
struct InFlight {
  const Tile* tile;
  int step;
  Tick at;
};

// No time: nothing pending (distinct from kMaxTicks, the clock's limit, which
// a saturated step end can reach).
inline constexpr Tick kNever = ~Tick(0);

// The flight (oldest first in `flights`) whose next step starts at `now`, or
// null; `*next` (start it at kNever) is lowered to the earliest later time a
// step could start or the oldest tile could retire. `dur(step)` is a step's
// time on its unit.
template <class Dur>
InFlight* next_step(std::vector<InFlight>& flights, const std::vector<Tick>& unit_free, Tick now,
                    Dur dur, Tick* next) {
  InFlight* go = nullptr;
  for (InFlight& f : flights) {
    if (f.step == f.tile->nsteps) {  // done; retires when the tiles before it have
      if (&f == &flights.front()) *next = std::min(*next, f.at);
      continue;
    }
    const ComputeStep& st = f.tile->steps[f.step];
    const Tick start = std::max(f.at, unit_free[st.unit]);
    if (start > now) {
      *next = std::min(*next, start);
      continue;
    }
    if (go) continue;
    // The earliest next step of an older tile waiting for this unit (the
    // step's own time is worked out only when there is one).
    Tick older = kNever;
    for (const InFlight& g : flights) {
      if (&g == &f) break;
      if (g.step < g.tile->nsteps && g.tile->steps[g.step].unit == st.unit)
        older = std::min(older, g.at);
    }
    if (older == kNever || sat_add(now, dur(st)) <= older) go = &f;
  }
  return go;
}

// Cycles each entry of `tiles` (run-length: `repeat` tiles each) adds to the
// units' schedule, averaged over its repeats: the rule above run over the
// op's own tile sequence with loads never late (retirement times, tile after
// tile; a run longer than kRunSample repeats is sampled and extrapolated at its
// last period). Their sum is the op's compute time with the units overlapping.
// Tiles that all use one unit, units in series, or one stage: each tile's path.
std::vector<double> pipelined_cycles(const std::vector<Tile>& tiles,
                                     const std::vector<TileCost>& costs, int64_t stages,
                                     size_t units);
// The same for `tiles` copies of one tile: its steady-state period.
double pipelined_period(const Tile& t, const std::vector<TileCost>& costs, int64_t stages,
                        size_t units);

}  // namespace bc
