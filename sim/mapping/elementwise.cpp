// Element-wise ops: split evenly over the cores (or in row blocks when they
// stream), tiled to SRAM.

#include <algorithm>
#include <bit>
#include <cmath>

#include "sim/config/limits.h"
#include "sim/mapping/mapper_internal.h"

namespace bc::mapping {

// The element-wise tile size by the cost model: every power-of-two multiple
// of 64 elements up to `te_max` (what fits SRAM) is a candidate, so more SRAM
// only adds choices; ties keep the larger tile.
int64_t Mapper::choose_elements_tile(const OpContext& ctx, int64_t elements, int64_t slice,
                                     int64_t te_max, const std::function<Tile(int64_t)>& make) {
  const int64_t used = ceil_div(elements, slice);
  int64_t best_te = te_max;
  Estimate best;
  // te_max, then the powers of two below it.
  auto next = [&](int64_t te) {
    return te == te_max && (te & (te - 1)) != 0
               ? static_cast<int64_t>(std::bit_floor(static_cast<uint64_t>(te)))
               : te / 2;
  };
  for (int64_t te = te_max; te >= 64; te = next(te)) {
    // Smaller tiles only add tiles: none past the limit (nor a repeat past 32 bits).
    if (static_cast<double>(slice / te) * static_cast<double>(used) > limits::kMaxTiles) break;
    CoreOp co;
    if (slice / te > 0) {
      Tile t = make(te);
      t.repeat = static_cast<uint32_t>(slice / te);
      co.push(t);
    }
    if (slice % te) co.push(make(slice % te));
    const Estimate e = estimate_cores(ctx, {&co}, used);
    if (best.cycles <= 0 || e.cycles < best.cycles * 0.999) best = e, best_te = te;
  }
  return best_te;
}

namespace {
constexpr int64_t kStreamBlocks = 8;
}  // namespace

// Splits `elements` over the cores in slices of `slice`, each in tiles of at
// most `te`, with make(n) building the tile for n elements; returns the cores used.
// Streaming: blocks of whole token rows instead, dealt to the cores in turn,
// so all of them advance through the rows together.
int Mapper::split_elements(const OpContext& ctx, size_t idx, int64_t elements, int64_t slice,
                           int64_t te, const std::function<Tile(int64_t)>& make) {
  if (ctx.stream) {
    const int64_t rows = prog_.ops[idx].rows, width = elements / rows;
    // Row blocks of at most an eighth of the rows and what fits SRAM: a
    // consumer starts on the first block, so a finer block fills the
    // pipeline sooner and a coarser one costs fewer tiles. Every power of two
    // up to that is a candidate, ranked by the cost model's time for the op
    // plus its first block's (the fill its consumers wait for), so more SRAM
    // only adds choices. (The largest block that fit was taken before
    // 2026-12-02: sn40l prefill of 512 tokens ran 7.9 % slower with 4x the SRAM.)
    const int64_t rb_max =
        std::max<int64_t>(1, std::min(te / width, ceil_div(rows, kStreamBlocks)));
    auto deal = [&](int64_t rb) {
      const int64_t blocks = ceil_div(rows, rb);
      std::vector<CoreOp> per_core(static_cast<size_t>(std::min(ctx.cores, blocks)));
      for (int64_t j = 0; j < blocks; ++j) {
        const int64_t r0 = j * rb, r1 = std::min(rows, r0 + rb);
        Tile t = make((r1 - r0) * width);
        t.rows_need = static_cast<uint32_t>(r1);
        t.rows_done = static_cast<uint32_t>(std::min(rows, (j + ctx.cores) * rb));
        per_core[static_cast<size_t>(j % ctx.cores)].push(t);
      }
      return per_core;
    };
    int64_t rb = rb_max;
    double best = -1;
    // rb_max, then every power of two below it.
    for (int64_t cand = rb_max; cand >= 1;
         cand = static_cast<int64_t>(std::bit_floor(static_cast<uint64_t>(cand - 1)))) {
      if (static_cast<double>(ceil_div(rows, cand)) > limits::kMaxTiles) break;
      const std::vector<CoreOp> pc = deal(cand);
      std::vector<const CoreOp*> used;
      for (const CoreOp& c : pc) used.push_back(&c);
      CoreOp first;
      first.push(pc.front().tiles.front());
      const double t = estimate_cores(ctx, used).cycles +
                       estimate_cores(ctx, {&first}, static_cast<int64_t>(pc.size())).cycles;
      if (best < 0 || t < best * 0.999) best = t, rb = cand;
    }
    tile_rows_[ctx.index] = rb;
    std::vector<CoreOp> per_core = deal(rb);
    for (size_t c = 0; c < per_core.size(); ++c) {
      per_core[c].op = static_cast<uint32_t>(idx);
      prog_.cores[static_cast<size_t>(ctx.base) + c].push_back(std::move(per_core[c]));
    }
    return static_cast<int>(per_core.size());
  }
  int core = 0;
  for (int64_t e0 = 0; e0 < elements; e0 += slice, ++core) {
    int64_t es = std::min(slice, elements - e0);
    CoreOp co;
    co.op = static_cast<uint32_t>(idx);
    for (int64_t t0 = 0; t0 < es; t0 += te) co.push(make(std::min(te, es - t0)));
    prog_.cores[static_cast<size_t>(ctx.base + core)].push_back(std::move(co));
  }
  return core;
}

void Mapper::map_elementwise(const OpContext& ctx, const Op& op, size_t idx, Level in) {
  int vu = pick_vector_unit(units_, op);
  const ElementwiseFn* fn = find_elementwise_fn(op.fn);
  Level out = prog_.ops[idx].out_level;
  const int64_t P = ctx.cores;
  double ba = op.a.bits_per_element() / 8, bo = op.o.bits_per_element() / 8;
  // Fused LUT precompute: this op also builds its consumer's tables, and writes
  // them instead of its plain output.
  auto fused = fused_producer_.find(ctx.index);
  const ComputeUnit* lut =
      fused == fused_producer_.end() ? nullptr : units_[fused->second.lut_unit].get();
  int builder = -1;
  if (lut) {
    bo = lut->table_bytes_per_activation(fused->second.a);
    builder = lut->precompute_unit().empty() ? fused->second.lut_unit
                                             : unit_index(units_, lut->precompute_unit());
  }
  double per_elem = fn->inputs * ba + bo;
  int64_t slice = round_up(ceil_div(op.elements, P), 64);
  int64_t te =
      static_cast<int64_t>(sram_avail(ctx) / (static_cast<double>(hw_.load_stages) * per_elem));
  if (te < 64)
    fail(op, "core.sram.size",
         "no tile fits the core's SRAM: 64 elements need " +
             format_quantity(128 * per_elem, Dim::Bytes),
         "raise core.sram.size");
  te = std::min<int64_t>(std::min(te, slice), 1 << 20);
  check_tiles(op, std::ceil(static_cast<double>(op.elements) / static_cast<double>(te)));
  GemmShape g;  // the consumer's table build, when fused
  if (lut) {
    g.uc.unit = fused->second.lut_unit;
    g.uc.a = fused->second.a;
    g.pre_unit = builder;
  }
  auto make = [&](int64_t n) {
    Tile t;
    t.load_bytes[op.input_from_dram ? home_ : in] += static_cast<double>(n) * fn->inputs * ba;
    t.store_bytes[out] += static_cast<double>(n) * bo;
    t.add_step(
        {static_cast<uint16_t>(vu),
         cache_.vector(vu, n, fn->ops_per_element, fn->inputs * ba, bo, fn->special_per_element)});
    if (lut) t.add_step({static_cast<uint16_t>(builder), precompute(g, 1, n), kStepPrecompute});
    return t;
  };
  if (!ctx.stream) te = choose_elements_tile(ctx, op.elements, slice, te, make);
  int core = split_elements(ctx, idx, op.elements, slice, te, make);
  prog_.ops[idx].units = units_[vu]->name();
  prog_.ops[idx].mapping =
      "split over " + std::to_string(core) + " cores, tile " + std::to_string(te) + " elements";
  if (lut) {
    if (units_[builder]->name() != prog_.ops[idx].units)
      prog_.ops[idx].units += "+" + units_[builder]->name();
    prog_.ops[idx].mapping += ", builds the LUT tables of its consumer (fused precompute)";
  }
}

}  // namespace bc::mapping
