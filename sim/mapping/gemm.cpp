// GEMMs: the core grid and per-core tiling by the cost model's estimate, and
// the tiles they emit.

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "sim/mapping/mapper_internal.h"

namespace bc::mapping {

namespace {

// Tile sizes along one dimension: the unit's alignment times powers of two,
// and the whole dimension; along K also the alignment's halves down to an
// eighth, folds that fill part of the array's rows: a taller array then
// keeps the K steps of a shorter one, where its whole-array K steps would
// take SRAM from the streamed rows (the Groq-like chip's MXM at 640 rows
// halved its streamed rows and ran 2x slower).
std::vector<int64_t> candidates(int64_t total, int64_t align, bool finer = false) {
  std::vector<int64_t> c;
  if (finer)
    for (int64_t v = std::max<int64_t>(1, align / 8); v < align && v < total; v *= 2)
      c.push_back(v);
  for (int64_t v = std::max<int64_t>(1, align); v < total; v *= 2) c.push_back(v);
  c.push_back(total);
  return c;
}

// Where a candidate grid's cores read and write: A from `in`, W from the
// GEMM's weight level, C to `out`; with a shared SRAM level in front of DRAM,
// a panel read by several cores reaches DRAM once (load_shared_panel).
using ExtraSteps = std::function<std::pair<double, double>(int64_t, int64_t, int64_t, bool, bool)>;

struct GridIo {
  Level in = kDram, out = kDram;
  bool filter = false;  // panel reads filtered by the shared level
  double readers_a = 1, readers_w = 1;
  int64_t base = 0, cores = 1;  // the grid's first core and cores in use
  int64_t stages = 2;   // tile loads in flight, each with its operand buffers (core.dma.stages)
  double w_shared = 0;  // share of each W tile a cluster peer reads (multicast_share)
};

// How a panel load of `bytes` read by `readers` cores reaches one of them:
// with a shared SRAM level in front of DRAM (`filter`, a GPU's L2), one read in
// `readers` goes to DRAM and the rest hit the shared level; else all of it
// comes from `level`. `multicast` of the bytes come from a cluster peer's read
// (multicast_share) of the level the panel is read at. `add(level, bytes,
// multicast_bytes)` takes each part; the tile search and the emitted tiles
// both split panels here.
template <class Add>
void split_panel(bool filter, Level level, double bytes, double readers, double multicast,
                 const Add& add) {
  const Level at = filter && level == kDram && readers > 1 ? kShared : level;
  if (at != level) add(kDram, bytes / readers, 0.0);
  add(at, at != level ? bytes * (readers - 1) / readers : bytes, bytes * multicast);
}

// A candidate is skipped when its floor (CostModel::floor_cycles) exceeds the
// best so far by more than the searches' 0.1 % tie margin (and rounding).
constexpr double kPruneMargin = 1.001 * (1 + 1e-9);

// The unit's cost of each tile size one GEMM's search asks for, computed once:
// the grids' slices share most of their full and edge tile sizes. Local to the
// search, not CostCache::mm: that one enters each cost in the program's cost
// table, which only the emitted tiles' costs belong in.
class TileCosts {
 public:
  TileCosts(const ComputeUnit& u, const GemmShape& g) : u_(u), g_(g) {}
  const TileCost& operator()(int64_t tm, int64_t tn, int64_t tk, bool k_last) {
    const Key key{tm, tn, tk, k_last};
    auto it = memo_.find(key);
    if (it == memo_.end()) it = memo_.emplace(key, u_.matmul(g_.tile(tm, tn, tk, k_last))).first;
    return it->second;
  }
  // The kinds of a tiling's tiles: full and edge in each dimension
  // ([edge m][edge n][last k]).
  using Kinds = std::array<std::array<std::array<const TileCost*, 2>, 2>, 2>;
  Kinds kinds(int64_t tm, int64_t tn, int64_t tk, int64_t em, int64_t en, int64_t ek) {
    Kinds k{};
    for (int im = 0; im < 2; ++im)
      for (int in = 0; in < 2; ++in)
        for (int ik = 0; ik < 2; ++ik)
          k[im][in][ik] = &(*this)(im ? em : tm, in ? en : tn, ik ? ek : tk, ik == 1);
    return k;
  }

 private:
  using Key = std::tuple<int64_t, int64_t, int64_t, bool>;
  struct Hash {
    size_t operator()(const Key& k) const {
      size_t h = std::hash<int64_t>()(std::get<0>(k));
      h = h * 1000003 ^ std::hash<int64_t>()(std::get<1>(k));
      h = h * 1000003 ^ std::hash<int64_t>()(std::get<2>(k));
      return h * 2 + (std::get<3>(k) ? 1 : 0);
    }
  };
  const ComputeUnit& u_;
  const GemmShape& g_;
  std::unordered_map<Key, TileCost, Hash> memo_;  // node-based: references stay valid
};

// The unit cycles of a tiling's tiles, counted as the slice holds them.
double unit_cycles(const TileCosts::Kinds& cost, int64_t nm, int64_t nn, int64_t nk) {
  double sum = 0;
  for (int im = 0; im < 2; ++im)
    for (int in = 0; in < 2; ++in)
      for (int ik = 0; ik < 2; ++ik)
        sum += static_cast<double>((im ? 1 : nm - 1) * (in ? 1 : nn - 1) * (ik ? 1 : nk - 1)) *
               static_cast<double>(cost[im][in][ik]->cycles);
  return sum;
}

// The least a core moves for its slice, whatever the tiling: A's and W's
// panels once (resident weights not at all) and its output once.
double slice_bytes(int64_t Ms, int64_t Ns, int64_t K, const GemmShape& g) {
  return static_cast<double>(Ms * K) * g.ba + (g.w_local ? 0 : static_cast<double>(K * Ns) * g.bw) +
         static_cast<double>(Ms * Ns) * g.bo;
}

// A floor under every tiling of a slice: the least unit cycles of any
// candidate tiling (SRAM fit aside, so a floor for every stage count), or
// the slice's bytes through the DMA engine. A grid whose floor is above the
// best so far is not searched.
double slice_floor(const ComputeUnit& u, int64_t Ms, int64_t Ns, int64_t K, const GemmShape& g,
                   const CostModel& model, TileCosts& costs) {
  const TileAlign al = u.align(g.uc.a, g.uc.w);
  double least = -1;
  for (int64_t tm : candidates(Ms, std::min(al.m, Ms)))
    for (int64_t tn : candidates(Ns, std::min(al.n, Ns)))
      for (int64_t tk : candidates(K, std::min(al.k, K), true)) {
        const int64_t nm = ceil_div(Ms, tm), nn = ceil_div(Ns, tn), nk = ceil_div(K, tk);
        const double c = unit_cycles(
            costs.kinds(tm, tn, tk, Ms - (nm - 1) * tm, Ns - (nn - 1) * tn, K - (nk - 1) * tk), nm,
            nn, nk);
        if (least < 0 || c < least) least = c;
      }
  return model.floor_cycles(std::max(0.0, least), slice_bytes(Ms, Ns, K, g));
}

// Best tiling of one core's Ms x Ns x K slice, by the cost model's estimate
// (sim/mapping/cost_model.h): the same resources, routes and in-flight loads the
// engine simulates, without contention.
// Streaming (a_outer_only): rows must complete in order, so only the order with
// the A row block outermost qualifies.
// `extra(tm, tn, tk, a_new, w_new)`, when set: the cycles and SRAM bytes of a tile's
// other steps (fallback conversions of a new A or W tile, a LUT table build
// for a new A tile), as emit_gemm adds them: ranked without them, a search
// preferred tiles whose conversions made them slower.
GemmTiling plan_slice(const ComputeUnit& u, int64_t Ms, int64_t Ns, int64_t K, const GemmShape& g,
                      double sram, CostModel& model, const GridIo& io, int64_t* need_min,
                      bool a_outer_only, const ExtraSteps& extra, TileCosts& costs) {
  TileAlign al = u.align(g.uc.a, g.uc.w);
  const double acc = u.accumulator_bytes();
  GemmTiling best;
  best.est_cycles = -1;
  *need_min = INT64_MAX;
  CoreWork w;            // one candidate's tile classes (its storage reused by the next)
  w.power_bound = true;  // ranked by the time under power.tdp, where one is set
  w.stages = io.stages;
  for (int64_t tm : candidates(Ms, std::min(al.m, Ms)))
    for (int64_t tn : candidates(Ns, std::min(al.n, Ns)))
      for (int64_t tk : candidates(K, std::min(al.k, K), true)) {
        // Operand tiles for every load in flight (resident weights need none)
        // and the accumulator, unless the register file holds it (then SRAM
        // stages only the finished output tile).
        double need =
            static_cast<double>(io.stages) * (tm * tk * g.ba + (g.w_local ? 0 : tk * tn * g.bw)) +
            tm * tn * ((g.acc_in_registers(tm, tn) ? 0 : acc) + g.bo);
        *need_min = std::min<int64_t>(*need_min, static_cast<int64_t>(std::ceil(need)));
        if (need > sram) continue;
        int64_t nm = ceil_div(Ms, tm), nn = ceil_div(Ns, tn), nk = ceil_div(K, tk);
        // Tile kinds: full and edge sizes in each dimension, costed by the unit
        // itself (edge tiles: the last of each dimension).
        const int64_t em = Ms - (nm - 1) * tm, en = Ns - (nn - 1) * tn, ek = K - (nk - 1) * tk;
        const TileCosts::Kinds cost = costs.kinds(tm, tn, tk, em, en, ek);
        // Skipped when its floor is above the best so far by more than the
        // tie margin below: its estimate could neither win nor tie, so the
        // choice is the one the full search makes.
        if (best.est_cycles >= 0 &&
            model.floor_cycles(unit_cycles(cost, nm, nn, nk), slice_bytes(Ms, Ns, K, g)) >
                best.est_cycles * kPruneMargin)
          continue;
        double unit_e[2][2][2] = {};  // their energies, for the power bound (under a limit only)
        if (model.power_limited())
          for (int im = 0; im < 2; ++im)
            for (int in = 0; in < 2; ++in)
              for (int ik = 0; ik < 2; ++ik)
                unit_e[im][in][ik] = model.unit_energy(g.uc.unit, *cost[im][in][ik]);
        for (bool reuse_a : {true, false}) {
          if (a_outer_only && !reuse_a) continue;
          w.classes.clear();
          w.store_tail = static_cast<double>(em * en) * g.bo;
          // As emit_gemm walks them: the outer loop over A row blocks (reuse_a)
          // or W column blocks, the inner over the other, K innermost. With K
          // in one tile, the outer operand is loaded only by the first inner tile.
          const int64_t n_in = reuse_a ? nn : nm;
          for (int im = 0; im < 2; ++im)
            for (int in = 0; in < 2; ++in)
              for (int ik = 0; ik < 2; ++ik) {
                const int64_t cm = im ? 1 : nm - 1, cn = in ? 1 : nn - 1, ck = ik ? 1 : nk - 1;
                if (cm * cn * ck == 0) continue;
                const int64_t sm = im ? em : tm, sn = in ? en : tn, sk = ik ? ek : tk;
                // Tiles of this kind that are the first of their inner loop.
                const int inner_kind = reuse_a ? in : im;
                const int64_t inner_count = reuse_a ? cn : cm;
                const bool holds_first = n_in == 1 ? inner_kind == 1 : inner_kind == 0;
                const int64_t firsts = holds_first ? cm * cn * ck / inner_count : 0;
                for (bool first : {true, false}) {
                  const int64_t count = first ? firsts : cm * cn * ck - firsts;
                  if (count == 0) continue;
                  const bool reload = nk > 1 || first;  // the outer operand's tile
                  TileClass c;
                  c.count = static_cast<double>(count);
                  const TileCost& k = *cost[im][in][ik];
                  c.compute_cycles = static_cast<double>(k.cycles);
                  c.sram_bytes = k.sram_read_bytes + k.sram_write_bytes;
                  if (extra) {
                    const auto [x_cycles, x_sram] =
                        extra(sm, sn, sk, !reuse_a || reload, reuse_a || reload);
                    c.compute_cycles += x_cycles;
                    c.sram_bytes += x_sram;
                  }
                  c.unit_energy_j = unit_e[im][in][ik];
                  auto panel = [&](Level level, double bytes, double readers, double shared) {
                    split_panel(io.filter, level, bytes, readers, shared,
                                [&](Level l, double b, double mc) {
                                  c.load[l] += b;
                                  c.multicast[l] += mc;
                                });
                  };
                  if (!reuse_a || reload)
                    panel(io.in, static_cast<double>(sm * sk) * g.ba, io.readers_a, 0);
                  if (!g.w_local && (reuse_a || reload))
                    panel(g.w_level, static_cast<double>(sk * sn) * g.bw, io.readers_w,
                          io.w_shared);
                  if (ik == 1) c.store[io.out] += static_cast<double>(sm * sn) * g.bo;
                  w.classes.push_back(c);
                }
              }
          const Estimate e = model.estimate(w, io.base, io.cores);
          int64_t tiles = nm * nn * nk;
          // Ties (within 0.1 %) go to fewer tiles; streaming, to the finer row
          // block first: its consumers start on its first block sooner (the
          // SN40L's attn.o in 512-row blocks waited for all of attention
          // where 256-row blocks, level in the estimate, overlap it).
          const bool tie = best.est_cycles >= 0 && e.cycles <= best.est_cycles * 1.001;
          const bool finer = a_outer_only && tm < best.tm;
          const bool same_rows = !a_outer_only || tm == best.tm;
          if (best.est_cycles < 0 || e.cycles < best.est_cycles * 0.999 ||
              (tie && (finer || (same_rows && tiles < best.tiles)))) {
            best = {tm, tn, tk, reuse_a, e.cycles, tiles};
          }
        }
      }
  return best;
}

}  // namespace

void Mapper::map_gemm(const OpContext& ctx, const Op& op, size_t idx, Level in) {
  Level out = prog_.ops[idx].out_level;
  std::vector<CoreOp> per_core(static_cast<size_t>(ctx.cores));
  std::string mapping, units;
  const auto parts = op.weight_parts();
  for (const auto& [cols, wf] : parts) {
    GemmShape g;
    g.m = op.m, g.n = cols, g.k = op.k;
    g.a = op.a.elem, g.w = wf.elem;
    g.w_2_4 = op.sparsity == "2:4";
    g.w_group = wf.group_size;
    g.uc = pick_matmul_unit(units_, op, g.a, g.w);
    const ComputeUnit& unit = *units_[g.uc.unit];
    // Accumulators get their share of the register file (core.accumulator_share;
    // the rest holds operand fragments and addresses). Attention's O, S and P
    // are not limited by it: FlashAttention-3's consumer warp groups raise their
    // registers to 240 of 255 a thread (hopper/flash_fwd_kernel_sm90.h,
    // MmaRegisterRequirement).
    g.registers = hw_.registers_bytes * hw_.accumulator_share;
    g.acc = unit.accumulator_bytes();
    g.ba = op.a.bits_per_element() / 8;
    g.bw = op.density * (wf.bits_per_element() + op.sparsity_index_bits()) / 8;
    g.bo = op.o.bits_per_element() / 8;
    g.w_local = prog_.weight_placement == "local_sram";
    g.w_level = prog_.weight_placement == "shared_sram" ? kShared
                : prog_.weight_placement == "ddr"       ? kDdr
                                                        : home_;
    std::string pre;
    if (unit.has_precompute()) {
      // A is read as tables, built by the producer (fused) or by the op before.
      g.ba = unit.table_bytes_per_activation(g.uc.a);
      auto f = fused_gemm_.find(ctx.index);
      pre = ", reads tables built by " +
            (f != fused_gemm_.end() ? t_.ops[f->second].name : op.name + ".tables");
    }
    GemmChoice c = choose_gemm(ctx, op, g, in, out);
    // The op's loads in flight: the fewest any of its weight parts' tilings
    // was planned for (more would overflow that part's SRAM).
    prog_.ops[idx].stages =
        prog_.ops[idx].stages > 0 ? std::min(prog_.ops[idx].stages, c.stages) : c.stages;
    // Streaming: a mixed-precision GEMM's rows are done after its last block.
    emit_gemm(ctx, g, c, in, out, per_core, &wf == &parts.back().second);
    const GemmTiling& t = c.tiling;
    std::ostringstream m;
    m << (mapping.empty() ? "" : "; ")
      << (op.w_parts.empty() ? "" : wf.str() + " x" + std::to_string(cols) + ": ") << "grid "
      << ceil_div(g.m, c.Ms) << "x" << ceil_div(g.n, c.Ns) << " cores, tile " << t.tm << "x" << t.tn
      << "x" << t.tk << ", " << (t.reuse_a ? "A" : "W") << " resident" << pre
      << (c.stages < hw_.load_stages ? ", " + std::to_string(c.stages) + " loads in flight" : "")
      << (g.w_local              ? ", weights resident in core SRAM"
          : g.w_level == kShared ? ", weights in shared SRAM"
                                 : "");
    if (g.uc.convert_a || g.uc.convert_w)
      m << ", " << units_[g.uc.convert_unit]->name() << " converts "
        << (g.uc.convert_a ? g.a.name + "->" + g.uc.a.name : "")
        << (g.uc.convert_a && g.uc.convert_w ? ", " : "")
        << (g.uc.convert_w ? g.w.name + "->" + g.uc.w.name : "");
    mapping += m.str();
    for (int u : {g.uc.unit, g.pre_unit, g.uc.convert_unit})
      if (u >= 0 && units.find(units_[u]->name()) == std::string::npos)
        units += (units.empty() ? "" : "+") + units_[u]->name();
  }
  for (size_t c = 0; c < per_core.size(); ++c)
    if (!per_core[c].tiles.empty()) {
      per_core[c].op = static_cast<uint32_t>(idx);
      prog_.cores[static_cast<size_t>(ctx.base) + c].push_back(std::move(per_core[c]));
    }
  prog_.ops[idx].units = units;
  prog_.ops[idx].mapping = mapping;
}

// The core grid pm x pn over (M, N) and the per-core tiling with the lowest
// estimated time; ties go to the grid with more cores (more compute slack,
// more DMA engines in flight). Cached per shape: a model repeats its layers.
GemmChoice Mapper::choose_gemm(const OpContext& ctx, const Op& op, const GemmShape& g, Level in,
                               Level out) {
  const int u = g.uc.unit;
  auto key = std::make_tuple(
      g.m, g.n, g.k,
      g.uc.a.name + "/" + g.uc.w.name + (g.w_2_4 ? "/2:4" : "") + "/g" + std::to_string(g.w_group) +
          "/p" + std::to_string(g.pre_unit) + "/c" + std::to_string(g.uc.convert_unit),
      g.ba, g.bw, g.bo,
      (static_cast<int>(in) * 8 + static_cast<int>(out)) * 2 + (ctx.stream ? 1 : 0), u, ctx.cores);
  auto hit = gemm_cache_.find(key);
  if (hit != gemm_cache_.end()) return hit->second;
  const ComputeUnit& unit = *units_[u];
  TileAlign al = unit.align(g.uc.a, g.uc.w);
  const int64_t P = ctx.cores;
  // A core's slice is whole tiles of the unit (al.m x al.n) while that gives
  // every core a slice. A GEMM too small for that (a decode GEMV on a wide
  // array has N / cols slices, fewer than the cores) is cut finer, columns
  // first, halving the grain until every core can have one: a core then runs
  // its array partly filled rather than sitting idle, as a GPU's GEMV spreads
  // a weight matrix over every SM. So a wider array never takes cores (and
  // their DMA engines and loads in flight) away from a memory-bound GEMM that
  // a narrower one would have used; where the slices are compute-bound the
  // cost model still prefers whole tiles.
  int64_t gm = std::min(al.m, g.m), gn = std::min(al.n, g.n);
  while (ceil_div(g.m, gm) * ceil_div(g.n, gn) < P && (gn > 1 || gm > 1)) {
    if (gn > 1)
      gn = ceil_div(gn, 2);
    else
      gm = ceil_div(gm, 2);
  }
  // Columns dealt in whole-array slices can leave the cores unevenly loaded
  // (22 slices of a 192-wide array on 16 cores: some take two, 384 columns,
  // where 4096 / 16 = 256): the grain is the halving of the array's width that
  // lowers the most
  // columns a core takes (the coarsest grain of the least), so a wider array
  // is never dealt worse than a narrower one that divides evenly.
  auto share = [&](int64_t grain) {
    return ceil_div(ceil_div(g.n, grain), std::max<int64_t>(1, P / ceil_div(g.m, gm))) * grain;
  };
  for (int64_t h = ceil_div(gn, 2), best = share(gn);; h = ceil_div(h, 2)) {
    if (share(h) < best) best = share(h), gn = h;
    if (h == 1) break;
  }
  // A tile's steps besides the matmul, as emit_gemm adds them (none: no call
  // in the search's inner loop).
  const double q = find_elementwise_fn("quantize")->ops_per_element;
  ExtraSteps extra;
  if (g.uc.convert_a || g.uc.convert_w || g.pre_unit >= 0)
    extra = [&](int64_t tm, int64_t tn, int64_t tk, bool a_new, bool w_new) {
      double cycles = 0, bytes = 0;
      auto add = [&](uint32_t id) {
        const TileCost& c = prog_.costs[id];
        cycles += static_cast<double>(c.cycles);
        bytes += c.sram_read_bytes + c.sram_write_bytes;
      };
      if (g.uc.convert_a && a_new)
        add(cache_.vector(g.uc.convert_unit, tm * tk, q, g.a.storage_bits / 8,
                          g.uc.a.storage_bits / 8));
      if (g.uc.convert_w && w_new)
        add(cache_.vector(g.uc.convert_unit, tk * tn, q, g.w.storage_bits / 8,
                          g.uc.w.storage_bits / 8));
      if (g.pre_unit >= 0 && a_new) add(precompute(g, tm, tk));
      return std::make_pair(cycles, bytes);
    };
  GemmChoice best;
  TileCosts costs(unit, g);
  int64_t need_min = INT64_MAX;
  std::vector<std::pair<int64_t, int64_t>> tried;  // slice shapes already planned
  for (int64_t pm = 1; pm <= P; ++pm) {
    if (pm > 1 && (pm - 1) * gm >= g.m) break;
    if (pm > 1 && g.w_local) break;  // resident W: each core owns a column slice
    // Streaming: every core walks all rows in order, so rows complete as a
    // prefix the consumers can start on.
    if (pm > 1 && ctx.stream) break;
    for (int64_t pn = 1; pm * pn <= P; ++pn) {
      if (pn > 1 && (pn - 1) * gn >= g.n) break;
      int64_t Ms = std::min(g.m, round_up(ceil_div(g.m, pm), gm));
      int64_t Ns = std::min(g.n, round_up(ceil_div(g.n, pn), gn));
      // Several grids round to the same slice: it is planned once.
      if (std::find(tried.begin(), tried.end(), std::make_pair(Ms, Ns)) != tried.end()) continue;
      tried.emplace_back(Ms, Ns);
      int64_t used = ceil_div(g.m, Ms) * ceil_div(g.n, Ns);
      GridIo io;
      io.in = in, io.out = out, io.base = ctx.base, io.cores = used;
      io.filter = hw_.shared_sram().present;
      io.readers_a = static_cast<double>(ceil_div(g.n, Ns));
      io.readers_w = static_cast<double>(ceil_div(g.m, Ms));
      io.w_shared = multicast_share(hw_.multicast, io.readers_w);
      if (best.pm != 0 &&
          slice_floor(unit, Ms, Ns, g.k, g, model_, costs) > best.tiling.est_cycles * kPruneMargin)
        continue;
      for (const int64_t stages : stage_choices()) {
        io.stages = stages;
        int64_t need = 0;
        GemmTiling t = plan_slice(unit, Ms, Ns, g.k, g, sram_avail(ctx), model_, io, &need,
                                  ctx.stream, extra, costs);
        need_min = std::min(need_min, need);
        if (t.est_cycles < 0) continue;
        int64_t best_used = best.pm ? ceil_div(g.m, best.Ms) * ceil_div(g.n, best.Ns) : 0;
        if (best.pm == 0 || t.est_cycles < best.tiling.est_cycles * 0.999 ||
            (t.est_cycles <= best.tiling.est_cycles * 1.001 && used > best_used))
          best = GemmChoice{pm, pn, Ms, Ns, stages, t};
      }
    }
  }
  if (best.pm == 0)
    fail(op, "core.sram.size",
         "no tile fits the core's SRAM: the smallest tile needs " +
             format_quantity(static_cast<double>(need_min), Dim::Bytes) + ", core.sram.size is " +
             format_quantity(sram_avail(ctx), Dim::Bytes),
         "raise core.sram.size");
  return gemm_cache_[key] = best;
}

// Appends the tiles of one GEMM block to the cores' tile lists. A tile runs
// up to four steps: fallback conversions of A and W, the LUT table build for a
// newly loaded activation tile, and the matmul.
void Mapper::emit_gemm(const OpContext& ctx, const GemmShape& g, const GemmChoice& c, Level in,
                       Level out, std::vector<CoreOp>& per_core, bool last_part) {
  const GemmTiling& t = c.tiling;
  const int u = g.uc.unit;
  // Cores that read the same operand panel: an A row panel is read by every
  // core of its grid row, a W column panel by every core of its grid column.
  const double share_a = static_cast<double>(ceil_div(g.n, c.Ns));
  const double share_w = static_cast<double>(ceil_div(g.m, c.Ms));
  if (ctx.stream) {
    tile_rows_[ctx.index] = std::max(tile_rows_[ctx.index], t.tm);
    // Every core of the grid reads each A row block: one multicast.
    prog_.ops.back().stream_readers = share_a;  // the GEMM being mapped
  }
  check_tiles(t_.ops[ctx.index], static_cast<double>(ceil_div(g.m, t.tm)) *
                                     static_cast<double>(ceil_div(g.n, t.tn)) *
                                     static_cast<double>(ceil_div(g.k, t.tk)));
  // The block's tiles come in a few sizes (full and edge tiles, the last K
  // step or not): their cost entries are looked up once per size.
  std::vector<std::pair<std::array<int64_t, 4>, uint32_t>> mm_costs;
  auto mm_cost = [&](int64_t tm, int64_t tn, int64_t tk, bool k_last) {
    const std::array<int64_t, 4> key = {tm, tn, tk, k_last ? 1 : 0};
    for (const auto& [k, cost] : mm_costs)
      if (k == key) return cost;
    mm_costs.emplace_back(key, cache_.mm(u, g.tile(tm, tn, tk, k_last)));
    return mm_costs.back().second;
  };
  size_t core = 0;
  for (int64_t m0 = 0; m0 < g.m; m0 += c.Ms)
    for (int64_t n0 = 0; n0 < g.n; n0 += c.Ns, ++core) {
      int64_t Ms = std::min(c.Ms, g.m - m0), Ns = std::min(c.Ns, g.n - n0);
      CoreOp& co = per_core[core];
      int64_t outer_n = t.reuse_a ? ceil_div(Ms, t.tm) : ceil_div(Ns, t.tn);
      int64_t inner_n = t.reuse_a ? ceil_div(Ns, t.tn) : ceil_div(Ms, t.tm);
      int64_t nk = ceil_div(g.k, t.tk);
      for (int64_t o = 0; o < outer_n; ++o)
        for (int64_t in_i = 0; in_i < inner_n; ++in_i) {
          int64_t mi = t.reuse_a ? o : in_i, ni = t.reuse_a ? in_i : o;
          int64_t tm = std::min(t.tm, Ms - mi * t.tm), tn = std::min(t.tn, Ns - ni * t.tn);
          for (int64_t ki = 0; ki < nk; ++ki) {
            int64_t tk = std::min(t.tk, g.k - ki * t.tk);
            Tile tile;
            // The resident operand is loaded once per outer iteration when K is one tile.
            bool a_new = !(t.reuse_a && nk == 1 && in_i > 0);
            bool w_new = !(!t.reuse_a && nk == 1 && in_i > 0);
            if (a_new) load_shared_panel(tile, in, static_cast<double>(tm * tk) * g.ba, share_a);
            if (w_new && !g.w_local)
              load_shared_panel(tile, g.w_level, static_cast<double>(tk * tn) * g.bw, share_w,
                                multicast_share(hw_.multicast, share_w));
            if (ki == nk - 1) tile.store_bytes[out] += static_cast<double>(tm * tn) * g.bo;
            if (ctx.stream) {  // A-outer: block mi's rows are done after its last tile
              tile.rows_need = static_cast<uint32_t>(m0 + mi * t.tm + tm);
              const bool block_done = in_i == inner_n - 1 && ki == nk - 1 && last_part;
              tile.rows_done =
                  last_part ? static_cast<uint32_t>(m0 + mi * t.tm + (block_done ? tm : 0)) : 0;
            }
            auto convert = [&](int64_t elements, const Format& from, const Format& to) {
              // Quantize or dequantize: scale and round per element.
              tile.add_step({static_cast<uint16_t>(g.uc.convert_unit),
                             cache_.vector(g.uc.convert_unit, elements,
                                           find_elementwise_fn("quantize")->ops_per_element,
                                           from.storage_bits / 8, to.storage_bits / 8),
                             kStepConvert});
            };
            if (g.uc.convert_a && a_new) convert(tm * tk, g.a, g.uc.a);
            if (g.uc.convert_w && w_new) convert(tk * tn, g.w, g.uc.w);
            if (g.pre_unit >= 0 && a_new)
              tile.add_step(
                  {static_cast<uint16_t>(g.pre_unit), precompute(g, tm, tk), kStepPrecompute});
            tile.add_step({static_cast<uint16_t>(u), mm_cost(tm, tn, tk, ki == nk - 1)});
            co.push(tile);
          }
        }
    }
}

// A shared SRAM level (a GPU's L2) filters reads of a panel that several
// cores load: of p readers, one read in p goes to the panel's level (DRAM) and
// the rest hit the shared level. Without one, every core reads DRAM.
void Mapper::load_shared_panel(Tile& tile, Level level, double bytes, double readers,
                               double multicast) const {
  // A cluster loads the panel once for all its cores: `multicast` of each
  // core's bytes come from a peer's read and take no channel time. With a
  // shared level in front, the one read in `readers` that reaches DRAM is a
  // cluster's own; the peers' copies were L2 hits.
  split_panel(hw_.shared_sram().present, level, bytes, readers, multicast,
              [&](Level l, double b, double mc) {
                tile.load_bytes[l] += b;
                if (mc > 0) {
                  tile.multicast_level = static_cast<uint8_t>(l);
                  tile.multicast_bytes += mc;
                }
              });
}

}  // namespace bc::mapping
