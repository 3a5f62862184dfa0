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
                               std::vector<int64_t> attach_nodes, double write_cost,
                               double mixed_write_cost)
    : nodes_(std::move(attach_nodes)),
      bw_(total_bandwidth),
      write_cost_(write_cost),
      mixed_write_cost_(mixed_write_cost > 0 ? mixed_write_cost : write_cost),
      latency_(seconds_to_ticks(latency_s)) {}

Fanout MemoryChannels::build(NocMesh& noc, int64_t core, bool to_core, bool groups) const {
  Fanout f;
  const double piece = 1.0 / static_cast<double>(nodes_.size());
  // Pieces crossing each link, counted in a scratch array over all links (left
  // zeroed again at the end), the links crossed listed once each.
  std::vector<uint32_t>& pieces = pieces_scratch_;
  if (pieces.size() != static_cast<size_t>(noc.links())) pieces.assign(noc.links(), 0);
  std::vector<uint32_t> crossed;
  double hops = 0;
  for (int64_t n : nodes_) {
    // A crossbar: the level's channels are its own ports, so the pieces
    // contend only at the core's port (all of them cross it).
    if (noc.crossbar()) {
      const uint32_t id = noc.port(core, to_core);
      if (pieces[id]++ == 0) crossed.push_back(id);
    } else {
      noc.for_each_link(to_core ? n : core, to_core ? core : n, [&](uint32_t id) {
        if (pieces[id]++ == 0) crossed.push_back(id);
      });
    }
    const int64_t h = noc.hops(n, core);
    f.routers = std::max(f.routers, h + 1);
    hops += static_cast<double>(h) * piece;
  }
  std::sort(crossed.begin(), crossed.end());
  // A link's share is its pieces added one by one (k pieces: share[k]).
  std::vector<double> share(nodes_.size() + 1, 0.0);
  for (size_t k = 1; k < share.size(); ++k) share[k] = k == 1 ? piece : share[k - 1] + piece;
  // Groups by ticks per byte: by piece count first (ids ascending in each), and
  // counts whose ticks per byte come out equal share one group.
  std::vector<std::vector<uint32_t>> by_count(share.size());
  for (uint32_t id : crossed) {
    f.links.emplace_back(id, share[pieces[id]]);
    by_count[pieces[id]].push_back(id);
    pieces[id] = 0;
  }
  // Counts whose ticks per byte come out equal are merged first, then the
  // groups are added to the mesh together (contiguous there).
  std::vector<std::pair<double, std::vector<uint32_t>>> merged;
  for (size_t k = 1; groups && k < by_count.size(); ++k) {
    if (by_count[k].empty()) continue;
    const double tpb = link_ticks_per_byte(share[k], noc);
    if (!merged.empty() && merged.back().first == tpb)
      merged.back().second.insert(merged.back().second.end(), by_count[k].begin(),
                                  by_count[k].end());
    else
      merged.emplace_back(tpb, std::move(by_count[k]));
  }
  for (const auto& [tpb, ids] : merged) {
    const uint32_t g = noc.add_link_group(ids, tpb);
    if (f.groups++ == 0) f.first_group = g;
  }
  f.byte_hop_factor = hops + 1;  // routers per byte: the links crossed plus the injecting one
  return f;
}

bool MemoryChannels::caches_fanouts(const NocMesh& noc) const {
  return noc.crossbar() || noc.nodes() * channels() <= kMaxCachedRoutes;
}

const Fanout& MemoryChannels::fanout(NocMesh& noc, int64_t core, bool to_core) {
  if (!caches_fanouts(noc)) return scratch_ = build(noc, core, to_core, false);
  const size_t key = static_cast<size_t>(core * 2 + (to_core ? 1 : 0));
  if (cache_.empty() || cached_for_ != noc.serial()) {
    cache_.assign(static_cast<size_t>(noc.nodes() * 2), Fanout());
    cached_.assign(cache_.size(), false);
    cached_for_ = noc.serial();
  }
  if (!cached_[key]) {
    cache_[key] = build(noc, core, to_core, true);
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
