#include "sim/report/report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <tuple>

#include "models/action_ids.h"
#include "sim/mapping/energy.h"
#include "sim/mapping/mapper.h"
#include "sim/report/derived.h"

namespace bc {

nlohmann::json build_report(const HwConfig& hw, const Trace& trace, const Program& prog,
                            const SimResult& sim) {
  using nlohmann::json;
  const auto catalog = action_catalog(hw);
  const auto areas = component_areas(hw);
  const int na = sim.num_actions;

  // Tokens produced by this step: decode makes one per sequence, prefill
  // processes batch x seq prompt tokens.
  double tokens = 1;
  if (trace.workload.contains("batch")) {
    double b = trace.workload["batch"].get<double>();
    bool prefill = trace.workload.value("phase", "decode") == "prefill";
    tokens = prefill ? b * trace.workload.value("seq", 1.0) : b;
  }

  // A system: each simulated chip stands for its stage's tensor ranks in every
  // replica (they do the same work); link counts already cover every rank. With
  // pipelining, several steps are simulated: energy is per step, time per step
  // is the steady-state period between the last two.
  const json wl = trace.workload.is_object() ? trace.workload : json::object();
  const json sys = wl.value("system", json::object());
  const double ranks = sys.empty() ? 1.0 : sys.value("tensor", 1.0) * sys.value("replicas", 1.0);
  const double replicas = sys.value("replicas", 1.0), active = sys.value("active_chips", 1.0);
  const int64_t mbs = sys.value("microbatches", int64_t{1}),
                steps = sys.value("simulated_steps", int64_t{1});
  std::vector<double> step_end(static_cast<size_t>(steps), 0.0);
  for (size_t i = 0; i < prog.ops.size(); ++i) {
    auto& e =
        step_end[static_cast<size_t>(std::min<int64_t>(prog.ops[i].microbatch / mbs, steps - 1))];
    e = std::max(e, sim.ops[i].end_s);
  }
  const double first_step = step_end[0];
  const double period = steps > 1 ? step_end[steps - 1] - step_end[steps - 2] : first_step;

  // Chips an action count of the simulated chip stands for: its ranks, except
  // link counts, which already cover every rank.
  auto chips_of = [&](int a) { return a == kLinkByte || a == kGlobalLinkByte ? 1.0 : ranks; };
  // Total counts per action over all ops, for one step of the whole system.
  std::vector<double> totals(na, 0.0);
  for (size_t o = 0; o < prog.ops.size(); ++o)
    for (int a = 0; a < na; ++a)
      totals[a] += sim.op_counts[o * na + a] * chips_of(a) / static_cast<double>(steps);

  json report;
  report["schema"] = "bitcycle-report";
  report["version"] = 1;
  report["hw"] = {{"name", hw.name}, {"file", hw.path}};
  report["workload"] = trace.workload;
  report["model"] = trace.model;

  std::map<std::string, double> dyn, leak, area;
  json actions = json::array();
  double dynamic = 0;
  for (int a = 0; a < na; ++a) {
    const ActionEntry& e = catalog[a];
    // An absent component (no DDR, no chip links, no shared SRAM) keeps its
    // counter slot but has no library entry and nothing to count: it is left
    // out of the breakdowns rather than listed at 0 J.
    if (e.library.empty()) continue;
    double ej = totals[a] * e.energy_j;
    dynamic += ej;
    dyn[e.component] += ej;
    actions.push_back(json{{"component", e.component},
                           {"action", e.action},
                           {"library", e.library},
                           {"count", totals[a]},
                           {"energy_per_action_j", e.energy_j},
                           {"energy_j", ej},
                           {"source", e.source}});
  }
  double leakage = 0, area_m2 = 0;
  json area_list = json::array();
  for (const auto& c : areas) {
    double lj = c.leakage_w * active * period;  // every active chip leaks for a step
    leakage += lj;
    leak[c.component] += lj;
    area[c.component] += c.area_m2;
    area_m2 += c.area_m2;
    area_list.push_back({{"component", c.component},
                         {"area_mm2", c.area_m2 * 1e6},
                         {"leakage_w", c.leakage_w},
                         {"how", c.how}});
  }
  // The board outside the chip draws its power on every active chip's board
  // for the whole step.
  const double board = hw.board_power_w * active * period;
  double energy = dynamic + leakage + board;
  const bool prefill = wl.value("phase", "decode") == "prefill";
  const double per_user = prefill ? wl.value("seq", 1.0) : 1.0;
  // Time on the chip-to-chip links: the union of the collectives' intervals.
  std::vector<std::pair<double, double>> comm;
  for (size_t i = 0; i < prog.ops.size(); ++i)
    if (!prog.ops[i].collective.empty() && sim.ops[i].end_s > sim.ops[i].start_s)
      comm.push_back({sim.ops[i].start_s, sim.ops[i].end_s});
  std::sort(comm.begin(), comm.end());
  double comm_s = 0, reach = 0;
  for (auto [b, e] : comm) {
    b = std::max(b, reach);
    if (e > b) comm_s += e - b, reach = e;
  }
  report["latency_s"] = first_step;  // one step, from an empty pipeline
  report["step_period_s"] = period;  // steady state: one step every period
  report["tokens"] = tokens * replicas;
  report["tokens_per_s"] = period > 0 ? tokens * replicas / period : 0;
  report["tokens_per_s_per_user"] = period > 0 ? per_user / period : 0;
  report["token_latency_s"] = prefill ? first_step / per_user : period;
  report["communication_s"] = comm_s;
  report["communication_share"] = sim.latency_s > 0 ? comm_s / sim.latency_s : 0;
  report["energy_j"] = energy;
  report["dynamic_energy_j"] = dynamic;
  report["leakage_energy_j"] = leakage;
  report["board_energy_j"] = board;
  report["power"] = {{"board_w", hw.board_power_w},   {"tdp_w", hw.tdp_w},
                     {"clock_hz", hw.freq_hz},        {"nominal_clock_hz", hw.nominal_freq_hz},
                     {"clock_share", hw.clock_scale}, {"capped", hw.clock_scale < 1.0}};
  report["energy_per_token_j"] = energy / (tokens * replicas);
  report["average_power_w"] = period > 0 ? energy / period : 0;
  report["area_mm2"] = area_m2 * 1e6;
  if (!sys.empty()) {
    report["system"] = sys;
    report["system"]["area_mm2"] = area_m2 * 1e6 * sys.value("chips", 1.0);
  }
  report["weights"] = {{"placement", prog.weight_placement},
                       {"bytes", prog.weight_bytes},
                       {"resident_bytes_per_core", prog.resident_bytes_per_core}};

  json be = json::object(), bd = json::object(), bl = json::object(), ba = json::object();
  for (const auto& [k, v] : dyn) {
    be[k] = v + leak[k];
    bd[k] = v;
  }
  for (const auto& [k, v] : leak) {
    if (!be.contains(k)) be[k] = v, bd[k] = 0.0;
    bl[k] = v;
  }
  if (board > 0) be["board"] = board;
  for (const auto& [k, v] : area) ba[k] = v * 1e6;
  report["breakdown"] = {
      {"energy_j", be}, {"dynamic_energy_j", bd}, {"leakage_energy_j", bl}, {"area_mm2", ba}};

  json ops = json::array();
  // Global-memory traffic (DRAM, shared SRAM, DDR; reads and writes) per op,
  // and the tensors a dataflow layer kept in its core groups' SRAM.
  auto global_bytes = [&](size_t i) {
    double b = 0;
    for (int t = 0; t < kTiers; ++t)
      b += sim.op_counts[i * na + tier_read_action(t)] +
           sim.op_counts[i * na + tier_write_action(t)];
    return b;
  };
  double global_total = 0, streamed = 0, backpressure_s = 0;
  int64_t groups = 0;
  for (const auto& core : prog.cores)
    for (const CoreOp& co : core)
      for (const Tile& t : co.tiles) streamed += t.store_bytes[kStream] * t.repeat;
  for (size_t i = 0; i < prog.ops.size(); ++i) {
    global_total += global_bytes(i);
    backpressure_s += sim.ops[i].backpressure_cycles / hw.freq_hz;
    if (prog.ops[i].core_count > 0 && prog.ops[i].core_base == 0) ++groups;  // one per layer
  }
  for (size_t i = 0; i < prog.ops.size(); ++i) {
    const OpPlan& p = prog.ops[i];
    const OpResult& r = sim.ops[i];
    // On a system the op runs on every chip its simulated chip stands for (its
    // stage's tensor ranks in every replica), as `totals` counts it: the ops'
    // energies add up to the dynamic energy of the simulated steps.
    double e = 0;
    for (int a = 0; a < na; ++a) e += sim.op_counts[i * na + a] * catalog[a].energy_j * chips_of(a);
    ops.push_back(
        {{"name", p.name},
         {"kind", op_kind_name(p.kind)},
         {"units", p.units},
         {"mapping", p.mapping},
         {"start_s", r.start_s},
         {"end_s", r.end_s},
         {"latency_s", r.end_s - r.start_s},
         {"compute_cycles", r.compute_cycles},
         {"memory_stall_cycles", r.memory_stall_cycles},
         {"dependency_stall_cycles", r.dependency_stall_cycles},
         {"precompute_cycles", r.precompute_cycles},
         {"backpressure_stall_cycles", r.backpressure_cycles},
         {"critical_core", r.critical_core},
         {"cores", p.core_count > 0 ? p.core_count : hw.cores()},
         {"first_core", p.core_base},
         {"output_to", level_name(p.out_level)},
         {"flops", p.flops},
         {"dram_bytes", sim.op_counts[i * na + kDramRead] + sim.op_counts[i * na + kDramWrite]},
         {"global_memory_bytes", global_bytes(i)},
         {"estimate_s", p.est_cycles / hw.freq_hz},
         {"estimate_bound", p.est_bound},
         {"energy_j", e}});
  }
  report["ops"] = ops;
  // The mapper's estimate beside the simulation: the same resources without
  // queueing, so a ratio above 1 is contention (or an effect the estimate
  // leaves out) and the summary shows how far the closed form can be trusted.
  {
    double est_total = 0, sim_total = 0, worst = 1, log_sum = 0;
    int n = 0;
    std::string worst_op;
    for (size_t i = 0; i < prog.ops.size(); ++i) {
      const double est = prog.ops[i].est_cycles / hw.freq_hz;
      const double t = sim.ops[i].end_s - sim.ops[i].start_s;
      if (est <= 0 || t <= 0) continue;
      est_total += est, sim_total += t, ++n;
      const double r = t / est;
      log_sum += std::log(r);
      if (std::fabs(std::log(r)) > std::fabs(std::log(worst)))
        worst = r, worst_op = prog.ops[i].name;
    }
    report["estimate"] = {{"ops", n},
                          {"estimate_s", est_total},
                          {"simulated_s", sim_total},
                          {"ratio", est_total > 0 ? sim_total / est_total : 0},
                          {"geomean_ratio", n > 0 ? std::exp(log_sum / n) : 0},
                          {"worst_ratio", worst},
                          {"worst_op", worst_op}};
  }
  report["execution"] = {{"style", prog.execution},
                         {"global_memory_bytes", global_total},
                         {"streamed_tensor_bytes", streamed},
                         {"stream_pull_bytes", sim.stream_bytes},
                         {"backpressure_stall_s", backpressure_s},
                         {"dataflow_layers", groups}};
  // A deterministic chip (no caches, no arbitration) runs the compiler's static
  // schedule: the mapper's per-op estimate is the timing. Where the simulated
  // op takes longer or shorter (contention the schedule did not foresee, fill
  // and drain), the report says so, op by op.
  if (hw.deterministic) {
    double sched = 0, simulated = 0;
    json departs = json::array();
    for (size_t i = 0; i < prog.ops.size(); ++i) {
      if (!prog.ops[i].collective.empty() || prog.ops[i].est_cycles <= 0) continue;
      const double s = prog.ops[i].est_cycles / hw.freq_hz;
      const double t = sim.ops[i].end_s - sim.ops[i].start_s;
      sched += s, simulated += t;
      if (std::fabs(t - s) > 0.01 * s)
        departs.push_back({{"op", prog.ops[i].name}, {"schedule_s", s}, {"simulated_s", t}});
    }
    report["static_schedule"] = {{"schedule_s", sched},
                                 {"simulated_s", simulated},
                                 {"departure", sched > 0 ? simulated / sched - 1 : 0},
                                 {"ops_departing_over_1_percent", departs.size()},
                                 {"departing_ops", departs}};
  }
  // Table precompute's share of latency: whole table-precompute ops, plus the
  // precompute cycles inside other ops (fused into a producer, or attention's).
  double pre_s = 0;
  for (size_t i = 0; i < prog.ops.size(); ++i)
    pre_s += prog.ops[i].table_precompute ? sim.ops[i].end_s - sim.ops[i].start_s
                                          : sim.ops[i].precompute_cycles / hw.freq_hz;
  report["precompute_share"] = sim.latency_s > 0 ? pre_s / sim.latency_s : 0;
  report["actions"] = actions;
  report["area"] = area_list;
  auto share = [&](double busy_s) { return sim.latency_s > 0 ? busy_s / sim.latency_s : 0; };
  report["utilization"] = {{"noc_busiest_link", share(sim.noc_link_busy_s)},
                           {"dma_busiest_engine", share(sim.dma_busy_s)},
                           {"chip_link_busiest", share(sim.chip_link_busy_s)}};
  for (const TierType& t : tier_types())  // e.g. dram_busiest_channel, shared_sram_busiest_slice
    report["utilization"][std::string(t.key) + "_busiest_" + (t.on_chip ? "slice" : "channel")] =
        share(sim.tier_channel_busy_s[t.level]);
  // Busy time of each unit, summed over every core of every simulated chip (a
  // run's --timeline slices on a unit's tracks add up to it).
  json unit_busy = json::object();
  for (size_t u = 0; u < hw.units.size() && u < sim.unit_busy_s.size(); ++u)
    unit_busy[hw.units[u].name] = sim.unit_busy_s[u];
  report["unit_busy_s"] = unit_busy;
  report["technology"] = {{"node_m", hw.node_m},
                          {"frequency_hz", hw.freq_hz},
                          {"scaling_source", hw.lib->scaling_source()},
                          {"library", hw.lib->path()}};
  report["config"] = hw.resolved_tree;
  report["derived"] = derived_values(hw);
  report["trace_totals"] = trace_totals(trace);
  report["sim"] = {
      {"events", sim.events},
      {"wall_s", sim.wall_s},
      {"events_per_s", sim.wall_s > 0 ? static_cast<double>(sim.events) / sim.wall_s : 0},
      {"tile_tasks", [&] {
         double n = 0;
         for (const auto& c : prog.cores)
           for (const auto& co : c)
             for (const auto& t : co.tiles) n += t.repeat;
         return n;
       }()}};
  return report;
}

namespace {
std::string si(double v, const char* unit) {
  const char* pre[] = {"p", "n", "u", "m", "", "k", "M", "G", "T", "P"};
  int i = 4;
  double a = std::fabs(v);
  if (a > 0) {
    while (a >= 1000 && i < 9) a /= 1000, v /= 1000, ++i;
    while (a < 1 && i > 0) a *= 1000, v *= 1000, --i;
  }
  std::ostringstream os;
  os << std::setprecision(4) << v << " " << pre[i] << unit;
  return os.str();
}
}  // namespace

nlohmann::json execution_summary(const nlohmann::json& r) {
  const double f = r["config"]["frequency_hz"].get<double>();
  double elementwise = 0, mem_stall = 0;
  for (const auto& o : r["ops"]) {
    if (o["kind"] == "elementwise") elementwise += o["latency_s"].get<double>();
    mem_stall += o["memory_stall_cycles"].get<double>() / f;
  }
  return {{"latency_s", r["latency_s"]},
          {"step_period_s", r["step_period_s"]},
          {"energy_per_token_j", r["energy_per_token_j"]},
          {"global_memory_bytes", r["execution"]["global_memory_bytes"]},
          {"elementwise_s", elementwise},
          {"memory_stall_s", mem_stall}};
}

void add_kernel_comparison(nlohmann::json& r, const nlohmann::json& kernel) {
  auto& x = r["execution"];
  if (kernel.contains("error")) {  // e.g. a tile that fits only a dataflow core group
    x["kernel"] = kernel;
    x["why"] = "kernel-by-kernel cannot run this workload on this chip: " +
               kernel["error"].get<std::string>();
    return;
  }
  const double tk = kernel["step_period_s"].get<double>(), td = r["step_period_s"].get<double>();
  const double gk = kernel["global_memory_bytes"].get<double>(),
               gd = x["global_memory_bytes"].get<double>();
  x["kernel"] = kernel;
  x["speedup"] = td > 0 ? tk / td : 0;
  std::ostringstream w;
  w << std::setprecision(3) << "kernel-by-kernel takes " << si(tk, "s") << ", dataflow "
    << si(td, "s") << " (" << (td > 0 ? tk / td : 0) << "x). Kernel mode sends every "
    << "intermediate through global memory (" << si(gk, "B") << " of traffic against "
    << si(gd, "B") << "; " << si(x["streamed_tensor_bytes"].get<double>(), "B")
    << " of intermediates stay in SRAM here) and runs one op at a time: its element-wise ops "
    << "alone take " << si(kernel["elementwise_s"].get<double>(), "s") << " (" << std::fixed
    << std::setprecision(1) << (tk > 0 ? 100 * kernel["elementwise_s"].get<double>() / tk : 0)
    << " %), its ops stall on memory for " << si(kernel["memory_stall_s"].get<double>(), "s")
    << ". Dataflow runs a layer's ops at once on core groups of fewer cores each, stalled "
    << si(x["backpressure_stall_s"].get<double>(), "s") << " by back-pressure.";
  x["why"] = w.str();
}

std::string render_table(const nlohmann::json& r, int top_ops) {
  std::ostringstream os;
  // A hand-written trace may have no model or workload section.
  const nlohmann::json none = nlohmann::json::object();
  const auto& w = r["workload"].is_object() ? r["workload"] : none;
  const auto& model = r["model"].is_object() ? r["model"] : none;
  os << "BitCycle: " << model.value("name", std::string("trace")) << " "
     << w.value("phase", std::string("decode")) << ", batch " << w.value("batch", 1) << ", context "
     << w.value("context", 0);
  if (w.value("phase", std::string("")) == "prefill") os << ", seq " << w.value("seq", 0);
  os << ", " << w.value("quant", std::string("")) << "\n";
  os << "hardware: " << r["hw"]["name"].get<std::string>() << " ("
     << r["hw"]["file"].get<std::string>() << ")\n\n";
  double tokens = r["tokens"].get<double>();
  auto row = [&](const std::string& k, const std::string& v) {
    os << "  " << std::left << std::setw(26) << k << v << "\n";
  };
  auto num = [](double v) {
    std::ostringstream s;
    s << std::setprecision(5) << v;
    return s.str();
  };
  if (r.contains("system")) {
    const auto& s = r["system"];
    std::ostringstream d;
    d << s["chips"].get<int64_t>() << " chips (" << s["topology"].get<std::string>() << "): tensor "
      << s["tensor"].get<int64_t>() << " x pipeline " << s["pipeline"].get<int64_t>() << " x "
      << s["replicas"].get<int64_t>() << " replicas, " << s["microbatches"].get<int64_t>()
      << " microbatches";
    row("system", d.str());
  }
  row("latency per step", si(r["latency_s"].get<double>(), "s"));
  if (std::fabs(r["step_period_s"].get<double>() - r["latency_s"].get<double>()) >
      1e-6 * r["latency_s"].get<double>())
    row("steady-state step", si(r["step_period_s"].get<double>(), "s") + " (pipeline full)");
  row("latency per token", si(r["token_latency_s"].get<double>(), "s"));
  row("tokens/s", num(r["tokens_per_s"].get<double>()) + " (system), " +
                      num(r["tokens_per_s_per_user"].get<double>()) + " per user");
  if (r["communication_share"].get<double>() > 0) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << 100 * r["communication_share"].get<double>()
      << " % of the time (" << si(r["communication_s"].get<double>(), "s") << ")";
    row("chip-to-chip comm.", s.str());
  }
  row("energy per token", si(r["energy_per_token_j"].get<double>(), "J"));
  std::vector<std::pair<double, std::string>> e;
  for (auto& [k, v] : r["breakdown"]["energy_j"].items()) e.push_back({v.get<double>(), k});
  std::sort(e.rbegin(), e.rend());
  double et = r["energy_j"].get<double>();
  for (auto& [v, k] : e) {
    std::ostringstream s;
    s << si(v / tokens, "J") << "  (" << std::fixed << std::setprecision(1)
      << (et > 0 ? 100 * v / et : 0) << " %)";
    row("  " + k, s.str());
  }
  row("average power", si(r["average_power_w"].get<double>(), "W"));
  if (r.contains("power") && r["power"].value("capped", false)) {
    const auto& pw = r["power"];
    std::ostringstream s;
    s << si(pw["clock_hz"].get<double>(), "Hz") << " of "
      << si(pw["nominal_clock_hz"].get<double>(), "Hz")
      << ": lowered to keep the board under power.tdp = " << si(pw["tdp_w"].get<double>(), "W");
    row("clock (power limit)", s.str());
  }
  if (r["execution"]["style"] == "dataflow") {
    const auto& x = r["execution"];
    row("execution", "dataflow: " + si(x["streamed_tensor_bytes"].get<double>(), "B") +
                         " of intermediates streamed through SRAM, " +
                         si(x["global_memory_bytes"].get<double>(), "B") +
                         " global-memory traffic");
    if (x.contains("kernel")) row("  vs kernel-by-kernel", x["why"].get<std::string>());
  }
  if (r.contains("static_schedule")) {
    const auto& s = r["static_schedule"];
    std::ostringstream d;
    d << si(s["schedule_s"].get<double>(), "s") << " scheduled, "
      << si(s["simulated_s"].get<double>(), "s") << " simulated (" << std::showpos << std::fixed
      << std::setprecision(1) << 100 * s["departure"].get<double>() << std::noshowpos << " %), "
      << s["ops_departing_over_1_percent"].get<size_t>() << " ops depart by > 1 %";
    row("static schedule", d.str());
  }
  row("weights", si(r["weights"]["bytes"].get<double>(), "B") + " in " +
                     r["weights"]["placement"].get<std::string>());
  if (r["precompute_share"].get<double>() > 0) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << 100 * r["precompute_share"].get<double>()
      << " % of latency";
    row("LUT table precompute", s.str());
  }
  {
    std::ostringstream s;
    s << std::fixed << std::setprecision(2) << r["area_mm2"].get<double>() << " mm2";
    row("chip area", s.str());
  }
  for (auto& a : r["area"]) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(2) << a["area_mm2"].get<double>() << " mm2  ("
      << a["how"].get<std::string>() << ")";
    row("  " + a["component"].get<std::string>(), s.str());
  }
  if (r.contains("derived") && r["derived"].contains("density"))
    os << render_density(r["derived"]["density"], "  ");
  const auto& u = r["utilization"];
  {
    // The memory tiers the chip has (an absent one is not shown busy at 0 %).
    std::ostringstream s;
    s << std::fixed << std::setprecision(1);
    const auto& parts = r["breakdown"]["area_mm2"];
    for (const TierType& t : tier_types()) {
      const std::string item = t.on_chip ? "slice" : "channel";
      if (parts.contains(t.key))
        s << 100 * u[std::string(t.key) + "_busiest_" + item].get<double>() << " % " << t.label
          << " " << item << ", ";
    }
    s << 100 * u["noc_busiest_link"].get<double>() << " % NoC link";
    row("busiest resources", s.str());
  }
  if (r.contains("estimate") && r["estimate"]["ops"].get<int>() > 0) {
    // The cost model beside the simulation: above 1, contention.
    const auto& e = r["estimate"];
    std::ostringstream s;
    s << std::fixed << std::setprecision(3) << si(e["estimate_s"].get<double>(), "s")
      << " summed over ops, simulated / estimate " << e["ratio"].get<double>()
      << " (furthest: " << e["worst_op"].get<std::string>() << ", "
      << e["worst_ratio"].get<double>() << ")";
    row("cost-model estimate", s.str());
  }
  if (top_ops > 0) {
    std::vector<const nlohmann::json*> ops;
    for (const auto& o : r["ops"]) ops.push_back(&o);
    std::sort(ops.begin(), ops.end(), [](const nlohmann::json* a, const nlohmann::json* b) {
      return a->at("latency_s").get<double>() > b->at("latency_s").get<double>();
    });
    os << "\n  slowest ops (of " << ops.size()
       << ")              latency    compute     mem-stall   dep-stall  (cycles)   estimate  "
          "bound\n";
    for (int i = 0; i < top_ops && i < static_cast<int>(ops.size()); ++i) {
      const auto& o = *ops[i];
      os << "  " << std::left << std::setw(34) << o["name"].get<std::string>().substr(0, 33)
         << std::right << std::setw(10) << si(o["latency_s"].get<double>(), "s") << std::setw(12)
         << static_cast<long long>(o["compute_cycles"].get<double>()) << std::setw(12)
         << static_cast<long long>(o["memory_stall_cycles"].get<double>()) << std::setw(12)
         << static_cast<long long>(o["dependency_stall_cycles"].get<double>()) << std::setw(19)
         << (o.contains("estimate_s") ? si(o["estimate_s"].get<double>(), "s") : std::string("-"))
         << "  " << (o.contains("estimate_bound") ? o["estimate_bound"].get<std::string>() : "")
         << "\n";
    }
  }
  return os.str();
}

std::string render_density(const nlohmann::json& d, const std::string& indent) {
  std::ostringstream os;
  auto line = [&](const std::string& name, const nlohmann::json& e) {
    os << indent << std::left << std::setw(24) << name << std::right << std::fixed
       << std::setprecision(3) << std::setw(10) << e["peak_ops_per_s"].get<double>() / 1e12
       << std::setw(11) << std::setprecision(2) << e["area_mm2"].get<double>() << std::setw(12)
       << std::setprecision(3) << e["peak_ops_per_s_per_mm2"].get<double>() / 1e12 << std::setw(12)
       << e["peak_ops_per_s_per_w"].get<double>() / 1e12 << "\n";
  };
  os << indent << std::left << std::setw(24) << "peak (unit.format)" << std::right << std::setw(10)
     << "Tops/s" << std::setw(11) << "mm2" << std::setw(12) << "Tops/s/mm2" << std::setw(12)
     << "Tops/s/W"
     << "\n";
  for (auto& [k, e] : d["units"].items()) line(k, e);
  for (auto& [k, e] : d["chip"].items())
    line("chip." + k + " (" + e["unit"].get<std::string>() + ")", e);
  return os.str();
}

std::string render_csv(const nlohmann::json& r) {
  std::ostringstream os;
  const std::vector<std::string> cols = {"name",
                                         "kind",
                                         "units",
                                         "latency_s",
                                         "start_s",
                                         "end_s",
                                         "compute_cycles",
                                         "memory_stall_cycles",
                                         "dependency_stall_cycles",
                                         "precompute_cycles",
                                         "backpressure_stall_cycles",
                                         "critical_core",
                                         "cores",
                                         "first_core",
                                         "output_to",
                                         "flops",
                                         "dram_bytes",
                                         "global_memory_bytes",
                                         "energy_j",
                                         "estimate_s",
                                         "estimate_bound",
                                         "mapping"};
  for (size_t i = 0; i < cols.size(); ++i) os << (i ? "," : "") << cols[i];
  os << "\n";
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  for (const auto& o : r["ops"]) {
    for (size_t i = 0; i < cols.size(); ++i) {
      const auto& v = o[cols[i]];
      os << (i ? "," : "");
      if (v.is_string())
        os << quote(v.get<std::string>());
      else
        os << std::setprecision(12) << v.get<double>();
    }
    os << "\n";
  }
  return os.str();
}

OutputFile::OutputFile(std::string path, std::string option)
    : path_(std::move(path)), option_(std::move(option)) {
  if (path_.empty()) return;
  std::error_code ec;
  if (std::filesystem::is_directory(path_, ec)) fail("it is a directory", 0);
  struct stat st {};
  if (stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // A character device or a FIFO (/dev/null, /dev/stdout, a pipe) is written
    // through, not replaced by a file; a block device is a disk, never an output.
    if (S_ISBLK(st.st_mode)) fail("it is a block device", 0);
    // Non-blocking: a FIFO nobody reads is an error now, not a hang.
    fd_ = open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      fail(err == ENXIO ? "nothing reads from it" : "cannot open it", err == ENXIO ? 0 : err);
    }
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    direct_ = true;
    return;
  }
  // A symbolic link names where the output goes: the file it points to is
  // replaced, not the link (followed by hand, as it may point nowhere yet).
  for (int depth = 0; std::filesystem::is_symlink(path_, ec); ++depth) {
    if (depth == 40) fail("too many levels of symbolic links", ELOOP);
    const std::filesystem::path link(path_), to = std::filesystem::read_symlink(link, ec);
    if (ec) fail("cannot read the symbolic link", ec.value());
    path_ = (to.is_absolute() ? to : link.parent_path() / to).string();
  }
  if (std::filesystem::is_directory(path_, ec)) fail("it is a directory", 0);
  // An unnamed file in the output's directory (O_TMPFILE): until commit()
  // links it in, it has no name, so a run killed at any point before then
  // (even by SIGKILL) leaves nothing behind. File systems without O_TMPFILE
  // get a named temporary, removed on any exit but a kill.
  std::filesystem::path dir = std::filesystem::path(path_).parent_path();
  if (dir.empty()) dir = ".";
  fd_ = open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);  // mode under the umask
  if (fd_ >= 0) return;
  tmp_ = path_ + ".tmp.XXXXXX";  // same directory: the rename cannot cross file systems
  fd_ = mkstemp(tmp_.data());
  if (fd_ < 0) {
    const int err = errno;
    tmp_.clear();
    fail("cannot create a file in its directory", err);
  }
  // mkstemp makes the file private (0600); an output gets the usual umask mode.
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd_, 0666 & ~mask);
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) close(fd_);
  if (!tmp_.empty()) unlink(tmp_.c_str());
}

void OutputFile::write(const std::string& text) {
  stage(text);
  commit();
}

void OutputFile::stage(const std::string& text) {
  if (path_.empty()) return;
  if (direct_) {  // written through at commit(), when every output is staged
    pending_ = text;
    return;
  }
  write_all(text);
  if (!tmp_.empty()) {  // a named temporary: done with its descriptor
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) fail("write failed", errno);
  } else if (fsync(fd_) != 0 && errno != EINVAL) {  // unnamed: kept open until linked in
    fail("write failed", errno);
  }
}

void OutputFile::commit() {
  if (path_.empty()) return;
  if (direct_) {
    if (fd_ < 0) return;  // committed already
    write_all(pending_);
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) fail("write failed", errno);
    return;
  }
  if (tmp_.empty()) {
    if (fd_ < 0) return;  // committed already
    // Give the unnamed file a unique name beside the output and rename it over
    // the output at once (a link cannot replace an existing file).
    const std::string proc = "/proc/self/fd/" + std::to_string(fd_);
    for (int attempt = 0; tmp_.empty(); ++attempt) {
      std::string name = path_ + ".tmp." + std::to_string(getpid()) + "." + std::to_string(attempt);
      if (linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0)
        tmp_ = name;
      else if (errno != EEXIST || attempt > 100)
        fail("cannot create a file in its directory", errno);
    }
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) fail("write failed", errno);
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot replace it", errno);
  tmp_.clear();  // it is the output now
}

void OutputFile::write_all(const std::string& text) {
  for (size_t off = 0; off < text.size();) {
    const ssize_t n = ::write(fd_, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write failed", errno);
    off += static_cast<size_t>(n);
  }
}

std::string OutputFile::target() const {
  std::error_code ec;
  const std::filesystem::path t = std::filesystem::weakly_canonical(path_, ec);
  return ec ? path_ : t.string();
}

void check_distinct_outputs(const std::vector<const OutputFile*>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (!outputs[i]->empty() && !outputs[j]->empty() &&
          outputs[i]->target() == outputs[j]->target())
        fail_input(SourceLoc{"<command line>", 0, 0}, outputs[i]->option(),
                   "writes \"" + outputs[i]->target() + "\", which " + outputs[j]->option() +
                       " writes too: one would overwrite the other",
                   "give each output its own file");
}

void OutputFile::fail(const std::string& what, int err) {
  fail_input(SourceLoc{"<command line>", 0, 0}, option_,
             "cannot write \"" + path_ + "\": " + what +
                 (err ? std::string(": ") + std::strerror(err) : ""),
             "give a file in a directory that exists and is writable");
}

}  // namespace bc
