// Board power and the power limit (power.tdp): DVFS lowers the clock until a
// run's average power fits.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/unit/helpers.h"

namespace bc {
namespace {

// A 4096^3 int8 GEMM, compute-bound on the default chip.
std::string gemm_trace() {
  return test::write_temp("gemm.json", R"({"schema": "bitcycle-trace", "version": 1,
    "workload": {"phase": "decode", "batch": 1},
    "ops": [{"id": 0, "kind": "gemm", "name": "g", "m": 4096, "n": 4096, "k": 4096,
             "a": "int8", "w": "int8", "o": "int8", "deps": []}]})");
}

double sum(const nlohmann::json& m) {
  double s = 0;
  for (const auto& [k, v] : m.items()) s += v.get<double>();
  return s;
}

TEST(Power, BoardPowerIsDrawnForTheWholeRun) {
  const std::string hw =
      "'" + project_root() + "/configs/hw/default.yaml' --trace '" + gemm_trace() + "'";
  auto base = test::run_json(hw);
  auto board = test::run_json(hw + " --set power.board=50W");
  ASSERT_FALSE(base.is_null());
  ASSERT_FALSE(board.is_null());
  const double t = board["step_period_s"].get<double>();
  EXPECT_DOUBLE_EQ(t, base["step_period_s"].get<double>());  // power does not change timing
  EXPECT_DOUBLE_EQ(board["board_energy_j"].get<double>(), 50.0 * t);
  EXPECT_DOUBLE_EQ(base["board_energy_j"].get<double>(), 0.0);
  EXPECT_NEAR(
      board["energy_j"].get<double>(),
      board["dynamic_energy_j"].get<double>() + board["leakage_energy_j"].get<double>() + 50.0 * t,
      1e-12);
  EXPECT_DOUBLE_EQ(board["breakdown"]["energy_j"]["board"].get<double>(), 50.0 * t);
  EXPECT_FALSE(base["breakdown"]["energy_j"].contains("board"));
  EXPECT_NEAR(board["average_power_w"].get<double>(), base["average_power_w"].get<double>() + 50,
              1e-9);
}

TEST(Power, ClockDropsUntilTheRunFitsUnderTheLimit) {
  const std::string hw =
      "'" + project_root() + "/configs/hw/default.yaml' --trace '" + gemm_trace() + "'";
  auto nominal = test::run_json(hw);
  ASSERT_FALSE(nominal.is_null());
  ASSERT_EQ(nominal["ops"][0]["estimate_bound"], "compute");
  // By hand, for a compute-bound run at clock share s: time t0 / s; on-chip
  // action energy x s^2 (voltage follows the clock), DRAM energy unchanged,
  // leakage power unchanged. Power P(s) = A s^3 + B s + L with A the on-chip
  // dynamic power at the nominal clock, B DRAM's, L leakage.
  const double t0 = nominal["step_period_s"].get<double>();
  const auto& dyn = nominal["breakdown"]["dynamic_energy_j"];
  const double B = dyn["dram"].get<double>() / t0, A = sum(dyn) / t0 - B;
  const double L = nominal["leakage_energy_j"].get<double>() / t0;
  const double p1 = A + B + L;
  EXPECT_NEAR(nominal["average_power_w"].get<double>(), p1, 1e-9 * p1);
  const double tdp = 0.65 * p1;
  double lo = 0.3, hi = 1.0;  // the share where P(s) = tdp
  for (int i = 0; i < 60; ++i) {
    const double s = 0.5 * (lo + hi);
    (A * s * s * s + B * s + L <= tdp ? lo : hi) = s;
  }
  auto capped = test::run_json(hw + " --set power.tdp=" + std::to_string(tdp) + "W");
  ASSERT_FALSE(capped.is_null());
  const auto& pw = capped["power"];
  EXPECT_TRUE(pw["capped"].get<bool>());
  // Bisection to 1 % of the clock, from below: at most 1 % under the exact share.
  EXPECT_LE(pw["clock_share"].get<double>(), lo + 1e-3);
  EXPECT_GE(pw["clock_share"].get<double>(), lo - 0.011);
  EXPECT_DOUBLE_EQ(pw["clock_hz"].get<double>(),
                   pw["clock_share"].get<double>() * pw["nominal_clock_hz"].get<double>());
  EXPECT_LE(capped["average_power_w"].get<double>(), tdp * 1.01);
  // Compute-bound: the run takes about t0 / s.
  EXPECT_NEAR(capped["step_period_s"].get<double>(), t0 / pw["clock_share"].get<double>(),
              0.03 * t0 / pw["clock_share"].get<double>());
  // A limit the run fits under changes nothing.
  auto loose = test::run_json(hw + " --set power.tdp=" + std::to_string(1.01 * p1) + "W");
  ASSERT_FALSE(loose.is_null());
  EXPECT_FALSE(loose["power"]["capped"].get<bool>());
  EXPECT_DOUBLE_EQ(loose["step_period_s"].get<double>(), t0);
  // Below what even the lowest clock draws: that clock, power above the limit.
  auto floor = test::run_json(hw + " --set power.tdp=" + std::to_string(0.5 * L) + "W");
  ASSERT_FALSE(floor.is_null());
  EXPECT_DOUBLE_EQ(floor["power"]["clock_share"].get<double>(), 0.3);
  EXPECT_GT(floor["average_power_w"].get<double>(), 0.5 * L);
}

}  // namespace
}  // namespace bc
