#include "sim/cli/sweep.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "sim/cli/cli.h"
#include "sim/cli/isolate.h"
#include "sim/cli/power_cap.h"
#include "sim/cli/progress.h"
#include "sim/cli/sweep_store.h"
#include "sim/config/config_tree.h"
#include "sim/config/hw_config.h"
#include "sim/engine/analytical.h"
#include "sim/engine/engine.h"
#include "sim/mapping/energy.h"
#include "sim/mapping/system.h"
#include "sim/report/report.h"
#include "workloads/generator.h"

namespace bc {
namespace po = boost::program_options;
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

WorkloadSpec workload_spec(const SweepWorkload& w) {
  WorkloadSpec s;
  s.phase = w.phase;
  s.batch = w.batch;
  s.context = w.context;
  s.seq = w.seq;
  s.lm_head = w.lm_head;
  s.embedding = w.embedding;
  return s;
}

// The report's figures a sweep keeps, flattened to columns. Breakdowns get a
// column per component (energy_j.mac, area_mm2.sram, ...) and per op kind
// (time_s.gemm: the summed latency of the kind's ops).
void add_metrics(ojson& row, const nlohmann::json& r) {
  for (const char* k : {"latency_s", "step_period_s", "tokens", "tokens_per_s",
                        "tokens_per_s_per_user", "token_latency_s", "energy_j", "dynamic_energy_j",
                        "leakage_energy_j", "energy_per_token_j", "average_power_w", "area_mm2",
                        "communication_s", "communication_share", "precompute_share"})
    row[k] = r.value(k, 0.0);
  if (r.contains("system")) row["system_area_mm2"] = r["system"].value("area_mm2", 0.0);
  row["weights_placement"] = r["weights"].value("placement", "");
  row["global_memory_bytes"] = r["execution"].value("global_memory_bytes", 0.0);
  for (auto& [k, v] : r["utilization"].items()) row["utilization." + k] = v;
  for (auto& [k, v] : r["breakdown"]["energy_j"].items()) row["energy_j." + k] = v;
  for (auto& [k, v] : r["breakdown"]["area_mm2"].items()) row["area_mm2." + k] = v;
  // Peak density and efficiency per unit.format and for the chip per format.
  if (r.contains("derived") && r["derived"].contains("density")) {
    const auto& d = r["derived"]["density"];
    for (auto [part, prefix] : {std::pair{"units", ""}, std::pair{"chip", "chip."}})
      for (auto& [k, e] : d[part].items())
        for (const char* m : {"peak_ops_per_s_per_mm2", "peak_ops_per_s_per_w"})
          row[std::string(m) + "." + prefix + k] = e[m];
  }
  std::map<std::string, double> kinds;
  for (const auto& o : r["ops"]) kinds[o["kind"].get<std::string>()] += o.value("latency_s", 0.0);
  for (const auto& [k, v] : kinds) row["time_s." + k] = v;
}

bool compare(double a, const std::string& op, double b) {
  if (op == "<=") return a <= b;
  if (op == ">=") return a >= b;
  if (op == "<") return a < b;
  if (op == ">") return a > b;
  if (op == "==") return a == b;
  return a != b;
}

std::string num(double v) {
  std::ostringstream os;
  os << std::setprecision(4) << v;
  return os.str();
}

}  // namespace

ojson evaluate_point(const SweepSpec& spec, const SweepPoint& p, const std::string& fidelity) {
  const auto t0 = Clock::now();
  ojson row;
  row["point"] = p.key(fidelity);
  row["fidelity"] = fidelity;
  row["status"] = "ok";
  row["error"] = nullptr;
  row["hw"] = p.hw_label();
  row["hw_name"] = fs::path(p.hw).stem().string();
  row["model"] = repo_relative(p.wl.model);
  row["quant"] = repo_relative(p.wl.quant);
  row["phase"] = p.wl.phase;
  row["batch"] = p.wl.batch;
  row["context"] = p.wl.context;
  row["seq"] = p.wl.seq;
  row["lm_head"] = p.wl.lm_head;
  row["embedding"] = p.wl.embedding;
  // Until the config loads, a parameter's column holds the value as written.
  for (const auto& [k, v] : p.sets) row[k] = v;
  try {
    HwConfig hw;
    std::vector<ParamDoc> docs;
    try {
      hw = load_hw_config(p.hw, p.set_args(), spec.constraints.empty() ? nullptr : &docs);
    } catch (const InputError& e) {
      throw remap_set_errors(e, spec.set_locs);
    }
    row["hw_name"] = hw.name;
    // A parameter's column holds its SI value (text when it is not a number).
    for (const auto& [k, v] : p.sets) {
      double x = 0;
      std::string t = v;
      if (t.size() >= 2 && t.front() == '"') t = nlohmann::json::parse(t).get<std::string>();
      if (number_or_quantity(t, &x))
        row[k] = x;
      else
        row[k] = t;
    }
    // Constraints first: a point that breaks one is not simulated.
    std::optional<CNode> raw;  // the config as written, for key constraints
    for (const auto& c : spec.constraints) {
      double v = 0;
      if (c.metric == "area_mm2") {
        for (const auto& a : component_areas(hw)) v += a.area_m2 * 1e6;
        row["area_mm2"] = v;
      } else if (c.metric == "cores") {
        v = static_cast<double>(hw.cores());
      } else {
        if (!raw) {
          raw = load_config_file(p.hw);
          for (const auto& s : p.set_args()) apply_set(*raw, s);
        }
        if (!config_key_number(*raw, docs, c.metric, &v))
          throw InputError(Diagnostic{c.loc, "constraints",
                                      "\"" + c.metric + "\" is not a numeric key of " + p.hw, ""});
      }
      if (!compare(v, c.op, c.value)) {
        row["status"] = "skipped";
        row["error"] = "constraint \"" + c.text + "\" not met: " + c.metric + " = " + num(v);
        row["point_wall_s"] = seconds_since(t0);
        return row;
      }
    }
    ModelDesc model = load_model(p.wl.model);
    QuantRecipe quant = load_quant(p.wl.quant);
    // Where a point's time goes (for the per-point overhead in the README):
    // loading config and workload, mapping, simulating, building the report.
    const double load_s = seconds_since(t0);
    const auto t_map = Clock::now();
    auto plan_for = [&](const HwConfig& h) {
      return map_system(model, quant, workload_spec(p.wl), h);
    };
    SystemPlan plan;
    const HwConfig capped = apply_power_cap(hw, plan_for, &plan, fidelity == "analytical");
    const double map_s = seconds_since(t_map);
    const auto t_sim = Clock::now();
    SimResult sim = fidelity == "analytical" ? analytical_simulate(capped, plan.prog)
                                             : simulate(capped, plan.prog);
    const double eval_s = seconds_since(t_sim);
    const auto t_rep = Clock::now();
    nlohmann::json report = build_report(capped, plan.trace, plan.prog, sim);
    const double report_s = seconds_since(t_rep);
    add_metrics(row, report);
    row["load_s"] = load_s;
    row["map_s"] = map_s;
    row["eval_s"] = eval_s;
    row["report_s"] = report_s;
  } catch (const InputError& e) {
    row["status"] = "error";
    row["error"] = e.what();
  } catch (const std::exception& e) {
    row["status"] = "error";
    row["error"] = std::string("internal error: ") + e.what();
  }
  row["point_wall_s"] = seconds_since(t0);
  return row;
}

std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& v) {
  std::vector<size_t> out;
  for (size_t i = 0; i < v.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < v.size() && !dominated; ++j) {
      if (i == j) continue;
      bool no_worse = true, better = false;
      for (size_t k = 0; k < v[i].size(); ++k) {
        if (v[j][k] > v[i][k]) no_worse = false;
        if (v[j][k] < v[i][k]) better = true;
      }
      dominated = no_worse && better;
    }
    if (!dominated) out.push_back(i);
  }
  return out;
}

namespace {

// ---- local backend: forked workers ----------------------------------------

struct Worker {
  pid_t pid = 0;
  int fd = -1;
  std::string buf;
  std::vector<size_t> batch;  // indices into the runs
  std::set<std::string> answered;
};

// Runs `runs` (indices into points) with up to `jobs` children; `sink` gets
// each finished row (in the parent). Cycle mode: one run per child (one
// SystemC kernel per process). Analytical: batches, to spread the fork cost.
void run_local(const SweepSpec& spec, const std::vector<SweepPoint>& points,
               const std::vector<size_t>& runs, const std::string& fidelity, int jobs,
               const std::function<void(std::vector<ojson>&&)>& sink, Progress* progress) {
  const size_t batch_max =
      fidelity == "cycle"
          ? 1
          : std::clamp<size_t>(runs.size() / (static_cast<size_t>(jobs) * 4), 1, 64);
  size_t next = 0, done = 0;
  std::vector<Worker> workers;
  std::vector<ojson> rows;
  auto last_flush = Clock::now();
  const pid_t parent = getpid();
  auto flush = [&] {
    if (!rows.empty()) sink(std::move(rows));
    rows.clear();
    last_flush = Clock::now();
  };
  while (next < runs.size() || !workers.empty()) {
    while (static_cast<int>(workers.size()) < jobs && next < runs.size()) {
      Worker w;
      for (size_t k = 0; k < batch_max && next < runs.size(); ++k) w.batch.push_back(runs[next++]);
      const Child child = spawn_child([&](int fd) {
        // Die with the sweep: a killed sweep must leave no workers behind.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        for (const auto& o : workers) close(o.fd);
        for (size_t i : w.batch)
          write_all(fd, evaluate_point(spec, points[i], fidelity).dump() + "\n");
      });
      w.pid = child.pid;
      w.fd = child.fd;
      workers.push_back(std::move(w));
    }
    std::vector<pollfd> pf;
    for (const auto& w : workers) pf.push_back({w.fd, POLLIN, 0});
    poll(pf.data(), pf.size(), 200);
    for (size_t k = 0; k < workers.size();) {
      Worker& w = workers[k];
      if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) {
        ++k;
        continue;
      }
      char buf[65536];
      ssize_t n = read(w.fd, buf, sizeof buf);
      if (n > 0) {
        w.buf.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = w.buf.find('\n')) != std::string::npos) {
          ojson row = ojson::parse(w.buf.substr(0, nl));
          w.buf.erase(0, nl + 1);
          w.answered.insert(row["point"].get<std::string>());
          rows.push_back(std::move(row));
          ++done;
        }
        ++k;
        continue;
      }
      // EOF: the child is done (or died). A run it did not answer is an error
      // row, so a crashing point is recorded once rather than retried forever.
      close(w.fd);
      int status = 0;
      waitpid(w.pid, &status, 0);
      for (size_t i : w.batch) {
        const std::string key = points[i].key(fidelity);
        if (w.answered.count(key)) continue;
        ojson row;
        row["point"] = key;
        row["fidelity"] = fidelity;
        row["status"] = "error";
        row["error"] = WIFSIGNALED(status)
                           ? "worker process died of signal " + std::to_string(WTERMSIG(status))
                           : "worker process exited with code " +
                                 std::to_string(WEXITSTATUS(status)) + " without a result";
        row["hw"] = points[i].hw_label();
        rows.push_back(std::move(row));
        ++done;
      }
      workers.erase(workers.begin() + static_cast<std::ptrdiff_t>(k));
      pf.erase(pf.begin() + static_cast<std::ptrdiff_t>(k));
    }
    // Store in batches (a transaction each): often enough that a kill loses
    // little, rarely enough that thousands of analytical rows a minute stay cheap.
    if (rows.size() >= 256 || seconds_since(last_flush) > 0.25) flush();
    if (progress) progress->update(done);
  }
  flush();
  if (progress) progress->update(done, true);
}

// ---- Slurm backend ---------------------------------------------------------

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("bitcycle") : p.string();
}

int run_command(const std::string& cmd, std::string* out) {
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    if (out) out->append(buf, n);
  int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Rows of a part file: complete lines only (a task killed mid-write leaves a
// partial last line, which is dropped and its run redone by the next sweep).
std::vector<ojson> read_part(const std::string& path) {
  std::vector<ojson> rows;
  std::ifstream in(path);
  std::string line, all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t start = 0, nl;
  while ((nl = all.find('\n', start)) != std::string::npos) {
    line = all.substr(start, nl - start);
    start = nl + 1;
    try {
      rows.push_back(ojson::parse(line));
    } catch (const std::exception&) {
    }
  }
  return rows;
}

// ---- reporting -------------------------------------------------------------

std::string workload_label(const ojson& r) {
  std::ostringstream os;
  os << r["model"].get<std::string>() << " " << r["quant"].get<std::string>() << " "
     << r["phase"].get<std::string>() << " batch " << r["batch"].dump();
  if (r["phase"] == "prefill") os << " seq " << r["seq"].dump();
  os << " context " << r["context"].dump();
  return os.str();
}

// The fields a front is taken within (spec `pareto_by`; all workload fields
// when empty): runs that differ only in the other fields compete.
std::string group_label(const ojson& r, const std::vector<std::string>& by) {
  if (by.empty()) return workload_label(r);
  std::string s;
  for (const auto& f : by) {
    const auto& v = r[f];
    s += (s.empty() ? "" : ", ") + f + " " + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return s;
}

// The varied values of a row as the spec wrote them (from its point key).
std::string point_label(const ojson& r) {
  std::string s = r.value("hw_name", "");
  try {
    auto k = nlohmann::json::parse(r["point"].get<std::string>());
    for (const auto& a : k["set"]) {
      // key="value" as stored (JSON-quoted for --set) -> key=value
      std::string kv = a.get<std::string>();
      const size_t eq = kv.find('=');
      std::string v = kv.substr(eq + 1);
      if (v.size() >= 2 && v.front() == '"') v = nlohmann::json::parse(v).get<std::string>();
      s.append(" ").append(kv, 0, eq).append("=").append(v);
    }
  } catch (const std::exception&) {
  }
  return s;
}

// "latency_s,max:tokens_per_s" (appends: GCC 12 misreads chained + here, -Wrestrict).
std::string objectives_text(const SweepSpec& spec, const char* sep, const char* max) {
  std::string t;
  for (const auto& o : spec.pareto) {
    if (!t.empty()) t.append(sep);
    if (o.maximize) t.append(max);
    t.append(o.metric);
  }
  return t;
}

struct Front {
  std::string workload;
  std::vector<ojson> rows;  // on the front, sorted by the first objective
};

std::vector<Front> pareto_fronts(SweepStore& store, const SweepSpec& spec,
                                 const std::string& fidelity) {
  std::map<std::string, std::vector<ojson>> groups;
  std::vector<std::string> order;
  for (auto& r : store.rows("status = 'ok' AND fidelity = '" + fidelity + "'")) {
    bool ok = true;
    for (const auto& o : spec.pareto) ok &= r.contains(o.metric) && r[o.metric].is_number();
    if (!ok) continue;
    std::string w = group_label(r, spec.pareto_by);
    if (!groups.count(w)) order.push_back(w);
    groups[w].push_back(std::move(r));
  }
  std::vector<Front> out;
  std::vector<int64_t> ids;
  for (const auto& w : order) {
    auto& rows = groups[w];
    std::vector<std::vector<double>> v;
    for (const auto& r : rows) {
      std::vector<double> x;
      for (const auto& o : spec.pareto)
        x.push_back((o.maximize ? -1 : 1) * r[o.metric].get<double>());
      v.push_back(x);
    }
    Front f{w, {}};
    for (size_t i : pareto_front(v)) f.rows.push_back(rows[i]);
    const auto& first = spec.pareto[0];
    std::sort(f.rows.begin(), f.rows.end(), [&](const ojson& a, const ojson& b) {
      double x = a[first.metric].get<double>(), y = b[first.metric].get<double>();
      return first.maximize ? x > y : x < y;
    });
    for (const auto& r : f.rows) ids.push_back(r["id"].get<int64_t>());
    out.push_back(std::move(f));
  }
  store.set_pareto(fidelity, objectives_text(spec, ",", "max:"), ids);
  return out;
}

void print_fronts(std::ostream& out, const std::vector<Front>& fronts, const SweepSpec& spec,
                  const std::string& fidelity) {
  const std::string objectives = objectives_text(spec, ", ", "max ");
  for (const auto& f : fronts) {
    out << "Pareto front (" << objectives << "; " << fidelity << "), " << f.workload << ": "
        << f.rows.size() << " points\n";
    for (const auto& r : f.rows) {
      out << "  ";
      if (!spec.pareto_by.empty()) out << workload_label(r) << " | ";
      for (const auto& o : spec.pareto)
        out << o.metric << " " << num(r[o.metric].get<double>()) << "  ";
      out << "| " << point_label(r) << "\n";
    }
  }
}

// A store belongs to the spec that made it. Another spec's store is refused
// at the first top-level entry of this spec that differs, and not touched
// (it is opened read-only).
void check_store_spec(const std::string& db, const SweepSpec& spec, const std::string& spec_path) {
  std::error_code ec;
  if (!fs::exists(db, ec)) return;
  std::string stored;
  try {
    SweepStore ro(db, true);
    stored = ro.meta("spec");
  } catch (const std::exception& e) {
    fail_input(SourceLoc{spec_path, 1, 1}, "",
               std::string("cannot read the results store: ") + e.what());
  }
  if (stored.empty())
    fail_input(SourceLoc{spec_path, 1, 1}, "", db + " is not the results store of a sweep",
               "use another --out");
  if (stored == spec.canonical.dump()) return;
  nlohmann::json old = nlohmann::json::parse(stored);
  SourceLoc at{spec_path, 1, 1};
  std::string key;
  for (const auto& [k, loc] : spec.top_key_loc)
    if ((!old.contains(k) || old[k] != spec.canonical[k]) && (key.empty() || loc.line < at.line))
      at = loc, key = k;
  if (key.empty())  // an entry the stored spec had and this one dropped
    for (auto& [k, v] : old.items())
      if (!spec.canonical.contains(k)) key = k;
  fail_input(at, key,
             "the results store " + db + " was made by a different spec (" +
                 (key.empty() ? "it differs" : "`" + key + "` differs") + ")",
             "use another --out, or delete the store to start over");
}

}  // namespace

int cmd_sweep(int argc, char** argv) {
  std::string spec_path, out_dir, fidelity = "cycle", backend = "local", shard, part, runs_file;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int refine = 0, shards = 0;
  po::options_description d("bitcycle sweep options");
  d.add_options()("help,h", "show this help")("spec", po::value(&spec_path)->required(),
                                              "sweep spec YAML (also positional)")(
      "jobs,j", po::value(&jobs)->default_value(jobs), "worker processes at once")(
      "out", po::value(&out_dir), "output folder (default: sweeps/NAME, NAME from the spec)")(
      "fidelity", po::value(&fidelity)->default_value(fidelity),
      "cycle (the SystemC engine) | analytical (closed form, no contention)")(
      "backend", po::value(&backend)->default_value(backend),
      "local (forked workers) | slurm (a job array; needs sbatch on PATH)")(
      "refine", po::value(&refine)->default_value(0),
      "analytical: re-run the K best points of each Pareto front in cycle mode")(
      "shards", po::value(&shards),
      "slurm: array tasks, >= 1 (default: one per 8 runs, at most 64)")(
      "shard", po::value(&shard), "internal (a Slurm task): run shard I/N of the pending runs")(
      "part", po::value(&part), "internal (a Slurm task): write rows to this part file")(
      "runs", po::value(&runs_file), "internal (a Slurm task): JSON list of the runs to share out");
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, d, pos, vm,
                     "usage: bitcycle sweep SPEC.yaml [-j N] [--out DIR] [--fidelity "
                     "cycle|analytical] [--backend local|slurm] [--refine K]\n"))
    return 0;
  auto bad = [](const std::string& key, const std::string& msg) {
    fail_input(SourceLoc{"<command line>", 0, 0}, key, msg);
  };
  if (fidelity != "cycle" && fidelity != "analytical")
    bad("--fidelity", "expected cycle or analytical, got \"" + fidelity + "\"");
  if (backend != "local" && backend != "slurm")
    bad("--backend", "expected local or slurm, got \"" + backend + "\"");
  if (jobs < 1) bad("--jobs", "must be >= 1");
  if (refine < 0) bad("--refine", "must be >= 0");
  // 0 or less would submit an array of no task (and sbatch refuses one of -3).
  if (vm.count("shards") && shards < 1)
    fail_input(SourceLoc{"<command line>", 0, 0}, "--shards",
               "must be >= 1, got " + std::to_string(shards),
               "leave it out for one array task per 8 runs, at most 64");
  // The local backend has no array tasks: --shards there was ignored, silently.
  if (vm.count("shards") && backend != "slurm")
    fail_input(SourceLoc{"<command line>", 0, 0}, "--shards",
               "applies to --backend slurm only (the local backend runs --jobs workers)",
               "use --jobs N, or add --backend slurm");

  // Everything is checked before the store is opened: bad input leaves it untouched.
  SweepSpec spec = load_sweep_spec(spec_path);
  if (refine > 0 && (fidelity != "analytical" || spec.pareto.empty()))
    bad("--refine", "needs --fidelity analytical and a `pareto:` list in the spec");
  const std::vector<SweepPoint> points = expand_points(spec);

  // A Slurm task: run its shard of the runs into its part file, then stop.
  if (!shard.empty()) {
    int i = 0, n = 0;
    if (std::sscanf(shard.c_str(), "%d/%d", &i, &n) != 2 || n < 1 || i < 0 || i >= n ||
        part.empty() || runs_file.empty())
      bad("--shard", "expected I/N with 0 <= I < N, --part FILE and --runs FILE");
    std::ifstream rf(runs_file);
    const nlohmann::json job = nlohmann::json::parse(rf);
    // The indices mean something only for the spec that listed them: a spec
    // edited while the array waited in the queue must not run other points.
    if (job.at("spec").get<std::string>() != spec.canonical.dump())
      fail_input(SourceLoc{spec_path, 1, 1}, "",
                 "the spec changed since the sweep listed its runs in " + runs_file,
                 "run the sweep again");
    const auto runs = job.at("runs").get<std::vector<size_t>>();
    // A re-queued task keeps the rows its part already has.
    std::set<std::string> skip;
    for (const auto& r : read_part(part)) skip.insert(r["point"].get<std::string>());
    std::vector<size_t> mine;
    for (size_t k = static_cast<size_t>(i); k < runs.size(); k += static_cast<size_t>(n))
      if (runs[k] < points.size() && !skip.count(points[runs[k]].key(fidelity)))
        mine.push_back(runs[k]);
    std::ofstream pf(part, std::ios::app);
    run_local(
        spec, points, mine, fidelity, jobs,
        [&](std::vector<ojson>&& rows) {
          for (const auto& r : rows) pf << r.dump() << "\n";
          pf.flush();
        },
        nullptr);
    return 0;
  }

  if (backend == "slurm" && run_command("command -v sbatch >/dev/null 2>&1", nullptr) != 0)
    bad("--backend", "slurm needs sbatch on PATH");
  if (out_dir.empty()) out_dir = "sweeps/" + spec.name;
  const std::string db = out_dir + "/results.db";
  const std::string spec_json = spec.canonical.dump();
  check_store_spec(db, spec, spec_path);
  // An output folder that cannot be made or written is bad input, reported
  // before anything runs.
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) bad("--out", "cannot create the folder \"" + out_dir + "\": " + ec.message());
  if (!fs::is_directory(out_dir, ec))
    bad("--out", "\"" + out_dir + "\" is not a folder (give a folder for the results store)");
  std::optional<SweepStore> opened;
  try {
    opened.emplace(db);
  } catch (const std::runtime_error& e) {
    bad("--out", e.what());
  }
  SweepStore& store = *opened;
  if (store.meta("spec").empty()) {
    store.set_meta("spec", spec_json);
    store.set_meta("spec_path", spec_path);
    store.set_meta("name", spec.name);
  }

  // Parts of Slurm tasks that finished after their sweep was killed (or while
  // it waited) go into the store first, so their runs are not run again.
  const std::string parts_dir = out_dir + "/parts";
  auto merge_parts = [&] {
    if (!fs::exists(parts_dir)) return size_t{0};
    std::set<std::string> seen = store.done_points();
    std::vector<ojson> rows;
    for (const auto& e : fs::directory_iterator(parts_dir))
      if (e.path().extension() == ".jsonl")
        for (auto& r : read_part(e.path().string()))
          if (seen.insert(r["point"].get<std::string>()).second) rows.push_back(std::move(r));
    store.insert(rows);
    return rows.size();
  };
  if (size_t n = merge_parts(); n > 0)
    std::cerr << "sweep: merged " << n << " rows of earlier Slurm tasks from " << parts_dir << "\n";

  // Runs that Slurm was asked for and that left no row: the sweep is not done.
  size_t not_run = 0;
  auto run_pending = [&](const std::vector<size_t>& candidates, const std::string& fid) {
    const auto done = store.done_points();
    std::vector<size_t> todo;
    for (size_t k : candidates)
      if (!done.count(points[k].key(fid))) todo.push_back(k);
    std::cerr << "sweep " << spec.name << ": " << candidates.size() << " runs (" << fid << "), "
              << candidates.size() - todo.size() << " already in " << db << ", running "
              << todo.size()
              << (backend == "slurm" ? " on Slurm" : " with -j " + std::to_string(jobs)) << "\n";
    if (todo.empty()) return;
    if (backend == "local") {
      Progress progress(todo.size(), "runs", "sweep");
      run_local(
          spec, points, todo, fid, jobs, [&](std::vector<ojson>&& rows) { store.insert(rows); },
          &progress);
      return;
    }
    // Slurm (sbatch was checked before the store was opened): an array of
    // shards over the pending runs. Each task re-expands the spec (the same
    // points in the same order) and runs every N-th entry of the pending list
    // into its own part file.
    int n =
        shards > 0 ? shards : static_cast<int>(std::clamp<size_t>((todo.size() + 7) / 8, 1, 64));
    n = std::min<int>(n, static_cast<int>(todo.size()));
    const std::string parts = fs::absolute(parts_dir).string();
    fs::create_directories(parts);
    const std::string tag = fid + "-" + std::to_string(getpid());
    OutputFile(parts + "/" + tag + "-runs.json", "--out")
        .write(nlohmann::json{{"spec", spec.canonical.dump()}, {"runs", todo}}.dump() + "\n");
    std::ostringstream wrap;
    wrap << shell_quote(self_exe()) << " sweep " << shell_quote(fs::absolute(spec_path).string())
         << " --fidelity " << fid << " -j 1 --shard $SLURM_ARRAY_TASK_ID/" << n << " --runs "
         << shell_quote(parts + "/" + tag + "-runs.json") << " --part "
         << shell_quote(parts + "/" + tag + "-") << "$SLURM_ARRAY_TASK_ID.jsonl";
    std::string cmd =
        "sbatch --parsable --wait --array=0-" + std::to_string(n - 1) +
        " --job-name=bitcycle-sweep --output=" + shell_quote(parts + "/slurm-%A_%a.out") +
        " --wrap=" + shell_quote(wrap.str()) + " 2>&1";
    std::cerr << "sweep: submitting " << n << " array tasks: " << cmd << "\n";
    std::string out;
    int rc = run_command(cmd, &out);
    std::cerr << "sweep: merged " << merge_parts() << " rows from " << n << " part files\n";
    const auto stored = store.done_points();
    size_t missing = 0;
    for (size_t k : todo) missing += !stored.count(points[k].key(fid));
    not_run += missing;
    if (rc != 0)
      std::cerr << "sweep: sbatch exited with " << rc << ": " << out
                << "(rows of finished tasks are stored; run the sweep again to finish)\n";
    else if (missing > 0)
      std::cerr << "sweep: " << missing << " of " << todo.size()
                << " runs left no row (a task failed: see " << parts
                << "/slurm-*.out; run the sweep again to finish)\n";
  };

  std::vector<size_t> all(points.size());
  for (size_t k = 0; k < all.size(); ++k) all[k] = k;
  run_pending(all, fidelity);

  // The fronts and refinements are printed only once results.csv is written:
  // a sweep whose output fails says so without a report that looks finished.
  std::ostringstream report;
  if (!spec.pareto.empty()) {
    auto fronts = pareto_fronts(store, spec, fidelity);
    print_fronts(report, fronts, spec, fidelity);
    if (refine > 0) {
      // The K points of each front best in its first objective, in cycle mode.
      std::map<std::string, size_t> index;
      for (size_t k = 0; k < points.size(); ++k) index[points[k].key(fidelity)] = k;
      std::vector<size_t> pick;
      for (const auto& f : fronts)
        for (size_t i = 0; i < f.rows.size() && i < static_cast<size_t>(refine); ++i) {
          auto it = index.find(f.rows[i]["point"].get<std::string>());
          if (it != index.end()) pick.push_back(it->second);
        }
      run_pending(pick, "cycle");
      report << "Refined in cycle mode (analytical -> cycle):\n";
      for (size_t k : pick) {
        ojson ar = store.find(points[k].key("analytical")), cr = store.find(points[k].key("cycle"));
        if (ar.is_null() || cr.is_null() || cr["status"] != "ok") {
          report << "  " << point_label(ar)
                 << ": cycle run failed: " << (cr.is_null() ? "no row" : cr["error"].dump())
                 << "\n";
          continue;
        }
        report << "  " << point_label(ar) << ", " << workload_label(ar) << "\n";
        for (const auto& o : spec.pareto) {
          double x = ar[o.metric].get<double>(), y = cr[o.metric].get<double>();
          report << "    " << o.metric << ": " << num(x) << " -> " << num(y)
                 << " (cycle / analytical " << num(x != 0 ? y / x : 0) << ")\n";
        }
      }
    }
  }

  // Rows in the spec's order (each point's analytical run, then its cycle
  // run), whichever worker finished first.
  std::vector<std::string> order;
  for (const SweepPoint& p : points)
    for (const char* f : {"analytical", "cycle"}) order.push_back(p.key(f));
  OutputFile(out_dir + "/results.csv", "--out").write(store.csv(order));
  std::cout << report.str();
  size_t ok = 0, skipped = 0, errors = 0;
  std::vector<std::string> first_errors;
  for (const auto& r : store.rows()) {
    const std::string s = r["status"].get<std::string>();
    ok += s == "ok", skipped += s == "skipped";
    if (s == "error") {
      ++errors;
      if (first_errors.size() < 3)
        first_errors.push_back(point_label(r) + ": " + r["error"].get<std::string>());
    }
  }
  std::cout << "sweep " << spec.name << ": " << ok << " ok, " << skipped
            << " skipped by constraints, " << errors << " failed"
            << (not_run > 0 ? ", " + std::to_string(not_run) + " not run" : std::string()) << "; "
            << db << ", " << out_dir << "/results.csv\n";
  for (const auto& e : first_errors) std::cerr << "sweep: failed: " << e << "\n";
  // Runs Slurm did not run: the sweep is unfinished, which a script must see.
  if (not_run > 0) {
    std::cerr << "sweep: " << not_run << " runs not run; run the sweep again to finish them\n";
    return 1;
  }
  return 0;
}

}  // namespace bc
