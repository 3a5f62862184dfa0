#include "sim/mapping/fabric.h"

#include <cmath>

namespace bc {

ChipResources make_chip_resources(const HwConfig& h) {
  const Tick hop =
      static_cast<Tick>(std::llround(static_cast<double>(h.noc_hop_cycles) * 1e12 / h.freq_hz));
  ChipResources r{
      NocMesh(h.mesh_x, h.mesh_y, h.noc_link_bandwidth, hop, h.noc_topology == "crossbar"), {}};
  std::vector<int64_t> all;
  for (int64_t n = 0; n < r.noc.nodes(); ++n) all.push_back(n);
  for (const TierType& t : tier_types()) {
    const ChannelsConfig& c = h.tier(t.level);
    if (c.present)
      r.level(t.level) =
          MemoryChannels(c.effective_bandwidth(), c.latency_s,
                         MemoryChannels::spread(c.channels, t.on_chip ? all : r.noc.perimeter()),
                         c.write_cost(), c.mixed_write_cost());
  }
  return r;
}

}  // namespace bc
