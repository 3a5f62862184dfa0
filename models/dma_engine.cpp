#include "models/dma_engine.h"

namespace bc {

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
    // One pipeline stage: start when free and when the upstream stage has
    // started; finish no earlier than upstream's finish.
    Tick up_start = now, up_end = now;
    auto stage = [&](BusyServer& s, Tick dur, Tick gap) {
      Tick st = std::max(s.free_at(now), up_start + gap);
      Tick en = std::max(st + dur, up_end + gap);
      s.occupy(st, en - st);
      up_start = st;
      up_end = en;
    };
    if (load) {
      // The read request reaches the channel after the access latency.
      up_start = up_end = now + level.latency();
      stage(level.channel(c), t_chan, 0);
      for (uint32_t l : route) stage(noc.link(l), t_link, hop);
      stage(server_, t_dma, hop);
      stage(sram.server(), t_sram, 0);
    } else {
      stage(sram.server(), t_sram, 0);
      stage(server_, t_dma, 0);
      for (uint32_t l : route) stage(noc.link(l), t_link, hop);
      stage(level.channel(c), t_chan, hop);
      up_end += level.latency();
    }
    done = std::max(done, up_end);
    // Routers traversed: one per link plus the injecting router.
    byte_hops += piece * static_cast<double>(route.size() + 1);
  }
  counts.add(load ? level_read_action : level_write_action, bytes);
  counts.add(load ? kSramWrite : kSramRead, bytes);
  counts.add(kNocByteHop, byte_hops);
  return done;
}

}  // namespace bc
