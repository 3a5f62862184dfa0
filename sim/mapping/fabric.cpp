#include "sim/mapping/fabric.h"

#include <cmath>

namespace bc {

ChipResources make_chip_resources(const HwConfig& h) {
  const Tick hop =
      static_cast<Tick>(std::llround(static_cast<double>(h.noc_hop_cycles) * 1e12 / h.freq_hz));
  ChipResources r{NocMesh(h.mesh_x, h.mesh_y, h.noc_link_bandwidth, hop), {}, {}, {}};
  if (h.dram.present)
    r.dram = MemoryChannels(h.dram.effective_bandwidth(), h.dram.latency_s,
                            MemoryChannels::spread(h.dram.channels, r.noc.perimeter()));
  if (h.shared_sram.present) {
    std::vector<int64_t> all;
    for (int64_t n = 0; n < r.noc.nodes(); ++n) all.push_back(n);
    r.shared = MemoryChannels(h.shared_sram.effective_bandwidth(), h.shared_sram.latency_s,
                              MemoryChannels::spread(h.shared_sram.channels, all));
  }
  if (h.ddr.present)  // the capacity tier's controllers sit on the perimeter too
    r.ddr = MemoryChannels(h.ddr.effective_bandwidth(), h.ddr.latency_s,
                           MemoryChannels::spread(h.ddr.channels, r.noc.perimeter()));
  return r;
}

}  // namespace bc
