#include "models/dma_engine.h"

namespace bc {

Tick DmaEngine::transfer(Tick now, double bytes, bool load, MemoryChannels& level,
                         int level_read_action, int level_write_action, int64_t core_node,
                         NocMesh& noc, SramBanks& sram, const CountSink& counts, double multicast) {
  if (bytes <= 0) return now;
  const double read = load ? bytes - multicast : bytes;  // what the level's channels move
  // The channels' time: a written byte costs write_cost read bytes (writes
  // reach a lower share of the nominal bandwidth: write recovery), more right
  // after a read (the bus turnaround, MemoryChannels::channel_bytes); the
  // mesh, DMA engine and banks move the bytes as they are.
  Tick end =
      level.server().serve(now, transfer_ticks(level.channel_bytes(read, load), level.bandwidth()));
  int64_t routers = 0;
  double byte_hops = 0;
  if (level.caches_fanouts(noc)) {
    const Fanout& f = level.fanout(noc, core_node, load);
    if (noc.observed()) {  // a timeline: each link told in id order
      for (const auto& [id, share] : f.links)
        end = std::max(
            end, noc.serve_link(id, now, ceil_ticks(bytes * link_ticks_per_byte(share, noc))));
    } else {
      // Each group's links take the same duration: computed once per group.
      end = std::max(end, noc.book_link_groups(f.first_group, f.groups, now, bytes));
    }
    routers = f.routers;
    byte_hops = bytes * f.byte_hop_factor;
  } else {
    // A mesh too large to cache every core's fanout (a crossbar's are always
    // cached: MemoryChannels::caches_fanouts): each channel's piece is
    // booked link by link. Two bookings of one link at the same instant end
    // where one booking of their sum would, so the times are the same.
    const double piece = bytes / static_cast<double>(level.channels());
    const Tick t = transfer_ticks(piece, noc.link_bandwidth());
    for (int64_t c = 0; c < level.channels(); ++c) {
      const int64_t n = level.node(c);
      noc.for_each_link(load ? n : core_node, load ? core_node : n,
                        [&](uint32_t l) { end = std::max(end, noc.serve_link(l, now, t)); });
      const int64_t h = noc.hops(n, core_node);
      routers = std::max(routers, h + 1);
      byte_hops += piece * static_cast<double>(h + 1);
    }
  }
  end = std::max(end, server_.serve(now, transfer_ticks(bytes, bw_)));
  end = std::max(end, sram.access(now, bytes));
  counts.add(load ? level_read_action : level_write_action, bytes);
  counts.add(load ? kSramWrite : kSramRead, bytes);
  counts.add(kNocByteHop, byte_hops);
  return end + level.latency() + noc.hop_ticks() * static_cast<Tick>(routers);
}

Tick DmaEngine::pull(Tick now, double bytes, double readers, int64_t src_node, SramBanks& src_sram,
                     int64_t core_node, NocMesh& noc, SramBanks& sram, const CountSink& counts) {
  if (bytes <= 0) return now;
  const double shared = bytes / readers;  // this reader's share of the multicast
  const int64_t hops = noc.hops(src_node, core_node);
  Tick end = src_sram.access(now, shared);
  // The last link (into this core) carries all its bytes, the others its share.
  const int64_t links = noc.route_length(src_node, core_node);
  int64_t i = 0;
  const Tick shared_ticks = transfer_ticks(shared, noc.link_bandwidth());
  const Tick last_ticks = transfer_ticks(bytes, noc.link_bandwidth());
  noc.for_each_link(src_node, core_node, [&](uint32_t l) {
    end = std::max(end, noc.serve_link(l, now, ++i == links ? last_ticks : shared_ticks));
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
