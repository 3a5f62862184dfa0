#include "sim/cli/power_cap.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/cli/isolate.h"
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

namespace {

// Each op's roofline over its tiles at clock share `share`, in seconds (the
// analytical mode's, sim/engine/analytical.h: compute and load/store latency
// in cycles, memory levels, DMA, links in bytes per second; a collective's
// chip-to-chip link time does not depend on the clock).
std::vector<double> op_rooflines(const HwConfig& hw, const Program& prog, double share,
                                 SimResult* roofline_run = nullptr) {
  const HwConfig h = at_clock_share(hw, share);
  std::vector<AnalyticalOp> d;
  SimResult r = analytical_simulate(h, prog, &d, true);
  if (roofline_run) *roofline_run = std::move(r);
  std::vector<double> t(d.size());
  for (size_t i = 0; i < d.size(); ++i) t[i] = d[i].roofline_cycles / h.freq_hz;
  return t;
}

// Each op's time at clock share `share` over its time at the nominal clock, as
// its roofline on the same tiles scales (1 / share where compute or latency
// binds, 1 where a memory level or the links do).
std::vector<double> op_stretch(const HwConfig& hw, const Program& prog,
                               const std::vector<double>& nominal_roofline, double share) {
  const std::vector<double> at = op_rooflines(hw, prog, share);
  std::vector<double> k(at.size(), 1.0);
  for (size_t i = 0; i < at.size(); ++i)
    if (nominal_roofline[i] > 0 && at[i] > 0) k[i] = at[i] / nominal_roofline[i];
  return k;
}

// `run` (a run at the nominal clock) with each op stretched by `k`: the run's
// time line is cut at every op's start and end, and each piece stretched by
// the mean of the ops running in it; pieces where no op runs (kernel launch
// gaps) keep their length. A kernel-by-kernel run (ops one after another) is
// the sum of its ops' stretched times, exactly.
SimResult stretched(const SimResult& run, const std::vector<double>& k) {
  std::vector<double> cuts;
  for (const OpResult& o : run.ops) cuts.push_back(o.start_s), cuts.push_back(o.end_s);
  cuts.push_back(0.0);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  auto at = [&](double t) {
    return static_cast<size_t>(std::lower_bound(cuts.begin(), cuts.end(), t) - cuts.begin());
  };
  std::vector<double> sum(cuts.size() + 1, 0.0), count(cuts.size() + 1, 0.0);
  for (size_t i = 0; i < run.ops.size(); ++i) {
    const size_t a = at(run.ops[i].start_s), b = at(run.ops[i].end_s);
    if (b <= a) continue;
    sum[a] += k[i], sum[b] -= k[i];
    count[a] += 1, count[b] -= 1;
  }
  std::vector<double> moved(cuts.size(), 0.0);
  double s = 0, c = 0;
  for (size_t j = 0; j + 1 < cuts.size(); ++j) {
    s += sum[j], c += count[j];
    const double f = c > 0.5 ? s / c : 1.0;
    moved[j + 1] = moved[j] + (cuts[j + 1] - cuts[j]) * f;
  }
  SimResult r = run;
  r.latency_s = 0;
  for (OpResult& o : r.ops) {
    o.start_s = moved[at(o.start_s)];
    o.end_s = moved[at(o.end_s)];
    r.latency_s = std::max(r.latency_s, o.end_s);
  }
  return r;
}

// Average power per board (one per active chip) of `run` on `h`.
double board_power(const HwConfig& h, const SystemPlan& p, const SimResult& run) {
  const nlohmann::json r = build_report(h, p.trace, p.prog, run);
  const double chips = r.contains("system") ? r["system"].value("active_chips", 1.0) : 1.0;
  return r["average_power_w"].get<double>() / chips;
}

// The highest clock share (to within kShareTolerance, from below) at which
// `nominal_run`, the run at the nominal clock, is predicted to fit under the
// limit. The predicted power rises smoothly with the share (on-chip energy as
// s^2, times as 1/s where compute binds: about s^3), so the root is bracketed
// and found by regula falsi with the Illinois step (the end kept twice in a
// row has its excess halved, so a convex curve does not leave one end
// stuck); once a step lands within the tolerance of the interpolated root, a
// probe one tolerance beyond closes the bracket. Bisection to 1 % took nine
// predictions (the two ends and seven steps) and left the share up to one step (0.55 % of the
// clock) under the root: an input that moved the power across a step boundary moved the clock by a
// whole step (h100 prefill of 512 tokens: twice the L2, 0.6 % slower).
constexpr double kShareTolerance = 1e-4;

double settle_share(const HwConfig& hw, const SystemPlan& p, const SimResult& nominal_run,
                    const std::vector<double>& nominal_roofline) {
  auto excess = [&](double share) {  // predicted power over the limit
    if (share == 1.0) return board_power(hw, p, nominal_run) - hw.tdp_w;
    return board_power(at_clock_share(hw, share), p,
                       stretched(nominal_run, op_stretch(hw, p.prog, nominal_roofline, share))) -
           hw.tdp_w;
  };
  double hi = 1.0, g_hi = excess(hi);
  if (g_hi <= 0) return 1.0;
  double lo = hw.min_clock_share, g_lo = excess(lo);
  if (g_lo > 0) return lo;
  int kept = 0;  // the end the last step kept: -1 lo, +1 hi
  for (int pass = 0; hi - lo > kShareTolerance && pass < 100; ++pass) {
    double s = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
    s = std::clamp(s, lo + 0.25 * kShareTolerance, hi - 0.25 * kShareTolerance);
    const double g = excess(s);
    const bool fits = g <= 0;
    (fits ? lo : hi) = s;
    (fits ? g_lo : g_hi) = g;
    const int now_kept = fits ? +1 : -1;  // the other end
    if (kept == now_kept) (fits ? g_hi : g_lo) *= 0.5;
    kept = now_kept;
    // The interpolated root from here: within the tolerance of the end just
    // moved, a probe one tolerance past it, towards the other end.
    const double next = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
    const double t = fits ? lo + kShareTolerance : hi - kShareTolerance;
    if (std::abs(next - s) < kShareTolerance && t > lo && t < hi) {
      const double gt = excess(t);
      (gt <= 0 ? lo : hi) = t;
      (gt <= 0 ? g_lo : g_hi) = gt;
    }
  }
  return lo;
}

}  // namespace

// A board's power controller lowers clock and voltage together when the board
// would draw more than its limit, and settles at the clock where the run's
// actual average power meets the limit (one run: a prefill or a decode step).
// So the clock is settled on the power of the run as it will be evaluated
// (the engine, or the analytical mode for --fidelity analytical), not on a
// separate time model:
//
//  1. The workload is mapped once, at the nominal clock, and that mapping runs
//     at whatever clock the run settles at (a kernel's tiles are compiled for
//     the chip, not for the clock DVFS picks). Re-mapping at the settled clock
//     let the tile choice jump between neighbouring configs (h100 prefill-512,
//     SRAM x2: 2.8 % slower), and with it the energy the clock was settled on.
//  2. When even each op at its roofline (its lowest time, hence the highest
//     power the run can draw; the engine counts the same actions) fits, the
//     limit does not bind: no further work.
//  3. Otherwise the run is evaluated at the nominal clock (the engine in a
//     child process: SystemC elaborates once per process), and its power at a
//     lower share s predicted from that result: the same action counts, on-chip
//     action energy x s^2 (sim/mapping/energy.cpp), and each op's time scaled by
//     its roofline's T(s) / T(1) on its tiles (1 / s where compute or latency
//     binds, 1 where memory or links do), launch gaps unchanged. Bisection
//     finds the highest s that fits, and the run is evaluated once more, there.
//
// Why this is monotone: at the cap, T(s) = E_dyn(s) / (tdp - P_leak - P_board)
// with E_dyn increasing in s. A bigger resource gives each op a time no longer
// at every s, so the predicted power is at least as high at every s, the share
// no higher, E_dyn(share) no higher, hence T no longer (given the bigger
// resource's mapping does not spend more energy). The prediction is exact at
// s = 1 and, for a kernel-by-kernel run, as good as the per-op roofline scaling
// of the engine's op times; the error left is that scaling's, not a difference
// between two time models.
HwConfig apply_power_cap(const HwConfig& hw, const std::function<SystemPlan(const HwConfig&)>& plan,
                         SystemPlan* settled, bool analytical) {
  *settled = plan(hw);
  if (hw.tdp_w <= 0) return hw;
  SimResult roofline_run;
  const std::vector<double> roof = op_rooflines(hw, settled->prog, 1.0, &roofline_run);
  if (board_power(hw, *settled, roofline_run) <= hw.tdp_w) return hw;
  double share = 1.0;
  if (analytical) {
    share = settle_share(hw, *settled, analytical_simulate(hw, settled->prog), roof);
  } else {
    const nlohmann::json r = run_isolated([&] {
      return nlohmann::json{
          {"share", settle_share(hw, *settled, simulate(hw, settled->prog), roof)}};
    });
    rethrow_isolated_error(r, "power limit: the run at the nominal clock failed: ");
    share = r["share"].get<double>();
  }
  if (share == 1.0) return hw;
  // The mapper's estimates were made at the nominal clock (in its cycles): the
  // report's estimate and the analytical mode take them at the settled clock,
  // scaled as the settle scaled each op.
  const std::vector<double> k = op_stretch(hw, settled->prog, roof, share);
  for (size_t i = 0; i < settled->prog.ops.size(); ++i)
    settled->prog.ops[i].est_cycles *= k[i] * share;
  return at_clock_share(hw, share);
}

}  // namespace bc
