// `bitcycle crosscheck HW.yaml [workload options]`: the same mapped program
// timed by the analytical mode (sim/analytical.h) and by the SystemC engine,
// op by op. Where nothing is contended the two agree; where they differ, the
// difference is what contention (queues on shared resources, which the closed
// form leaves out) or the estimate's simplifications cost that op.
#include <boost/program_options.hpp>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "sim/cli/cli.h"
#include "sim/cli/sweep.h"
#include "sim/config/hw_config.h"
#include "sim/engine/analytical.h"
#include "sim/engine/engine.h"
#include "sim/mapping/system.h"
#include "sim/report/report.h"
#include "workloads/generator.h"

namespace bc {
namespace po = boost::program_options;

int cmd_crosscheck(int argc, char** argv) {
  std::string hw_path = project_root() + "/configs/hw/default.yaml", json_path;
  std::vector<std::string> sets;
  // The workload options of `run` (same names and defaults).
  std::string model = "llama-3.1-8b", quant = "w8a8-int", phase = "decode";
  int64_t batch = 1, context = 4096, seq = 2048;
  bool no_lm_head = false, no_embedding = false;
  po::options_description d("bitcycle crosscheck options");
  d.add_options()("help,h", "show this help")(
      "hw", po::value(&hw_path)->default_value(hw_path, "configs/hw/default.yaml"),
      "hardware config file, or a shipped config's name (h100); also positional")(
      "set", po::value(&sets)->composing(), "override a config value: KEY.PATH=VALUE")(
      "model", po::value(&model)->default_value(model), "model name or .yaml path")(
      "quant", po::value(&quant)->default_value(quant), "quantization recipe")(
      "phase", po::value(&phase)->default_value(phase), "decode | prefill")(
      "batch", po::value(&batch)->default_value(batch), "sequences")(
      "context", po::value(&context)->default_value(context), "tokens in the KV cache")(
      "seq", po::value(&seq)->default_value(seq), "prefill: prompt tokens")(
      "no-lm-head", po::bool_switch(&no_lm_head), "leave out the final norm and LM head")(
      "no-embedding", po::bool_switch(&no_embedding), "leave out the embedding lookup")(
      "json", po::value(&json_path), "write the per-op comparison as JSON");
  po::positional_options_description pos;
  pos.add("hw", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, d, pos, vm,
                     "usage: bitcycle crosscheck [HW.yaml] [workload options]\n"))
    return 0;
  auto bad = [](const std::string& key, const std::string& msg) {
    fail_input(SourceLoc{"<command line>", 0, 0}, key, msg);
  };
  if (phase != "decode" && phase != "prefill") bad("--phase", "expected decode or prefill");
  if (batch < 1) bad("--batch", "must be >= 1");
  if (context < 0 || (phase == "decode" && context < 1))
    bad("--context", "must be >= 1 for decode");
  if (seq < 1) bad("--seq", "must be >= 1");

  OutputFile json_out(json_path, "--json");  // claimed before the work
  HwConfig hw = load_hw_config(resolve_hw(hw_path), sets);
  WorkloadSpec w;
  w.phase = phase, w.batch = batch, w.context = context, w.seq = seq;
  w.lm_head = !no_lm_head, w.embedding = !no_embedding;
  SystemPlan plan = map_system(load_model(model), load_quant(quant), w, hw);
  std::vector<AnalyticalOp> detail;
  SimResult an = analytical_simulate(hw, plan.prog, &detail);
  SimResult cy = simulate(hw, plan.prog);
  nlohmann::json ra = build_report(hw, plan.trace, plan.prog, an);
  nlohmann::json rc = build_report(hw, plan.trace, plan.prog, cy);

  // The table is printed after --json is written: an output that cannot be
  // written fails the run before it prints anything that looks like success.
  std::ostringstream table;
  nlohmann::json ops = nlohmann::json::array();
  table << std::left << std::setw(34) << "op" << std::right << std::setw(13) << "analytical"
        << std::setw(10) << "from" << std::setw(13) << "roofline" << std::setw(13) << "cycle"
        << std::setw(9) << "ratio"
        << "  bound\n";
  auto us = [](double s) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(2) << s * 1e6 << " us";
    return os.str();
  };
  for (size_t i = 0; i < plan.prog.ops.size(); ++i) {
    const OpPlan& p = plan.prog.ops[i];
    const double a = detail[i].cycles / hw.freq_hz, roof = detail[i].roofline_cycles / hw.freq_hz;
    const double c = cy.ops[i].end_s - cy.ops[i].start_s;
    const double ratio = a > 0 ? c / a : 0;
    ops.push_back({{"name", p.name},
                   {"kind", op_kind_name(p.kind)},
                   {"analytical_s", a},
                   {"source", detail[i].source},
                   {"mapper_s", detail[i].mapper_cycles / hw.freq_hz},
                   {"roofline_s", roof},
                   {"bound", detail[i].bound},
                   {"cycle_s", c},
                   {"cycle_over_analytical", ratio}});
    table << std::left << std::setw(34) << p.name.substr(0, 33) << std::right << std::setw(13)
          << us(a) << std::setw(10) << detail[i].source << std::setw(13) << us(roof)
          << std::setw(13) << us(c) << std::setw(9) << std::fixed << std::setprecision(3) << ratio
          << "  " << detail[i].bound << "\n";
  }
  const double la = ra["latency_s"].get<double>(), lc = rc["latency_s"].get<double>();
  const double ea = ra["energy_per_token_j"].get<double>(),
               ec = rc["energy_per_token_j"].get<double>();
  table << std::defaultfloat << "latency: analytical " << format_quantity(la, Dim::Time)
        << ", cycle " << format_quantity(lc, Dim::Time) << ", cycle / analytical "
        << std::setprecision(4) << (la > 0 ? lc / la : 0) << "\n"
        << "energy per token: analytical " << format_quantity(ea, Dim::Energy) << ", cycle "
        << format_quantity(ec, Dim::Energy) << ", cycle / analytical " << (ea > 0 ? ec / ea : 0)
        << "\n";
  {
    nlohmann::json out = {{"hw", hw.name},
                          {"latency_s", {{"analytical", la}, {"cycle", lc}}},
                          {"energy_per_token_j", {{"analytical", ea}, {"cycle", ec}}},
                          {"ops", ops}};
    json_out.write(out.dump(1) + "\n");
  }
  std::cout << table.str();
  return 0;
}

}  // namespace bc
