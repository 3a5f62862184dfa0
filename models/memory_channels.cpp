#include "models/memory_channels.h"

#include <algorithm>

namespace bc {

namespace {
// Cached fanouts take about (routes x links per route) entries; above this many
// channel-to-core routes the cache would outgrow the rest of the simulation
// (a 64x64 mesh with 40 channels: 164K routes), so fanouts are rebuilt instead.
constexpr int64_t kMaxCachedRoutes = 1 << 17;
}  // namespace

MemoryChannels::MemoryChannels(double total_bandwidth, double latency_s,
                               std::vector<int64_t> attach_nodes)
    : nodes_(std::move(attach_nodes)),
      bw_(total_bandwidth),
      latency_(seconds_to_ticks(latency_s)) {}

Fanout MemoryChannels::build(const NocMesh& noc, int64_t core, bool to_core) const {
  Fanout f;
  const double piece = 1.0 / static_cast<double>(nodes_.size());
  std::vector<std::pair<uint32_t, double>>& l = f.links;
  double hops = 0;
  for (int64_t n : nodes_) {
    noc.for_each_link(to_core ? n : core, to_core ? core : n,
                      [&](uint32_t id) { l.emplace_back(id, piece); });
    const int64_t h = noc.hops(n, core);
    f.routers = std::max(f.routers, h + 1);
    hops += static_cast<double>(h) * piece;
  }
  std::sort(l.begin(), l.end());
  size_t w = 0;  // merge the pieces crossing the same link
  for (size_t i = 0; i < l.size(); ++i) {
    if (w > 0 && l[w - 1].first == l[i].first)
      l[w - 1].second += l[i].second;
    else
      l[w++] = l[i];
  }
  l.resize(w);
  std::vector<std::pair<double, uint32_t>> by_tpb;  // ticks per byte, link id
  for (const auto& [id, share] : l) by_tpb.emplace_back(link_ticks_per_byte(share, noc), id);
  std::sort(by_tpb.begin(), by_tpb.end());
  for (const auto& [tpb, id] : by_tpb) {
    if (f.groups.empty() || f.groups.back().first != tpb) f.groups.emplace_back(tpb, 0);
    f.groups.back().second++;
    f.grouped_ids.push_back(id);
  }
  f.byte_hop_factor = hops + 1;  // routers per byte: the links crossed plus the injecting one
  return f;
}

bool MemoryChannels::caches_fanouts(const NocMesh& noc) const {
  return noc.nodes() * channels() <= kMaxCachedRoutes;
}

const Fanout& MemoryChannels::fanout(const NocMesh& noc, int64_t core, bool to_core) {
  if (!caches_fanouts(noc)) return scratch_ = build(noc, core, to_core);
  const size_t key = static_cast<size_t>(core * 2 + (to_core ? 1 : 0));
  if (cache_.empty()) {
    cache_.resize(static_cast<size_t>(noc.nodes() * 2));
    cached_.assign(cache_.size(), false);
  }
  if (!cached_[key]) {
    cache_[key] = build(noc, core, to_core);
    cached_[key] = true;
  }
  return cache_[key];
}

std::vector<int64_t> MemoryChannels::spread(int64_t channels,
                                            const std::vector<int64_t>& candidates) {
  std::vector<int64_t> n;
  int64_t k = static_cast<int64_t>(candidates.size());
  for (int64_t c = 0; c < channels; ++c) n.push_back(candidates[(c * k) / channels]);
  return n;
}

}  // namespace bc
