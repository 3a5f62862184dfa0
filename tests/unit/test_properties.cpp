// Properties every shipped config keeps, checked on the configs as shipped
// (a hand-made chip hides what a real one shows): a run's energy is the sum of
// its actions, leakage and board, down to each op; and a trace file run gives
// the report the model run gives. The monotone sweeps are in test_monotone.cpp.
#include <gtest/gtest.h>

#include <cmath>

#include "helpers.h"

namespace bc {
namespace {

struct Workload {
  std::string name, args;
  bool on_systems;  // a system's prefill takes minutes: its decode step covers the same code
};

const Workload kWorkloads[] = {{"decode-b1", "--phase decode --batch 1", true},
                               {"prefill-256", "--phase prefill --seq 256", false}};

bool is_system(const std::string& name) { return name.find("-x") != std::string::npos; }

class Properties : public ::testing::TestWithParam<std::string> {};

TEST_P(Properties, EnergyIsTheSumOfItsActions) {
  const std::string name = GetParam();
  const std::string cfg = project_root() + "/configs/hw/" + name;
  for (const Workload& w : kWorkloads) {
    if (is_system(name) && !w.on_systems) continue;
    int code = 0;
    const nlohmann::json r = test::run_json(
        "'" + cfg + "' --no-compare " + w.args + " " + test::model_args(name), &code);
    ASSERT_EQ(code, 0) << name << " " << w.name;
    const std::string at = name + " " + w.name;
    const double dynamic = r["dynamic_energy_j"].get<double>(), total = r["energy_j"].get<double>();
    ASSERT_GT(dynamic, 0) << at;
    double actions = 0;
    for (const auto& a : r["actions"]) {
      // Each action's energy is its count times its library energy, exactly.
      EXPECT_EQ(a["energy_j"].get<double>(),
                a["count"].get<double>() * a["energy_per_action_j"].get<double>())
          << at << ": " << a["component"] << "." << a["action"];
      EXPECT_FALSE(a["source"].get<std::string>().empty()) << at;
      actions += a["energy_j"].get<double>();
    }
    EXPECT_NEAR(actions, dynamic, dynamic * 1e-12) << at;
    // Leakage: every part of every active chip for a step period.
    const double active = r.contains("system") ? r["system"]["active_chips"].get<double>() : 1.0;
    const double period = r["step_period_s"].get<double>();
    double leak_w = 0;
    for (const auto& c : r["area"]) leak_w += c["leakage_w"].get<double>();
    EXPECT_NEAR(r["leakage_energy_j"].get<double>(), leak_w * active * period,
                leak_w * active * period * 1e-9)
        << at;
    EXPECT_NEAR(r["board_energy_j"].get<double>(),
                r["power"]["board_w"].get<double>() * active * period, total * 1e-12)
        << at;
    EXPECT_NEAR(total,
                dynamic + r["leakage_energy_j"].get<double>() + r["board_energy_j"].get<double>(),
                total * 1e-12)
        << at;
    // Down to each op (a system's op on every chip that runs it), over the
    // simulated steps of a pipeline.
    const double steps = r.contains("system") ? r["system"]["simulated_steps"].get<double>() : 1.0;
    double ops = 0;
    for (const auto& o : r["ops"]) ops += o["energy_j"].get<double>();
    EXPECT_NEAR(ops, dynamic * steps, dynamic * steps * 1e-9) << at;
    double by_component = 0;
    for (const auto& [k, v] : r["breakdown"]["energy_j"].items()) by_component += v.get<double>();
    EXPECT_NEAR(by_component, total, total * 1e-12) << at;
    EXPECT_NEAR(r["average_power_w"].get<double>(), total / period, total / period * 1e-12) << at;
  }
}

TEST_P(Properties, ATraceRunIsTheModelRun) {
  const std::string name = GetParam();
  const std::string cfg = project_root() + "/configs/hw/" + name;
  for (const Workload& w : kWorkloads) {
    if (is_system(name) && !w.on_systems) continue;
    const std::string at = name + " " + w.name;
    const std::string model = test::model_args(name);
    int code = 0;
    const nlohmann::json m =
        test::run_json("'" + cfg + "' --no-compare " + w.args + " " + model, &code);
    ASSERT_EQ(code, 0) << at;
    // A trace is one tensor rank's work; a pipelined system runs its stages
    // from the model (a trace holds one stage), so it has no trace run to compare.
    const double tensor = m.contains("system") ? m["system"]["tensor"].get<double>() : 1.0;
    if (m.contains("system") && m["system"]["pipeline"].get<double>() > 1) continue;
    const std::string tr = test::temp_path("trace.json");
    test::CliRun t = test::run_cli("trace " + w.args + " " + model + " --tp " +
                                   std::to_string(static_cast<int>(tensor)) + " -o '" + tr + "'");
    ASSERT_EQ(t.code, 0) << at << ": " << t.err;
    const nlohmann::json r =
        test::run_json("'" + cfg + "' --no-compare --trace '" + tr + "'", &code);
    ASSERT_EQ(code, 0) << at;
    for (const char* k : {"latency_s", "step_period_s", "tokens", "tokens_per_s", "energy_j",
                          "dynamic_energy_j", "energy_per_token_j", "average_power_w"})
      EXPECT_EQ(r[k].get<double>(), m[k].get<double>()) << at << ": " << k;
    ASSERT_EQ(r["ops"].size(), m["ops"].size()) << at;
    for (size_t i = 0; i < r["ops"].size(); ++i) {
      EXPECT_EQ(r["ops"][i]["name"], m["ops"][i]["name"]) << at;
      EXPECT_EQ(r["ops"][i]["latency_s"].get<double>(), m["ops"][i]["latency_s"].get<double>())
          << at << ": " << m["ops"][i]["name"];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ShippedConfigs, Properties, ::testing::ValuesIn(test::shipped_configs()),
                         test::config_test_name);

}  // namespace
}  // namespace bc
