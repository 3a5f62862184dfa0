// The mapper's estimate of an op's time on one chip, from the same resources
// the engine simulates (sim/mapping/fabric.h): the memory levels' channels and where
// they attach, the mesh links each core's transfers cross, each core's DMA
// engine and scratchpad banks, the loads the engine keeps in flight, and each
// unit's own cycle counts. It leaves out only queueing between requests
// (contention), so the report's estimate-vs-simulated ratio shows where
// contention matters. The mapper picks tiles by it; it is also the analytical
// (closed-form) mode.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "models/compute_unit.h"
#include "sim/mapping/fabric.h"

namespace bc {

// The share of a core's W tile bytes that a peer of its cluster reads for it
// (core.dma.multicast): clusters of `multicast` cores of one grid column, which
// read the same W panel at the same K steps (CUTLASS's 2x1 clusters on Hopper
// share the B tile of two CTAs on neighbouring M blocks), each core receiving
// (multicast - 1) / multicast of its bytes from a peer's read. Only whole
// clusters form: of a column of 3 cores in pairs, one pair.
inline double multicast_share(int64_t multicast, double readers_w) {
  const double c = static_cast<double>(multicast);
  if (c <= 1 || readers_w < c) return 0;
  return (c - 1) / c * (std::floor(readers_w / c) * c / readers_w);
}

// Tiles of one kind: `count` of them, each with these compute cycles, operand
// bytes between the units and the banks, and bytes from / to each level.
struct TileClass {
  double count = 0;
  double compute_cycles = 0;  // the tile's steps end to end (its path through the units)
  // Cycles per tile with the units overlapping tiles (0: as compute_cycles):
  // with core.concurrent_units, tiles in their buffers overlap on different
  // units (sim/mapping/unit_pipeline.h), so this, not the path, bounds the rate.
  double pipelined_cycles = 0;
  double sram_bytes = 0;
  std::array<double, kLevels> load{}, store{};
  std::array<double, kLevels> multicast{};  // of load, read by a cluster peer (Tile::multicast)
  // Energy of the tile's unit actions and operand accesses (CostModel::unit_energy);
  // the cost model adds its loads' and stores' for the power bound.
  double unit_energy_j = 0;
  // Its loads wait for the store of an earlier tile (Tile::after_store): the
  // store's path (latency and transfer) and this tile's load path are exposed
  // beyond the unit cycles of the tiles between.
  bool after_store = false;
  // Its loads wait for the tile before it to retire (Tile::after_retire): its
  // load path is exposed.
  bool after_retire = false;
};

// One core's share of an op as the estimate sees it (the busiest core): its
// tiles in program order, grouped by kind.
struct CoreWork {
  std::vector<TileClass> classes;
  double store_tail = 0;  // bytes of the last tile's store (the drain)
  // Bound each tile by the energy the board's power limit lets the cores
  // spend per unit time (power.tdp): the tiling searches rank candidates by it.
  bool power_bound = false;
  int64_t stages = 0;  // tile loads in flight per core (0: core.dma.stages)
};

struct Estimate {
  double cycles = 0;
  std::string bound;  // the binding resource: compute, sram, dram, shared_sram, ddr, noc, dma,
                      // latency, power
};

class CostModel {
 public:
  explicit CostModel(const HwConfig& hw);
  // Not copied: last_prefix_ points into this object's prefix_ (a move keeps
  // the map's nodes, and so the pointers).
  CostModel(const CostModel&) = delete;
  CostModel& operator=(const CostModel&) = delete;
  CostModel(CostModel&&) = default;
  // Every one of `cores` cores (from `base` on) does `w` at the same time.
  Estimate estimate(const CoreWork& w, int64_t base, int64_t cores);
  // Joules of a unit's tile: its actions and its operand reads and writes of
  // SRAM, at the config's clock (the report's energies, sim/mapping/energy.h).
  double unit_energy(int unit, const TileCost& cost) const;
  // A floor under estimate() for a core's work: no tiling is faster than its
  // units' cycles, or than its bytes through the core's DMA engine (two of the
  // per-tile bounds estimate() takes the largest of, summed over the tiles).
  // A tiling search skips a candidate whose floor is above its best so far
  // without building its tile classes.
  double floor_cycles(double compute_cycles, double dma_bytes) const {
    return std::max(compute_cycles, dma_bytes / dma_bytes_per_cycle());
  }
  // Whether power.tdp leaves a budget the power bound applies to.
  bool power_limited() const { return power_w_ > 0; }

 private:
  double dma_bytes_per_cycle() const { return hw_.dma_bandwidth / hw_.freq_hz; }
  struct Prefix {  // over the first n cores of a group: the busiest link's share, most routers
    std::vector<double> link_share;
    std::vector<int64_t> routers;
  };
  const Prefix& prefix(Level level, bool load, int64_t base);
  const HwConfig& hw_;
  ChipResources res_;
  std::vector<double> action_j_;  // per engine counter (sim/mapping/energy.h)
  std::vector<int> unit_base_;    // each unit's first counter
  double power_w_ = 0;            // what the limit leaves for dynamic energy (0: no limit)
  std::map<std::tuple<int, bool, int64_t>, Prefix> prefix_;
  // The last prefix looked up per level and direction: a tiling search asks
  // for the same group's thousands of times (map nodes do not move).
  struct LastPrefix {
    int64_t base = -1;
    const Prefix* prefix = nullptr;
  };
  std::array<std::array<LastPrefix, 2>, kLevels> last_prefix_{};
  // Each tile class's period split by how it scales with the clock, for the
  // power bound (estimate() re-takes the periods at a lower clock).
  struct Clocked {
    double count, transfer, scaled, units, path, exposed;
  };
  std::vector<Clocked> clocked_;
};

}  // namespace bc
