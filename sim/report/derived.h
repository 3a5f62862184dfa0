// Derived values of a hardware config, for `explain` and the run report: peak
// ops/s per unit and datapath class, ridge points, SRAM totals, bandwidths. They
// need the unit objects (peaks), so they are computed here, above the config.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/config/hw_config.h"

namespace bc {

nlohmann::json derived_values(const HwConfig& hw);

}  // namespace bc
