// 2D mesh network on chip with dimension-ordered (XY) routing: a packet moves
// along X to the destination column, then along Y. Each directed link is a
// BusyServer with the configured bandwidth; a transfer occupies every link on
// its route for bytes / link bandwidth (cut-through at tile granularity) and
// pays hop_latency per router.
#pragma once

#include <cstdint>
#include <vector>

#include "models/busy_server.h"

namespace bc {

class NocMesh {
 public:
  NocMesh(int64_t x, int64_t y, double link_bandwidth, Tick hop_ticks);

  int64_t nodes() const { return x_ * y_; }
  int64_t node(int64_t cx, int64_t cy) const { return cy * x_ + cx; }
  // Directed links from `from` to `to`, XY order (cached).
  const std::vector<uint32_t>& route(int64_t from, int64_t to);
  BusyServer& link(uint32_t id) { return links_[id]; }
  double link_bandwidth() const { return bw_; }
  Tick hop_ticks() const { return hop_; }
  // Nodes on the mesh edge in clockwise order (where memory controllers sit).
  std::vector<int64_t> perimeter() const;
  double link_busy_max_s() const;

 private:
  int64_t x_, y_;
  double bw_;
  Tick hop_;
  std::vector<BusyServer> links_;              // node * 4 + direction (0 +x, 1 -x, 2 +y, 3 -y)
  std::vector<std::vector<uint32_t>> routes_;  // [from * nodes + to], filled on first use
  std::vector<bool> routed_;
};

}  // namespace bc
