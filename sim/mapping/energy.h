// Energy and area from action counts and the component library, kept apart from
// timing (as in Timeloop/Accelergy): energy = sum(count x energy per action) +
// leakage x time; area from parameters alone.
#pragma once

#include <string>
#include <vector>

#include "sim/config/hw_config.h"

namespace bc {

struct ActionEntry {
  std::string component;  // breakdown key: unit name, "sram", "noc", "dram", "shared_sram"
  std::string action;     // e.g. mac_int8, read_byte
  std::string library;    // library component the energy comes from
  double energy_j = 0;    // per action, at the config's node
  std::string source;
};

struct ComponentArea {
  std::string component;
  double area_m2 = 0;    // whole chip (all instances)
  double leakage_w = 0;  // whole chip
  std::string how;       // instances x per-instance, with the library entry
};

// Index i matches the engine's counters (FixedAction, then units' actions).
std::vector<ActionEntry> action_catalog(const HwConfig& hw);
std::vector<ComponentArea> component_areas(const HwConfig& hw);

}  // namespace bc
