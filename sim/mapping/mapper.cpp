// The mapper's driver: Mapper::run maps the trace op by op, building each op's
// context (its core group, whether its rows stream) and its program op, and
// hands the op to the file of its kind (gemm.cpp, attention.cpp,
// elementwise.cpp); the run-wide plans (placement, LUT table fusion, dataflow
// groups) are made first.

#include <algorithm>

#include "sim/mapping/mapper_internal.h"

namespace bc::mapping {

Mapper::Mapper(const Trace& t, const HwConfig& hw)
    : t_(t),
      hw_(hw),
      units_(build_units(hw.units)),
      home_(hw.dram().present ? kDram : kShared),
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

Program map_trace(const Trace& t, const HwConfig& hw) {
  try {
    return mapping::Mapper(t, hw).run();
  } catch (const InputError& e) {
    std::vector<Diagnostic> diags = e.diagnostics();
    for (Diagnostic& d : diags)
      if (d.loc.file == mapping::kMapperLoc) d.loc = hw.loc_of(d.key);
    throw InputError(diags);
  }
}

}  // namespace bc
