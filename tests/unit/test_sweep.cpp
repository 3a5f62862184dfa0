// Design-space sweeps: spec expansion, bad specs, constraints, the results
// store (resume after SIGKILL, CSV export), Pareto fronts, and the analytical
// mode against the cycle mode.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "helpers.h"
#include "sim/cli/sweep.h"
#include "sim/cli/sweep_spec.h"
#include "sim/cli/sweep_store.h"
#include "sim/engine/analytical.h"
#include "sim/mapping/system.h"
#include "sim/report/report.h"
#include "workloads/generator.h"

using namespace bc;
using namespace bc::test;
namespace fs = std::filesystem;

namespace {

std::string hw(const std::string& name) { return project_root() + "/configs/hw/" + name; }

// The diagnostics of a spec, with its temp path replaced by "S".
std::vector<std::string> spec_errors(const std::string& path) {
  try {
    load_sweep_spec(path);
  } catch (const InputError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) {
      std::string s = d.str();
      if (s.rfind(path, 0) == 0) s = "S" + s.substr(path.size());
      out.push_back(s);
    }
    return out;
  }
  return {};
}

// RFC 4180 rows (quoted cells may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        cell += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(cell), cell.clear();
    } else if (c == '\n') {
      rows.back().push_back(cell), cell.clear();
      rows.emplace_back();
    } else {
      cell += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

}  // namespace

// Grid: every combination, the last parameter fastest; configs x combinations
// x workloads (workload fastest). 3 x 2 values = 6 combinations, x 2 batches =
// 12 runs. seq is meaningless for decode, so its list does not multiply them.
TEST(SweepSpec, GridExpansion) {
  std::string p = write_temp("grid.yaml", "hw: " + hw("default.yaml") +
                                              "\n"
                                              "workload: {batch: [1, 2], seq: [128, 256]}\n"
                                              "params:\n"
                                              "  core.sram.size: [1 MiB, 2 MiB, 4 MiB]\n"
                                              "  memory.dram.bandwidth: [1 TB/s, 2 TB/s]\n");
  SweepSpec s = load_sweep_spec(p);
  auto combos = combine_params(s);
  ASSERT_EQ(combos.size(), 6u);
  EXPECT_EQ(combos[0], (std::vector<int>{0, 0}));
  EXPECT_EQ(combos[1], (std::vector<int>{0, 1}));
  EXPECT_EQ(combos[2], (std::vector<int>{1, 0}));
  EXPECT_EQ(combos[5], (std::vector<int>{2, 1}));
  auto pts = expand_points(s);
  ASSERT_EQ(pts.size(), 12u);
  EXPECT_EQ(pts[0].wl.batch, 1);
  EXPECT_EQ(pts[1].wl.batch, 2);
  EXPECT_EQ(pts[3].sets[1].second, "\"2 TB/s\"");  // combination 1, second workload
  EXPECT_EQ(pts[11].set_args(), (std::vector<std::string>{"core.sram.size=\"4 MiB\"",
                                                          "memory.dram.bandwidth=\"2 TB/s\""}));
  // Every run has its own store key.
  std::set<std::string> keys;
  for (const auto& x : pts) keys.insert(x.key("cycle"));
  EXPECT_EQ(keys.size(), 12u);

  // Prefill does use seq: 2 batches x 2 seqs = 4 workloads.
  p = write_temp("grid2.yaml",
                 "hw: " + hw("default.yaml") +
                     "\nworkload: {phase: prefill, batch: [1, 2], seq: [128, 256]}\n");
  EXPECT_EQ(expand_points(load_sweep_spec(p)).size(), 4u);
}

// Zip: the i-th value of every parameter; two configs double the runs.
TEST(SweepSpec, ZipExpansion) {
  std::string p =
      write_temp("zip.yaml", "hw: [" + hw("bitmod-28nm.yaml") + ", " + hw("lut-tc-28nm.yaml") +
                                 "]\n"
                                 "combine: zip\n"
                                 "params:\n"
                                 "  core.sram.size: [256 KiB, 512 KiB, 1 MiB]\n"
                                 "  frequency: [0.5 GHz, 1 GHz, 2 GHz]\n");
  SweepSpec s = load_sweep_spec(p);
  auto combos = combine_params(s);
  ASSERT_EQ(combos.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(combos[i], (std::vector<int>{i, i}));
  auto pts = expand_points(s);
  ASSERT_EQ(pts.size(), 6u);
  EXPECT_NE(pts[0].hw.find("bitmod-28nm"), std::string::npos);
  EXPECT_NE(pts[3].hw.find("lut-tc-28nm"), std::string::npos);
  EXPECT_EQ(pts[5].sets[1].second, "\"2 GHz\"");
}

// Random: `samples` distinct grid points, the same for the same seed.
TEST(SweepSpec, RandomExpansionIsSeeded) {
  auto spec = [&](int seed) {
    return write_temp("rand" + std::to_string(seed) + ".yaml",
                      "hw: " + hw("default.yaml") +
                          "\n"
                          "combine: random\n"
                          "samples: 5\n"
                          "seed: " +
                          std::to_string(seed) +
                          "\n"
                          "params:\n"
                          "  core.sram.size: [512 KiB, 1 MiB, 2 MiB, 4 MiB]\n"
                          "  memory.dram.bandwidth: [1 TB/s, 2 TB/s, 3 TB/s, 4 TB/s]\n"
                          "  frequency: [1 GHz, 2 GHz]\n");
  };
  auto a = combine_params(load_sweep_spec(spec(7)));
  auto b = combine_params(load_sweep_spec(spec(7)));
  auto c = combine_params(load_sweep_spec(spec(8)));
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<std::vector<int>> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), 5u);
  for (const auto& x : a) {
    EXPECT_LT(x[0], 4);
    EXPECT_LT(x[1], 4);
    EXPECT_LT(x[2], 2);
  }
  // All 32 of 32 is the whole grid, in grid order.
  std::string all = write_temp("all.yaml", "hw: " + hw("default.yaml") +
                                               "\ncombine: random\nsamples: 4\nseed: 3\n"
                                               "params: {frequency: [1 GHz, 2 GHz], "
                                               "core.sram.size: [1 MiB, 2 MiB]}\n");
  EXPECT_EQ(combine_params(load_sweep_spec(all)),
            (std::vector<std::vector<int>>{{0, 0}, {0, 1}, {1, 0}, {1, 1}}));
}

// Bad specs: each problem at the spec's line and column, all at once.
TEST(SweepSpec, BadInputNamesTheSpecLine) {
  std::string p = write_temp("bad.yaml",
                             "hw: " + hw("default.yaml") +
                                 "\n"                                    // 1
                                 "params:\n"                             // 2
                                 "  core.sram.sise: [1 MiB]\n"           // 3
                                 "  memory.dram.bandwidth: [3 GHz]\n"    // 4
                                 "  frequency: []\n"                     // 5
                                 "  memory.ddr.bandwidth: [1 TB/s]\n");  // 6
  auto e = spec_errors(p);
  ASSERT_EQ(e.size(), 4u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "S:5:14: error: params.frequency: empty list of values: the grid would be "
            "empty (give at least one value)");
  // The message names the base config's path, wherever the checkout is.
  EXPECT_EQ(e[1].substr(0, 52), "S:3:3: error: params.core.sram.sise: no such key in ");
  EXPECT_NE(e[1].find("configs/hw/default.yaml"), std::string::npos) << e[1];
  EXPECT_NE(e[1].find("(did you mean core.sram.size?)"), std::string::npos) << e[1];
  EXPECT_EQ(e[2].substr(0, 77),
            "S:4:27: error: memory.dram.bandwidth: unknown bandwidth unit \"GHz\" in \"3 GHz\"")
      << e[2];
  // A tier the base config does not have is not a key to vary, and the
  // message says so (it had suggested the same key as a near miss).
  EXPECT_EQ(e[3].substr(0, 43), "S:6:3: error: params.memory.ddr.bandwidth: ");
  EXPECT_NE(e[3].find("has no memory.ddr section: a sweep varies what its configs have, it does "
                      "not add it (add memory.ddr to that config, or sweep a config that has it)"),
            std::string::npos)
      << e[3];

  p = write_temp("bad2.yaml", "hw: [" + hw("default.yaml") +
                                  ", nowhere/*.yaml]\n"                 // 1
                                  "combine: zip\n"                      // 2
                                  "params:\n"                           // 3
                                  "  frequency: [1 GHz, 2 GHz]\n"       // 4
                                  "  core.sram.size: [1 MiB]\n"         // 5
                                  "workload:\n"                         // 6
                                  "  model: [llama-3.1-8b, llama-9]\n"  // 7
                                  "  batch: [0]\n"                      // 8
                                  "constraints: [area_mm2 400]\n"       // 9
                                  "bogus: 1\n");                        // 10
  e = spec_errors(p);
  std::string all;
  for (const auto& x : e) all += x + "\n";
  EXPECT_NE(all.find("S:1:"), std::string::npos) << all;  // the glob that matches nothing
  EXPECT_NE(all.find("matches no file"), std::string::npos) << all;
  EXPECT_NE(all.find("S:5:3: error: params.core.sram.size: zip needs lists of one length: 1 "
                     "values here, 2 for frequency"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("S:7:25: error: workload.model: unknown model \"llama-9\""), std::string::npos)
      << all;
  EXPECT_NE(all.find("S:8:11: error: workload.batch: expected an integer >= 1, got \"0\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("S:9:15: error: constraints: no comparison"), std::string::npos) << all;
  EXPECT_NE(all.find("S:10:1: error: bogus: unknown key"), std::string::npos) << all;
}

// A constraint's bound in another unit than its metric is refused at its line:
// bytes against a bandwidth, or an area in mm2 against a size, would compare
// numbers of different units and skip every point, or none.
TEST(Sweep, AConstraintsBoundIsInItsMetricsUnit) {
  std::string p = write_temp("units.yaml", "hw: [" + hw("default.yaml") +
                                               "]\n"                                         // 1
                                               "params: {core.sram.size: [1 MiB, 2 MiB]}\n"  // 2
                                               "constraints:\n"                              // 3
                                               "  - core.sram.size <= 3.2 TB/s\n"            // 4
                                               "  - area_mm2 <= 4 MiB\n"                     // 5
                                               "  - cores >= 1 GHz\n"                        // 6
                                               "  - memory.dram.bandwidth >= 1 TB/s\n"       // 7
                                               "  - area_mm2 <= 900 mm2\n");                 // 8
  std::vector<std::string> e = spec_errors(p);
  std::string all;
  for (const auto& x : e) all += x + "\n";
  ASSERT_EQ(e.size(), 3u) << all;
  EXPECT_NE(all.find("S:4:5: error: constraints: core.sram.size is a size in "), std::string::npos)
      << all;
  EXPECT_NE(all.find("the bound a bandwidth"), std::string::npos) << all;
  EXPECT_NE(all.find("S:5:5: error: constraints: area_mm2 is an area in mm2, not a size"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("S:6:5: error: constraints: cores is a count, not a frequency"),
            std::string::npos)
      << all;
  // An area bound is taken in mm2: 900 mm2 keeps the default chip (176 mm2 at
  // 1 MiB), as 900 does.
  std::string ok = write_temp(
      "area.yaml", "hw: [" + hw("default.yaml") + "]\nconstraints: [area_mm2 <= 900 mm2]\n");
  EXPECT_TRUE(spec_errors(ok).empty());
  SweepSpec spec = load_sweep_spec(ok, true);
  ASSERT_EQ(spec.constraints.size(), 1u);
  EXPECT_DOUBLE_EQ(spec.constraints[0].value, 900);
}

// The CLI: bad spec -> exit 2, one line per problem, no store created.
TEST(Sweep, BadSpecExitsTwoAndWritesNothing) {
  std::string p =
      write_temp("bad.yaml", "hw: " + hw("default.yaml") + "\nparams: {core.sram.size: [3 GHz]}\n");
  std::string out = temp_path("out");
  fs::remove_all(out);  // a store left by an earlier run of this test
  CliRun r = run_cli("sweep '" + p + "' --out '" + out + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.find(p + ":2:27: error: core.sram.size:"), 0u) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

// A config listed twice was announced as twice the runs and run once: an
// error at the later entry (a path, or a glob that matches it again), as a
// value given twice in `params` is.
TEST(Sweep, AConfigListedTwiceIsAnErrorAtTheSecondEntry) {
  std::string out = temp_path("out");
  fs::remove_all(out);
  std::string p =
      write_temp("twice.yaml", "hw: [configs/hw/default.yaml, configs/hw/default.yaml]\n");
  CliRun r = run_cli("sweep '" + p + "' --fidelity analytical --out '" + out + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, p + ":1:31: error: hw: config \"configs/hw/default.yaml\" is listed already "
                       "(entry 1) (list each config once)\n");
  std::string g =
      write_temp("glob.yaml", "hw:\n  - " + hw("default.yaml") + "\n  - configs/hw/defaul*.yaml\n");
  r = run_cli("sweep '" + g + "' --fidelity analytical --out '" + out + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, g + ":3:5: error: hw: the glob \"configs/hw/defaul*.yaml\" matches "
                       "\"configs/hw/default.yaml\", listed already (entry 1) (list each config "
                       "once)\n");
  EXPECT_TRUE(r.out.empty());
  EXPECT_FALSE(fs::exists(out));
}

// --shards below 1 is refused whatever the backend (an array of -3 tasks was
// handed to sbatch), and --shards with the local backend (ignored before). A submission that fails
// is no input error, but the sweep is not done: its runs count as not run and the exit code is 1
// (it was 0 with "0 ok, 0 skipped, 0 failed").
TEST(Sweep, BadShardsAndAFailedSlurmSubmissionAreNotSuccess) {
  std::string p =
      write_temp("s.yaml", "hw: " + hw("default.yaml") + "\nworkload:\n  model: " + project_root() +
                               "/configs/sweeps/models/llama-3.1-8b-1layer.yaml\n"
                               "  batch: [1, 2]\n");
  std::string out = temp_path("out");
  fs::remove_all(out);
  for (const std::string args : {"--shards -3", "--shards 0", "--backend slurm --shards 0"}) {
    CliRun r = run_cli("sweep '" + p + "' --fidelity analytical --out '" + out + "' " + args);
    EXPECT_EQ(r.code, 2) << args;
    const std::string n = args.substr(args.rfind(' ') + 1);
    EXPECT_EQ(r.err, "<command line>: error: --shards: must be >= 1, got " + n +
                         " (leave it out for one array task per 8 runs, at most 64)\n")
        << args;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
  // A valid --shards with the local backend, which has no array tasks.
  CliRun local = run_cli("sweep '" + p + "' --fidelity analytical --out '" + out + "' --shards 4");
  EXPECT_EQ(local.code, 2);
  EXPECT_EQ(local.err,
            "<command line>: error: --shards: applies to --backend slurm only (the local "
            "backend runs --jobs workers) (use --jobs N, or add --backend slurm)\n");
  EXPECT_FALSE(fs::exists(out));
  // An sbatch that cannot reach a cluster.
  const std::string bin = temp_path("bin");
  fs::create_directories(bin);
  std::ofstream(bin + "/sbatch") << "#!/bin/sh\necho 'sbatch: error: no cluster'\nexit 1\n";
  fs::permissions(bin + "/sbatch", fs::perms::owner_all);
  const std::string path = getenv("PATH");
  setenv("PATH", (bin + ":" + path).c_str(), 1);
  CliRun r = run_cli("sweep '" + p + "' --fidelity analytical --backend slurm --out '" + out + "'");
  setenv("PATH", path.c_str(), 1);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("sweep: sbatch exited with 1: sbatch: error: no cluster"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find(": 0 ok, 0 skipped by constraints, 0 failed, 2 not run; "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("sweep: 2 runs not run; run the sweep again to finish them"),
            std::string::npos)
      << r.err;
}

// Hand-checked front: (3,3) is dominated by (2,2); the duplicate (2,2) stays.
TEST(Sweep, ParetoFront) {
  std::vector<std::vector<double>> v = {{1, 5}, {2, 2}, {5, 1}, {3, 3}, {2, 2}, {6, 6}};
  EXPECT_EQ(pareto_front(v), (std::vector<size_t>{0, 1, 2, 4}));
}

// Area of the default chip by SRAM size (as the report gives it): 1 MiB 122.9,
// 2 MiB 140.6, 4 MiB 176.0 mm2. A 150 mm2 budget skips the 4 MiB point, and a
// second constraint on a config key (SRAM >= 2 MiB) skips the 1 MiB one.
TEST(Sweep, ConstraintsSkipPoints) {
  std::string p =
      write_temp("c.yaml", "hw: " + hw("default.yaml") +
                               "\n"
                               "workload: {model: " +
                               project_root() +
                               "/configs/sweeps/models/llama-3.1-8b-1layer.yaml}\n"
                               "params: {core.sram.size: [1 MiB, 2 MiB, 4 MiB]}\n"
                               "constraints: [area_mm2 <= 150, core.sram.size >= 2 MiB]\n");
  std::string out = temp_path("out");
  fs::remove_all(out);  // a store left by an earlier run of this test
  CliRun r = run_cli("sweep '" + p + "' --fidelity analytical -j 2 --out '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  SweepStore store(out + "/results.db");
  auto rows = store.rows();
  ASSERT_EQ(rows.size(), 3u);
  std::map<double, std::string> status;
  for (const auto& x : rows)
    status[x["core.sram.size"].get<double>()] = x["status"].get<std::string>();
  EXPECT_EQ(status[1048576], "skipped");
  EXPECT_EQ(status[2097152], "ok");
  EXPECT_EQ(status[4194304], "skipped");
  for (const auto& x : rows) {
    if (x["core.sram.size"].get<double>() == 4194304) {
      EXPECT_EQ(x["error"].get<std::string>().substr(0, 52),
                "constraint \"area_mm2 <= 150\" not met: area_mm2 = 176");
    }
  }
  EXPECT_NE(r.out.find("1 ok, 2 skipped by constraints, 0 failed"), std::string::npos) << r.out;
}

// Kill a running sweep with SIGKILL, start it again: every run is stored
// exactly once, every row whole.
TEST(Sweep, ResumesAfterSigkill) {
  // 2 x 2 x 3 = 12 decode runs of a whole Llama-3.1-8B step, each a cycle
  // simulation of a few hundred milliseconds, one at a time.
  std::string p = write_temp("r.yaml", "hw: " + hw("default.yaml") +
                                           "\n"
                                           "workload: {batch: [1, 2], context: [1024, 2048]}\n"
                                           "params: {core.sram.size: [1 MiB, 2 MiB, 4 MiB]}\n");
  std::string out = temp_path("out"), db = out + "/results.db";
  fs::remove_all(out);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1), dup2(devnull, 2);
    execl(BITCYCLE_BIN, BITCYCLE_BIN, "sweep", p.c_str(), "-j", "1", "--out", out.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until a few rows are stored, then kill without warning.
  int64_t stored = 0;
  for (int i = 0; i < 600 && stored < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(db)) continue;
    try {
      SweepStore ro(db, true);
      stored = static_cast<int64_t>(ro.done_points().size());
    } catch (const std::exception&) {
    }
  }
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st));
  {
    SweepStore ro(db, true);
    stored = static_cast<int64_t>(ro.done_points().size());
  }
  EXPECT_GE(stored, 3);
  EXPECT_LT(stored, 12);  // killed before the end
  CliRun r = run_cli("sweep '" + p + "' -j 2 --out '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("12 runs (cycle), " + std::to_string(stored) + " already in"),
            std::string::npos)
      << r.err;
  SweepStore store(db);
  auto rows = store.rows();
  ASSERT_EQ(rows.size(), 12u);
  std::set<std::string> keys;
  for (const auto& x : rows) {
    keys.insert(x["point"].get<std::string>());
    EXPECT_EQ(x["status"], "ok") << x["error"];
    EXPECT_GT(x["latency_s"].get<double>(), 0);
    EXPECT_GT(x["energy_per_token_j"].get<double>(), 0);
  }
  EXPECT_EQ(keys.size(), 12u);
  // A third run has nothing left to do.
  r = run_cli("sweep '" + p + "' --out '" + out + "'");
  EXPECT_NE(r.err.find("12 already in"), std::string::npos) << r.err;
  EXPECT_EQ(SweepStore(db, true).rows().size(), 12u);
}

// results.csv is the results table: same columns, rows and values (numbers
// round-trip exactly, NULL is an empty cell). A store made by another spec is
// refused at the differing line, and left as it was.
TEST(Sweep, CsvEqualsStoreAndStoreBelongsToItsSpec) {
  const std::string body =
      "workload:\n"  // 2
      "  model: " +
      project_root() +
      "/configs/sweeps/models/llama-3.1-8b-1layer.yaml\n"  // 3
      "  batch: [1, 4]\n"                                  // 4
      "params:\n"                                          // 5
      "  memory.dram.bandwidth: [1 TB/s, 2 TB/s]\n"        // 6
      "pareto: [latency_s, area_mm2]\n";                   // 7
  std::string p = write_temp("s.yaml", "hw: " + hw("default.yaml") + "\n" + body);
  std::string out = temp_path("out");
  fs::remove_all(out);  // a store left by an earlier run of this test
  CliRun r = run_cli("sweep '" + p + "' --fidelity analytical --out '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Pareto front (latency_s, area_mm2; analytical)"), std::string::npos);
  std::ifstream f(out + "/results.csv");
  auto csv = parse_csv(std::string(std::istreambuf_iterator<char>(f), {}));
  SweepStore store(out + "/results.db", true);
  auto cols = store.columns();
  auto rows = store.rows();
  ASSERT_EQ(csv.size(), rows.size() + 1);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(csv[0], cols);
  // The file lists the runs in the spec's order, whichever finished first; each
  // line holds its store row.
  const size_t point_col =
      static_cast<size_t>(std::find(cols.begin(), cols.end(), "point") - cols.begin());
  ASSERT_LT(point_col, cols.size());
  std::vector<std::string> order;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(csv[i + 1].size(), cols.size());
    order.push_back(csv[i + 1][point_col]);
    size_t j = 0;
    while (j < rows.size() && rows[j]["point"].get<std::string>() != order.back()) ++j;
    ASSERT_LT(j, rows.size()) << order.back();
    for (size_t c = 0; c < cols.size(); ++c) {
      const auto& v = rows[j][cols[c]];
      const std::string& cell = csv[i + 1][c];
      if (v.is_null())
        EXPECT_EQ(cell, "") << cols[c];
      else if (v.is_number_integer())
        EXPECT_EQ(cell, std::to_string(v.get<int64_t>())) << cols[c];
      else if (v.is_number())
        EXPECT_EQ(std::stod(cell), v.get<double>()) << cols[c];
      else
        EXPECT_EQ(cell, v.get<std::string>()) << cols[c];
    }
  }
  // Four workers finish in any order; the file's rows come out the same.
  std::string out4 = temp_path("out4");
  fs::remove_all(out4);
  r = run_cli("sweep '" + p + "' -j 4 --fidelity analytical --out '" + out4 + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f4(out4 + "/results.csv");
  auto csv4 = parse_csv(std::string(std::istreambuf_iterator<char>(f4), {}));
  ASSERT_EQ(csv4.size(), csv.size());
  for (size_t i = 1; i < csv4.size(); ++i) EXPECT_EQ(csv4[i][point_col], order[i - 1]) << i;
  // New Pareto objectives change no run: the same store, a new front.
  std::string same = write_temp(
      "s.yaml", "hw: " + hw("default.yaml") + "\n" + replace_line(body, 6, "pareto: [area_mm2]"));
  r = run_cli("sweep '" + same + "' --fidelity analytical --out '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("4 already in"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("Pareto front (area_mm2; analytical)"), std::string::npos) << r.out;
  // Another spec (a changed value list on line 6) must not touch the store.
  std::ifstream before_f(out + "/results.db", std::ios::binary);
  std::string before(std::istreambuf_iterator<char>(before_f), {});
  std::string q =
      write_temp("s.yaml", "hw: " + hw("default.yaml") + "\n" +
                               replace_line(body, 5, "  memory.dram.bandwidth: [3 TB/s]"));
  r = run_cli("sweep '" + q + "' --fidelity analytical --out '" + out + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.find(q + ":5:1: error: params: the results store " + out +
                       "/results.db was made by a different spec (`params` differs)"),
            0u)
      << r.err;
  std::ifstream after_f(out + "/results.db", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(after_f), {}), before);
}

// Where nothing is contended (one layer's prefill on the 2x2 bit-serial chip:
// every GEMM and attention op compute-bound), the analytical mode gives the
// engine's time op by op and the same action counts, hence the same dynamic
// energy.
TEST(Analytical, AgreesWithCycleModeWhereUncontended) {
  HwConfig h = load_hw_config(hw("bitmod-28nm.yaml"));
  WorkloadSpec w;
  w.phase = "prefill", w.seq = 256, w.context = 0, w.lm_head = false, w.embedding = false;
  SystemPlan plan =
      map_system(load_model(project_root() + "/configs/sweeps/models/llama-3.1-8b-1layer.yaml"),
                 load_quant("w8a8-int"), w, h);
  std::vector<AnalyticalOp> detail;
  SimResult a = analytical_simulate(h, plan.prog, &detail);
  SimResult c = simulate(h, plan.prog);
  int checked = 0;
  for (size_t i = 0; i < plan.prog.ops.size(); ++i) {
    if (plan.prog.ops[i].kind == OpKind::Elementwise) continue;
    EXPECT_EQ(detail[i].bound, "compute") << plan.prog.ops[i].name;
    const double ta = a.ops[i].end_s - a.ops[i].start_s, tc = c.ops[i].end_s - c.ops[i].start_s;
    EXPECT_NEAR(tc / ta, 1.0, 0.005) << plan.prog.ops[i].name;
    ++checked;
  }
  EXPECT_EQ(checked, 5);  // qkv, attention, o, gate_up, down
  EXPECT_NEAR(c.latency_s / a.latency_s, 1.0, 0.005);
  auto ra = build_report(h, plan.trace, plan.prog, a),
       rc = build_report(h, plan.trace, plan.prog, c);
  EXPECT_NEAR(rc["dynamic_energy_j"].get<double>() / ra["dynamic_energy_j"].get<double>(), 1.0,
              1e-3);
  // The counts are the engine's, action by action (MACs, SRAM, NoC byte-hops,
  // DRAM bytes): the same tiles, the same routes.
  ASSERT_EQ(ra["actions"].size(), rc["actions"].size());
  for (size_t k = 0; k < ra["actions"].size(); ++k) {
    const auto& x = ra["actions"][k];
    const double ca = x["count"].get<double>(), cc = rc["actions"][k]["count"].get<double>();
    EXPECT_NEAR(ca, cc, 1e-9 * cc) << x["component"] << "." << x["action"];
  }
}

// `run --fidelity analytical` reports without the engine (no events).
TEST(Analytical, RunFidelityFlag) {
  int code = 0;
  auto r = run_json("--fidelity analytical --model " + project_root() +
                        "/configs/sweeps/models/llama-3.1-8b-1layer.yaml",
                    &code);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(r["fidelity"], "analytical");
  EXPECT_EQ(r["sim"]["events"], 0);
  EXPECT_GT(r["latency_s"].get<double>(), 0);
  EXPECT_GT(r["energy_per_token_j"].get<double>(), 0);
  run_json("--fidelity fast", &code);
  EXPECT_EQ(code, 2);
}

// Every example spec loads and expands (the README's studies).
TEST(Sweep, ExampleSpecsLoad) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(project_root() + "/configs/sweeps")) {
    if (e.path().extension() != ".yaml") continue;
    SweepSpec s = load_sweep_spec(e.path().string());
    EXPECT_GT(expand_points(s).size(), 0u) << e.path();
    ++n;
  }
  EXPECT_GE(n, 4);
}

// The Slurm backend on a real single-node cluster (tests/slurm/local-slurm.sh
// starts munged, slurmctld and slurmd as root): a 4-run sweep as an array of
// 2 tasks, each writing its part file, merged into the store. The rows equal a
// local run's (the simulation is deterministic).
TEST(SweepSlurm, RunsAJobArrayOnLocalSlurm) {
  std::string err = temp_path("slurm-start.txt");
  std::string cmd = project_root() + "/tests/slurm/local-slurm.sh 2>'" + err + "'";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[512] = {0};
  std::string conf = fgets(buf, sizeof buf, f) ? std::string(buf) : "";
  int st = pclose(f);
  if (st != 0 || conf.empty()) {
    std::ifstream e(err);
    GTEST_SKIP() << "Slurm could not be started: "
                 << std::string(std::istreambuf_iterator<char>(e), {});
  }
  conf.erase(conf.find_last_not_of("\n") + 1);
  setenv("SLURM_CONF", conf.c_str(), 1);
  std::string p = write_temp("s.yaml", "hw: " + hw("bitmod-28nm.yaml") +
                                           "\n"
                                           "workload:\n"
                                           "  model: " +
                                           project_root() +
                                           "/configs/sweeps/models/llama-3.1-8b-1layer.yaml\n"
                                           "  batch: [1, 2]\n"
                                           "params: {core.sram.size: [256 KiB, 512 KiB]}\n");
  std::string out = temp_path("slurm"), local = temp_path("local");
  fs::remove_all(out);
  fs::remove_all(local);
  CliRun r = run_cli("sweep '" + p + "' --backend slurm --shards 2 --out '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("submitting 2 array tasks"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("merged 4 rows from 2 part files"), std::string::npos) << r.err;
  int parts = 0;
  for (const auto& e : fs::directory_iterator(out + "/parts"))
    parts += e.path().extension() == ".jsonl";
  EXPECT_EQ(parts, 2);
  r = run_cli("sweep '" + p + "' -j 2 --out '" + local + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  auto a = SweepStore(out + "/results.db", true).rows();
  auto b = SweepStore(local + "/results.db", true).rows();
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  std::map<std::string, double> la, lb;
  for (const auto& x : a) {
    EXPECT_EQ(x["status"], "ok") << x["error"];
    la[x["point"].get<std::string>()] = x["latency_s"].get<double>();
  }
  for (const auto& x : b) lb[x["point"].get<std::string>()] = x["latency_s"].get<double>();
  EXPECT_EQ(la, lb);
}

// --refine K: the K best points of each analytical front (by its first
// objective) run again in cycle mode, as rows of their own.
TEST(Sweep, RefineRerunsTheBestParetoPointsInCycleMode) {
  std::string p =
      write_temp("f.yaml", "hw: " + hw("default.yaml") +
                               "\n"
                               "workload:\n"
                               "  model: " +
                               project_root() +
                               "/configs/sweeps/models/llama-3.1-8b-1layer.yaml\n"
                               "  batch: [1, 8]\n"
                               "params: {memory.dram.bandwidth: [1 TB/s, 2 TB/s, 4 TB/s]}\n"
                               "pareto: [latency_s]\n");
  std::string out = temp_path("out");
  fs::remove_all(out);  // a store left by an earlier run of this test
  CliRun r = run_cli("sweep '" + p + "' --fidelity analytical --refine 1 --out '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  SweepStore store(out + "/results.db", true);
  EXPECT_EQ(store.rows("fidelity = 'analytical'").size(), 6u);
  auto cycle = store.rows("fidelity = 'cycle'");
  ASSERT_EQ(cycle.size(), 2u);  // one per workload's front
  // With latency alone, the best point has the most DRAM bandwidth.
  for (const auto& x : cycle) {
    EXPECT_EQ(x["status"], "ok") << x["error"];
    EXPECT_EQ(x["memory.dram.bandwidth"].get<double>(), 4e12);
  }
  EXPECT_NE(r.out.find("Refined in cycle mode (analytical -> cycle):"), std::string::npos) << r.out;
  // A results.csv that cannot be written: exit 2, and no front printed as if
  // the sweep had finished (they are printed after the file is written).
  fs::remove(out + "/results.csv");
  fs::create_directories(out + "/results.csv");
  r = run_cli("sweep '" + p + "' --fidelity analytical --out '" + out + "'");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.out.find("Pareto front"), std::string::npos) << r.out;
  r = run_cli("sweep --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: bitcycle sweep SPEC.yaml"), std::string::npos);
  r = run_cli("crosscheck --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: bitcycle crosscheck"), std::string::npos);
}

// A Slurm task's own mode, without Slurm: `--shard I/N --runs FILE --part FILE`
// runs every N-th listed run into its part file (skipping rows the part has).
// A sweep started on the folder merges the parts it finds before running
// anything, so tasks that finished after their sweep was killed count.
TEST(Sweep, PartFilesOfShardsAreMergedOnStart) {
  std::string p = write_temp("m.yaml", "hw: " + hw("default.yaml") +
                                           "\n"
                                           "workload:\n"
                                           "  model: " +
                                           project_root() +
                                           "/configs/sweeps/models/llama-3.1-8b-1layer.yaml\n"
                                           "params: {frequency: [1 GHz, 1.5 GHz, 2 GHz]}\n");
  std::string out = temp_path("out");
  fs::remove_all(out);
  fs::create_directories(out + "/parts");
  // The runs file the sweep writes for its tasks: the spec's identity and the runs.
  std::string runs = write_temp(
      "runs.json",
      nlohmann::json{{"spec", load_sweep_spec(p).canonical.dump()}, {"runs", {0, 1, 2}}}.dump());
  for (int i = 0; i < 2; ++i) {
    std::string part = out + "/parts/t-" + std::to_string(i) + ".jsonl";
    CliRun r = run_cli("sweep '" + p + "' --fidelity analytical --shard " + std::to_string(i) +
                       "/2 --runs '" + runs + "' --part '" + part + "'");
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream f(part);
    int lines = 0;
    for (std::string l; std::getline(f, l);) ++lines;
    EXPECT_EQ(lines, i == 0 ? 2 : 1);  // runs 0 and 2, then run 1
    // Again: the part already has its rows, nothing is added.
    run_cli("sweep '" + p + "' --fidelity analytical --shard " + std::to_string(i) + "/2 --runs '" +
            runs + "' --part '" + part + "'");
    std::ifstream g(part);
    int again = 0;
    for (std::string l; std::getline(g, l);) ++again;
    EXPECT_EQ(again, lines);
  }
  // A task of an edited spec refuses to run.
  std::string edited = write_temp(
      "m2.yaml", "hw: " + hw("default.yaml") + "\nparams: {frequency: [1 GHz, 3 GHz]}\n");
  CliRun bad = run_cli("sweep '" + edited + "' --fidelity analytical --shard 0/2 --runs '" + runs +
                       "' --part '" + out + "/parts/x.jsonl'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("the spec changed since the sweep listed its runs"), std::string::npos)
      << bad.err;
  EXPECT_FALSE(fs::exists(out + "/parts/x.jsonl"));
  CliRun r = run_cli("sweep '" + p + "' --fidelity analytical --out '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("merged 3 rows of earlier Slurm tasks"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 runs (analytical), 3 already in"), std::string::npos) << r.err;
  EXPECT_EQ(SweepStore(out + "/results.db", true).rows("status = 'ok'").size(), 3u);
}
