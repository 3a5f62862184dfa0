#include "sim/mapper.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

namespace bc {
namespace {

constexpr double kAccBytes = 4;  // int32 / fp32 partial sums

struct CostCache {
  CostCache(Program& p, const HwConfig& h) : prog(p), hw(h) {}
  Program& prog;
  const HwConfig& hw;
  std::map<std::tuple<int, int64_t, int64_t, int64_t, std::string, std::string>, uint32_t> matmul;
  std::map<std::tuple<int, int64_t, double, double, double>, uint32_t> vec;

  uint32_t add(int unit, TileCost c) {
    prog.costs.push_back(std::move(c));
    prog.cost_unit.push_back(static_cast<uint16_t>(unit));
    return static_cast<uint32_t>(prog.costs.size() - 1);
  }
  uint32_t mm(int unit, int64_t m, int64_t n, int64_t k, const Format& a, const Format& w) {
    auto key = std::make_tuple(unit, m, n, k, a.name, w.name);
    auto it = matmul.find(key);
    if (it != matmul.end()) return it->second;
    MatmulTile t{m, n, k, a, w};
    return matmul[key] = add(unit, hw.units[unit]->matmul(t));
  }
  uint32_t vector(int unit, int64_t elements, double ops, double rd, double wr) {
    auto key = std::make_tuple(unit, elements, ops, rd, wr);
    auto it = vec.find(key);
    if (it != vec.end()) return it->second;
    VectorTile t;
    t.elements = elements;
    t.ops_per_element = ops;
    t.fmt = fp32();  // element-wise math runs in fp32
    t.read_bytes_per_element = rd;
    t.write_bytes_per_element = wr;
    return vec[key] = add(unit, hw.units[unit]->vector(t));
  }
};

[[noreturn]] void fail(const Op& op, const std::string& msg, const std::string& hint = "") {
  fail_input(SourceLoc{"<mapper>", 0, 0}, "op " + op.name + " (" + op_kind_name(op.kind) + ")", msg,
             hint);
}

int pick_matmul_unit(const HwConfig& hw, const Op& op, const Format& a, const Format& w) {
  std::string reasons;
  for (size_t i = 0; i < hw.units.size(); ++i) {
    std::string why;
    if (hw.units[i]->can_matmul(a, w, &why)) return static_cast<int>(i);
    reasons += (reasons.empty() ? "" : "; ") + hw.units[i]->name() + ": " + why;
  }
  fail(op,
       "no unit of the core executes " + a.name + " x " + w.name + " matrix products (" + reasons +
           ")",
       "add a rate for this class to a unit, or use another --quant recipe");
}

int pick_vector_unit(const HwConfig& hw, const Op& op) {
  std::string reasons;
  for (size_t i = 0; i < hw.units.size(); ++i) {
    std::string why;
    if (hw.units[i]->can_vector(fp32(), &why)) return static_cast<int>(i);
    reasons += (reasons.empty() ? "" : "; ") + hw.units[i]->name() + ": " + why;
  }
  fail(op, "no unit of the core executes fp32 element-wise work (" + reasons + ")",
       "add a vector_unit to core.units");
}

std::vector<int64_t> candidates(int64_t total, int64_t align) {
  std::vector<int64_t> c;
  for (int64_t v = std::max<int64_t>(1, align); v < total; v *= 2) c.push_back(v);
  c.push_back(total);
  return c;
}

int64_t round_up(int64_t v, int64_t a) { return ceil_div(v, a) * a; }

struct GemmTiling {
  int64_t tm = 0, tn = 0, tk = 0;
  bool reuse_a = true;  // loop order: A tile resident across the n loop (else W across m)
  double est_cycles = 0;
  int64_t tiles = 0;
};

struct Bw {  // bytes per cycle available to one core from each operand's level
  double a, w, o;
};

// Best tiling of one core's Ms x Ns x K slice.
GemmTiling plan_slice(const ComputeUnit& u, int64_t Ms, int64_t Ns, int64_t K, const Op& op,
                      double sram, const Bw& bw, int64_t* need_min) {
  TileAlign al = u.align(op.a.elem, op.w.elem);
  double ba = op.a.bits_per_element() / 8, bwt = op.w.bits_per_element() / 8,
         bo = op.o.bits_per_element() / 8;
  GemmTiling best;
  best.est_cycles = -1;
  *need_min = INT64_MAX;
  for (int64_t tm : candidates(Ms, std::min(al.m, Ms)))
    for (int64_t tn : candidates(Ns, std::min(al.n, Ns)))
      for (int64_t tk : candidates(K, std::min(al.k, K))) {
        double need = 2 * (tm * tk * ba + tk * tn * bwt) + tm * tn * (kAccBytes + bo);
        *need_min = std::min<int64_t>(*need_min, static_cast<int64_t>(need));
        if (need > sram) continue;
        int64_t nm = ceil_div(Ms, tm), nn = ceil_div(Ns, tn), nk = ceil_div(K, tk);
        // Compute: full and edge tiles in each dimension, costed by the unit itself.
        double compute = 0;
        int64_t em = Ms - (nm - 1) * tm, en = Ns - (nn - 1) * tn, ek = K - (nk - 1) * tk;
        for (int im = 0; im < 2; ++im)
          for (int in = 0; in < 2; ++in)
            for (int ik = 0; ik < 2; ++ik) {
              int64_t cm = im ? 1 : nm - 1, cn = in ? 1 : nn - 1, ck = ik ? 1 : nk - 1;
              if (cm * cn * ck == 0) continue;
              MatmulTile t{im ? em : tm, in ? en : tn, ik ? ek : tk, op.a.elem, op.w.elem};
              compute += static_cast<double>(cm * cn * ck) * u.matmul(t).cycles;
            }
        for (bool reuse_a : {true, false}) {
          double a_bytes = Ms * K * ba * ((reuse_a && nk == 1) ? 1 : nn);
          double w_bytes = K * Ns * bwt * ((!reuse_a && nk == 1) ? 1 : nm);
          double o_bytes = Ms * Ns * bo;
          double mem = a_bytes / bw.a + w_bytes / bw.w + o_bytes / bw.o;
          double first = tm * tk * ba / bw.a + tk * tn * bwt / bw.w;
          double est = std::max(compute, mem) + first;
          int64_t tiles = nm * nn * nk;
          if (best.est_cycles < 0 || est < best.est_cycles * 0.999 ||
              (est <= best.est_cycles * 1.001 && tiles < best.tiles)) {
            best = {tm, tn, tk, reuse_a, est, tiles};
          }
        }
      }
  return best;
}

class Mapper {
 public:
  Mapper(const Trace& t, const HwConfig& hw) : t_(t), hw_(hw), cache_(prog_, hw) {
    prog_.cores.resize(hw.cores());
  }

  Program run() {
    std::map<int, int> index_of;
    for (size_t i = 0; i < t_.ops.size(); ++i) index_of[t_.ops[i].id] = static_cast<int>(i);
    for (size_t i = 0; i < t_.ops.size(); ++i) {
      const Op& op = t_.ops[i];
      OpPlan plan;
      plan.name = op.name;
      plan.kind = op.kind;
      plan.flops = op.flops();
      for (int d : op.deps) plan.deps.push_back(index_of.at(d));
      plan.out_level = place_output(op);
      Level in = kDram;
      if (!op.input_from_dram && !plan.deps.empty()) in = prog_.ops[plan.deps.front()].out_level;
      prog_.ops.push_back(plan);
      switch (op.kind) {
        case OpKind::Gemm:
          map_gemm(op, i, in);
          break;
        case OpKind::Attention:
          map_attention(op, i, in);
          break;
        case OpKind::Elementwise:
          map_elementwise(op, i, in);
          break;
      }
    }
    return std::move(prog_);
  }

 private:
  double level_bw(Level l) const {
    return (l == kShared ? hw_.shared_sram.bandwidth : hw_.dram.bandwidth) /
           hw_.freq_hz;  // B/cycle
  }
  double core_bw(Level l, int64_t active) const {
    return std::min(level_bw(l) / static_cast<double>(std::max<int64_t>(1, active)),
                    hw_.dma_bandwidth / hw_.freq_hz);
  }

  // Activations go to the shared SRAM level when it exists and the tensor fits
  // in half of it (the other half holds the tensor being read); else DRAM.
  Level place_output(const Op& op) const {
    if (!hw_.shared_sram.present) return kDram;
    double elems = op.kind == OpKind::Gemm ? double(op.m) * op.n
                   : op.kind == OpKind::Attention
                       ? double(op.batch) * op.q_len * op.heads * op.head_dim
                       : double(op.elements);
    return op.o.bytes(elems) <= hw_.shared_sram.capacity / 2 ? kShared : kDram;
  }

  void map_gemm(const Op& op, size_t idx, Level in) {
    int u = pick_matmul_unit(hw_, op, op.a.elem, op.w.elem);
    const ComputeUnit& unit = *hw_.units[u];
    TileAlign al = unit.align(op.a.elem, op.w.elem);
    Level out = prog_.ops[idx].out_level;
    const int64_t P = hw_.cores();
    // Core grid pm x pn over (M, N): each core computes an Ms x Ns block of C.
    struct Choice {
      int64_t pm, pn, Ms, Ns;
      GemmTiling tiling;
    } best{0, 0, 0, 0, {}};
    int64_t need_min = INT64_MAX;
    auto key = std::make_tuple(op.m, op.n, op.k, op.a.str(), op.w.str(), op.o.str(),
                               int(in) * 4 + int(out), u);
    auto cached = gemm_cache_.find(key);
    if (cached != gemm_cache_.end()) {
      best = {cached->second[0], cached->second[1], cached->second[2], cached->second[3], {}};
      best.tiling = gemm_tiling_cache_.at(key);
    } else {
      for (int64_t pm = 1; pm <= P; ++pm) {
        if (pm > 1 && (pm - 1) * al.m >= op.m) break;
        for (int64_t pn = 1; pm * pn <= P; ++pn) {
          if (pn > 1 && (pn - 1) * al.n >= op.n) break;
          int64_t Ms = std::min(op.m, round_up(ceil_div(op.m, pm), std::min(al.m, op.m)));
          int64_t Ns = std::min(op.n, round_up(ceil_div(op.n, pn), std::min(al.n, op.n)));
          int64_t used = ceil_div(op.m, Ms) * ceil_div(op.n, Ns);
          Bw bw{core_bw(in, used), core_bw(kDram, used), core_bw(out, used)};
          int64_t need = 0;
          GemmTiling t = plan_slice(unit, Ms, Ns, op.k, op, hw_.sram.size_bytes, bw, &need);
          need_min = std::min(need_min, need);
          if (t.est_cycles < 0) continue;
          // Ties (e.g. all memory-bound) go to the grid with more cores: more
          // compute slack and more DMA engines in flight.
          int64_t best_used = best.pm ? ceil_div(op.m, best.Ms) * ceil_div(op.n, best.Ns) : 0;
          if (best.pm == 0 || t.est_cycles < best.tiling.est_cycles * 0.999 ||
              (t.est_cycles <= best.tiling.est_cycles * 1.001 && used > best_used))
            best = {pm, pn, Ms, Ns, t};
        }
      }
      if (best.pm == 0)
        fail(op,
             "no tile fits the core's SRAM: the smallest tile needs " +
                 format_quantity(static_cast<double>(need_min), Dim::Bytes) +
                 ", core.sram.size is " + format_quantity(hw_.sram.size_bytes, Dim::Bytes),
             "raise core.sram.size");
      gemm_cache_[key] = {best.pm, best.pn, best.Ms, best.Ns};
      gemm_tiling_cache_[key] = best.tiling;
    }
    const GemmTiling& g = best.tiling;
    double ba = op.a.bits_per_element() / 8, bw = op.w.bits_per_element() / 8,
           bo = op.o.bits_per_element() / 8;
    int core = 0;
    for (int64_t m0 = 0; m0 < op.m; m0 += best.Ms)
      for (int64_t n0 = 0; n0 < op.n; n0 += best.Ns) {
        int64_t Ms = std::min(best.Ms, op.m - m0), Ns = std::min(best.Ns, op.n - n0);
        CoreOp co;
        co.op = static_cast<uint32_t>(idx);
        int64_t outer_n = g.reuse_a ? ceil_div(Ms, g.tm) : ceil_div(Ns, g.tn);
        int64_t inner_n = g.reuse_a ? ceil_div(Ns, g.tn) : ceil_div(Ms, g.tm);
        int64_t nk = ceil_div(op.k, g.tk);
        for (int64_t o = 0; o < outer_n; ++o)
          for (int64_t in_i = 0; in_i < inner_n; ++in_i) {
            int64_t mi = g.reuse_a ? o : in_i, ni = g.reuse_a ? in_i : o;
            int64_t tm = std::min(g.tm, Ms - mi * g.tm), tn = std::min(g.tn, Ns - ni * g.tn);
            for (int64_t ki = 0; ki < nk; ++ki) {
              int64_t tk = std::min(g.tk, op.k - ki * g.tk);
              Tile t;
              // The resident operand is loaded once per outer iteration when K is a single tile.
              bool a_resident = g.reuse_a && nk == 1 && in_i > 0;
              bool w_resident = !g.reuse_a && nk == 1 && in_i > 0;
              if (!a_resident) t.load_bytes[in] += tm * tk * ba;
              if (!w_resident) t.load_bytes[kDram] += tk * tn * bw;
              if (ki == nk - 1) t.store_bytes[out] += tm * tn * bo;
              t.nsteps = 1;
              t.steps[0] = {static_cast<uint16_t>(u),
                            cache_.mm(u, tm, tn, tk, op.a.elem, op.w.elem)};
              co.push(t);
            }
          }
        prog_.cores[core++].push_back(std::move(co));
      }
    std::ostringstream m;
    m << "grid " << ceil_div(op.m, best.Ms) << "x" << ceil_div(op.n, best.Ns) << " cores, tile "
      << g.tm << "x" << g.tn << "x" << g.tk << ", " << (g.reuse_a ? "A" : "W")
      << " resident across the inner loop";
    prog_.ops[idx].units = unit.name();
    prog_.ops[idx].mapping = m.str();
    prog_.ops[idx].est_cycles = g.est_cycles;
  }

  void map_attention(const Op& op, size_t idx, Level in) {
    int mu = pick_matmul_unit(hw_, op, op.a.elem, op.w.elem);
    int vu = pick_vector_unit(hw_, op);
    const ComputeUnit& unit = *hw_.units[mu];
    TileAlign al = unit.align(op.a.elem, op.w.elem);
    Level out = prog_.ops[idx].out_level;
    const int64_t P = hw_.cores();
    const int64_t G = op.heads / op.kv_heads, d = op.head_dim;
    double ba = op.a.bits_per_element() / 8, bkv = op.w.bits_per_element() / 8,
           bo = op.o.bits_per_element() / 8;
    // Query block: enough query rows (G heads x bq tokens) to fill the array's rows.
    int64_t bq = std::min(op.q_len, std::max<int64_t>(1, ceil_div(al.m, G)));
    int64_t q_blocks = ceil_div(op.q_len, bq);
    int64_t units = op.batch * op.kv_heads * q_blocks;
    // Fewer work units than cores: split the context (flash-decoding).
    int64_t kv_split =
        units >= P ? 1 : std::min(ceil_div(P, units), std::max<int64_t>(1, op.kv_len / 64));
    // KV block: the largest power of two whose double-buffered K and V blocks,
    // scores and output accumulator fit SRAM.
    int64_t rows = G * bq;
    auto need = [&](int64_t bk) {
      return 2 * (2 * bk * d * bkv) + rows * d * ba + rows * bk * kAccBytes +
             rows * d * (kAccBytes + bo);
    };
    int64_t bk = 16;
    if (need(bk) > hw_.sram.size_bytes)
      fail(op,
           "no tile fits the core's SRAM: a 16-key block needs " +
               format_quantity(need(bk), Dim::Bytes) + ", core.sram.size is " +
               format_quantity(hw_.sram.size_bytes, Dim::Bytes),
           "raise core.sram.size");
    int64_t chunk = ceil_div(op.kv_len, kv_split);
    while (bk * 2 <= std::min<int64_t>(chunk, 4096) && need(bk * 2) <= hw_.sram.size_bytes) bk *= 2;

    // Work items (unit x kv chunk), balanced greedily over cores by key count.
    struct Item {
      int64_t keys_begin, keys_end, q_rows;
      bool first_chunk, last_chunk;
    };
    std::vector<Item> items;
    for (int64_t b = 0; b < op.batch; ++b)
      for (int64_t h = 0; h < op.kv_heads; ++h)
        for (int64_t qb = 0; qb < q_blocks; ++qb) {
          int64_t q_rows = std::min(bq, op.q_len - qb * bq);
          // Causal: the block's last query sees the prefix plus its own position.
          int64_t keys = op.causal ? op.kv_len - op.q_len + qb * bq + q_rows : op.kv_len;
          int64_t per = ceil_div(keys, kv_split);
          for (int64_t s = 0; s * per < keys; ++s)
            items.push_back(
                {s * per, std::min(keys, (s + 1) * per), q_rows, s == 0, (s + 1) * per >= keys});
        }
    std::vector<double> load(P, 0);
    std::vector<CoreOp> per_core(P);
    for (auto& c : per_core) c.op = static_cast<uint32_t>(idx);
    for (const Item& it : items) {
      int64_t c = std::min_element(load.begin(), load.end()) - load.begin();
      load[c] += static_cast<double>(it.keys_end - it.keys_begin) * it.q_rows;
      int64_t r = G * it.q_rows;
      for (int64_t k0 = it.keys_begin; k0 < it.keys_end; k0 += bk) {
        int64_t kb = std::min(bk, it.keys_end - k0);
        Tile t;
        t.load_bytes[kDram] += 2 * kb * d * bkv;                  // K and V blocks
        if (k0 == it.keys_begin) t.load_bytes[in] += r * d * ba;  // Q, once
        t.nsteps = 3;
        t.steps[0] = {static_cast<uint16_t>(mu),
                      cache_.mm(mu, r, kb, d, op.a.elem, op.w.elem)};  // S = Q K^T
        t.steps[1] = {static_cast<uint16_t>(vu),
                      cache_.vector(vu, r * kb, find_elementwise_fn("softmax")->ops_per_element,
                                    kAccBytes, ba)};
        t.steps[2] = {static_cast<uint16_t>(mu),
                      cache_.mm(mu, r, d, kb, op.a.elem, op.w.elem)};  // O += P V
        if (k0 + bk >= it.keys_end) {
          t.store_bytes[out] += r * d * (it.last_chunk && it.first_chunk ? bo : kAccBytes);
          // The new tokens' K and V are appended to the cache once per (sequence, KV head).
          if (it.first_chunk && op.kv_append > 0)
            t.store_bytes[kDram] += 2.0 * std::min(op.kv_append, it.q_rows) * d * bkv;
        }
        per_core[c].push(t);
      }
    }
    for (int64_t c = 0; c < P; ++c)
      if (!per_core[c].tiles.empty()) prog_.cores[c].push_back(std::move(per_core[c]));
    std::ostringstream m;
    m << items.size() << " work items (batch x kv_heads x " << q_blocks << " query blocks x "
      << kv_split << " context splits), " << r_str(G * bq) << " query rows, KV block " << bk;
    prog_.ops[idx].units = unit.name() + "+" + hw_.units[vu]->name();
    prog_.ops[idx].mapping = m.str();
  }

  static std::string r_str(int64_t v) { return std::to_string(v); }

  void map_elementwise(const Op& op, size_t idx, Level in) {
    int vu = pick_vector_unit(hw_, op);
    const ElementwiseFn* fn = find_elementwise_fn(op.fn);
    Level out = prog_.ops[idx].out_level;
    const int64_t P = hw_.cores();
    double ba = op.a.bits_per_element() / 8, bo = op.o.bits_per_element() / 8;
    double per_elem = fn->inputs * ba + bo;
    int64_t slice = round_up(ceil_div(op.elements, P), 64);
    int64_t te = static_cast<int64_t>(hw_.sram.size_bytes / (2 * per_elem));
    if (te < 64)
      fail(op,
           "no tile fits the core's SRAM: 64 elements need " +
               format_quantity(128 * per_elem, Dim::Bytes),
           "raise core.sram.size");
    te = std::min<int64_t>(std::min(te, slice), 1 << 20);
    int core = 0;
    for (int64_t e0 = 0; e0 < op.elements; e0 += slice, ++core) {
      int64_t es = std::min(slice, op.elements - e0);
      CoreOp co;
      co.op = static_cast<uint32_t>(idx);
      for (int64_t t0 = 0; t0 < es; t0 += te) {
        int64_t n = std::min(te, es - t0);
        Tile t;
        t.load_bytes[op.input_from_dram ? kDram : in] += n * fn->inputs * ba;
        t.store_bytes[out] += n * bo;
        t.nsteps = 1;
        t.steps[0] = {static_cast<uint16_t>(vu),
                      cache_.vector(vu, n, fn->ops_per_element, fn->inputs * ba, bo)};
        co.push(t);
      }
      prog_.cores[core].push_back(std::move(co));
    }
    prog_.ops[idx].units = hw_.units[vu]->name();
    prog_.ops[idx].mapping =
        "split over " + std::to_string(core) + " cores, tile " + std::to_string(te) + " elements";
  }

  const Trace& t_;
  const HwConfig& hw_;
  Program prog_;
  CostCache cache_;
  std::map<std::tuple<int64_t, int64_t, int64_t, std::string, std::string, std::string, int, int>,
           std::array<int64_t, 4>>
      gemm_cache_;
  std::map<std::tuple<int64_t, int64_t, int64_t, std::string, std::string, std::string, int, int>,
           GemmTiling>
      gemm_tiling_cache_;
};

}  // namespace

Program map_trace(const Trace& t, const HwConfig& hw) { return Mapper(t, hw).run(); }

}  // namespace bc
