// The chip-to-chip network of a multi-chip system: every directed link is a FIFO
// BusyServer (like the on-chip mesh links), built from the topology of
// SystemConfig: ring, fully connected, a non-blocking switch (each chip one
// port), or Dragonfly (chips fully connected inside a group; each group joined
// to its nearest groups, in ring order, by global links). Routes are shortest
// paths (fewest links, lowest chip index first), found once per pair.
//
// A transfer flows cut-through along its route: each link starts when it is
// free and the head of the message has arrived, streams for bytes / bandwidth,
// cannot finish before the link before it has delivered the last byte, and
// adds its latency. Collectives are built from such transfers, issued for every
// rank of every group at once, so flows that share a link queue on it: link
// contention comes from the servers, not from a formula.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/busy_server.h"
#include "sim/config/hw_config.h"

namespace bc {

class ChipLinks {
 public:
  explicit ChipLinks(const SystemConfig& s);

  // Moves `bytes` from chip `src` to chip `dst` starting at `start`; returns
  // when the last byte arrives. Adds bytes x links to local_bytes / global_bytes.
  Tick transfer(Tick start, int64_t src, int64_t dst, double bytes);

  // A collective over `groups` (each a list of chip ids, all groups at once):
  // allreduce or allgather of a tensor of `bytes` per rank, or send (groups
  // are {src, dst} pairs of `bytes` each). Returns when every rank is done.
  Tick collective(Tick start, const std::string& fn,
                  const std::vector<std::vector<int64_t>>& groups, double bytes);
  // The algorithm `collective` uses for a group of n ranks: ring or direct.
  std::string algorithm(int64_t n, double bytes) const;

  int64_t chips() const { return chips_; }
  double local_bytes = 0, global_bytes = 0;  // bytes x links traversed, for energy
  double busiest_link_s() const;
  const std::vector<uint32_t>& route(int64_t src, int64_t dst);

 private:
  // A link is a Calendar: a collective reserves its transfers ahead in time and
  // hops with latency leave gaps that later-reserved transfers may use.
  struct Link {
    Calendar cal;
    double bandwidth = 0;
    Tick latency = 0;
    bool global = false;
  };
  void connect(int64_t a, int64_t b, double bw, double latency_s, bool global);
  double estimate(int64_t n, double bytes, bool ring) const;

  const SystemConfig& s_;
  int64_t chips_, nodes_;  // nodes: chips, plus the switch
  std::vector<Link> links_;
  std::vector<std::vector<std::pair<int64_t, uint32_t>>> adj_;  // node -> (neighbour, link)
  std::unordered_map<uint64_t, std::vector<uint32_t>> routes_;
  Tick floor_ = 0;  // reservations ending before this are history
};

}  // namespace bc
