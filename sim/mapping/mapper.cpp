#include "sim/mapping/mapper_internal.h"

#include <algorithm>
#include <bit>
#include <cmath>

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
    // Row blocks of at most an eighth of the rows (what fits SRAM if less):
    // a consumer starts on the first block, so the block, not the SRAM size,
    // sets the pipeline's fill. A modelling choice, not a published figure;
    // fixed so that more SRAM does not coarsen the pipeline.
    const int64_t rb =
        std::max<int64_t>(1, std::min(te / width, ceil_div(rows, kStreamBlocks)));
    const int64_t blocks = ceil_div(rows, rb);
    tile_rows_[ctx.index] = rb;
    std::vector<CoreOp> per_core(static_cast<size_t>(std::min(ctx.cores, blocks)));
    for (int64_t j = 0; j < blocks; ++j) {
      const int64_t r0 = j * rb, r1 = std::min(rows, r0 + rb);
      Tile t = make((r1 - r0) * width);
      t.rows_need = static_cast<uint32_t>(r1);
      t.rows_done = static_cast<uint32_t>(std::min(rows, (j + ctx.cores) * rb));
      per_core[static_cast<size_t>(j % ctx.cores)].push(t);
    }
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
  int64_t te = static_cast<int64_t>(sram_avail(ctx) / (2 * per_elem));
  if (te < 64)
    fail(op,
         "no tile fits the core's SRAM: 64 elements need " +
             format_quantity(128 * per_elem, Dim::Bytes),
         "raise core.sram.size");
  te = std::min<int64_t>(std::min(te, slice), 1 << 20);
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
    t.add_step({static_cast<uint16_t>(vu),
                cache_.vector(vu, n, fn->ops_per_element, fn->inputs * ba, bo)});
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

Mapper::Mapper(const Trace& t, const HwConfig& hw)
    : t_(t),
      hw_(hw),
      units_(build_units(hw.units)),
      home_(hw.dram.present ? kDram : kShared),
      cache_(prog_, units_),
      model_(hw) {
  prog_.cores.resize(hw.cores());
  prog_.execution = hw.execution;
}

Program Mapper::run() {
  std::map<int, int> index_of;
  for (size_t i = 0; i < t_.ops.size(); ++i) index_of[t_.ops[i].id] = static_cast<int>(i);
  plan_table_fusion(index_of);
  place_weights();
  if (hw_.execution == "dataflow") plan_dataflow(index_of);
  std::vector<int> prog_of(t_.ops.size());  // trace op -> program op
  for (size_t i = 0; i < t_.ops.size(); ++i) {
    const Op& op = t_.ops[i];
    // The op being mapped: its core group, and whether its rows stream.
    OpContext ctx;
    ctx.index = i;
    auto g = group_.find(i);
    ctx.grouped = g != group_.end();
    ctx.base = ctx.grouped ? g->second.first : 0;
    ctx.cores = ctx.grouped ? g->second.second : hw_.cores();
    ctx.stream = streamable_.count(i) > 0;
    OpPlan plan;
    plan.name = op.name;
    plan.kind = op.kind;
    plan.flops = op.flops();
    for (int d : op.deps) plan.deps.push_back(prog_of[index_of.at(d)]);
    plan.out_level = streams_out(i) ? kStream : place_output(op);
    Level in = home_;
    if (!op.input_from_dram && !plan.deps.empty()) in = prog_.ops[plan.deps.front()].out_level;
    if (ctx.grouped) {
      plan.core_base = static_cast<int>(ctx.base);
      plan.core_count = static_cast<int>(ctx.cores);
      plan.rows = ctx.stream ? layer_rows_.at(op.layer) : 0;
    }
    if (ctx.stream) {
      // Row-level waits on the same layer's streamed producers; a producer
      // that keeps its output in SRAM is pulled from and back-pressured.
      for (int d : op.deps) {
        const size_t di = static_cast<size_t>(index_of.at(d));
        if (!streamable_.count(di) || t_.ops[di].layer != op.layer) continue;
        const int pd = prog_of[di];
        plan.stream_in.push_back(pd);
        if (prog_.ops[pd].out_level == kStream) {
          prog_.ops[pd].stream_out.push_back(static_cast<int>(prog_.ops.size()));
          if (plan.stream_src < 0) plan.stream_src = pd;
        }
      }
      if (plan.stream_src >= 0 && !op.input_from_dram) in = kStream;
      if (plan.out_level == kStream)  // the SRAM half left by tile buffers
        plan.buffer_rows = static_cast<int64_t>(static_cast<double>(ctx.cores) * sram_avail(ctx) /
                                                out_row_bytes(op, plan.rows));
    }
    // An unfused LUT GEMM gets its table precompute as an op of its own: it
    // reads the activations, builds the tables and writes them back, and the
    // GEMM reads tables (the paper's unfused case).
    if (op.kind == OpKind::Gemm && lut_gemm_.count(i) && !fused_gemm_.count(i)) {
      plan.deps = {map_table_precompute(ctx, op, plan.deps, in)};
      in = prog_.ops[plan.deps.front()].out_level;
    }
    prog_of[i] = static_cast<int>(prog_.ops.size());
    size_t idx = prog_.ops.size();
    prog_.ops.push_back(plan);
    switch (op.kind) {
      case OpKind::Gemm:
        map_gemm(ctx, op, idx, in);
        break;
      case OpKind::Attention:
        map_attention(ctx, op, idx, in);
        break;
      case OpKind::Elementwise:
        map_elementwise(ctx, op, idx, in);
        break;
      case OpKind::Collective:
        // Chip-to-chip traffic: no core tiles; the engine's link process runs it.
        prog_.ops[idx].collective = op.fn;
        prog_.ops[idx].group = op.group;
        prog_.ops[idx].collective_bytes = op.collective_bytes();
        prog_.ops[idx].units = "links";
        prog_.ops[idx].mapping =
            op.fn + " of " + format_quantity(op.collective_bytes(), Dim::Bytes);
        prog_.ops[idx].out_level = in;
        break;
    }
    estimate_emitted(ctx, idx);
  }
  // A stream buffer holds at least the rows that every op of the layer
  // consumes or produces in one tile, so no chain of waits can close on itself.
  std::map<int, int64_t> slack;
  for (const auto& [i, r] : tile_rows_) slack[t_.ops[i].layer] += r;
  for (size_t i = 0; i < t_.ops.size(); ++i)
    if (prog_.ops[prog_of[i]].out_level == kStream)
      prog_.ops[prog_of[i]].buffer_rows =
          std::max(prog_.ops[prog_of[i]].buffer_rows, slack[t_.ops[i].layer]);
  return std::move(prog_);
}

}  // namespace bc::mapping

namespace bc {

Program map_trace(const Trace& t, const HwConfig& hw) { return mapping::Mapper(t, hw).run(); }

Program map_move(const HwConfig& hw, double bytes, Level from, Level to) {
  Program p;
  p.cores.resize(static_cast<size_t>(hw.cores()));
  OpPlan plan;
  plan.name = std::string("move ") + level_name(from) + " -> " + level_name(to);
  plan.kind = OpKind::Elementwise;
  plan.units = "dma";
  // Every core moves an equal share, in chunks of half its SRAM (double-buffered):
  // each chunk is loaded from `from` and stored to `to`.
  const double share = bytes / static_cast<double>(hw.cores());
  const double chunk = std::min(share, hw.sram.size_bytes / 2);
  const auto chunks = static_cast<uint32_t>(std::ceil(share / chunk));
  plan.mapping = std::to_string(hw.cores()) + " cores x " + std::to_string(chunks) + " chunks of " +
                 format_quantity(chunk, Dim::Bytes);
  p.ops.push_back(plan);
  // Whole chunks, then the remainder: the cores move exactly `bytes`.
  const double last = share - chunk * static_cast<double>(chunks - 1);
  for (auto& core : p.cores) {
    CoreOp co;
    for (auto [b, n] : {std::pair{chunk, chunks - 1}, std::pair{last, 1u}}) {
      Tile t;
      t.load_bytes[from] = b;
      t.store_bytes[to] = b;
      t.repeat = n;
      if (n > 0) co.push(t);
    }
    core.push_back(co);
  }
  return p;
}

const char* level_name(Level l) {
  return l == kDram ? "dram" : l == kShared ? "shared_sram" : l == kDdr ? "ddr" : "stream";
}

}  // namespace bc
