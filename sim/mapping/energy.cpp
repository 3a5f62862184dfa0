#include "sim/mapping/energy.h"

#include <cmath>
#include <sstream>

#include "models/action_ids.h"
#include "models/compute_unit.h"
#include "models/noc_router.h"

namespace bc {

std::vector<ActionEntry> action_catalog(const HwConfig& hw) {
  const ComponentLibrary& lib = *hw.lib;
  // Under the power limit the chip's supply voltage follows its clock, so the
  // energy of an on-chip action scales with the clock share squared (C V^2);
  // DRAM, DDR and chip-to-chip links keep their own supplies and energies.
  const double v2 = hw.clock_scale * hw.clock_scale;
  auto entry = [&](const std::string& comp, const std::string& lib_name, const std::string& action,
                   double mult = 1.0, bool on_chip = true) {
    const LibComponent& c = lib.get(lib_name);
    const bool scaled = on_chip && v2 != 1.0;
    return ActionEntry{
        comp, action, lib_name,
        (scaled ? v2 : 1.0) * mult * lib.action_energy(c, action, hw.node_m),
        c.actions.at(action).source +
            (scaled ? " (x " + std::to_string(v2) + ": clock and voltage lowered by power.tdp)"
                    : "")};
  };
  std::vector<ActionEntry> cat(kFixedActions);
  cat[kSramRead] = entry("sram", hw.sram.cell, "read_byte");
  cat[kSramWrite] = entry("sram", hw.sram.cell, "write_byte");
  cat[kNocByteHop] = entry("noc", hw.noc_hop, "byte_hop");
  // A memory tier's read and write energies; an absent tier gets zero-energy
  // entries so the counters keep their fixed positions.
  for (const TierType& t : tier_types()) {
    const ChannelsConfig& c = hw.tier(t.level);
    const std::string name = t.key;
    for (auto [i, action] : {std::pair{tier_read_action(t.level), "read_byte"},
                             std::pair{tier_write_action(t.level), "write_byte"}})
      cat[i] = c.present ? entry(name, c.component, action, 1.0, t.on_chip)
                         : ActionEntry{name, action, "", 0, "no " + name + " level in this config"};
  }
  const SystemConfig& s = hw.system;
  cat[kLinkByte] = s.present ? entry("chip_links", s.link_component, "byte", 1.0, false)
                             : ActionEntry{"chip_links", "byte", "", 0, "one chip: no links"};
  cat[kGlobalLinkByte] = s.present && s.topology == "dragonfly"
                             ? entry("chip_links", s.global_component, "byte", 1.0, false)
                             : ActionEntry{"chip_links", "global_byte", "", 0, "no global links"};
  cat[kGlobalLinkByte].action = "global_byte";
  for (const auto& u : build_units(hw.units)) {
    auto names = u->actions();
    for (size_t a = 0; a < names.size(); ++a) {
      auto src = u->action_source(static_cast<int>(a));
      ActionEntry e = entry(u->name(), src.component, src.action, src.multiplier);
      e.action = names[a];
      cat.push_back(e);
    }
  }
  return cat;
}

std::vector<ComponentArea> component_areas(const HwConfig& hw) {
  const ComponentLibrary& lib = *hw.lib;
  const double cores = static_cast<double>(hw.cores());
  std::vector<ComponentArea> out;
  for (const auto& u : build_units(hw.units))
    out.push_back({u->name(), cores * u->area_m2(lib, hw.node_m),
                   cores * u->leakage_w(lib, hw.node_m),
                   std::to_string(hw.cores()) + " cores x " + u->area_how(lib)});
  // SRAM is built from library macros; a scratchpad needs ceil(size / macro capacity).
  auto sram_level = [&](const std::string& name, const std::string& cell, double bytes,
                        double copies) {
    const LibComponent& c = lib.get(cell);
    double macros = std::ceil(bytes / c.capacity_bytes) * copies;
    out.push_back({name, macros * lib.area(c, hw.node_m), macros * lib.leakage(c, hw.node_m),
                   std::to_string(static_cast<long long>(macros)) + " x " + cell});
  };
  sram_level("sram", hw.sram.cell, hw.sram.size_bytes, cores);
  for (const TierType& t : tier_types())  // on-chip tiers: their macros
    if (t.on_chip && hw.tier(t.level).present)
      sram_level(t.key, hw.tier(t.level).component, hw.tier(t.level).capacity, 1);
  // One router per core, each sized by its own ports (mesh neighbours + the
  // core), the links' flit width and the buffer depth (models/noc_router.h).
  const LibComponent& router = lib.get(hw.noc_router);
  RouterShape shape;
  // The links are built for the configured clock: a clock lowered by
  // power.tdp moves no wires (sized at the lowered clock, the flits and the
  // chip's area grew as the clock fell, and a capped run's area differed from
  // its uncapped one).
  shape.width_bits = link_width_bits(hw.noc_link_bandwidth, hw.nominal_freq_hz);
  shape.depth = hw.noc_buffer_depth;
  double noc_area = 0;
  for (int64_t y = 0; y < hw.mesh_y; ++y)
    for (int64_t x = 0; x < hw.mesh_x; ++x) {
      shape.ports = mesh_router_ports(x, y, hw.mesh_x, hw.mesh_y);
      noc_area += router_area(lib, router, shape, hw.node_m).total();
    }
  std::ostringstream how;
  how << hw.cores() << " x " << hw.noc_router;
  if (router.router.present)
    how << " (" << shape.width_bits << "-bit flits, depth " << shape.depth << ")";
  out.push_back({"noc", noc_area, cores * lib.leakage(router, hw.node_m), how.str()});
  // Off-chip tiers: PHY + controller instances.
  for (const TierType& t : tier_types()) {
    const ChannelsConfig* c = &hw.tier(t.level);
    const char* name = t.key;
    if (t.on_chip || !c->present) continue;
    const LibComponent& d = lib.get(c->component);
    double n = static_cast<double>(c->interfaces);
    out.push_back({name, n * lib.area(d, hw.node_m), n * lib.leakage(d, hw.node_m),
                   std::to_string(c->interfaces) + " x " + c->component + " PHY+controller"});
  }
  return out;
}

}  // namespace bc
