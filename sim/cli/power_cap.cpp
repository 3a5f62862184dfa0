#include "sim/cli/power_cap.h"

#include <map>

#include "sim/engine/analytical.h"
#include "sim/report/report.h"

namespace bc {

HwConfig at_clock_share(const HwConfig& hw, double share) {
  HwConfig h = hw;
  h.clock_scale = share;
  h.freq_hz = hw.nominal_freq_hz * share;
  h.resolved_tree["frequency_hz"] = h.freq_hz;
  return h;
}

// A board's power controller lowers clock and voltage together when the board
// would draw more than its limit, and holds the highest step that fits. The
// average power of a phase (a prefill or a decode step: one run) is what it
// settles on, so the run is estimated (the cost model's analytical mode, the
// same tiles and resources as the engine without contention) at candidate
// clocks: compute-bound time grows as 1/share while on-chip energy per action
// falls as share^2, so power falls with the clock, and bisection finds the
// highest share that fits. The engine then simulates the run once, at that clock.
// Each candidate clock's mapping is kept, so the one the run settles at is not
// mapped again.
HwConfig apply_power_cap(const HwConfig& hw, const std::function<SystemPlan(const HwConfig&)>& plan,
                         SystemPlan* settled) {
  if (hw.tdp_w <= 0) {
    *settled = plan(hw);
    return hw;
  }
  std::map<double, SystemPlan> plans;
  auto board_power = [&](double share) {
    HwConfig h = at_clock_share(hw, share);
    const SystemPlan& p = plans[share] = plan(h);
    nlohmann::json r = build_report(h, p.trace, p.prog, analytical_simulate(h, p.prog));
    const double chips =
        r.contains("system") ? r["system"].value("active_chips", 1.0) : 1.0;  // one board each
    return r["average_power_w"].get<double>() / chips;
  };
  auto settle = [&](double share) {
    *settled = std::move(plans.at(share));
    return share == 1.0 ? hw : at_clock_share(hw, share);
  };
  if (board_power(1.0) <= hw.tdp_w) return settle(1.0);
  double lo = hw.min_clock_share, hi = 1.0;
  if (board_power(lo) > hw.tdp_w) return settle(lo);
  while (hi - lo > 0.01) {
    const double mid = 0.5 * (lo + hi);
    (board_power(mid) <= hw.tdp_w ? lo : hi) = mid;
  }
  return settle(lo);
}

}  // namespace bc
