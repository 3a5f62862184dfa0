// A global memory level behind the NoC: DRAM channels, or the slices of an
// on-chip shared SRAM. Addresses interleave finely across channels, so a
// transfer splits evenly over all of them; each channel is a BusyServer with
// bandwidth/channels and adds the level's access latency.
#pragma once

#include <cstdint>
#include <vector>

#include "models/busy_server.h"

namespace bc {

class MemoryChannels {
 public:
  MemoryChannels() = default;
  MemoryChannels(int64_t channels, double total_bandwidth, double latency_s,
                 std::vector<int64_t> attach_nodes);

  bool present() const { return !servers_.empty(); }
  int64_t channels() const { return static_cast<int64_t>(servers_.size()); }
  BusyServer& channel(int64_t c) { return servers_[c]; }
  int64_t node(int64_t c) const { return nodes_[c]; }
  double channel_bandwidth() const { return per_channel_bw_; }
  Tick latency() const { return latency_; }
  double busy_max_s() const;

  // Nodes for `channels` controllers spread evenly over `candidates`.
  static std::vector<int64_t> spread(int64_t channels, const std::vector<int64_t>& candidates);

 private:
  std::vector<BusyServer> servers_;
  std::vector<int64_t> nodes_;
  double per_channel_bw_ = 0;
  Tick latency_ = 0;
};

}  // namespace bc
