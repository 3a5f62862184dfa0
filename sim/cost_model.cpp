#include "sim/cost_model.h"

#include <algorithm>

namespace bc {

CostModel::CostModel(const HwConfig& hw)
    : hw_(hw), res_(make_chip_resources(hw)), per_cycle_(1.0 / hw.freq_hz) {}

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

double CostModel::latency_cycles(Level level, int64_t base, int64_t cores) {
  if (level == kStream) return static_cast<double>(hw_.noc_hop_cycles * (hw_.mesh_x + hw_.mesh_y));
  const MemoryChannels& m = res_.level(level);
  if (!m.present()) return 0;
  const Prefix& p = prefix(level, true, base);
  const int64_t n = std::min<int64_t>(cores, static_cast<int64_t>(p.routers.size()) - 1);
  return ticks_to_seconds(m.latency()) / per_cycle_ +
         static_cast<double>(p.routers[static_cast<size_t>(n)] * hw_.noc_hop_cycles);
}

Estimate CostModel::estimate(const CoreWork& w, int64_t base, int64_t cores) {
  const double f = hw_.freq_hz;
  const double dma_bpc = hw_.dma_bandwidth / f;
  const double sram_bpc = static_cast<double>(hw_.sram.banks * hw_.sram.ports) *
                          hw_.sram.bank_width_bytes;
  const double link_bpc = hw_.noc_link_bandwidth / f;
  const double n = static_cast<double>(cores);
  double moved = 0, lat = 0, store_lat = 0, links = 0, tile_time = 0;
  std::vector<std::pair<std::string, double>> terms;
  for (int l = 0; l < kLevels; ++l) {
    const double b = w.load[l] + w.store[l];
    moved += b;
    if (b <= 0) continue;
    const Level lv = static_cast<Level>(l);
    if (lv == kStream) continue;  // pulled from the producer's cores: DMA and banks below
    MemoryChannels& m = res_.level(lv);
    if (!m.present()) continue;
    terms.emplace_back(level_name(lv), n * b / (m.bandwidth() / f));
    for (bool load : {true, false}) {
      const double bytes = load ? w.load[l] : w.store[l];
      if (bytes <= 0) continue;
      const Prefix& p = prefix(lv, load, base);
      const auto k = static_cast<size_t>(std::min<int64_t>(cores, p.link_share.size() - 1));
      links += bytes * p.link_share[k] / link_bpc;
      const double d = ticks_to_seconds(m.latency()) * f +
                       static_cast<double>(p.routers[k] * hw_.noc_hop_cycles);
      (load ? lat : store_lat) = std::max(load ? lat : store_lat, d);
    }
  }
  if (w.load[kStream] > 0) lat = std::max(lat, latency_cycles(kStream, base, cores));
  terms.emplace_back("noc", links);
  terms.emplace_back("dma", moved / dma_bpc);
  double mem = 0;
  for (const auto& t : terms) mem = std::max(mem, t.second);
  // The banks serve the DMA engine's bytes and the units' operands; a unit's
  // step ends when both its cycles and its operand accesses are done.
  const double sram = (moved + w.sram_bytes) / sram_bpc;
  const double busy = std::max(w.compute_cycles, sram);
  const double tiles = std::max(1.0, w.tiles);
  tile_time = mem / tiles;
  // kLoadBuffers loads in flight: a tile's load is issued when the compute of
  // the tile kLoadBuffers before it ends, so each buffer cycles through
  // compute + latency + transfer (Little's law).
  const double in_flight =
      (w.compute_cycles + tiles * lat + mem) / static_cast<double>(kLoadBuffers);
  terms.emplace_back("compute", w.compute_cycles);
  terms.emplace_back("sram", sram);
  terms.emplace_back("latency", in_flight);
  Estimate e;
  double top = std::max({busy, mem, in_flight});
  for (const auto& t : terms)
    if (t.second >= top * (1 - 1e-9)) {
      e.bound = t.first;
      break;
    }
  // Fill: the first tile's load before any compute; drain: the last store.
  const double drain = w.store_tail > 0 ? store_lat + w.store_tail / std::min(dma_bpc, link_bpc) : 0;
  e.cycles = top + (w.tiles > 0 ? lat + tile_time : 0) + drain;
  return e;
}

}  // namespace bc
