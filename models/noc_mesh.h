// The network on chip, in one of two topologies (noc.topology):
// - mesh: a 2D mesh with dimension-ordered (XY) routing: a packet moves along
//   X to the destination column, then along Y. Each directed link is a
//   BusyServer with the configured bandwidth and each router adds hop_latency.
//   Routes are computed from coordinates when needed (no nodes^2 route table,
//   so memory stays linear in the number of cores).
// - crossbar: every core has a port into one switch and a port out of it, each
//   a BusyServer of link_bandwidth (a GPU's SM-to-L2 crossbar). A packet
//   between two cores contends only at the source's out port and the
//   destination's in port; a memory level's channels are its own ports (their
//   time is the level's, models/memory_channels.h), so a transfer to or from a
//   level contends only at the core's port. The nodes keep their places on
//   the grid: latency and byte-hops still grow with the distance (hops()).
// A node's four link slots are its mesh links (+x, -x, +y, -y); on a crossbar
// slot 0 is its out port and slot 1 its in port.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <utility>
#include <vector>

#include "models/busy_server.h"

namespace bc {

class NocMesh {
 public:
  NocMesh(int64_t x, int64_t y, double link_bandwidth, Tick hop_ticks, bool crossbar = false);

  int64_t nodes() const { return x_ * y_; }
  int64_t node(int64_t cx, int64_t cy) const { return cy * x_ + cx; }
  bool crossbar() const { return crossbar_; }
  // A crossbar's port of `node`: into the switch (out of the node) or out of it.
  uint32_t port(int64_t node, bool in) const {
    return static_cast<uint32_t>(node * 4 + (in ? 1 : 0));
  }
  // Calls f(link id) for each directed link from `from` to `to`, in XY order
  // (a crossbar: the source's out port, then the destination's in port).
  template <class F>
  void for_each_link(int64_t from, int64_t to, F&& f) const {
    if (crossbar_) {
      if (from != to) f(port(from, false)), f(port(to, true));
      return;
    }
    int64_t cx = from % x_, cy = from / x_;
    const int64_t tx = to % x_, ty = to / x_;
    for (; cx != tx; cx += tx > cx ? 1 : -1)
      f(static_cast<uint32_t>(node(cx, cy) * 4 + (tx > cx ? 0 : 1)));
    for (; cy != ty; cy += ty > cy ? 1 : -1)
      f(static_cast<uint32_t>(node(cx, cy) * 4 + (ty > cy ? 2 : 3)));
  }
  // Directed links from `from` to `to`, XY order.
  std::vector<uint32_t> route(int64_t from, int64_t to) const;
  // How many links for_each_link(from, to) calls f for.
  int64_t route_length(int64_t from, int64_t to) const {
    return crossbar_ ? (from == to ? 0 : 2) : hops(from, to);
  }
  // Grid steps between two nodes: the links an XY route crosses on a mesh,
  // the wire a packet travels through the switch on a crossbar (a GPU's L2
  // hit latency grows with the SM's distance from the slice: 222 to 339
  // cycles across an L40's SMs, arXiv 2606.22588). A packet's latency is
  // hop_latency per step plus the injecting router's, on either topology.
  int64_t hops(int64_t from, int64_t to) const {
    return std::llabs(from % x_ - to % x_) + std::llabs(from / x_ - to / x_);
  }
  // Each directed link is a FIFO server (the rules of BusyServer in
  // busy_server.h), kept as flat arrays rather than one BusyServer per link: a
  // transfer from a memory level books a few hundred links.
  // Serves `duration` of work requested at `now` on link `id`; returns when it is done.
  Tick serve_link(uint32_t id, Tick now, Tick duration) {
    const Tick start = std::max(now, until_[id]);
    until_[id] = std::min(start + duration, kMaxTicks);
    total_[id] = std::min(total_[id] + duration, kMaxTicks);
    if (observer_) observer_->occupied(tracks_[id], start, duration);
    return until_[id];
  }
  // serve_link(ids[i], now, duration) for each of n links, for a mesh without
  // an observer (observed() false); returns the latest completion (0 if n is 0).
  Tick book_links(const uint32_t* ids, size_t n, Tick now, Tick duration) {
    const Tick end = book_until(ids, n, now, duration);
    for (size_t i = 0; i < n; ++i) total_[ids[i]] = std::min(total_[ids[i]] + duration, kMaxTicks);
    return end;
  }
  // A set of links that transfers book together, each for the same duration
  // (a fanout's links that carry the same share, MemoryChannels::fanout).
  // Their busy totals are kept as one sum for the group, added to each link's
  // when a total is read: the hot loop then touches only the busy-until times.
  // The ids of all groups sit in one array, each group's after the one added
  // before it, and the groups in one array too: a fanout's groups (added
  // together) and their ids are read as two streams. `ticks_per_byte`: the
  // booking time of a byte on each of the group's links.
  uint32_t add_link_group(std::span<const uint32_t> ids, double ticks_per_byte) {
    groups_.push_back({static_cast<uint32_t>(group_ids_.size()), static_cast<uint32_t>(ids.size()),
                       ticks_per_byte, 0});
    group_ids_.insert(group_ids_.end(), ids.begin(), ids.end());
    return static_cast<uint32_t>(groups_.size() - 1);
  }
  std::span<const uint32_t> link_group(uint32_t g) const {
    return {group_ids_.data() + groups_[g].begin, groups_[g].size};
  }
  // book_links() over group g's links (observed() false).
  Tick book_link_group(uint32_t g, Tick now, Tick duration) {
    LinkGroup& k = groups_[g];
    k.pending = std::min(k.pending + duration, kMaxTicks);  // both at most 2^62
    return book_until(group_ids_.data() + k.begin, k.size, now, duration);
  }
  // Books `bytes` on groups [first, first + n) (observed() false), each link
  // for its group's ticks per byte; returns the latest end (0 if n is 0).
  Tick book_link_groups(uint32_t first, uint32_t n, Tick now, double bytes) {
    Tick end = 0;
    for (uint32_t g = first; g < first + n; ++g)
      end = std::max(end, book_link_group(g, now, ceil_ticks(bytes * groups_[g].ticks_per_byte)));
    return end;
  }
  // Identifies this mesh object (a copy is another), so that link groups are
  // only used with the mesh that holds them.
  uint64_t serial() const { return serial_.value; }
  Tick link_busy_until(uint32_t id) const { return until_[id]; }
  Tick link_busy_total(uint32_t id) const {
    settle();
    return total_[id];
  }
  // Tells `observer` of every interval a link is occupied, link l as track tracks[l].
  void observe_links(BusyObserver* observer, std::vector<int32_t> tracks) {
    observer_ = observer;
    tracks_ = std::move(tracks);
  }
  bool observed() const { return observer_ != nullptr; }
  int64_t links() const { return static_cast<int64_t>(until_.size()); }
  double link_bandwidth() const { return bw_; }
  Tick hop_ticks() const { return hop_; }
  // Nodes on the mesh edge in clockwise order (where memory controllers sit).
  std::vector<int64_t> perimeter() const;
  double link_busy_max_s() const;

 private:
  int64_t x_, y_;
  bool crossbar_ = false;
  double bw_;
  Tick hop_;
  // The busy-until times of n links after a booking of `duration` at `now`;
  // returns the latest. The sums are not clamped inside the loop: both terms
  // are at most kMaxTicks (2^62), so they fit in 64 bits; only when one passed
  // the limit (never in a run that is not refused) are they clamped, to what
  // serve_link gives.
  Tick book_until(const uint32_t* ids, size_t n, Tick now, Tick duration) {
    Tick end = 0;
    Tick* until = until_.data();
#pragma GCC unroll 4
    for (size_t i = 0; i < n; ++i) {
      const uint32_t l = ids[i];
      const Tick e = std::max(now, until[l]) + duration;
      until[l] = e;
      end = std::max(end, e);
    }
    if (end > kMaxTicks) [[unlikely]] {
      for (size_t i = 0; i < n; ++i) until[ids[i]] = std::min(until[ids[i]], kMaxTicks);
      end = kMaxTicks;
    }
    return end;
  }
  // Adds each group's pending busy time to its links' totals. A total clamped
  // once at the end is the one clamped at every booking (the terms are not
  // negative and two of them fit in 64 bits).
  void settle() const {
    for (LinkGroup& g : groups_) {
      if (g.pending == 0) continue;
      for (uint32_t l : link_group(static_cast<uint32_t>(&g - groups_.data())))
        total_[l] = std::min(total_[l] + g.pending, kMaxTicks);
      g.pending = 0;
    }
  }
  struct LinkGroup {
    uint32_t begin = 0, size = 0;  // its ids: group_ids_[begin, begin + size)
    double ticks_per_byte = 0;
    Tick pending = 0;  // busy time booked on each of the links, not yet in total_
  };
  struct Serial {
    static uint64_t next() {
      static uint64_t n = 0;
      return ++n;
    }
    uint64_t value = next();
    Serial() = default;
    Serial(const Serial&) {}
    Serial& operator=(const Serial&) {
      value = next();
      return *this;
    }
  };
  // Per link, node * 4 + direction (0 +x, 1 -x, 2 +y, 3 -y): busy until, busy in
  // total (less its groups' pending time).
  std::vector<Tick> until_;
  mutable std::vector<Tick> total_;
  mutable std::vector<LinkGroup> groups_;
  std::vector<uint32_t> group_ids_;
  Serial serial_;
  BusyObserver* observer_ = nullptr;  // null: no timeline
  std::vector<int32_t> tracks_;       // the observer's track of each link
};

}  // namespace bc
