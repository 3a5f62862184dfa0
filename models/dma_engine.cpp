#include "models/dma_engine.h"

namespace bc {

Tick DmaEngine::transfer(Tick now, double bytes, bool load, MemoryChannels& level,
                         int level_read_action, int level_write_action, int64_t core_node,
                         NocMesh& noc, SramBanks& sram, const CountSink& counts) {
  if (bytes <= 0) return now;
  const Fanout& f = level.fanout(noc, core_node, load);
  Tick end = level.server().serve(now, transfer_ticks(bytes, level.bandwidth()));
  for (size_t i = 0; i < f.links.size(); ++i)
    end = std::max(end, noc.link(f.links[i].first).serve(now, ceil_ticks(bytes * f.ticks_per_byte[i])));
  end = std::max(end, server_.serve(now, transfer_ticks(bytes, bw_)));
  end = std::max(end, sram.access(now, bytes));
  counts.add(load ? level_read_action : level_write_action, bytes);
  counts.add(load ? kSramWrite : kSramRead, bytes);
  counts.add(kNocByteHop, bytes * f.byte_hop_factor);
  return end + level.latency() + noc.hop_ticks() * static_cast<Tick>(f.routers);
}

Tick DmaEngine::pull(Tick now, double bytes, double readers, int64_t src_node, SramBanks& src_sram,
                     int64_t core_node, NocMesh& noc, SramBanks& sram, const CountSink& counts) {
  if (bytes <= 0) return now;
  const double shared = bytes / readers;  // this reader's share of the multicast
  const int64_t hops = noc.hops(src_node, core_node);
  Tick end = src_sram.access(now, shared);
  int64_t i = 0;
  noc.for_each_link(src_node, core_node, [&](uint32_t l) {
    const double b = ++i == hops ? bytes : shared;
    end = std::max(end, noc.link(l).serve(now, transfer_ticks(b, noc.link_bandwidth())));
  });
  end = std::max(end, server_.serve(now, transfer_ticks(bytes, bw_)));
  end = std::max(end, sram.access(now, bytes));
  counts.add(kSramRead, shared);
  counts.add(kSramWrite, bytes);
  // Routers: the injecting one and all but the last link's share the multicast.
  counts.add(kNocByteHop, shared * static_cast<double>(hops) + (hops == 0 ? 0 : bytes));
  return end + noc.hop_ticks() * static_cast<Tick>(hops + 1);
}

}  // namespace bc
