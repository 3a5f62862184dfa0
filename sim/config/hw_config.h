// The resolved hardware configuration: every value typed, unit-converted,
// range-checked and defaulted in one place (load_hw_config). Components get
// these fields, never YAML.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/config/component_library.h"
#include "sim/config/memory_tiers.h"
#include "sim/config/unit_desc.h"

namespace bc {

struct SramConfig {
  double size_bytes = 0;
  int64_t banks = 1;
  double bank_width_bytes = 64;  // bytes per port per cycle
  int64_t ports = 1;             // ports per bank (reads and writes share them)
  std::string cell;              // library component of one macro
};

// A set of channels behind the NoC: DRAM, or an on-chip shared SRAM level.
struct ChannelsConfig {
  bool present = false;
  std::string component;              // library component (energy per byte, area per interface)
  int64_t channels = 1;               // channels (controllers placed on the mesh)
  double bandwidth = 0;               // total bytes/s, nominal
  double efficiency = 1;              // share of the nominal bandwidth transfers reach
  double write_efficiency = 1;        // the same for writes (stores)
  double mixed_write_efficiency = 1;  // the same for a write right after a read (turnarounds)
  double effective_bandwidth() const { return bandwidth * efficiency; }
  // Channel time of a written byte in read bytes (> 1 where writes are slower),
  // in a store stream and right after a read.
  double write_cost() const { return efficiency / write_efficiency; }
  double mixed_write_cost() const { return efficiency / mixed_write_efficiency; }
  double latency_s = 0;    // added to every access
  double capacity = 0;     // bytes
  int64_t interfaces = 1;  // PHY/controller instances (DRAM) or macros (SRAM) for area
};

// A multi-chip system: N copies of the chip joined by chip-to-chip links, and
// how a model is split over them (tensor x pipeline ranks, the rest data
// parallel replicas). Absent: one chip.
struct SystemConfig {
  bool present = false;
  int64_t chips = 1;
  int64_t spares = 0;  // chips held in reserve (e.g. a GroqRack's redundant node)
  // ring | fully_connected | switch (every chip one port into a non-blocking
  // switch, like NVSwitch) | dragonfly (groups fully connected inside, global
  // links between groups)
  std::string topology = "fully_connected";
  int64_t ports = 0;          // links per chip available to the topology (0: unlimited)
  double link_bandwidth = 0;  // bytes/s per link per direction (switch: per chip port)
  double link_latency_s = 0;
  double link_efficiency = 1;  // share of link bandwidth a collective's transfers reach
  // Software cost of one collective (library kernel launch, rank handshake),
  // paid before its first transfer; 0 for statically scheduled systems.
  double collective_latency_s = 0;
  std::string link_component;  // library: energy per byte per link traversed
  int64_t links_per_pair = 1;  // parallel links between two directly connected chips
  int64_t group_size = 0;      // dragonfly: chips per group
  int64_t global_links = 0;    // dragonfly: global links per chip
  double global_bandwidth = 0, global_latency_s = 0;
  std::string global_component;
  int64_t tp = 1, pp = 1;
  int64_t microbatches = 0;         // pipeline microbatches; 0: auto (min(batch, pp))
  std::string collective = "auto";  // ring | direct | auto (the faster estimate)
  SourceLoc loc_tp, loc_pp, loc_microbatches, loc_topology;

  int64_t active() const { return chips - spares; }
  int64_t dp() const { return active() / (tp * pp); }
};

struct HwConfig {
  std::string name;
  std::string path;  // file it was loaded from
  std::shared_ptr<const ComponentLibrary> lib;
  double node_m = 7e-9;
  double freq_hz = 1e9;
  int64_t mesh_x = 1, mesh_y = 1;  // cores sit one per mesh node
  SramConfig sram;
  double dma_bandwidth = 0;  // bytes/s per core
  // Units of a core work on different tiles at once (steps of one tile stay in
  // order); false: one step at a time in program order.
  bool concurrent_units = false;
  // Register file per core that keeps a GEMM tile's accumulators across its K
  // steps (core.registers; 0: accumulators live in the SRAM scratchpad).
  double registers_bytes = 0;
  // Share of registers_bytes a GEMM tile's accumulators may take; the rest
  // holds the operand fragments, addresses and loop state of the threads that
  // feed the unit (core.accumulator_share; 1: all of it).
  double accumulator_share = 1;
  int64_t load_stages = 2;  // tile loads in flight per core (2: double buffering)
  // Cores of a cluster that share one load of a GEMM's weight tile
  // (core.dma.multicast; 1: none): the level reads the tile once for them.
  int64_t multicast = 1;
  // The compute units, described (checked at load); build_units
  // (models/compute_unit.h) makes the objects.
  std::vector<UnitDesc> units;
  // "mesh" (XY-routed 2D mesh) or "crossbar" (one switch, a port per core):
  // models/noc_mesh.h.
  std::string noc_topology = "mesh";
  double noc_link_bandwidth = 0;  // bytes/s per direction per link
  int64_t noc_hop_cycles = 1;
  std::string noc_router, noc_hop;  // library components (area, energy per byte-hop)
  int64_t noc_buffer_depth = 2;     // flits per router input port (area)
  // An iso-area variant: the config it is sized against and the quantity it
  // matches ("compute": the matrix units' area; "total": the chip's area).
  std::string iso_partner, iso_match;
  // The memory tiers (memory_tiers.h), indexed by Level: DRAM, the shared
  // SRAM level, and the optional capacity tier behind DRAM (SambaNova-style
  // HBM + DDR).
  std::array<ChannelsConfig, kTiers> tiers{};
  ChannelsConfig& tier(Level l) { return tiers[l]; }
  const ChannelsConfig& tier(Level l) const { return tiers[l]; }
  const ChannelsConfig& dram() const { return tiers[kDram]; }
  const ChannelsConfig& shared_sram() const { return tiers[kShared]; }
  const ChannelsConfig& ddr() const { return tiers[kDdr]; }
  // Where weights live: auto (local SRAM if they fit, else shared SRAM, else
  // DRAM, else DDR), dram, ddr, shared_sram or local_sram (resident in the cores'
  // scratchpads).
  std::string weight_placement = "auto";
  double resident_max_fraction = 0.75;  // share of a scratchpad resident weights may take
  SystemConfig system;
  // No caches and no arbitration: the mapper's static schedule is the timing,
  // and the report says where the simulated time departs from it.
  bool deterministic = false;
  // Gap between the end of a kernel and the start of the next (launch, ramp,
  // tail) on a kernel-by-kernel chip; 0 on statically scheduled and dataflow ones.
  double launch_gap_s = 0;
  // Power (power: section). Board power outside the chip (HBM background,
  // regulators, fans), drawn for the whole run; the board's power limit, which
  // DVFS keeps a run under by lowering the clock (sim/cli/power_cap.cpp).
  double board_power_w = 0, tdp_w = 0;
  double min_clock_share = 0.3;  // the lowest clock DVFS may set, as a share of nominal
  // Set by the power cap: the clock the run settled at over the nominal one.
  // Chip-internal dynamic energy per action scales with its square (the supply
  // voltage follows the clock in the DVFS range).
  double clock_scale = 1;
  double nominal_freq_hz = 0;  // the configured clock (freq_hz may be capped)
  // kernel: each op uses the whole chip and writes its output to global memory;
  // dataflow: a decoder layer's ops run at once on disjoint core groups and
  // stream token rows to each other through SRAM (see sim/mapping/mapper.h).
  std::string execution = "kernel";
  SourceLoc loc_execution;       // where it was set, for the mapper's errors
  nlohmann::json resolved_tree;  // resolved values as written in reports
  // The config as loaded (includes and --set applied), for errors found after
  // loading: loc_of("core.sram.size") is where that key is written, or the
  // nearest enclosing section that is, or the file.
  std::shared_ptr<const CNode> tree;
  SourceLoc loc_of(const std::string& dotted) const;

  int64_t cores() const { return mesh_x * mesh_y; }
  double cycle_s() const { return 1.0 / freq_hz; }
};

// Loads a hardware YAML (with includes), applies --set overrides, validates
// everything and loads the component library it names. Throws InputError.
HwConfig load_hw_config(const std::string& path, const std::vector<std::string>& sets = {},
                        std::vector<ParamDoc>* docs = nullptr);

// Where the project's own files are (configs/, workloads/): the source tree the
// binary was built from.
std::string project_root();

}  // namespace bc
