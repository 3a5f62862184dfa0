// A global memory level behind the NoC: DRAM channels, or the slices of an
// on-chip shared SRAM. Addresses interleave finely across channels, so every
// transfer splits evenly over all of them: the channels always carry equal
// shares and are busy at the same times, which makes them one server of the
// level's total bandwidth (exactly, not as an approximation). Each channel
// still has its place on the mesh, so a transfer's piece from channel c
// crosses the links of c's route; fanout() sums those pieces per link.
#pragma once

#include <cstdint>
#include <vector>

#include "models/busy_server.h"
#include "models/noc_mesh.h"

namespace bc {

// Ticks a link takes per byte of a transfer when it carries `share` of the bytes.
inline double link_ticks_per_byte(double share, const NocMesh& noc) {
  return share * 1e12 / noc.link_bandwidth();
}

// The links a transfer between a level and one core crosses, with the share of
// the transfer's bytes each carries (one piece per channel, 1/channels of the
// bytes each), and the most routers a piece passes (the pipeline's hop delay).
struct Fanout {
  std::vector<std::pair<uint32_t, double>> links;  // link id, share of the bytes; by id
  // The engine's hot loop (DmaEngine::transfer): the same links grouped by
  // ticks per byte (share x 1e12 / link bandwidth), so that a transfer
  // computes each group's duration once: the link groups on the mesh
  // (NocMesh::add_link_group, each with its ticks per byte), added together. A few hundred links
  // fall into a few dozen groups (their shares are multiples of 1/channels). Only cached fanouts
  // have groups.
  uint32_t first_group = 0, groups = 0;  // NocMesh link groups [first, first + groups)
  int64_t routers = 0;                   // longest route + the injecting router
  double byte_hop_factor = 1;            // routers per byte, over all pieces
};

class MemoryChannels {
 public:
  MemoryChannels() = default;
  // One channel per attach node (a node may appear more than once).
  // write_cost: channel time of a written byte in read bytes (writes slower: > 1);
  // mixed_write_cost: the same for a write right after a read (0: write_cost).
  MemoryChannels(double total_bandwidth, double latency_s, std::vector<int64_t> attach_nodes,
                 double write_cost = 1, double mixed_write_cost = 0);

  bool present() const { return !nodes_.empty(); }
  int64_t channels() const { return static_cast<int64_t>(nodes_.size()); }
  int64_t node(int64_t c) const { return nodes_[c]; }
  BusyServer& server() { return server_; }
  double bandwidth() const { return bw_; }  // reads
  // Channel time of a written byte in read bytes: write_cost, or
  // mixed_write_cost right after a read (the bus turns around: the
  // read-to-write and write-to-read gaps of a mixed stream, charged to the
  // write). The engine, the cost model and the analytical mode all ask here.
  double write_cost(bool after_read = false) const {
    return after_read ? mixed_write_cost_ : write_cost_;
  }
  // Channel time of a transfer's bytes, in read bytes, as the channels serve
  // them in turn (a write after the level's previous transfer was a read pays
  // the turnaround); records the direction for the next transfer.
  double channel_bytes(double bytes, bool load) {
    const double cost = load ? 1 : write_cost(last_load_);
    last_load_ = load;
    return bytes * cost;
  }
  Tick latency() const { return latency_; }
  double busy_max_s() const { return ticks_to_seconds(server_.busy_total); }
  // Links between this level and `core` (to_core: a load), cached per core when
  // the cache stays small (meshes up to a few thousand routes), else rebuilt.
  // A cached fanout's link groups are added to `noc`, and the cache is kept for
  // that mesh object only (another mesh, or a copy, starts a new cache).
  const Fanout& fanout(NocMesh& noc, int64_t core, bool to_core);
  // Whether fanout() keeps its results (else the engine walks the routes itself).
  bool caches_fanouts(const NocMesh& noc) const;

  // Nodes for `channels` controllers spread evenly over `candidates`.
  static std::vector<int64_t> spread(int64_t channels, const std::vector<int64_t>& candidates);

 private:
  // groups: add the link groups to `noc` (a cached fanout).
  Fanout build(NocMesh& noc, int64_t core, bool to_core, bool groups) const;
  BusyServer server_;
  std::vector<int64_t> nodes_;
  double bw_ = 0;
  double write_cost_ = 1, mixed_write_cost_ = 1;
  bool last_load_ = false;  // the previous transfer's direction (channel_bytes)
  Tick latency_ = 0;
  std::vector<Fanout> cache_;  // [core * 2 + to_core]
  std::vector<bool> cached_;
  uint64_t cached_for_ = 0;  // NocMesh::serial() of the mesh the cache is for
  Fanout scratch_;
  mutable std::vector<uint32_t> pieces_scratch_;  // build(): per link, pieces crossing it
};

}  // namespace bc
