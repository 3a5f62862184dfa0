// A compute unit as the config layer knows it: a description (type, name and
// its config node), never the unit object. Unit classes live in models/, a layer
// above the config; each type registers here (through BC_REGISTER_UNIT) how a
// unit of that type reads its parameters, so load_hw_config checks every unit
// when the file is loaded, with the file's other errors, without including a
// unit class. Whoever needs unit objects builds them from the descriptions
// (build_units, models/compute_unit.h).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/config/config_tree.h"
#include "sim/config/params.h"

namespace bc {

class ComponentLibrary;

struct UnitDesc {
  std::string type;  // registered unit type, e.g. "mac_array"
  std::string name;  // the key under core.units
  std::string path;  // its key path, core.units.<name>, for messages
  // The unit's map as loaded (includes merged, --set applied), positions kept.
  // Shared: copies of a config share one tree, and it never changes after loading.
  std::shared_ptr<const CNode> node;
};

// What reading one unit's parameters tells the loader: the checks that span
// units or need the library, and the values reports show.
struct UnitCheck {
  nlohmann::json resolved;  // resolved parameters (quantities in SI, defaults filled)
  bool vector = false;      // executes fp32 element-wise work: may convert formats, build tables
  std::string fallback;     // vector unit converting the formats it cannot run ("": none)
  std::string precompute;   // vector unit building its LUT tables ("": none, or its own engine)
  // Reports, at the unit's keys, library components it names that are missing.
  std::function<void(const ComponentLibrary&, Params&)> check_library;
};

// Reads (and so checks) the parameters of the unit `name` from `p`; problems go
// to p's sink.
using UnitChecker = std::function<UnitCheck(const std::string& name, Params& p)>;

// The unit types the config accepts, filled at static initialisation by
// models/compute_unit.cpp (UnitRegistry::add), so a type is checkable here
// exactly when it can be built there.
class UnitTypes {
 public:
  static void add(const std::string& type, UnitChecker check);
  static const UnitChecker* find(const std::string& type);  // null: unknown type
  static std::vector<std::string> names();                  // sorted
};

}  // namespace bc
