#include "sim/mapping/cost_model.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace bc {

CostModel::CostModel(const HwConfig& hw) : hw_(hw), res_(make_chip_resources(hw)) {}

// Link loads of n cores each moving one byte to or from `level`: the sum of
// their fanouts, link by link, of which the busiest link sets the time. Built
// for every n in one pass (the running maximum only grows).
const CostModel::Prefix& CostModel::prefix(Level level, bool load, int64_t base) {
  auto key = std::make_tuple(static_cast<int>(level), load, base);
  auto it = prefix_.find(key);
  if (it != prefix_.end()) return it->second;
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
  return prefix_[key] = std::move(p);
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
  const double dma_bpc = hw_.dma_bandwidth / f;
  const double sram_bpc = make_core_sram(hw_).bandwidth() / f;
  const double link_bpc = hw_.noc_link_bandwidth / f;
  const double n = static_cast<double>(cores);
  const double hop = static_cast<double>(hw_.noc_hop_cycles);
  // Cycles each resource bound, by name (a handful: kept in a small array).
  std::array<std::pair<const char*, double>, 10> spent{};
  size_t nspent = 0;
  auto charge = [&](const char* name, double t) {
    for (size_t i = 0; i < nspent; ++i)
      if (std::strcmp(spent[i].first, name) == 0) {
        spent[i].second += t;
        return;
      }
    spent[nspent++] = {name, t};
  };
  double total = 0, fill = -1, store_lat = 0;
  for (const TileClass& c : w.classes) {
    if (c.count <= 0) continue;
    double moved = 0, links = 0, lat = 0, transfer = 0;
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
      const double t = n * b / (m.bandwidth() / f);
      if (t > transfer) transfer = t, limit = level_name(lv);
      for (bool load : {true, false}) {
        const double bytes = load ? c.load[l] : c.store[l];
        if (bytes <= 0) continue;
        const Prefix& p = prefix(lv, load, base);
        const auto k = static_cast<size_t>(std::min<int64_t>(cores, p.link_share.size() - 1));
        links += bytes * p.link_share[k] / link_bpc;
        const double d =
            ticks_to_seconds(m.latency()) * f + static_cast<double>(p.routers[k]) * hop;
        if (load) lat = std::max(lat, d);
        if (!load) store_lat = std::max(store_lat, d);
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
    const double in_flight =
        (units + (loads ? lat + transfer : 0)) / static_cast<double>(hw_.load_stages);
    if (in_flight > period) period = in_flight, limit = "latency";
    total += c.count * period;
    charge(limit, c.count * period);
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
  return e;
}

}  // namespace bc
