// LUT table precompute: fused into the producer of a GEMM's activations, or an
// op of its own before an unfused LUT GEMM.

#include <algorithm>

#include "sim/mapping/mapper_internal.h"

namespace bc::mapping {

// LUT units with precompute_fused build a GEMM's tables in the element-wise op
// that produces its activations (a norm, an activation function), when that
// op's output is exactly the GEMM's A. Decided before mapping, since the
// producer is mapped first.
void Mapper::plan_table_fusion(const std::map<int, int>& index_of) {
  for (size_t i = 0; i < t_.ops.size(); ++i) {
    const Op& op = t_.ops[i];
    if (op.kind != OpKind::Gemm || op.deps.empty()) continue;
    UnitChoice uc = pick_matmul_unit(units_, op, op.a.elem, op.weight_parts().front().second.elem);
    const ComputeUnit& u = *units_[uc.unit];
    if (!u.has_precompute()) continue;
    lut_gemm_[i] = {uc.unit, uc.a};
    if (!u.precompute_fused() || uc.convert_a) continue;
    size_t p = static_cast<size_t>(index_of.at(op.deps.front()));
    const Op& prod = t_.ops[p];
    if (prod.kind != OpKind::Elementwise || prod.elements != op.m * op.k ||
        fused_producer_.count(p))
      continue;
    fused_gemm_[i] = p;
    fused_producer_[p] = {uc.unit, uc.a};
  }
}

// The cost entry that builds the tables of a tm x tk activation tile: on the
// LUT unit's own engine, or as element-wise work on a vector unit.
uint32_t Mapper::precompute(const GemmShape& g, int64_t tm, int64_t tk) {
  const int u = g.uc.unit;
  if (g.pre_unit == u) return cache_.precompute(u, tm, tk, g.uc.a);
  VectorTile v = units_[u]->precompute_work(tm, tk, g.uc.a);
  if (!units_[g.pre_unit]->can_vector(v.fmt, nullptr)) v.fmt = fp32();
  return cache_.vector(g.pre_unit, v);
}

// The separate table precompute of an unfused LUT GEMM: an element-wise op
// over A (m x k activations) on the table builder, writing tables.
int Mapper::map_table_precompute(const OpContext& ctx, const Op& gemm, const std::vector<int>& deps,
                                 Level in) {
  const TableBuild& tb = lut_gemm_.at(ctx.index);
  const ComputeUnit& lut = *units_[tb.lut_unit];
  int builder =
      lut.precompute_unit().empty() ? tb.lut_unit : unit_index(units_, lut.precompute_unit());
  Op tables;
  tables.name = gemm.name + ".tables";
  tables.kind = OpKind::Elementwise;
  tables.elements = gemm.m * gemm.k;
  tables.a = gemm.a;
  OpPlan plan;
  plan.name = tables.name;
  plan.kind = OpKind::Elementwise;
  plan.deps = deps;
  plan.table_precompute = true;
  double bo = lut.table_bytes_per_activation(tb.a), ba = gemm.a.bits_per_element() / 8;
  plan.out_level = hw_.shared_sram().present && bo * static_cast<double>(tables.elements) <=
                                                    hw_.shared_sram().capacity / 2
                       ? kShared
                       : home_;
  const size_t idx = prog_.ops.size();
  if (ctx.grouped) {  // on the GEMM's core group, ahead of it
    plan.core_base = static_cast<int>(ctx.base);
    plan.core_count = static_cast<int>(ctx.cores);
  }
  prog_.ops.push_back(plan);
  const int64_t P = ctx.cores;
  int64_t slice = round_up(ceil_div(tables.elements, P), 64);
  int64_t te = std::min<int64_t>(
      slice,
      static_cast<int64_t>(sram_avail(ctx) / (static_cast<double>(hw_.load_stages) * (ba + bo))));
  if (te < 64)
    fail(gemm, "core.sram.size", "no tile of its table precompute fits the core's SRAM",
         "raise core.sram.size");
  GemmShape g;
  g.uc.unit = tb.lut_unit;
  g.uc.a = tb.a;
  g.pre_unit = builder;
  int core = split_elements(ctx, idx, tables.elements, slice, te, [&](int64_t n) {
    Tile t;
    t.load_bytes[in] += static_cast<double>(n) * ba;
    t.store_bytes[plan.out_level] += static_cast<double>(n) * bo;
    t.add_step({static_cast<uint16_t>(builder), precompute(g, 1, n), kStepPrecompute});
    return t;
  });
  prog_.ops[idx].units = units_[builder]->name();
  prog_.ops[idx].mapping = "LUT table precompute for " + gemm.name + " (unfused), split over " +
                           std::to_string(core) + " cores";
  estimate_emitted(ctx, idx);
  return static_cast<int>(idx);
}

}  // namespace bc::mapping
