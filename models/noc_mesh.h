// 2D mesh network on chip with dimension-ordered (XY) routing: a packet moves
// along X to the destination column, then along Y. Each directed link is a
// BusyServer with the configured bandwidth and each router adds hop_latency.
// Routes are computed from coordinates when needed (no nodes^2 route table, so
// memory stays linear in the number of cores).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "models/busy_server.h"

namespace bc {

class NocMesh {
 public:
  NocMesh(int64_t x, int64_t y, double link_bandwidth, Tick hop_ticks);

  int64_t nodes() const { return x_ * y_; }
  int64_t node(int64_t cx, int64_t cy) const { return cy * x_ + cx; }
  // Calls f(link id) for each directed link from `from` to `to`, in XY order.
  template <class F>
  void for_each_link(int64_t from, int64_t to, F&& f) const {
    int64_t cx = from % x_, cy = from / x_;
    const int64_t tx = to % x_, ty = to / x_;
    for (; cx != tx; cx += tx > cx ? 1 : -1)
      f(static_cast<uint32_t>(node(cx, cy) * 4 + (tx > cx ? 0 : 1)));
    for (; cy != ty; cy += ty > cy ? 1 : -1)
      f(static_cast<uint32_t>(node(cx, cy) * 4 + (ty > cy ? 2 : 3)));
  }
  // Directed links from `from` to `to`, XY order.
  std::vector<uint32_t> route(int64_t from, int64_t to) const;
  int64_t hops(int64_t from, int64_t to) const {
    return std::llabs(from % x_ - to % x_) + std::llabs(from / x_ - to / x_);
  }
  BusyServer& link(uint32_t id) { return links_[id]; }
  int64_t links() const { return static_cast<int64_t>(links_.size()); }
  double link_bandwidth() const { return bw_; }
  Tick hop_ticks() const { return hop_; }
  // Nodes on the mesh edge in clockwise order (where memory controllers sit).
  std::vector<int64_t> perimeter() const;
  double link_busy_max_s() const;

 private:
  int64_t x_, y_;
  double bw_;
  Tick hop_;
  std::vector<BusyServer> links_;  // node * 4 + direction (0 +x, 1 -x, 2 +y, 3 -y)
};

}  // namespace bc
