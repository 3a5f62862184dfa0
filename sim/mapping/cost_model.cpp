#include "sim/mapping/cost_model.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "models/action_ids.h"
#include "sim/mapping/energy.h"

namespace bc {

// The power bound's budget: the board's limit less its own draw and the
// die's leakage, which the limit pays whatever the tiles do.
CostModel::CostModel(const HwConfig& hw) : hw_(hw), res_(make_chip_resources(hw)) {
  for (const ActionEntry& a : action_catalog(hw)) action_j_.push_back(a.energy_j);
  int counters = 0;
  unit_base_ = unit_action_bases(build_units(hw.units), &counters);
  if (hw.tdp_w > 0) {
    double leakage = 0;
    for (const ComponentArea& c : component_areas(hw)) leakage += c.leakage_w;
    power_w_ = std::max(0.0, hw.tdp_w - hw.board_power_w - leakage);
  }
}

double CostModel::unit_energy(int unit, const TileCost& cost) const {
  double e =
      cost.sram_read_bytes * action_j_[kSramRead] + cost.sram_write_bytes * action_j_[kSramWrite];
  for (const ActionCount& a : cost.actions) e += a.count * action_j_[unit_base_[unit] + a.action];
  return e;
}

// Link loads of n cores each moving one byte to or from `level`: the sum of
// their fanouts, link by link, of which the busiest link sets the time. Built
// for every n in one pass (the running maximum only grows).
const CostModel::Prefix& CostModel::prefix(Level level, bool load, int64_t base) {
  LastPrefix& last = last_prefix_[static_cast<size_t>(level)][load ? 1 : 0];
  if (last.base == base) return *last.prefix;
  auto key = std::make_tuple(static_cast<int>(level), load, base);
  auto it = prefix_.find(key);
  if (it != prefix_.end()) {
    last = {base, &it->second};
    return it->second;
  }
  Prefix p;
  const int64_t n = hw_.cores() - base;
  p.link_share.assign(static_cast<size_t>(n + 1), 0.0);
  p.routers.assign(static_cast<size_t>(n + 1), 0);
  std::vector<double> sum(static_cast<size_t>(res_.noc.links()), 0.0);
  double top = 0;
  int64_t routers = 0;
  MemoryChannels& m = res_.level(level);
  for (int64_t c = 0; c < n; ++c) {
    if (m.present()) {
      const Fanout& f = m.fanout(res_.noc, base + c, load);
      for (const auto& [l, share] : f.links) top = std::max(top, sum[l] += share);
      routers = std::max(routers, f.routers);
    }
    p.link_share[static_cast<size_t>(c + 1)] = top;
    p.routers[static_cast<size_t>(c + 1)] = routers;
  }
  Prefix& stored = prefix_[key] = std::move(p);
  last = {base, &stored};
  return stored;
}

// Per tile of a class, in cycles: each resource's time for the class's bytes
// (the level's channels shared by all `cores` cores doing the same, the
// busiest link of the group's routes, the core's DMA engine and banks), the
// units' cycles (their pipelined period where units overlap), and the in-flight bound: with
// core.dma.stages loads in flight, a tile's load is issued when the compute of the tile that many
// before it ends, so each buffer cycles through compute + latency + transfer (Little's law). The
// tile takes the largest; the op, the sum over its tiles, plus the pipeline fill (sim below) and
// the last store (drain). Summing per class, not taking the maximum of sums, keeps a mix of large
// and small (edge) tiles honest: the large ones can be bandwidth-bound while the small ones wait on
// latency.
Estimate CostModel::estimate(const CoreWork& w, int64_t base, int64_t cores) {
  const double f = hw_.freq_hz;
  const double dma_bpc = dma_bytes_per_cycle();
  const double sram_bpc = make_core_sram(hw_).bandwidth() / f;
  const double link_bpc = hw_.noc_link_bandwidth / f;
  const double n = static_cast<double>(cores);
  const double hop = static_cast<double>(hw_.noc_hop_cycles);
  // Cycles each resource bound, by name (a handful: kept in a small array).
  std::array<std::pair<const char*, double>, 10> spent{};
  size_t nspent = 0;
  auto charge = [&](const char* name, double t) {
    for (size_t i = 0; i < nspent; ++i)
      if (spent[i].first == name || std::strcmp(spent[i].first, name) == 0) {
        spent[i].second += t;
        return;
      }
    spent[nspent++] = {name, t};
  };
  double total = 0, fill = -1, store_lat = 0;
  // The last storing tile's store path, and the unit cycles of the tiles since.
  double store_path = 0, since_store = 0;
  double e_on = 0, e_off = 0;  // one core's dynamic energy, for the power bound
  const bool power_bound = w.power_bound && power_limited();
  const double stages = static_cast<double>(w.stages > 0 ? w.stages : hw_.load_stages);
  clocked_.clear();
  for (const TileClass& c : w.classes) {
    if (c.count <= 0) continue;
    double moved = 0, links = 0, lat = 0, transfer = 0;
    double stored = 0, store_d = 0;  // this tile's store: bytes, latency
    const char* limit = "dma";
    for (int l = 0; l < kLevels; ++l) {
      const double b = c.load[l] + c.store[l];
      if (b <= 0) continue;
      moved += b;
      const Level lv = static_cast<Level>(l);
      if (lv == kStream) {  // pulled from the producer's cores, a mesh away
        lat = std::max(lat, hop * static_cast<double>(hw_.mesh_x + hw_.mesh_y));
        continue;
      }
      MemoryChannels& m = res_.level(lv);
      if (!m.present()) continue;
      // Channel time: stores at their own share of the bandwidth, or at the
      // turnaround's when the tile also reads the level (write_cost(after_read));
      // loads but what a cluster peer reads for this core (multicast).
      const double t = n * (c.load[l] - c.multicast[l] + c.store[l] * m.write_cost(c.load[l] > 0)) /
                       (m.bandwidth() / f);
      if (t > transfer) transfer = t, limit = level_name(lv);
      stored += c.store[l];
      for (bool load : {true, false}) {
        const double bytes = load ? c.load[l] : c.store[l];
        if (bytes <= 0) continue;
        const Prefix& p = prefix(lv, load, base);
        const auto k = static_cast<size_t>(std::min<int64_t>(cores, p.link_share.size() - 1));
        links += bytes * p.link_share[k] / link_bpc;
        const double d =
            ticks_to_seconds(m.latency()) * f + static_cast<double>(p.routers[k]) * hop;
        if (load) lat = std::max(lat, d);
        if (!load) store_lat = std::max(store_lat, d), store_d = std::max(store_d, d);
      }
    }
    if (links > transfer) transfer = links, limit = "noc";
    if (moved / dma_bpc > transfer) transfer = moved / dma_bpc, limit = "dma";
    // The banks serve the DMA engine's bytes and the units' operands; a unit's
    // step ends when both its cycles and its operand accesses are done.
    const double sram = (moved + c.sram_bytes) / sram_bpc;
    double period = transfer;
    const double units = c.pipelined_cycles > 0 ? c.pipelined_cycles : c.compute_cycles;
    if (units > period) period = units, limit = "compute";
    if (sram > period) period = sram, limit = "sram";
    const bool loads = std::any_of(c.load.begin(), c.load.end(), [](double b) { return b > 0; });
    // With units overlapping, a tile's own share of the units' time is its
    // pipelined cycles (a tile that runs beside the one before adds less than
    // its path); that is the compute a buffer waits for per tile.
    const double in_flight = (units + (loads ? lat + transfer : 0)) / stages;
    if (in_flight > period) period = in_flight, limit = "latency";
    const double unexposed = period;
    if (power_bound) {  // the tile's energy, on chip and off (DRAM, DDR)
      e_on += c.count * c.unit_energy_j;
      for (int l = 0; l < kLevels; ++l) {
        if (l == kStream) continue;
        const double mem = c.load[l] * action_j_[tier_read_action(l)] +
                           c.store[l] * action_j_[tier_write_action(l)];
        (tier_type(static_cast<Level>(l)).on_chip ? e_on : e_off) += c.count * mem;
        e_on += c.count * (c.load[l] * action_j_[kSramWrite] + c.store[l] * action_j_[kSramRead]);
      }
    }
    // Waiting for an earlier tile's store: its path and this tile's load (one
    // core's: latency, and the bytes through its DMA engine; the cores' stores
    // are not simultaneous) are exposed where the units' work in between does
    // not cover them.
    if (c.after_store && loads)
      period += std::max(0.0, store_path + lat + moved / dma_bpc - since_store), limit = "latency";
    // Waiting for the tile before it to retire: its own load path is exposed.
    if (c.after_retire && loads) period += lat + moved / dma_bpc, limit = "latency";
    total += c.count * period;
    charge(limit, c.count * period);
    if (power_bound)
      clocked_.push_back({c.count, transfer, std::max(units, sram), units,
                          loads ? lat + transfer : 0.0, period - unexposed});
    if (stored > 0) {
      store_path = store_d + stored / dma_bpc;
      since_store = 0;
    } else {
      since_store += c.count * units;
    }
    // Pipeline fill: the first tile's whole path (its load's latency and
    // transfer, then its compute) less the one period it is counted in above.
    // Bandwidth-bound, the transfers run back to back from the start and only
    // the latency and the last compute are exposed; compute-bound, the first
    // load is. (Charging the whole first load in both cases favoured the
    // smallest tiles whenever the bandwidth bound.)
    if (fill < 0 && loads)
      fill = std::max(0.0, lat + transfer + std::max(c.compute_cycles, sram) - period);
  }
  Estimate e;
  double most = -1;
  for (size_t i = 0; i < nspent; ++i)
    if (spent[i].second > most) most = spent[i].second, e.bound = spent[i].first;
  const double drain = w.store_tail > 0 ? store_lat + w.store_tail / dma_bpc : 0;
  e.cycles = total + std::max(0.0, fill) + drain;
  // Under power.tdp the tiling searches rank candidates by their time under
  // the limit: if the op's cores would draw more than the limit leaves (the
  // board and the die's leakage paid), the clock drops to the share s at which
  // they fit, as the board's controller does: on-chip energy falls as s^2
  // (voltage with clock), off-chip energy stays, and each tile's period is
  // re-taken at the lower clock, as the power limit scales a run's ops
  // (sim/cli/power_cap.h: 1/s where compute binds, 1 where memory does): the
  // units' and banks' cycles grow as 1/s, the channels', links' and DMA
  // engine's transfer and the memory latency keep their time. The largest s
  // with
  //   E_on s^2 + E_off <= P T(s)
  // is found by bisection down to one piece of T(s), then Newton's method on
  // that piece (the left side rises with s, T(s) falls). Taking
  // every op's time as 1/s made a memory-bound op look as slow as a
  // compute-bound one of the same energy, and a search under the limit chose
  // a tiling of fewer cores and less power that the run, its memory time
  // unchanged at the lower clock, found slower (h200 prefill of 128 tokens:
  // 9 % slower with twice the registers). A tiling that buys a little time
  // with much more memory traffic still loses where the limit binds. The
  // estimate the report shows leaves this out: a run's clock under the limit
  // is set by the power limit itself (sim/cli/power_cap.h).
  if (power_bound && e.cycles > 0) {
    const double on = n * e_on, off = n * e_off;
    // T(s) = a + b / s, with each class's binding term as it is at share s:
    // its transfer (kept), its units or banks (1/s), or its loads in flight
    // (the units' part 1/s, the path kept).
    struct Piece {
      double a = 0, b = 0;
      bool operator==(const Piece&) const = default;
    };
    auto piece = [&](double s) {
      Piece p{std::max(0.0, fill) + drain, 0};  // fill and drain: as at the nominal clock
      for (const Clocked& k : clocked_) {
        const double in_flight = (k.units / s + k.path) / stages;
        p.a += k.count * k.exposed;
        if (k.transfer >= k.scaled / s && k.transfer >= in_flight)
          p.a += k.count * k.transfer;
        else if (k.scaled / s >= in_flight)
          p.b += k.count * k.scaled;
        else
          p.a += k.count * k.path / stages, p.b += k.count * k.units / stages;
      }
      return p;
    };
    auto cycles = [](const Piece& p, double s) { return p.a + p.b / s; };
    auto fits = [&](double s) { return on * s * s + off <= power_w_ * cycles(piece(s), s) / f; };
    if (!fits(1.0)) {
      double lo = hw_.min_clock_share, hi = 1.0;
      if (fits(lo)) {
        // Halve the bracket until one piece holds across it, then solve
        // on s^2 + off = P (a + b / s) / f there, i.e. the cubic
        // g(s) = on s^3 + (off - P a / f) s - P b / f = 0, whose one positive
        // root Newton's method reaches from above (g is convex and rising
        // past it).
        for (int i = 0; i < 60 && !(piece(lo) == piece(hi)); ++i) {
          const double mid = 0.5 * (lo + hi);
          (fits(mid) ? lo : hi) = mid;
        }
        const Piece p = piece(hi);
        const double c1 = off - power_w_ * p.a / f, c0 = -power_w_ * p.b / f;
        double s = hi;
        for (int i = 0; i < 50; ++i) {
          const double g = on * s * s * s + c1 * s + c0, dg = 3 * on * s * s + c1;
          if (!(g > 0) || !(dg > 0)) break;
          const double next = s - g / dg;
          if (!(next < s)) break;
          s = next;
        }
        lo = std::clamp(s, lo, hi);
      }
      e.cycles = cycles(piece(lo), lo);
      e.bound = "power";
    }
  }
  return e;
}

}  // namespace bc
