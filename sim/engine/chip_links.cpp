#include "sim/engine/chip_links.h"

#include <algorithm>
#include <deque>

namespace bc {

ChipLinks::ChipLinks(const SystemConfig& s) : s_(s), chips_(s.chips) {
  const int64_t N = chips_;
  const double bw = s.link_bandwidth * static_cast<double>(s.links_per_pair) * s.link_efficiency;
  nodes_ = s.topology == "switch" ? N + 1 : N;
  adj_.resize(static_cast<size_t>(nodes_));
  if (s.topology == "ring") {
    for (int64_t i = 0; i + 1 < N || (N > 2 && i + 1 == N); ++i)
      connect(i, (i + 1) % N, bw, s.link_latency_s, false);
  } else if (s.topology == "switch") {
    // A chip's port into the switch and back out: half the chip-to-chip latency each.
    for (int64_t i = 0; i < N; ++i) connect(i, N, bw, s.link_latency_s / 2, false);
  } else if (s.topology == "dragonfly") {
    const int64_t g = s.group_size, G = N / g, h = s.global_links;
    for (int64_t grp = 0; grp < G; ++grp)
      for (int64_t a = 0; a < g; ++a)
        for (int64_t b = a + 1; b < g; ++b)
          connect(grp * g + a, grp * g + b, bw, s.link_latency_s, false);
    // Global links: group a to a +- 1, a +- 2, ... while its g x h ports last;
    // port p of a group sits on chip p mod g, so no chip has more than h.
    std::vector<int64_t> used(static_cast<size_t>(G), 0);
    for (int64_t d = 1; 2 * d <= G; ++d) {
      const bool half = 2 * d == G;  // the opposite group: one link per pair
      if (used[0] + (half ? 1 : 2) > g * h) break;
      for (int64_t a = 0; a < G; ++a) {
        const int64_t b = (a + d) % G;
        if (half && a >= G / 2) continue;
        connect(a * g + used[a] % g, b * g + used[b] % g, s.global_bandwidth * s.link_efficiency,
                s.global_latency_s, true);
        used[a]++, used[b]++;
      }
    }
  } else {  // fully_connected
    for (int64_t a = 0; a < N; ++a)
      for (int64_t b = a + 1; b < N; ++b) connect(a, b, bw, s.link_latency_s, false);
  }
  for (auto& nb : adj_) std::sort(nb.begin(), nb.end());
}

void ChipLinks::connect(int64_t a, int64_t b, double bw, double latency_s, bool global) {
  for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
    Link l;
    l.bandwidth = bw;
    l.latency = seconds_to_ticks(latency_s);
    l.global = global;
    adj_[static_cast<size_t>(x)].push_back({y, static_cast<uint32_t>(links_.size())});
    links_.push_back(l);
  }
}

const std::vector<uint32_t>& ChipLinks::route(int64_t src, int64_t dst) {
  const uint64_t key =
      static_cast<uint64_t>(src) * static_cast<uint64_t>(nodes_) + static_cast<uint64_t>(dst);
  auto hit = routes_.find(key);
  if (hit != routes_.end()) return hit->second;
  // Breadth-first search: fewest links, ties to the lowest neighbour index.
  std::vector<int64_t> prev(static_cast<size_t>(nodes_), -1);
  std::vector<uint32_t> via(static_cast<size_t>(nodes_), 0);
  std::deque<int64_t> q{src};
  prev[src] = src;
  while (!q.empty() && prev[dst] < 0) {
    int64_t u = q.front();
    q.pop_front();
    for (auto [v, l] : adj_[u])
      if (prev[v] < 0) prev[v] = u, via[v] = l, q.push_back(v);
  }
  std::vector<uint32_t> path;
  for (int64_t v = dst; v != src && prev[v] >= 0; v = prev[v]) path.push_back(via[v]);
  std::reverse(path.begin(), path.end());
  return routes_[key] = std::move(path);
}

Tick ChipLinks::transfer(Tick start, int64_t src, int64_t dst, double bytes) {
  if (src == dst || bytes <= 0) return start;
  Tick head = start, tail = start;
  for (uint32_t id : route(src, dst)) {
    Link& l = links_[id];
    // Starts once free and the message head has arrived; cannot finish before
    // the previous link has delivered the last byte.
    const Tick dur = transfer_ticks(bytes, l.bandwidth);
    Tick s = l.cal.reserve(head, dur, floor_);
    Tick end = std::max(s + dur, tail);
    head = s + l.latency;
    tail = end + l.latency;
    (l.global ? global_bytes : local_bytes) += bytes;
  }
  return tail;
}

double ChipLinks::estimate(int64_t n, double bytes, bool ring) const {
  const double chunk = bytes / static_cast<double>(n), lat = s_.link_latency_s;
  const double bw = s_.link_bandwidth * static_cast<double>(s_.links_per_pair) * s_.link_efficiency;
  const double sw = s_.collective_latency_s;
  if (ring) return sw + 2.0 * static_cast<double>(n - 1) * (lat + chunk / bw);
  // Direct: a rank sends n - 1 chunks per phase over the links it has to its peers.
  double peers_links = s_.topology == "switch" ? 1.0
                       : s_.topology == "dragonfly"
                           ? static_cast<double>(std::min(n - 1, s_.group_size - 1))
                           : static_cast<double>(n - 1);
  double hops = s_.topology == "dragonfly" && n > s_.group_size ? 3.0 : 1.0;
  return sw + 2.0 * (hops * lat + static_cast<double>(n - 1) * chunk / (bw * peers_links));
}

std::string ChipLinks::algorithm(int64_t n, double bytes) const {
  if (s_.collective != "auto") return s_.collective;
  if (s_.topology == "ring") return "ring";
  return estimate(n, bytes, true) < estimate(n, bytes, false) ? "ring" : "direct";
}

Tick ChipLinks::collective(Tick start, const std::string& fn,
                           const std::vector<std::vector<int64_t>>& groups, double bytes) {
  floor_ = start;  // the simulation has reached `start`: earlier reservations are past
  const size_t n = groups.empty() ? 1 : groups[0].size();
  if (groups.empty() || (fn != "send" && n <= 1)) return start;
  // The collective library's launch and handshake come before any transfer.
  start += seconds_to_ticks(s_.collective_latency_s);
  Tick done = start;
  if (fn == "send") {
    for (const auto& p : groups) done = std::max(done, transfer(start, p[0], p[1], bytes));
    return done;
  }
  const double chunk = bytes / static_cast<double>(n);
  const bool reduce = fn == "allreduce";
  // ready[g][i]: when rank i of group g has what it sends next.
  std::vector<std::vector<Tick>> ready(groups.size(), std::vector<Tick>(n, start));
  if (algorithm(static_cast<int64_t>(n), bytes) == "ring") {
    // Reduce-scatter then all-gather (all-gather alone: the second half): each
    // step, rank i passes one chunk to rank i + 1, after receiving the last one.
    const size_t steps = (reduce ? 2 : 1) * (n - 1);
    for (size_t step = 0; step < steps; ++step)
      for (size_t gi = 0; gi < groups.size(); ++gi) {
        std::vector<Tick> next(n);
        for (size_t i = 0; i < n; ++i)
          next[(i + 1) % n] = transfer(ready[gi][i], groups[gi][i], groups[gi][(i + 1) % n], chunk);
        ready[gi] = std::move(next);
      }
  } else {
    // Direct: every rank sends its chunk for rank j to rank j (reduce-scatter),
    // then every rank sends its reduced chunk to all others (all-gather).
    for (int phase = 0; phase < (reduce ? 2 : 1); ++phase)
      for (size_t gi = 0; gi < groups.size(); ++gi) {
        std::vector<Tick> next = ready[gi];
        for (size_t k = 1; k < n; ++k)
          for (size_t i = 0; i < n; ++i) {
            size_t j = (i + k) % n;
            next[j] =
                std::max(next[j], transfer(ready[gi][i], groups[gi][i], groups[gi][j], chunk));
          }
        ready[gi] = std::move(next);
      }
  }
  for (const auto& r : ready) done = std::max(done, *std::max_element(r.begin(), r.end()));
  return done;
}

double ChipLinks::busiest_link_s() const {
  Tick m = 0;
  for (const auto& l : links_) m = std::max(m, l.cal.busy_total);
  return ticks_to_seconds(m);
}

}  // namespace bc
