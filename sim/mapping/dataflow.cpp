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
    int64_t rows = 0, block_rows = 1;
    for (size_t i : ops)
      if (t_.ops[i].kind == OpKind::Gemm) {
        const Op& g = t_.ops[i];
        rows = g.m;
        const UnitChoice uc =
            pick_matmul_unit(units_, g, g.a.elem, g.weight_parts().front().second.elem);
        block_rows = std::max<int64_t>(1, units_[uc.unit]->align(uc.a, uc.w).m);
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
    // The layer's time for op times t: its ops stream rows to each other, so
    // with R row blocks in flight the step takes the ops' sum for the first
    // block and the slowest op's time for each further one,
    // T = sum(t) / R + (1 - 1/R) max(t): a decode step at batch 1 (one row)
    // runs its ops one after another, a long prompt is bound by the slowest.
    // R counts blocks of the matrix unit's rows, the finest a GEMM streams.
    const double R = std::max<double>(
        1.0, std::ceil(static_cast<double>(rows) / static_cast<double>(block_rows)));
    auto layer_time = [&](const std::vector<double>& t) {
      double sum = 0, mx = 0;
      for (double v : t) sum += v, mx = std::max(mx, v);
      return sum / R + (1 - 1 / R) * mx;
    };
    // One core each, then further cores to the op whose next gain shortens the
    // layer most per core, as many as the fewest that gain. The gain is looked
    // for beyond the next core: an op's load time is not monotone in its
    // cores (a further core can land on a mesh row whose routes share a busier
    // link). When no op gains (all bound by shared channels), one to the
    // slowest. Each core used to go to the slowest op that gained from exactly
    // one more: the max of pipelined stages, where a batch-1 decode step runs
    // its ops in series, and an op passed over for one core lost every later
    // one (sn40l decode with twice the NoC bandwidth: attn.qkv on 4 cores of
    // 1,040, 2.8x slower).
    std::vector<int64_t> n(ops.size(), 1), gain_at(ops.size());
    std::vector<double> now(ops.size());
    int64_t used = static_cast<int64_t>(ops.size());
    // The fewest cores (more than it has, at most what is left) at which op j
    // is faster than now; 0 if none.
    auto first_gain = [&](size_t j) -> int64_t {
      for (int64_t m = n[j] + 1; m <= n[j] + (P - used); ++m)
        if (time(j, m) < now[j]) return m;
      return 0;
    };
    for (size_t j = 0; j < ops.size(); ++j) now[j] = time(j, 1);
    for (size_t j = 0; j < ops.size(); ++j) gain_at[j] = first_gain(j);
    while (used < P) {
      const double base_time = layer_time(now);
      size_t pick = ops.size(), slowest = 0;
      double best_rate = 0;
      for (size_t j = 0; j < ops.size(); ++j) {
        if (now[j] > now[slowest]) slowest = j;
        if (gain_at[j] == 0 || gain_at[j] - n[j] > P - used) continue;
        std::vector<double> t = now;
        t[j] = time(j, gain_at[j]);
        const double rate = (base_time - layer_time(t)) / static_cast<double>(gain_at[j] - n[j]);
        if (rate > best_rate) best_rate = rate, pick = j;
      }
      if (pick == ops.size()) {
        ++n[slowest], ++used;
        now[slowest] = std::min(now[slowest], time(slowest, n[slowest]));
        gain_at[slowest] = first_gain(slowest);
        continue;
      }
      used += gain_at[pick] - n[pick];
      n[pick] = gain_at[pick];
      now[pick] = time(pick, n[pick]);
      gain_at[pick] = first_gain(pick);
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
