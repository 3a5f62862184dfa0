// The board's power limit (power.tdp): DVFS settles a run at the highest clock
// whose average power fits under it.
#pragma once

#include <functional>

#include "sim/config/hw_config.h"
#include "sim/mapping/system.h"

namespace bc {

// hw as configured when it has no limit or the run fits under it at the
// nominal clock; otherwise hw at the highest clock share in
// [power.min_clock, 1] (to within 1 %) at which the run's power, predicted
// from its evaluation at the nominal clock, fits, or at power.min_clock when
// none does. `plan` maps the workload for a config; *settled receives the
// nominal clock's mapping, which the run keeps at the settled clock.
// `analytical`: the run will be evaluated by the analytical mode, so the
// limit settles on it; otherwise on the engine (one more engine run, in a
// child process, when the limit binds).
HwConfig apply_power_cap(const HwConfig& hw, const std::function<SystemPlan(const HwConfig&)>& plan,
                         SystemPlan* settled, bool analytical = false);

// hw with its clock at `share` of the nominal one (and on-chip action energies
// scaled by share^2 in the report, sim/mapping/energy.cpp).
HwConfig at_clock_share(const HwConfig& hw, double share);

}  // namespace bc
