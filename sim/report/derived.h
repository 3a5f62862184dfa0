// Derived values of a hardware config, for `explain` and the run report: peak
// ops/s per unit and datapath class, ridge points, SRAM totals, bandwidths. They
// need the unit objects (peaks), so they are computed here, above the config.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/config/hw_config.h"

namespace bc {

nlohmann::json derived_values(const HwConfig& hw);

// Peak density and efficiency per unit and format class, and for the chip per
// format (its best unit): peak ops/s per mm2 and per W at peak (the unit's
// dynamic power at its peak rate plus leakage; the chip's adds every part's
// leakage). Also the chip's area and its compute area (the units that run
// matrix work), as the iso-area variants match them. `peaks`: peak_ops_per_s.
nlohmann::json density_values(const HwConfig& hw, const nlohmann::json& peaks);

}  // namespace bc
