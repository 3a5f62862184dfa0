#include "sim/cli/cli.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "sim/cli/isolate.h"
#include "sim/cli/power_cap.h"
#include "sim/cli/progress.h"
#include "sim/cli/sweep.h"
#include "sim/cli/validate.h"
#include "sim/config/config_tree.h"
#include "sim/config/hw_config.h"
#include "sim/config/limits.h"
#include "sim/config/quantity.h"
#include "sim/engine/analytical.h"
#include "sim/engine/engine.h"
#include "sim/engine/timeline.h"
#include "sim/mapping/mapper.h"
#include "sim/mapping/system.h"
#include "sim/report/derived.h"
#include "sim/report/report.h"
#include "workloads/generator.h"
#include "workloads/model.h"

namespace bc {
namespace po = boost::program_options;
namespace fs = std::filesystem;

// --hw takes a config file, or the name of a shipped one (h100: configs/hw/h100.yaml),
// as --model and --quant take names. A name that is neither is one error with
// the nearest shipped names; a path that names no file is an error at --hw.
std::string resolve_hw(const std::string& arg) {
  std::error_code ec;
  const fs::path p(arg);
  if (fs::is_regular_file(p, ec)) return arg;
  if (arg.find('/') != std::string::npos || p.extension() == ".yaml" || p.extension() == ".yml" ||
      fs::exists(p, ec))  // a path: no file there (or a folder), said at the option
    fail_input(SourceLoc{"<command line>", 0, 0}, "--hw",
               (fs::exists(p, ec) ? "\"" + arg + "\" is not a file"
                                  : "no hardware config file \"" + arg + "\""),
               "give a config YAML file, or the name of a shipped one such as h100");
  const std::string dir = project_root() + "/configs/hw";
  const std::string file = dir + "/" + arg + ".yaml";
  if (fs::is_regular_file(file, ec)) return file;
  const std::vector<std::string> names = yaml_names(dir);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  const std::string near = nearest(arg, names);
  fail_input(SourceLoc{"<command line>", 0, 0}, "--hw", "no hardware config \"" + arg + "\"",
             (near.empty() ? "" : "did you mean \"" + near + "\"? ") + "shipped: " + list +
                 "; or give a config file path");
}

bool parse_options(int argc, char** argv, po::options_description& d,
                   po::positional_options_description& pos, po::variables_map& vm,
                   const char* usage) {
  po::store(po::command_line_parser(argc, argv).options(d).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n" << d << "\n";
    return false;
  }
  // An option given an empty text (--json "") is a mistake, not "no output".
  for (const auto& [name, v] : vm)
    if (const auto* text = boost::any_cast<std::string>(&v.value());
        text && text->empty() && !v.defaulted())
      fail_input(SourceLoc{"<command line>", 0, 0}, "--" + name, "is empty: expected a value",
                 "give the option a value, or leave it out");
  po::notify(vm);
  return true;
}

namespace {

const char* kUsage =
    "usage: bitcycle COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  run [HW.yaml]       simulate a workload on a chip (default: Llama-3.1-8B decode,\n"
    "                      batch 1, context 4096, w8a8-int, configs/hw/default.yaml)\n"
    "  explain HW.yaml     print the resolved config and derived values (peaks, SRAM,\n"
    "                      bandwidth, ridge points); --keys lists every config key\n"
    "  trace MODEL         write the trace of a model, recipe and serving shape\n"
    "  validate REF.csv    compare simulated with measured latencies (MAPE, Pearson r)\n"
    "  move [HW.yaml]      time to move a model's weights between memory tiers (e.g. DDR to HBM)\n"
    "  sweep SPEC.yaml     run a design-space sweep (parallel, resumable) into a results store\n"
    "  crosscheck HW.yaml  per-op time of the analytical mode against the cycle mode\n"
    "\n"
    "through the ./bitcycle launcher (Python in analysis/):\n"
    "  plot KIND RESULTS   figures: pareto, breakdown, area, roofline, heatmap, scaling,\n"
    "                      validation\n"
    "  table RESULTS       result rows as Markdown, LaTeX or CSV\n"
    "\n"
    "`bitcycle COMMAND --help` describes each command's options.\n";

std::string default_hw() { return project_root() + "/configs/hw/default.yaml"; }

struct WorkloadOpts {
  std::string model = "llama-3.1-8b", quant = "w8a8-int", phase = "decode", expert_load;
  int64_t batch = 1, seq = 2048;
  // Unset: decode attends a 4,096-token KV cache, a prefill starts from an empty
  // one (a prefix is something the user asks for, never a silent default).
  std::optional<int64_t> context;
  int64_t tp = 1;  // trace: one tensor-parallel rank's share
  bool no_lm_head = false, no_embedding = false;
};

void add_workload_options(po::options_description& d, WorkloadOpts& w) {
  d.add_options()("quant", po::value(&w.quant)->default_value(w.quant),
                  "quantization recipe: a name in workloads/quant/ or a .yaml path")(
      "phase", po::value(&w.phase)->default_value(w.phase), "decode | prefill")(
      "batch", po::value(&w.batch)->default_value(w.batch), "sequences in the batch")(
      "context", po::value<int64_t>()->notifier([&w](int64_t c) { w.context = c; }),
      "decode: tokens in the KV cache (default 4096); prefill: a cached prefix (default 0)")(
      "seq", po::value(&w.seq)->default_value(w.seq), "prefill: prompt tokens per sequence")(
      "no-lm-head", po::bool_switch(&w.no_lm_head), "leave out the final norm and LM head")(
      "no-embedding", po::bool_switch(&w.no_embedding), "leave out the embedding lookup")(
      "expert-load", po::value(&w.expert_load),
      "MoE: comma-separated share of routed tokens per expert (default uniform)");
}

struct Workload {
  ModelDesc model;
  QuantRecipe quant;
  WorkloadSpec spec;
};

Workload load_workload(const WorkloadOpts& o) {
  auto bad = [](const std::string& key, const std::string& msg) {
    fail_input(SourceLoc{"<command line>", 0, 0}, key, msg, "");
  };
  if (o.phase != "decode" && o.phase != "prefill")
    bad("--phase", "expected decode or prefill, got \"" + o.phase + "\"");
  if (o.batch <= 0) bad("--batch", "must be >= 1, got " + std::to_string(o.batch));
  if (o.batch > limits::kMaxBatch)
    bad("--batch", "must be <= " + std::to_string(limits::kMaxBatch) + " (the limit), got " +
                       std::to_string(o.batch));
  const int64_t context = o.context.value_or(o.phase == "prefill" ? 0 : 4096);
  if (o.phase == "decode" && context <= 0)
    bad("--context", "decode needs a context >= 1, got " + std::to_string(context));
  if (context < 0) bad("--context", "must be >= 0");
  if (context > limits::kMaxTokens)
    bad("--context", "must be <= " + std::to_string(limits::kMaxTokens) +
                         " tokens (the limit), got " + std::to_string(context));
  if (o.phase == "prefill" && o.seq <= 0)
    bad("--seq", "must be >= 1, got " + std::to_string(o.seq));
  if (o.phase == "prefill" && o.seq > limits::kMaxTokens)
    bad("--seq", "must be <= " + std::to_string(limits::kMaxTokens) + " tokens (the limit), got " +
                     std::to_string(o.seq));
  // Each factor is bounded above, so the product cannot overflow.
  const int64_t held = o.batch * (context + (o.phase == "prefill" ? o.seq : 1));
  if (held > limits::kMaxBatchTokens)
    bad("--batch", "batch x (context + seq) = " + std::to_string(held) + " tokens, more than " +
                       std::to_string(limits::kMaxBatchTokens) + " (the limit)");
  ModelDesc m = load_model(o.model);
  if (!m.unmapped_keys.empty()) {
    std::string keys;
    for (const auto& k : m.unmapped_keys) keys += (keys.empty() ? "" : ", ") + k;
    std::cerr << o.model << ": note: config.json keys not used by BitCycle: " << keys << "\n";
  }
  QuantRecipe q = load_quant(o.quant);
  WorkloadSpec w;
  w.tp = o.tp;
  if (!o.expert_load.empty()) {
    std::stringstream ss(o.expert_load);
    std::string item;
    while (std::getline(ss, item, ',')) {
      try {
        size_t used = 0;
        w.expert_load.push_back(std::stod(item, &used));
        if (used != item.size()) throw std::invalid_argument("x");
      } catch (const std::exception&) {
        bad("--expert-load", "expected comma-separated numbers, got \"" + item + "\"");
      }
    }
  }
  w.phase = o.phase;
  w.batch = o.batch;
  w.context = context;
  w.seq = o.seq;
  w.lm_head = !o.no_lm_head;
  w.embedding = !o.no_embedding;
  return {std::move(m), std::move(q), std::move(w)};
}

Trace make_trace(const WorkloadOpts& o) {
  Workload wl = load_workload(o);
  return generate_trace(wl.model, wl.quant, wl.spec);
}

int cmd_run(int argc, char** argv) {
  std::string hw_path = default_hw(), trace_path, json_path, csv_path, timeline_path, window;
  std::string fidelity = "cycle";
  std::vector<std::string> sets;
  WorkloadOpts w;
  int top = 10;
  int64_t timeline_limit = 500000;
  bool quiet = false, no_compare = false;
  po::options_description d("bitcycle run options");
  d.add_options()("help,h", "show this help")(
      "hw", po::value(&hw_path)->default_value(hw_path, "configs/hw/default.yaml"),
      "hardware config file, or a shipped config's name (h100: configs/hw/h100.yaml); also "
      "positional")("model", po::value(&w.model)->default_value(w.model),
                    "model: a name in workloads/models/ or a .yaml path")(
      "trace", po::value(&trace_path), "run a trace file instead of --model")(
      "set", po::value(&sets)->composing(), "override a config value: KEY.PATH=VALUE (repeatable)")(
      "json", po::value(&json_path), "write the full report as JSON")(
      "csv", po::value(&csv_path), "write one row per op as CSV")(
      "timeline", po::value(&timeline_path),
      "write a Chrome/Perfetto trace-event JSON of the run (ui.perfetto.dev)")(
      "timeline-limit", po::value(&timeline_limit)->default_value(timeline_limit),
      "timeline: keep at most this many slices, the first simulated (0: all)")(
      "timeline-window", po::value(&window),
      "timeline: keep slices starting in FROM:TO, times with units (e.g. 0us:50us)")(
      "top", po::value(&top)->default_value(top), "slowest ops shown in the table")(
      "quiet,q", po::bool_switch(&quiet), "print no table")(
      "no-compare", po::bool_switch(&no_compare),
      "dataflow: skip the kernel-by-kernel run the report compares with (for sweeps)")(
      "fidelity", po::value(&fidelity)->default_value(fidelity),
      "cycle (the SystemC engine) | analytical (closed form, no contention; sim/analytical.h)");
  add_workload_options(d, w);
  po::positional_options_description pos;
  pos.add("hw", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, d, pos, vm, "usage: bitcycle run [HW.yaml] [options]")) return 0;
  if (fidelity != "cycle" && fidelity != "analytical")
    fail_input(SourceLoc{"<command line>", 0, 0}, "--fidelity",
               "expected cycle or analytical, got \"" + fidelity + "\"", "");
  const bool analytical = fidelity == "analytical";
  if (analytical && !timeline_path.empty())
    fail_input(SourceLoc{"<command line>", 0, 0}, "--timeline",
               "a timeline records the engine's events: it needs --fidelity cycle", "");
  if (vm.count("trace")) {
    // A trace holds its workload: the options that would make one are refused,
    // not ignored.
    std::string given;
    for (const char* o : {"model", "quant", "phase", "batch", "context", "seq", "no-lm-head",
                          "no-embedding", "expert-load"})
      if (vm.count(o) && !vm[o].defaulted())
        given += (given.empty() ? "--" : ", --") + std::string(o);
    if (!given.empty())
      fail_input(SourceLoc{"<command line>", 0, 0}, "--trace",
                 "a trace holds its own workload: " + given + " cannot change it",
                 "give either --trace or the workload options, not both");
  }
  OutputFile json_out(json_path, "--json"), csv_out(csv_path, "--csv"),
      timeline_out(timeline_path, "--timeline");  // before the work
  check_distinct_outputs({&json_out, &csv_out, &timeline_out});

  if (top < 0)
    fail_input(SourceLoc{"<command line>", 0, 0}, "--top",
               "must be >= 0 (0: no table rows), got " + std::to_string(top));
  Timeline::Options topt;
  if (timeline_limit < 0)
    fail_input(SourceLoc{"<command line>", 0, 0}, "--timeline-limit",
               "must be >= 0 (0: no limit), got " + std::to_string(timeline_limit));
  topt.limit = static_cast<uint64_t>(timeline_limit);
  if (!window.empty()) {
    const size_t colon = window.find(':');
    auto bad_window = [&](const std::string& why) {
      fail_input(SourceLoc{"<command line>", 0, 0}, "--timeline-window", why,
                 "expected FROM:TO, times with units, e.g. 0us:50us (either side may be empty)");
    };
    if (colon == std::string::npos) bad_window("no ':' in \"" + window + "\"");
    auto time = [&](const std::string& t, Tick dflt) {
      if (t.empty()) return dflt;
      ParsedQuantity q = parse_quantity(t, Dim::Time);
      if (!q.error.empty()) bad_window("\"" + t + "\": " + q.error);
      if (q.value < 0) bad_window("\"" + t + "\" is before the run starts (at 0)");
      // A bound past the limit of every time an input gives (a window from
      // 1e300 s caught nothing, silently).
      if (q.value > limits::kMaxTimeS)
        bad_window("\"" + t + "\" is past " + format_quantity(limits::kMaxTimeS, Dim::Time) +
                   ", the largest time BitCycle accepts");
      return seconds_to_ticks(q.value);
    };
    topt.from = time(window.substr(0, colon), 0);
    topt.to = time(window.substr(colon + 1), ~Tick(0));
    if (topt.to <= topt.from) bad_window("the window \"" + window + "\" is empty");
  }
  if (timeline_path.empty() && (!vm["timeline-limit"].defaulted() || !window.empty()))
    fail_input(SourceLoc{"<command line>", 0, 0}, "--timeline-limit/--timeline-window",
               "only apply with --timeline FILE", "");
  auto plan_for = [&](const HwConfig& h) {
    if (vm.count("trace")) return map_system_trace(read_trace(trace_path), h);
    Workload wl = load_workload(w);
    return map_system(wl.model, wl.quant, wl.spec, h);
  };
  SystemPlan plan;
  hw_path = resolve_hw(hw_path);
  const HwConfig hw = apply_power_cap(load_hw_config(hw_path, sets), plan_for, &plan, analytical);
  // Dataflow: the same workload kernel-by-kernel on the same chip, for the
  // report's comparison, in a child process (SystemC simulates once per
  // process) that runs while this one simulates the dataflow run: on two cores
  // the comparison then costs no wall time of its own.
  std::optional<Child> kernel_run;
  if (hw.execution == "dataflow" && !no_compare && !analytical) {
    kernel_run = start_isolated([&] {
      HwConfig k = hw;
      k.execution = "kernel";
      k.resolved_tree["execution"] = "kernel";
      SystemPlan kp = plan_for(k);
      return execution_summary(build_report(k, kp.trace, kp.prog, simulate(k, kp.prog)));
    });
  }
  std::unique_ptr<Timeline> timeline;
  if (!timeline_path.empty()) timeline = std::make_unique<Timeline>(topt);
  // On a terminal, a run that takes over a second shows its ops completing
  // (an SN40L-like chip simulates for several seconds); logs and pipes get nothing.
  const bool terminal = isatty(STDERR_FILENO) != 0;
  std::optional<Progress> bar;
  if (terminal) bar.emplace(plan.prog.ops.size(), "ops", "run");
  const auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  bool drawn = false;
  const OpProgress show = [&](size_t done, size_t) {
    const auto now = std::chrono::steady_clock::now();
    if (now - t0 < std::chrono::seconds(1) || now - last < std::chrono::milliseconds(200)) return;
    last = now;
    drawn = true;
    bar->update(done);
  };
  SimResult sim = analytical ? analytical_simulate(hw, plan.prog)
                             : simulate(hw, plan.prog, timeline.get(), terminal ? &show : nullptr);
  if (drawn) bar->update(plan.prog.ops.size(), true);
  nlohmann::json report = build_report(hw, plan.trace, plan.prog, sim);
  report["fidelity"] = fidelity;
  if (kernel_run) add_kernel_comparison(report, finish_isolated(*kernel_run));
  // All outputs or none: each is written to its temporary first, and renamed
  // only when all of them were written.
  if (!json_path.empty()) json_out.stage(report.dump(1) + "\n");
  if (!csv_path.empty()) csv_out.stage(render_csv(report));
  if (timeline) timeline_out.stage(timeline->json());
  for (OutputFile* f : {&json_out, &csv_out, &timeline_out}) f->commit();
  if (timeline) {
    // A window that catches nothing writes an empty timeline: say so, and when the run ended.
    if (!window.empty() && timeline->recorded() == 0)
      std::cerr << "timeline: note: no slice starts in --timeline-window " << window
                << "; the run ends at " << format_quantity(sim.latency_s, Dim::Time) << "\n";
    if (timeline->dropped() > 0)
      std::cerr << "timeline: kept " << timeline->recorded() << " slices, left out "
                << timeline->dropped()
                << " past --timeline-limit (raise it, 0 for all, or use --timeline-window)\n";
  }
  if (!quiet) std::cout << render_table(report, top);
  return 0;
}

int cmd_explain(int argc, char** argv) {
  std::string hw_path = default_hw(), json_path;
  std::vector<std::string> sets;
  bool keys = false;
  po::options_description d("bitcycle explain options");
  d.add_options()("help,h", "show this help")(
      "hw", po::value(&hw_path)->default_value(hw_path, "configs/hw/default.yaml"),
      "hardware config file, or a shipped config's name (h100: configs/hw/h100.yaml); also "
      "positional")("set", po::value(&sets)->composing(),
                    "override a config value: KEY.PATH=VALUE (repeatable)")(
      "keys", po::bool_switch(&keys), "list every config key with its type, default and help")(
      "json", po::value(&json_path), "write the resolved config and derived values as JSON");
  po::positional_options_description pos;
  pos.add("hw", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, d, pos, vm, "usage: bitcycle explain [HW.yaml] [options]"))
    return 0;
  OutputFile json_out(json_path, "--json");
  std::vector<ParamDoc> docs;
  hw_path = resolve_hw(hw_path);
  HwConfig hw = load_hw_config(hw_path, sets, &docs);
  if (keys) {
    for (const auto& k : docs)
      std::cout << k.key << "  [" << k.type << "; default " << k.def << "]\n    " << k.help << "\n";
    return 0;
  }
  nlohmann::json out = {{"config", hw.resolved_tree}, {"derived", derived_values(hw)}};
  json_out.write(out.dump(1) + "\n");
  std::cout << "resolved config (" << hw_path << "):\n"
            << hw.resolved_tree.dump(2) << "\n\nderived:\n";
  const auto& dv = out["derived"];
  for (auto& [k, v] : dv["peak_ops_per_s"].items())
    std::cout << "  peak " << k << ": " << v.get<double>() / 1e12 << " Tops/s (ridge point "
              << dv["ridge_point_ops_per_byte"][k].get<double>() << " ops/B)\n";
  std::ostringstream area;
  area << std::fixed << std::setprecision(2) << dv["density"]["chip_area_mm2"].get<double>()
       << " mm2, of which compute units " << dv["density"]["compute_area_mm2"].get<double>()
       << " mm2";
  std::cout << "  chip area: " << area.str() << "\n" << render_density(dv["density"], "  ");
  std::cout << "  cores: " << dv["cores"] << "\n"
            << "  local SRAM total: "
            << format_quantity(dv["local_sram_total_bytes"].get<double>(), Dim::Bytes) << "\n"
            << "  on-chip SRAM total: "
            << format_quantity(dv["onchip_sram_total_bytes"].get<double>(), Dim::Bytes) << "\n"
            << "  DRAM bandwidth: "
            << format_quantity(dv["dram_bandwidth_Bps"].get<double>(), Dim::Bandwidth) << "\n"
            << "  NoC bisection bandwidth: "
            << format_quantity(dv["noc_bisection_bandwidth_Bps"].get<double>(), Dim::Bandwidth)
            << "\n";
  return 0;
}

int cmd_trace(int argc, char** argv) {
  WorkloadOpts w;
  std::string out;
  int64_t pp = 1, stage = 0;
  po::options_description d("bitcycle trace options");
  d.add_options()("help,h", "show this help")("model", po::value(&w.model)->default_value(w.model),
                                              "model name or .yaml path (also positional)")(
      "output,o", po::value(&out), "write the trace here (default: standard output)")(
      "tp", po::value(&w.tp)->default_value(1), "tensor-parallel ranks: write one rank's share")(
      "pp", po::value(&pp)->default_value(1), "pipeline stages")(
      "stage", po::value(&stage)->default_value(0), "which pipeline stage to write (0-based)");
  add_workload_options(d, w);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, d, pos, vm, "usage: bitcycle trace MODEL [options] [-o FILE]"))
    return 0;
  OutputFile out_file(out, "--output");
  Workload wl = load_workload(w);
  auto bad = [](const std::string& key, const std::string& msg, const std::string& hint) {
    fail_input(SourceLoc{"<command line>", 0, 0}, key, msg, hint);
  };
  if (w.tp < 1) bad("--tp", "must be >= 1", "");
  if (pp < 1) bad("--pp", "must be >= 1", "");
  std::string why = check_parallelism(wl.model, w.tp, pp);
  if (!why.empty()) bad(why[0] == 't' ? "--tp" : "--pp", why, "choose a degree that divides it");
  if (stage < 0 || stage >= pp)
    bad("--stage", "expected 0 to " + std::to_string(pp - 1) + ", got " + std::to_string(stage),
        "");
  wl.spec.first_layer = static_cast<int>(stage * wl.model.layers / pp);
  wl.spec.last_layer = static_cast<int>((stage + 1) * wl.model.layers / pp);
  wl.spec.send_next = stage + 1 < pp;
  Trace t = generate_trace(wl.model, wl.quant, wl.spec);
  nlohmann::json j = trace_to_json(t);
  std::string text = j.dump(1) + "\n";
  // The totals go to stdout when the trace goes to a file, else to stderr.
  std::ostream& info = out.empty() ? std::cerr : std::cout;
  if (out.empty())
    std::cout << text;
  else
    out_file.write(text);
  const auto& tt = j["totals"];
  auto q = [](double v, Dim d) { return format_quantity(v, d); };
  info << "trace: " << t.model["name"].get<std::string>() << " " << w.phase << ", batch " << w.batch
       << ", context " << wl.spec.context << ", " << w.quant << (out.empty() ? "" : " -> " + out)
       << " (" << tt["ops"] << " ops)\n";
  info << "  parameters        " << tt["parameters"].get<double>() << " (active per token "
       << tt["active_parameters"].get<double>() << ")\n";
  info << "  weight bytes      " << q(tt["weight_bytes"].get<double>(), Dim::Bytes)
       << " (read by this step " << q(tt["weight_bytes_read"].get<double>(), Dim::Bytes) << ")\n";
  info << "  KV cache          " << q(tt["kv_bytes_per_token"].get<double>(), Dim::Bytes)
       << " per token, " << q(tt["kv_cache_bytes"].get<double>(), Dim::Bytes) << " held, "
       << q(tt["kv_bytes_read"].get<double>(), Dim::Bytes) << " read by this step\n";
  info << "  ops               " << tt["flops"].get<double>() << " (2 per MAC)\n";
  for (auto& [k, v] : tt["flops_by_format"].items())
    info << "    " << k << ": " << v.get<double>() << "\n";
  return 0;
}

int cmd_move(int argc, char** argv) {
  std::string hw_path = default_hw(), from, to, json_path;
  std::vector<std::string> sets;
  WorkloadOpts w;
  double bytes = 0;
  po::options_description d("bitcycle move options");
  d.add_options()("help,h", "show this help")(
      "hw", po::value(&hw_path)->default_value(hw_path, "configs/hw/default.yaml"),
      "hardware config file, or a shipped config's name (h100: configs/hw/h100.yaml); also "
      "positional")("model", po::value(&w.model)->default_value(w.model),
                    "model whose weights move")("quant",
                                                po::value(&w.quant)->default_value(w.quant),
                                                "its quantization recipe (sets the bytes)")(
      "bytes", po::value<std::string>(), "move this many bytes instead of a model's weights")(
      "from", po::value(&from),
      "dram | ddr | shared_sram (default: ddr if the chip has it, else dram)")(
      "to", po::value(&to), "dram | ddr | shared_sram (default: the chip's fastest other tier)")(
      "set", po::value(&sets)->composing(), "override a config value: KEY.PATH=VALUE (repeatable)")(
      "json", po::value(&json_path), "write the report as JSON");
  po::positional_options_description pos;
  pos.add("hw", 1);
  po::variables_map vm;
  if (!parse_options(
          argc, argv, d, pos, vm,
          "usage: bitcycle move [HW.yaml] [--model NAME --quant R | --bytes B] --from L --to L"))
    return 0;
  OutputFile json_out(json_path, "--json");
  hw_path = resolve_hw(hw_path);
  HwConfig hw = load_hw_config(hw_path, sets);
  const SourceLoc cmd{"<command line>", 0, 0};
  // The chip's tiers, slowest (capacity) first.
  struct Tier {
    Level level;
    const ChannelsConfig* mem;
  };
  std::vector<Tier> all;
  for (const TierType& t : tier_types()) all.push_back({t.level, &hw.tier(t.level)});
  std::sort(all.begin(), all.end(), [](const Tier& a, const Tier& b) {
    return tier_type(a.level).move_rank < tier_type(b.level).move_rank;
  });
  std::vector<Tier> tiers;
  std::string absent;  // "memory.ddr or memory.shared_sram", for hints
  for (const Tier& t : all)
    if (t.mem->present)
      tiers.push_back(t);
    else
      absent += (absent.empty() ? "memory." : " or memory.") + std::string(level_name(t.level));
  auto tier = [&](const std::string& opt, const std::string& v) {
    Level l = kLevels;
    std::string names;
    for (const TierType& t : tier_types()) {
      if (v == t.key) l = t.level;
      names += (names.empty() ? "" : ", ") + std::string(t.key);
    }
    if (l == kLevels) fail_input(cmd, opt, "expected one of " + names + ", got \"" + v + "\"");
    for (const Tier& t : tiers)
      if (t.level == l) return t;
    fail_input(cmd, opt, "this config has no " + v + " level", "add memory." + v);
  };
  // Defaults follow the chip: from its capacity tier (DDR, else DRAM) to its
  // fastest other tier, so a chip without DDR still has a move to time.
  if (from.empty()) from = level_name(tiers.front().level);
  const Tier tf = tier("--from", from);
  if (to.empty()) {
    for (const Tier& t : tiers)
      if (t.level != tf.level) to = level_name(t.level);  // the last one is the fastest
    if (to.empty())
      fail_input(cmd, "--to", "this config has no memory tier besides " + from + " to move to",
                 "add " + absent);
  }
  const Tier tt = tier("--to", to);
  if (tf.level == tt.level) fail_input(cmd, "--to", "--from and --to are the same level");
  Trace t;
  if (vm.count("bytes")) {
    const std::string& b = vm["bytes"].as<std::string>();
    size_t used = 0;
    try {
      bytes = std::stod(b, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != b.size() || b.empty())
      fail_input(cmd, "--bytes", "expected a number of bytes, got \"" + b + "\"");
  }
  if (!vm.count("bytes")) {
    w.batch = 1;
    t = make_trace(w);
    bytes = t.totals["weight_bytes"].get<double>();
  } else if (!(bytes > 0) || !(bytes <= limits::kMaxBytes)) {  // nan and inf too
    fail_input(
        cmd, "--bytes",
        "expected a number of bytes > 0 and <= " + format_quantity(limits::kMaxBytes, Dim::Bytes) +
            ", got " + vm["bytes"].as<std::string>());
  } else if (bytes != std::floor(bytes)) {  // 1e-300 B moved in 0 s at an infinite rate
    fail_input(cmd, "--bytes",
               "expected a whole number of bytes, got " + vm["bytes"].as<std::string>(),
               "sizes are whole bytes, e.g. 4096 or 1e9");
  }
  // On a system every active chip moves its share at once (they are alike, so one
  // is simulated): the time is one chip's, the bandwidth the aggregate.
  const int64_t chips = hw.system.present ? hw.system.active() : 1;
  const double share = bytes / static_cast<double>(chips);
  // Both tiers must hold a chip's share: a move that overflows its destination
  // would report a time for something the chip cannot do.
  for (const auto& [opt, tr] : {std::pair{"from", tf}, std::pair{"to", tt}}) {
    if (share <= tr.mem->capacity) continue;
    const std::string name = level_name(tr.level), per_chip = chips > 1 ? " per chip" : "";
    fail_input(cmd, std::string("--") + opt,
               (vm.count(opt) ? name : name + " (the default --" + opt + " of this chip)") +
                   " holds " + format_quantity(tr.mem->capacity, Dim::Bytes) + per_chip +
                   ", the move needs " + format_quantity(share, Dim::Bytes) + per_chip,
               "move fewer --bytes, or choose a larger tier");
  }
  t.workload = {{"phase", "move"}, {"bytes", bytes}, {"from", from}, {"to", to}};
  if (hw.system.present)
    t.workload["system"] = {{"chips", hw.system.chips},
                            {"active_chips", chips},
                            {"tensor", 1},
                            {"pipeline", 1},
                            {"replicas", chips},
                            {"microbatches", 1},
                            {"simulated_steps", 1},
                            {"topology", hw.system.topology}};
  Program p = map_move(hw, share, tf.level, tt.level);
  SimResult s = simulate(hw, p);
  nlohmann::json r = build_report(hw, t, p, s);
  r["bandwidth_Bps"] = bytes / s.latency_s;
  r["chips"] = chips;
  json_out.write(r.dump(1) + "\n");
  std::cout << "moved " << format_quantity(bytes, Dim::Bytes) << " from " << from << " to " << to
            << (chips > 1 ? " on " + std::to_string(chips) + " chips" : std::string()) << " in "
            << format_quantity(s.latency_s, Dim::Time) << ": "
            << format_quantity(bytes / s.latency_s, Dim::Bandwidth) << " ("
            << (chips > 1 ? "per chip: " : "") << p.ops[0].mapping << "), energy "
            << format_quantity(r["energy_j"].get<double>(), Dim::Energy) << "\n";
  return 0;
}

int cmd_validate(int argc, char** argv) {
  std::string ref, csv;
  double max_mape = -1, max_energy_mape = -1;
  po::options_description d("bitcycle validate options");
  d.add_options()("help,h", "show this help")("ref", po::value(&ref)->required(),
                                              "reference CSV (also positional)")(
      "csv", po::value(&csv), "write per-row results as CSV")(
      "max-mape", po::value(&max_mape), "exit 1 if the MAPE exceeds this fraction (for tests)")(
      "max-energy-mape", po::value(&max_energy_mape),
      "exit 1 if the energy MAPE (rows with a measured energy) exceeds this fraction, or if no "
      "row gives one");
  po::positional_options_description pos;
  pos.add("ref", 1);
  po::variables_map vm;
  if (!parse_options(
          argc, argv, d, pos, vm,
          "usage: bitcycle validate REF.csv [--csv FILE] [--max-mape F] [--max-energy-mape F]"))
    return 0;
  // A negative bound read as "no bound", and nan passed every MAPE.
  for (const auto& [opt, bound] :
       {std::pair<std::string, double>{"max-mape", max_mape}, {"max-energy-mape", max_energy_mape}})
    if (vm.count(opt) && !(bound >= 0 && std::isfinite(bound))) {
      std::ostringstream got;
      got << bound;
      fail_input(SourceLoc{"<command line>", 0, 0}, "--" + opt,
                 "expected a fraction >= 0, got " + got.str(), "0.1 allows a 10 % MAPE");
    }
  OutputFile csv_out(csv, "--csv");
  ValidationSummary s = run_validation(ref);
  csv_out.write(validation_csv(s));
  std::cout << validation_table(s);
  // A file that compares nothing, or whose rows fail, must not pass: a MAPE
  // over the rows that ran says nothing about the ones that did not.
  const size_t failed = s.rows.size() - static_cast<size_t>(s.compared);
  if (s.compared == 0) {
    std::cerr << "bitcycle: no row of " << ref << " was compared (" << s.rows.size() << " rows, "
              << failed << " failed)\n";
    return 1;
  }
  if ((max_mape >= 0 || max_energy_mape >= 0) && failed > 0) {
    std::cerr << "bitcycle: " << failed << " of " << s.rows.size()
              << " rows failed to simulate; a --max-mape or --max-energy-mape bound counts them as "
                 "failures\n";
    return 1;
  }
  if (max_mape >= 0 && s.mape > max_mape) {
    std::cerr << "bitcycle: MAPE " << 100 * s.mape << " % exceeds --max-mape " << 100 * max_mape
              << " %\n";
    return 1;
  }
  if (max_energy_mape < 0) return 0;
  // An energy bound on a file without measured energies would pass vacuously.
  if (s.energy_rows == 0) {
    std::cerr << "bitcycle: --max-energy-mape: no row of " << ref
              << " gives a measured energy (column measured_energy_j)\n";
    return 1;
  }
  if (s.energy_mape > max_energy_mape) {
    std::cerr << "bitcycle: energy MAPE " << 100 * s.energy_mape << " % exceeds --max-energy-mape "
              << 100 * max_energy_mape << " %\n";
    return 1;
  }
  return 0;
}

}  // namespace

int cli_main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "run";
  int sub_argc = argc > 1 ? argc - 1 : 1;
  char** sub_argv = argc > 1 ? argv + 1 : argv;
  try {
    // Paths and names end up in JSON reports, which must be UTF-8: refuse a
    // bad byte here, before any work, rather than after the simulation.
    for (int i = 1; i < argc; ++i) {
      try {
        check_utf8(argv[i], "<command line>");
      } catch (const InputError& e) {
        Diagnostic d = e.diagnostics().front();
        d.loc = SourceLoc{"<command line>", 0, 0};
        d.message = "argument " + std::to_string(i) + ": " + d.message;
        d.hint = "give paths and names in UTF-8";
        throw InputError(d);
      }
    }
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "run") return cmd_run(sub_argc, sub_argv);
    if (cmd == "explain") return cmd_explain(sub_argc, sub_argv);
    if (cmd == "trace") return cmd_trace(sub_argc, sub_argv);
    if (cmd == "validate") return cmd_validate(sub_argc, sub_argv);
    if (cmd == "move") return cmd_move(sub_argc, sub_argv);
    if (cmd == "sweep") return cmd_sweep(sub_argc, sub_argv);
    if (cmd == "crosscheck") return cmd_crosscheck(sub_argc, sub_argv);
    // One line, like every other input error (the usage is `bitcycle --help`).
    const std::vector<std::string> commands = {"run",  "explain", "trace",     "validate",
                                               "move", "sweep",   "crosscheck"};
    const std::string near = nearest(cmd, commands);
    fail_input(SourceLoc{"<command line>", 0, 0}, "", "unknown command \"" + cmd + "\"",
               (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                   "commands: run, explain, trace, validate, move, sweep, crosscheck; see "
                   "bitcycle --help");
  } catch (const InputError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << "<command line>: error: " << e.what() << " (see bitcycle " << cmd << " --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bitcycle: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace bc
