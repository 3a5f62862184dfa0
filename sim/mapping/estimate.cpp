// The cost model's estimate (sim/mapping/cost_model.h) of the tiles an op was
// given, the same model the tile searches use.

#include "sim/mapping/mapper_internal.h"
#include "sim/mapping/unit_pipeline.h"

namespace bc::mapping {

// The op's estimate from the tiles it was given, by the cost model the tile
// search used: each core's work, of which the slowest core's sets the time.
void Mapper::estimate_emitted(const OpContext& ctx, size_t idx) {
  std::vector<const CoreOp*> mine;
  for (int64_t c = ctx.base; c < ctx.base + ctx.cores; ++c) {
    const auto& list = prog_.cores[static_cast<size_t>(c)];
    if (!list.empty() && list.back().op == idx) mine.push_back(&list.back());
  }
  const Estimate e = estimate_cores(ctx, mine, -1, prog_.ops[idx].stages);
  prog_.ops[idx].est_cycles = e.cycles;
  prog_.ops[idx].est_bound = e.bound;
}

// `count`: cores doing such work at once (default: those given).
Estimate Mapper::estimate_cores(const OpContext& ctx, const std::vector<const CoreOp*>& cores,
                                int64_t count, int64_t stages) {
  Estimate best;
  if (stages <= 0) stages = hw_.load_stages;
  for (const CoreOp* co : cores) {
    CoreWork w;
    w.stages = stages;
    // The engine's overlap rule over this core's own tile sequence.
    const std::vector<double> piped =
        hw_.concurrent_units ? pipelined_cycles(co->tiles, prog_.costs, stages, hw_.units.size())
                             : std::vector<double>();
    for (const Tile& t : co->tiles) {
      TileClass c;
      c.count = t.repeat;
      double st = 0;
      for (int l = 0; l < kLevels; ++l) {
        c.load[l] = t.load_bytes[l];
        c.multicast[l] = t.multicast(l);
        c.store[l] = t.store_bytes[l];
        st += t.store_bytes[l];
      }
      if (st > 0) w.store_tail = st;
      c.after_store = t.after_store > 0;
      c.after_retire = t.after_retire > 0;
      for (int s = 0; s < t.nsteps; ++s) {
        const TileCost& k = prog_.costs[t.steps[s].cost];
        c.compute_cycles += static_cast<double>(k.cycles);
        c.sram_bytes += k.sram_read_bytes + k.sram_write_bytes;
      }
      if (hw_.concurrent_units) c.pipelined_cycles = piped[w.classes.size()];
      w.classes.push_back(c);
    }
    const Estimate e =
        model_.estimate(w, ctx.base, count > 0 ? count : static_cast<int64_t>(cores.size()));
    if (e.cycles > best.cycles) best = e;
  }
  return best;
}

}  // namespace bc::mapping
