// Spatial dataflow: each layer's ops on core groups of their own, token rows
// streamed between them through the groups' SRAM.

#include <algorithm>
#include <cmath>

#include "sim/mapping/mapper_internal.h"

namespace bc::mapping {

// Token rows of an op's output (0: not a row-wise tensor of `rows` rows).
int64_t Mapper::op_rows(const Op& op, int64_t rows) {
  switch (op.kind) {
    case OpKind::Gemm:
      return op.m;
    case OpKind::Attention:
      return op.batch * op.q_len;
    case OpKind::Elementwise:
      return rows > 0 && op.elements % rows == 0 ? rows : 0;
    default:
      return 0;
  }
}

double Mapper::out_row_bytes(const Op& op, int64_t rows) const {
  const double elems = op.kind == OpKind::Gemm        ? static_cast<double>(op.n)
                       : op.kind == OpKind::Attention ? static_cast<double>(op.heads * op.head_dim)
                                                      : static_cast<double>(op.elements / rows);
  return std::max(1.0, op.o.bytes(elems));
}
// Whether op i keeps its output in its group's SRAM: every consumer streams

// it within the same layer.
bool Mapper::streams_out(size_t i) const {
  if (!streamable_.count(i) || consumers_[i].empty()) return false;
  for (size_t c : consumers_[i])
    if (!streamable_.count(c) || t_.ops[c].layer != t_.ops[i].layer) return false;
  return true;
}

// Spatial dataflow: each decoder layer's ops get disjoint core groups, sized
// so that the slowest stage is as fast as it can be: an op's time on n cores
// is its compute at the unit's peak over n cores, or the cost model's time for
// n cores to load its bytes from global memory (the DMA engines, the mesh
// links of their routes and the memory's channels, whichever binds), and each
// core goes to the op that is slowest and still gains from it (greedy
// minimax, optimal for times that do not grow with cores). Sizing in
// proportion to each op's time on one core assumed every op scales linearly:
// a memory-bound op whose channels bind gains nothing from more cores, so a
// faster DMA engine moved cores away from ops that needed them and made the
// step slower. Ops outside layers (embedding, LM head) and collectives run
// kernel-by-kernel on the whole chip.
void Mapper::plan_dataflow(const std::map<int, int>& index_of) {
  consumers_.assign(t_.ops.size(), {});
  for (size_t i = 0; i < t_.ops.size(); ++i)
    for (int d : t_.ops[i].deps) consumers_[static_cast<size_t>(index_of.at(d))].push_back(i);
  std::map<int, std::vector<size_t>> layers;
  for (size_t i = 0; i < t_.ops.size(); ++i)
    if (t_.ops[i].layer >= 0 && t_.ops[i].kind != OpKind::Collective)
      layers[t_.ops[i].layer].push_back(i);
  const int64_t P = hw_.cores();
  // n cores each loading their share of `bytes` from global memory, by the
  // cost model (layers repeat their ops' sizes: remembered).
  std::map<std::pair<double, int64_t>, double> loads;
  auto load_cycles = [&](double bytes, int64_t n) {
    auto [it, fresh] = loads.try_emplace({bytes, n}, 0.0);
    if (!fresh) return it->second;
    TileClass c;
    c.count = 1;
    c.load[home_] = bytes / static_cast<double>(n);
    CoreWork w;
    w.classes.push_back(c);
    return it->second = model_.estimate(w, 0, n).cycles;
  };
  for (const auto& [layer, ops] : layers) {
    if (ops.size() < 2) continue;
    if (static_cast<int64_t>(ops.size()) > P)
      fail_input(hw_.loc_execution, "execution",
                 "dataflow gives every op of a layer its own cores, but layer " +
                     std::to_string(layer) + " has " + std::to_string(ops.size()) +
                     " ops and the chip " + std::to_string(P) + " cores",
                 "use execution: kernel, or a chip with more cores");
    int64_t rows = 0;
    for (size_t i : ops)
      if (t_.ops[i].kind == OpKind::Gemm) {
        rows = t_.ops[i].m;
        break;
      }
    layer_rows_[layer] = rows;
    std::vector<double> compute, bytes;
    for (size_t i : ops) {
      const Op& op = t_.ops[i];
      if (op.kind == OpKind::Elementwise) {
        const ElementwiseFn* fn = find_elementwise_fn(op.fn);
        compute.push_back(static_cast<double>(op.elements) * fn->ops_per_element /
                          units_[pick_vector_unit(units_, op)]->peak_vector_ops_per_cycle(fp32()));
        bytes.push_back(static_cast<double>(op.elements) *
                        (fn->inputs * op.a.bits_per_element() + op.o.bits_per_element()) / 8);
      } else {
        const UnitChoice uc = pick_matmul_unit(
            units_, op, op.a.elem,
            op.kind == OpKind::Gemm ? op.weight_parts().front().second.elem : op.w.elem);
        compute.push_back(op.flops() / 2 / units_[uc.unit]->peak_macs_per_cycle(uc.a, uc.w));
        bytes.push_back(op.kind == OpKind::Gemm ? op.weight_bytes() : op.kv_bytes_read());
      }
    }
    auto time = [&](size_t j, int64_t n) {
      return std::max(compute[j] / static_cast<double>(n), load_cycles(bytes[j], n));
    };
    // One core each, then each further core to the slowest op that gains
    // from it; when none gains (all bound by shared channels), to the slowest.
    std::vector<int64_t> n(ops.size(), 1);
    std::vector<double> now(ops.size()), next(ops.size());
    for (size_t j = 0; j < ops.size(); ++j) now[j] = time(j, 1), next[j] = time(j, 2);
    for (int64_t used = static_cast<int64_t>(ops.size()); used < P; ++used) {
      size_t pick = ops.size(), slowest = 0;
      for (size_t j = 0; j < ops.size(); ++j) {
        if (now[j] > now[slowest]) slowest = j;
        if (next[j] < now[j] && (pick == ops.size() || now[j] > now[pick])) pick = j;
      }
      if (pick == ops.size()) pick = slowest;
      ++n[pick];
      now[pick] = next[pick];
      next[pick] = time(pick, n[pick] + 1);
    }
    int64_t base = 0;
    for (size_t j = 0; j < ops.size(); ++j) {
      const size_t i = ops[j];
      group_[i] = {base, n[j]};
      base += n[j];
      // Rows stream when the op's output is the layer's token rows; an
      // unfused LUT GEMM reads tables from its own precompute op instead.
      if (rows > 0 && op_rows(t_.ops[i], rows) == rows &&
          !(lut_gemm_.count(i) && !fused_gemm_.count(i)))
        streamable_.insert(i);
    }
  }
}

}  // namespace bc::mapping
