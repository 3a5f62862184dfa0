#include "models/dma_engine.h"

namespace bc {
namespace {

// One cut-through pipeline stage of a transfer: it starts when the server is
// free and the upstream stage has started (plus `gap`, a router hop), and
// cannot finish before upstream has delivered its last byte (plus `gap`).
struct Pipe {
  Tick now, up_start, up_end;
  void stage(BusyServer& s, Tick dur, Tick gap) {
    Tick st = std::max(s.free_at(now), up_start + gap);
    Tick en = std::max(st + dur, up_end + gap);
    s.occupy(st, en - st);
    up_start = st;
    up_end = en;
  }
};

}  // namespace

Tick DmaEngine::transfer(Tick now, double bytes, bool load, MemoryChannels& level,
                         int level_read_action, int level_write_action, int64_t core_node,
                         NocMesh& noc, SramBanks& sram, const CountSink& counts) {
  if (bytes <= 0) return now;
  const int64_t nch = level.channels();
  const double piece = bytes / static_cast<double>(nch);
  const Tick t_chan = transfer_ticks(piece, level.channel_bandwidth());
  const Tick t_link = transfer_ticks(piece, noc.link_bandwidth());
  const Tick t_dma = transfer_ticks(piece, bw_);
  const Tick t_sram = sram.bank_ticks(piece);
  const Tick hop = noc.hop_ticks();
  Tick done = now;
  double byte_hops = 0;
  for (int64_t c = 0; c < nch; ++c) {
    const auto& route =
        load ? noc.route(level.node(c), core_node) : noc.route(core_node, level.node(c));
    Pipe p{now, now, now};
    if (load) {
      // The read request reaches the channel after the access latency.
      p.up_start = p.up_end = now + level.latency();
      p.stage(level.channel(c), t_chan, 0);
      for (uint32_t l : route) p.stage(noc.link(l), t_link, hop);
      p.stage(server_, t_dma, hop);
      p.stage(sram.server(), t_sram, 0);
    } else {
      p.stage(sram.server(), t_sram, 0);
      p.stage(server_, t_dma, 0);
      for (uint32_t l : route) p.stage(noc.link(l), t_link, hop);
      p.stage(level.channel(c), t_chan, hop);
      p.up_end += level.latency();
    }
    done = std::max(done, p.up_end);
    // Routers traversed: one per link plus the injecting router.
    byte_hops += piece * static_cast<double>(route.size() + 1);
  }
  counts.add(load ? level_read_action : level_write_action, bytes);
  counts.add(load ? kSramWrite : kSramRead, bytes);
  counts.add(kNocByteHop, byte_hops);
  return done;
}

Tick DmaEngine::pull(Tick now, double bytes, double readers, int64_t src_node, SramBanks& src_sram,
                     int64_t core_node, NocMesh& noc, SramBanks& sram, const CountSink& counts) {
  if (bytes <= 0) return now;
  const double shared = bytes / readers;  // this reader's share of the multicast
  const Tick hop = noc.hop_ticks();
  Pipe p{now, now, now};
  const auto& route = noc.route(src_node, core_node);
  p.stage(src_sram.server(), src_sram.bank_ticks(shared), 0);
  for (size_t i = 0; i < route.size(); ++i)
    p.stage(noc.link(route[i]),
            transfer_ticks(i + 1 == route.size() ? bytes : shared, noc.link_bandwidth()), hop);
  p.stage(server_, transfer_ticks(bytes, bw_), hop);
  p.stage(sram.server(), sram.bank_ticks(bytes), 0);
  counts.add(kSramRead, shared);
  counts.add(kSramWrite, bytes);
  // Routers: the injecting one and all but the last link's share the multicast.
  counts.add(kNocByteHop, shared * static_cast<double>(route.size()) + (route.empty() ? 0 : bytes));
  return p.up_end;
}

}  // namespace bc
