#include "sim/config/hw_config.h"

#include <filesystem>

#include "sim/config/limits.h"

namespace bc {
namespace fs = std::filesystem;

std::string project_root() { return BITCYCLE_SOURCE_DIR; }

namespace {

// A path value is relative to the file that wrote it.
std::string resolve_path(const CNode* n, const std::string& fallback) {
  if (!n || !n->is_scalar()) return fallback;
  fs::path p(n->scalar);
  if (p.is_absolute() || n->loc.file.empty() || n->loc.file[0] == '<' ||
      n->loc.file.rfind("--set", 0) == 0)
    return p.string();
  return (fs::path(n->loc.file).parent_path() / p).lexically_normal().string();
}

// A memory tier's keys, by its type (memory_tiers.h): an off-chip tier names
// its library component by `type` and has PHY interfaces, an on-chip one is
// built of SRAM macros (`cell`).
void read_channel_keys(Params& p, ChannelsConfig& c, const TierType& t) {
  const bool dram = !t.on_chip;
  c.component = p.text(dram ? "type" : "cell", std::string(t.default_component),
                       dram ? "library component: energy per byte, PHY area"
                            : "library component of one SRAM macro");
  c.channels = p.integer("channels", 1, "independent channels (contention servers)", 1, 4096);
  c.bandwidth =
      p.quantity("bandwidth", Dim::Bandwidth, std::nullopt, "total bandwidth, all channels");
  c.latency_s = p.quantity("latency", Dim::Time, t.default_latency_s,
                           "access latency added to every transfer", 0, false);
  c.efficiency = p.number("efficiency", 1.0,
                          "share of the nominal bandwidth that transfers reach (refresh, "
                          "bank conflicts, turnarounds); cite the measurement",
                          0.01, 1.0);
  c.write_efficiency =
      p.number("write_efficiency", c.efficiency,
               "share of the nominal bandwidth that writes reach (a store stream); default: "
               "efficiency; cite the measurement",
               0.01, 1.0);
  c.mixed_write_efficiency =
      p.number("mixed_write_efficiency", c.write_efficiency,
               "share of the nominal bandwidth that a write right after a read reaches (the bus "
               "turnarounds a mix of reads and writes pays, e.g. a copy); default: "
               "write_efficiency; cite the measurement",
               0.01, c.write_efficiency);
  c.capacity = p.quantity("size", Dim::Bytes, t.default_capacity, "capacity");
  if (dram)
    c.interfaces = p.integer("interfaces", 1, "PHY + controller instances (stacks)", 1, 1024);
}

void read_channels(Params& p, ChannelsConfig& c, const TierType& t) {
  c.present = p.present();
  if (c.present) {
    read_channel_keys(p, c, t);
  } else if (p.docs()) {
    // Absent optional section: still list its keys in the key reference.
    DiagnosticSink scratch;
    ChannelsConfig unused;
    Params doc_only(nullptr, p.path(), &scratch, p.docs(), p.doc_path());
    read_channel_keys(doc_only, unused, t);
  }
}

// The `system` section: chip count, links, topology and the parallel split.
// Whether the topology can connect the chips is checked here; whether the split
// fits a model is checked when a workload is mapped (check_parallelism).
void read_system_keys(Params& p, SystemConfig& s) {
  s.chips = p.integer("chips", std::nullopt, "chips in the system", 1, 1 << 20);
  s.spares = p.integer("spares", 0, "chips held in reserve, not used by the model", 0, 1 << 20);
  s.topology =
      p.choice("topology", "fully_connected", {"ring", "fully_connected", "switch", "dragonfly"},
               "how chips connect: ring, fully_connected, switch (one port per chip into "
               "a non-blocking switch, like NVSwitch), dragonfly (fully connected groups "
               "joined by global links)");
  s.loc_topology = p.loc_of("topology");
  s.ports = p.integer("ports", 0, "links per chip for the local topology (0: as many as needed)", 0,
                      4096);
  s.collective = p.choice("collective", "auto", {"auto", "ring", "direct"},
                          "all-reduce/all-gather algorithm: ring (2(N-1) neighbour steps), "
                          "direct (every rank to every rank, 2 steps), auto (faster estimate)");
  s.collective_latency_s =
      p.quantity("collective_latency", Dim::Time, 0.0,
                 "software cost of one collective (library kernel launch, rank handshake), "
                 "before its first transfer; 0 for statically scheduled systems",
                 0, false);
  {
    Params l = p.map("link", "a chip-to-chip link (switch: a chip's port)", s.present);
    s.link_bandwidth = l.quantity("bandwidth", Dim::Bandwidth, std::nullopt, "per direction");
    s.link_latency_s = l.quantity("latency", Dim::Time, 1e-6, "per traversal", 0, false);
    s.link_efficiency = l.number("efficiency", 1.0,
                                 "share of the link bandwidth that transfers reach (protocol "
                                 "headers, flow control); cite the measurement",
                                 0.01, 1.0);
    s.link_component = l.text("type", "link_board", "library component (energy per byte)");
    s.links_per_pair =
        l.integer("per_pair", 1, "parallel links between two connected chips", 1, 64);
  }
  {
    Params g = p.map("global_link", "dragonfly: the links between groups");
    s.global_links =
        g.integer("count", s.topology == "dragonfly" ? 1 : 0, "global links per chip", 0, 64);
    s.global_bandwidth =
        g.quantity("bandwidth", Dim::Bandwidth, s.link_bandwidth > 0 ? s.link_bandwidth : 1.0,
                   "per direction (default: the local link's)");
    s.global_latency_s = g.quantity("latency", Dim::Time, s.link_latency_s,
                                    "per traversal (default: the local link's)", 0, false);
    g.document_default("bandwidth", "link.bandwidth");
    g.document_default("latency", "link.latency");
    s.global_component = g.text("type", s.link_component, "library component (energy per byte)");
  }
  s.group_size = p.integer("group_size", s.topology == "dragonfly" ? 8 : 0,
                           "dragonfly: chips per group, fully connected inside", 0, 4096);
  // Groups and global links exist only in a Dragonfly: on another topology
  // they were read and silently unused.
  if (s.topology != "dragonfly")
    for (const char* k : {"global_link", "group_size"})
      if (p.has(k))
        p.error(k, std::string(k) + " applies to topology dragonfly only, not " + s.topology,
                "remove it, or set system.topology: dragonfly");
  {
    Params par = p.map("parallel", "how a model is split over the chips");
    s.tp =
        par.integer("tensor", 1, "tensor-parallel ranks (split heads, FFN, vocabulary)", 1, 4096);
    s.pp = par.integer("pipeline", 1, "pipeline stages (split layers)", 1, 4096);
    s.microbatches = par.integer("microbatches", 0,
                                 "pipeline microbatches, must divide the batch (0: min(batch, "
                                 "pipeline))",
                                 0, 1 << 20);
    s.loc_tp = par.loc_of("tensor");
    s.loc_pp = par.loc_of("pipeline");
    s.loc_microbatches = par.loc_of("microbatches");
  }
}

void read_system(Params& top, SystemConfig& s) {
  Params p = top.map("system", "optional: N chips joined by chip-to-chip links, and the split");
  s.present = p.present();
  if (!s.present) {
    if (p.docs()) {  // absent optional section: still list its keys in the key reference
      DiagnosticSink scratch;
      SystemConfig unused;
      unused.present = true;
      Params doc_only(nullptr, p.path(), &scratch, p.docs(), p.doc_path());
      read_system_keys(doc_only, unused);
    }
    return;
  }
  const size_t errors_before = p.sink()->size();
  read_system_keys(p, s);
  // The checks across keys need every key read: a chip count that failed is not
  // also a split that does not divide it.
  if (p.sink()->size() != errors_before) return;
  auto n = [](int64_t v) { return std::to_string(v); };
  const int64_t N = s.chips;
  if (s.spares >= N)
    p.error("spares", "spares (" + n(s.spares) + ") leave no chip to run on");
  else if (s.active() % (s.tp * s.pp) != 0)
    p.error("parallel",
            "tensor x pipeline = " + n(s.tp * s.pp) + " does not divide the " + n(s.active()) +
                " active chips",
            "the active chips form tensor x pipeline x replicas; choose degrees whose product "
            "divides them");
  // Can the topology connect N chips with the ports a chip has?
  const std::string cannot = "a " + s.topology + " topology cannot connect " + n(N) + " chips: ";
  if (s.topology == "fully_connected" && s.ports > 0 && (N - 1) * s.links_per_pair > s.ports)
    p.error("topology",
            cannot + "each chip needs " + n((N - 1) * s.links_per_pair) + " links (" + n(N - 1) +
                " peers x " + n(s.links_per_pair) + "), it has " + n(s.ports) + " ports",
            "use dragonfly groups, a switch, or fewer chips");
  if (s.topology == "ring" && s.ports > 0 && N > 2 && 2 * s.links_per_pair > s.ports)
    p.error("topology", cannot + "each chip needs 2 x " + n(s.links_per_pair) + " links, it has " +
                            n(s.ports) + " ports");
  if (s.topology == "dragonfly") {
    const int64_t g = s.group_size;
    if (g < 1 || N % g != 0)
      p.error("group_size", cannot + "group_size " + n(g) + " does not divide the chips",
              "chips must be a whole number of groups");
    else if (s.ports > 0 && g - 1 > s.ports)
      p.error("group_size", cannot + "a group of " + n(g) + " needs " + n(g - 1) +
                                " local links per chip, it has " + n(s.ports) + " ports");
    else if (N / g > 1 && s.global_links < 1)
      p.error("global_link", cannot + n(N / g) + " groups need global links",
              "set global_link.count >= 1");
    else if (N / g > 2 && g * s.global_links < 2)
      p.error("global_link",
              cannot + "a group has " + n(g * s.global_links) +
                  " global link, too few to reach two neighbouring groups",
              "raise global_link.count or group_size");
  }
}

const CNode* find_path(const CNode& root, const std::string& dotted) {
  const CNode* n = &root;
  size_t start = 0;
  while (n && start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    n = n->get(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    start = dot == std::string::npos ? dotted.size() : dot + 1;
  }
  return n;
}

}  // namespace

HwConfig load_hw_config(const std::string& path, const std::vector<std::string>& sets,
                        std::vector<ParamDoc>* docs) {
  CNode root = load_config_file(path);
  for (const auto& s : sets) apply_set(root, s);

  HwConfig hw;
  hw.path = path;
  DiagnosticSink sink;
  std::string lib_path =
      resolve_path(root.get("library"), project_root() + "/configs/components/library.yaml");
  // Per unit of hw.units, what reading it told us, and its parameters (where the
  // cross-unit and library checks below report).
  std::vector<std::pair<UnitCheck, std::shared_ptr<Params>>> checked;
  std::vector<std::string> untyped;  // units whose type was reported unknown
  {
    Params top(&root, "", &sink, docs);
    hw.name = top.text("name", fs::path(path).stem().string(), "config name shown in reports");
    top.text("library", "configs/components/library.yaml",
             "component library file, relative to this file");
    {
      // A library that cannot be read is an error at the key that names it,
      // not at a path the user never wrote.
      const CNode* lib = root.get("library");
      std::error_code ec;
      if (lib && lib->is_scalar() && !fs::is_regular_file(lib_path, ec))
        top.error("library", "no library file \"" + lib_path + "\"",
                  "name a component library YAML, relative to this file");
    }
    top.text("description", "", "free text");
    hw.node_m = top.quantity("node", Dim::Length, std::nullopt, "technology node");
    hw.freq_hz = top.quantity("frequency", Dim::Frequency, std::nullopt, "core clock");
    hw.nominal_freq_hz = hw.freq_hz;
    hw.deterministic = top.boolean("deterministic", false,
                                   "no caches or arbitration: report where simulated time "
                                   "departs from the mapper's static schedule");
    hw.execution = top.choice("execution", std::string("kernel"), {"kernel", "dataflow"},
                              "kernel: op by op on the whole chip, intermediates in global "
                              "memory; dataflow: a layer's ops on disjoint core groups, "
                              "streaming rows through SRAM with back-pressure");
    hw.loc_execution = top.loc_of("execution");
    {
      Params iso = top.map("iso_area",
                           "this config is an iso-area variant: the config it is sized "
                           "against and the area it matches (checked by the test suite)");
      if (iso.present()) {
        iso.text("partner", std::nullopt, "config file it is sized against, relative to this file");
        hw.iso_partner = resolve_path(find_path(root, "iso_area.partner"), "");
        hw.iso_match = iso.choice("match", std::nullopt, {"compute", "total"},
                                  "compute: the matrix units' area; total: the chip's area");
        std::error_code ec;
        if (!hw.iso_partner.empty() && !fs::is_regular_file(hw.iso_partner, ec))
          iso.error("partner", "no config file \"" + hw.iso_partner + "\"",
                    "name a hardware config, relative to this file");
      }
    }
    hw.launch_gap_s = top.quantity("launch_gap", Dim::Time, 0.0,
                                   "time from the end of a kernel to the start of the next "
                                   "(launch, ramp and tail) on a kernel-by-kernel chip; not "
                                   "applied with deterministic: true or execution: dataflow",
                                   0, false);
    {
      Params pw = top.map("power", "board power and power limit");
      hw.board_power_w = pw.quantity(
          "board", Dim::Power, 0.0,
          "power the board draws outside the chip's modelled actions and leakage (HBM "
          "background and refresh, regulator losses, fans), for the whole run; a measured idle "
          "board power is the usual figure",
          0, false);
      hw.tdp_w = pw.quantity("tdp", Dim::Power, 0.0,
                             "board power limit: a run whose average power at the nominal "
                             "clock exceeds it runs at the highest clock that keeps it under "
                             "(DVFS); 0 = no limit",
                             0, false);
      hw.min_clock_share = pw.number("min_clock", 0.3,
                                     "lowest clock the power limit may set, as a share of "
                                     "frequency",
                                     0.05, 1.0);
    }
    {
      Params noc =
          top.map("noc", "network on chip: a 2D mesh with XY routing, or a crossbar", true);
      hw.noc_topology = noc.choice(
          "topology", std::string("mesh"), {"mesh", "crossbar"},
          "mesh: links between neighbouring cores, XY routing; crossbar: one switch with a "
          "port per core (a GPU's SM-to-L2 crossbar), a level's channels its own ports");
      {
        Params mesh = noc.map("mesh", "mesh size; one core per node", true);
        hw.mesh_x = mesh.integer("x", std::nullopt, "columns", 1, 256);
        hw.mesh_y = mesh.integer("y", std::nullopt, "rows", 1, 256);
        // One SystemC process (with its stack) per core: the core count has a limit.
        if (hw.mesh_x * hw.mesh_y > limits::kMaxCores)
          noc.error("mesh",
                    "a " + std::to_string(hw.mesh_x) + "x" + std::to_string(hw.mesh_y) +
                        " mesh has " + std::to_string(hw.mesh_x * hw.mesh_y) +
                        " cores, more than " + std::to_string(limits::kMaxCores) + " (the limit)",
                    "model a larger chip as a system of chips (system:)");
      }
      hw.noc_link_bandwidth =
          noc.quantity("link_bandwidth", Dim::Bandwidth, std::nullopt, "per link, per direction");
      hw.noc_hop_cycles = noc.integer("hop_latency", 1, "router + link latency, cycles", 0, 1000);
      hw.noc_router = noc.text("router", "noc_router_mesh",
                               "library component of a router: a model sized by ports, flit "
                               "width and buffer depth, or a fixed area per router");
      hw.noc_buffer_depth = noc.integer(
          "buffer_depth", 2, "input-buffer depth of a router port, flits (area)", 1, 1024);
      hw.noc_hop =
          noc.text("hop_energy", "noc_hop_12nm", "library component (energy per byte-hop)");
    }
    {
      Params core = top.map("core", "every core: SRAM scratchpad, DMA engine, compute units", true);
      {
        Params s = core.map("sram", "banked local scratchpad", true);
        hw.sram.size_bytes = s.quantity("size", Dim::Bytes, std::nullopt, "capacity per core");
        hw.sram.banks = s.integer("banks", 8, "banks", 1, 4096);
        hw.sram.bank_width_bytes =
            s.quantity("bank_width", Dim::Bytes, 64.0, "bytes per port per cycle");
        hw.sram.ports = s.integer("ports", 1, "ports per bank, shared by reads and writes", 1, 16);
        hw.sram.cell = s.text("cell", "sram_8kb_512b", "library component of one SRAM macro");
      }
      {
        Params d = core.map("dma", "the core's DMA engine");
        hw.dma_bandwidth =
            d.quantity("bandwidth", Dim::Bandwidth, 1e15, "bytes/s the engine moves");
        hw.load_stages = d.integer("stages", 2,
                                   "tile loads in flight per core, each with an operand buffer "
                                   "in SRAM (2: double buffering; a GPU's multistage GEMM "
                                   "main loop keeps 3 or more)",
                                   1, 16);
        hw.multicast = d.integer(
            "multicast", 1,
            "cores of a cluster that take one load of a GEMM's weight tile together: the "
            "level reads it once and the network delivers it to each (Hopper's thread-block "
            "clusters with TMA multicast: 2); 1: every core reads its own",
            1, 16);
      }
      hw.registers_bytes = core.quantity(
          "registers", Dim::Bytes, 0.0,
          "register file per core: a GEMM tile whose accumulators fit keeps them there across "
          "its K steps (a GPU SM's 256 KiB) instead of in SRAM; 0: accumulators in SRAM");
      hw.accumulator_share = core.number(
          "accumulator_share", 1.0,
          "share of core.registers a GEMM tile's accumulators may take, the rest holding "
          "operand fragments and addresses (a GPU: 0.5, as CUTLASS's largest tiles)",
          0.01, 1.0);
      hw.concurrent_units = core.boolean(
          "concurrent_units", false,
          "the core's units run at once, each on a different tile's step (the MAC array on "
          "one tile while the vector unit finishes the one before, as FlashAttention overlaps "
          "softmax with matrix products); false: one unit at a time");
      Params units = core.map("units", "compute units by name: {NAME: {type: ..., ...}}", true);
      for (const auto& name : units.entry_names()) {
        // Keys differ by unit type, so the key reference groups them by type.
        const CNode* raw = find_path(root, "core.units." + name + ".type");
        std::string doc_key =
            "<" + (raw && raw->is_scalar() ? raw->scalar : std::string("unit")) + ">";
        auto up = std::make_shared<Params>(units.map(name, "a compute unit", true, doc_key));
        std::string type = up->choice("type", std::nullopt, UnitTypes::names(), "unit type");
        // An unknown type was reported; reading its keys as another type would only add noise.
        bool known = raw && raw->is_scalar() && raw->scalar == type;
        const UnitChecker* read = known ? UnitTypes::find(type) : nullptr;
        UnitCheck c;
        if (read) c = (*read)(name, *up);
        if (!known) up->entry_names(), untyped.push_back(name);
        up->finish();
        if (read) {
          hw.units.push_back(
              {type, name, up->path(), std::make_shared<const CNode>(*units.raw(name))});
          checked.emplace_back(std::move(c), up);  // kept aligned with hw.units
        }
      }
      if (units.present() && units.entry_names().empty())
        core.error("units", "a core needs at least one compute unit");
    }
    {
      Params mem = top.map("memory", "global memory levels", true);
      hw.weight_placement =
          mem.choice("weights", "auto", {"auto", "dram", "ddr", "shared_sram", "local_sram"},
                     "where weights live: auto = the cores' SRAM if they fit and the chip keeps "
                     "them there across ops (deterministic, dataflow or no DRAM), else shared "
                     "SRAM, else DRAM, else DDR");
      hw.resident_max_fraction =
          mem.number("resident_max_fraction", 0.75,
                     "share of each core's SRAM that resident weights may take", 0.01, 0.99);
      for (const TierType& t : tier_types()) {
        Params tp = mem.map(t.key, t.help);
        read_channels(tp, hw.tier(t.level), t);
      }
    }
    if (!hw.dram().present && !hw.shared_sram().present && top.has("memory") &&
        root.get("memory")->is_map())  // an absent or broken memory section was reported
      top.error("memory", "a chip without memory.dram needs a memory.shared_sram level",
                "add memory.dram, or memory.shared_sram for an SRAM-only chip");
    read_system(top, hw.system);
    // One SystemC process pair per core of each simulated chip (a pipeline stage).
    if (hw.system.present && hw.mesh_x * hw.mesh_y * hw.system.pp > limits::kMaxSimulatedCores) {
      Params par(find_path(root, "system.parallel"), "system.parallel", &sink);
      par.entry_names();
      par.error("pipeline",
                std::to_string(hw.system.pp) + " pipeline stages of " +
                    std::to_string(hw.mesh_x * hw.mesh_y) + " cores each are " +
                    std::to_string(hw.mesh_x * hw.mesh_y * hw.system.pp) +
                    " cores to simulate, more than " + std::to_string(limits::kMaxSimulatedCores) +
                    " (the limit)",
                "fewer pipeline stages");
    }
    // Units named by other units (table builders, fallbacks) must be vector units of the core.
    for (size_t i = 0; i < hw.units.size(); ++i) {
      auto check = [&](const std::string& key, const std::string& name) {
        // A unit whose type failed was reported; whether it is a vector unit is unknown.
        if (name.empty() || name == "dedicated" ||
            std::find(untyped.begin(), untyped.end(), name) != untyped.end())
          return;
        for (size_t j = 0; j < hw.units.size(); ++j)
          if (hw.units[j].name == name && checked[j].first.vector) return;
        std::vector<std::string> vec;
        for (size_t j = 0; j < hw.units.size(); ++j)
          if (checked[j].first.vector) vec.push_back(hw.units[j].name);
        std::string list;
        for (const auto& v : vec) list += (list.empty() ? "" : ", ") + v;
        checked[i].second->error(
            key, "\"" + name + "\" is not a vector unit of this core",
            list.empty() ? "add a vector_unit to core.units" : "vector units: " + list);
      };
      check("fallback", checked[i].first.fallback);
      check("precompute", checked[i].first.precompute);
    }
    top.finish();
    sink.throw_if_any();  // the library check below needs the values above

    hw.lib = std::make_shared<ComponentLibrary>(ComponentLibrary::load(lib_path));
    const ComponentLibrary& lib = *hw.lib;
    if (hw.node_m < lib.min_node() * 0.999 || hw.node_m > lib.max_node() * 1.001)
      top.error("node", "node " + format_quantity(hw.node_m, Dim::Length) +
                            " is outside the scaling table (" +
                            format_quantity(lib.min_node(), Dim::Length) + " to " +
                            format_quantity(lib.max_node(), Dim::Length) + ") of " + lib.path());
    for (auto& [c, params] : checked) c.check_library(lib, *params);
    // Library components named by the config: reported at the key that names them.
    auto need = [&](const std::string& comp, const std::string& section, const std::string& key,
                    const std::vector<std::string>& acts) {
      Params at(find_path(root, section), section, &sink);
      at.entry_names();  // the section's keys were checked when it was read
      check_component(lib, at, key, comp, acts, key);
    };
    need(hw.sram.cell, "core.sram", "cell", {"read_byte", "write_byte"});
    need(hw.noc_router, "noc", "router", {});
    need(hw.noc_hop, "noc", "hop_energy", {"byte_hop"});
    if (hw.system.present) {
      need(hw.system.link_component, "system.link", "type", {"byte"});
      if (hw.system.topology == "dragonfly")
        need(hw.system.global_component, "system.global_link", "type", {"byte"});
    }
    // SRAMs are built of macros: the named cell must have a capacity.
    auto need_macro = [&](const std::string& cell, const std::string& section) {
      if (!lib.has(cell) || lib.get(cell).capacity_bytes > 0) return;
      Params at(find_path(root, section), section, &sink);
      at.entry_names();
      at.error("cell",
               "library component \"" + cell + "\" has no capacity, so it cannot build an SRAM",
               "name an SRAM macro such as sram_8kb_512b");
    };
    need_macro(hw.sram.cell, "core.sram");
    for (const TierType& t : tier_types()) {
      const ChannelsConfig& c = hw.tier(t.level);
      if (!c.present) continue;
      const std::string section = std::string("memory.") + t.key;
      if (t.on_chip) need_macro(c.component, section);
      need(c.component, section, t.on_chip ? "cell" : "type", {"read_byte", "write_byte"});
    }
  }
  sink.throw_if_any();

  nlohmann::json units = nlohmann::json::object();
  for (size_t i = 0; i < hw.units.size(); ++i) units[hw.units[i].name] = checked[i].first.resolved;
  auto chan = [](const ChannelsConfig& c) {
    return nlohmann::json{{"component", c.component},
                          {"channels", c.channels},
                          {"bandwidth_Bps", c.bandwidth},
                          {"efficiency", c.efficiency},
                          {"write_efficiency", c.write_efficiency},
                          {"mixed_write_efficiency", c.mixed_write_efficiency},
                          {"latency_s", c.latency_s},
                          {"capacity_bytes", c.capacity},
                          {"interfaces", c.interfaces}};
  };
  hw.resolved_tree = {
      {"name", hw.name},
      {"file", hw.path},
      {"library", hw.lib->path()},
      {"node_m", hw.node_m},
      {"frequency_hz", hw.freq_hz},
      {"deterministic", hw.deterministic},
      {"execution", hw.execution},
      {"launch_gap_s", hw.launch_gap_s},
      {"power",
       {{"board_w", hw.board_power_w}, {"tdp_w", hw.tdp_w}, {"min_clock", hw.min_clock_share}}},
      {"noc",
       {{"topology", hw.noc_topology},
        {"mesh_x", hw.mesh_x},
        {"mesh_y", hw.mesh_y},
        {"link_bandwidth_Bps", hw.noc_link_bandwidth},
        {"hop_latency_cycles", hw.noc_hop_cycles},
        {"router", hw.noc_router},
        {"buffer_depth", hw.noc_buffer_depth},
        {"hop_energy", hw.noc_hop}}},
      {"core",
       {{"sram",
         {{"size_bytes", hw.sram.size_bytes},
          {"banks", hw.sram.banks},
          {"bank_width_bytes", hw.sram.bank_width_bytes},
          {"ports", hw.sram.ports},
          {"cell", hw.sram.cell}}},
        {"dma",
         {{"bandwidth_Bps", hw.dma_bandwidth},
          {"stages", hw.load_stages},
          {"multicast", hw.multicast}}},
        {"concurrent_units", hw.concurrent_units},
        {"registers_bytes", hw.registers_bytes},
        {"accumulator_share", hw.accumulator_share},
        {"units", units}}},
      {"memory",
       {{"weights", hw.weight_placement}, {"resident_max_fraction", hw.resident_max_fraction}}},
  };
  for (const TierType& t : tier_types())  // an absent tier is left out
    if (hw.tier(t.level).present) hw.resolved_tree["memory"][t.key] = chan(hw.tier(t.level));
  if (!hw.iso_match.empty())
    hw.resolved_tree["iso_area"] = {{"partner", hw.iso_partner}, {"match", hw.iso_match}};
  if (hw.system.present) {
    const SystemConfig& s = hw.system;
    hw.resolved_tree["system"] = {{"chips", s.chips},
                                  {"spares", s.spares},
                                  {"topology", s.topology},
                                  {"ports", s.ports},
                                  {"collective", s.collective},
                                  {"collective_latency_s", s.collective_latency_s},
                                  {"link",
                                   {{"bandwidth_Bps", s.link_bandwidth},
                                    {"latency_s", s.link_latency_s},
                                    {"efficiency", s.link_efficiency},
                                    {"type", s.link_component},
                                    {"per_pair", s.links_per_pair}}},
                                  {"parallel",
                                   {{"tensor", s.tp},
                                    {"pipeline", s.pp},
                                    {"replicas", s.dp()},
                                    {"microbatches", s.microbatches}}}};
    if (s.topology == "dragonfly") {
      hw.resolved_tree["system"]["group_size"] = s.group_size;
      hw.resolved_tree["system"]["global_link"] = {{"count", s.global_links},
                                                   {"bandwidth_Bps", s.global_bandwidth},
                                                   {"latency_s", s.global_latency_s},
                                                   {"type", s.global_component}};
    }
  }
  hw.tree = std::make_shared<const CNode>(root);
  return hw;
}

SourceLoc HwConfig::loc_of(const std::string& dotted) const {
  SourceLoc at{path, 0, 0};
  const CNode* n = tree.get();
  size_t start = 0;
  while (n && start < dotted.size()) {
    const size_t dot = dotted.find('.', start);
    n = n->get(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (n) at = n->key_loc.line ? n->key_loc : n->loc;
    start = dot == std::string::npos ? dotted.size() : dot + 1;
  }
  return at;
}

}  // namespace bc
