// Hostile inputs, numeric limits and outputs (issue 13): every malformed input
// of tests/corpus/ exits 2 with its positioned first line and leaves no output
// file; the documented limits (sim/config/limits.h, README "Limits") are
// refused with an error naming them; simulated time cannot wrap; a run's
// outputs are all written or none; runs are reproducible.

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

#include "helpers.h"
#include "models/busy_server.h"
#include "models/noc_mesh.h"
#include "sim/cli/isolate.h"
#include "sim/config/config_tree.h"
#include "sim/config/limits.h"
#include "sim/report/report.h"
#include "sim/trace/trace.h"
#include "workloads/generator.h"

namespace bc {
namespace {

using test::CliRun;
using test::run_cli;
using test::small_config;
using test::temp_path;
using test::write_temp;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Files in `dir` whose name starts with `prefix` (outputs and their temporaries).
std::vector<std::string> files_starting(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).rfind(prefix, 0) == 0) out.push_back(e->d_name);
    closedir(d);
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

// The command that reads a corpus file follows its name's prefix.
std::string corpus_command(const std::string& name, const std::string& out) {
  const std::string p = "tests/corpus/" + name;
  if (name.rfind("hf_", 0) == 0) return "run -q --model " + p + "/config.json --json '" + out + "'";
  if (name.rfind("model_", 0) == 0) return "run -q --model " + p + " --json '" + out + "'";
  if (name.rfind("hw_", 0) == 0) return "run -q " + p + " --json '" + out + "'";
  if (name.rfind("trace_", 0) == 0) return "run -q --trace " + p + " --json '" + out + "'";
  if (name.rfind("csv_", 0) == 0) return "validate " + p + " --csv '" + out + "'";
  return "";
}

TEST(Corpus, EveryMalformedInputExitsTwoAtItsLineWithNoOutputFile) {
  std::ifstream in(project_root() + "/tests/corpus/EXPECTED");
  ASSERT_TRUE(in);
  const std::regex positioned(R"(^[^:]+:[0-9]+:[0-9]+: error: .+)");
  const std::string out = temp_path("out.json");
  const std::string dir = out.substr(0, out.rfind('/'));
  int cases = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string name = line.substr(0, tab);
    const std::string expect = replace_all(line.substr(tab + 1), "{root}", project_root());
    const std::string args = corpus_command(name, out);
    ASSERT_FALSE(args.empty()) << "no command for " << name;
    std::remove(out.c_str());
    CliRun r = run_cli(args);
    EXPECT_EQ(r.code, 2) << name << "\n" << r.err;
    const auto ls = lines_of(r.err);
    ASSERT_FALSE(ls.empty()) << name;
    EXPECT_EQ(ls[0], expect) << name;
    EXPECT_TRUE(std::regex_match(ls[0], positioned)) << name << ": " << ls[0];
    EXPECT_TRUE(files_starting(dir, "out.json").empty()) << name << " left an output";
    ++cases;
  }
  EXPECT_GE(cases, 30);
}

TEST(Isolate, AChildsInputErrorComesBackAsTheSameInputError) {
  // The power limit runs the nominal clock in a child: an input error there
  // (a run past the clock's limit) must reach the user as the same message and
  // exit code 2, not as an internal failure.
  const Diagnostic d{{"hw.yaml", 7, 3}, "memory.dram.bandwidth", "far too slow", "raise it"};
  nlohmann::json r = run_isolated([&]() -> nlohmann::json { throw InputError(d); });
  EXPECT_EQ(r["exit_code"].get<int>(), 2);
  try {
    rethrow_isolated_error(r, "context: ");
    ADD_FAILURE() << "no exception";
  } catch (const InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(), d.str());
    EXPECT_EQ(std::string(e.what()), InputError(d).what());
  }
  // Other failures stay internal errors, with the caller's context.
  nlohmann::json bad = run_isolated([]() -> nlohmann::json { throw std::runtime_error("broken"); });
  EXPECT_THROW(
      {
        try {
          rethrow_isolated_error(bad, "context: ");
        } catch (const InputError&) {
          ADD_FAILURE() << "an internal error became an input error";
        } catch (const std::runtime_error& e) {
          EXPECT_EQ(std::string(e.what()), "context: broken");
          throw;
        }
      },
      std::runtime_error);
  EXPECT_NO_THROW(rethrow_isolated_error(run_isolated([] {
                                           return nlohmann::json{{"ok", 1}};
                                         }),
                                         "context: "));
}

TEST(Corpus, ANullSectionIsOneErrorNotOnePerKey) {
  CliRun r = run_cli("explain tests/corpus/hw_null_section.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  // A missing section likewise: reported once, and nothing at "<input>".
  std::string cfg = write_temp("hw.yaml", test::replace_line(small_config(), 5, "nocx:"));
  CliRun m = run_cli("explain '" + cfg + "'");
  EXPECT_EQ(m.code, 2);
  EXPECT_EQ(m.err.find("<input>"), std::string::npos) << m.err;
  EXPECT_NE(m.err.find(cfg + ":1:1: error: noc: missing required section"), std::string::npos)
      << m.err;
  EXPECT_EQ(m.err.find("noc.mesh"), std::string::npos) << m.err;
}

TEST(Limits, AFileLargerThanTheLimitIsRefused) {
  const std::string big = temp_path("big.yaml");
  {
    std::ofstream f(big);
    const std::string line = "# " + std::string(1022, 'x') + "\n";  // 1 KiB
    for (int64_t i = 0; i <= limits::kMaxFileBytes / 1024; ++i) f << line;
  }
  try {
    load_config_file(big);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              big + ": error: file larger than 16 MiB (the limit for an input file)");
  }
}

TEST(Limits, IncludeChainsDeeperThanTheLimitAreRefused) {
  // f0 includes f1 ... includes f20: the 17th level is refused at its include line.
  for (int i = 0; i <= 20; ++i)
    write_temp("f" + std::to_string(i) + ".yaml",
               i < 20 ? "include: f" + std::to_string(i + 1) + ".yaml\n" : "name: x\n");
  try {
    load_config_file(temp_path("f0.yaml"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), temp_path("f15.yaml") +
                                         ":1:10: error: include: includes nested deeper than 16 "
                                         "files (the limit)");
  }
}

TEST(Limits, DiagnosticsPrintedAreCapped) {
  std::string text = small_config();
  for (int i = 0; i < 200; ++i) text += "bogus_key_" + std::to_string(i) + ": 1\n";
  CliRun r = run_cli("explain '" + write_temp("hw.yaml", text) + "'");
  EXPECT_EQ(r.code, 2);
  const auto ls = lines_of(r.err);
  ASSERT_EQ(ls.size(), limits::kMaxDiagnostics + 1) << r.err;
  EXPECT_NE(ls.back().find(": note: 150 more errors not shown (at most 50 are printed)"),
            std::string::npos)
      << ls.back();
}

TEST(Limits, ATraceWithMoreOpsThanTheLimitIsRefused) {
  std::ostringstream t;
  t << "{\"schema\": \"bitcycle-trace\", \"version\": 1, \"ops\": [\n";
  for (int64_t i = 0; i <= limits::kMaxOps; ++i)
    t << (i ? ",\n" : "") << "{\"id\": " << i
      << ", \"kind\": \"elementwise\", \"fn\": \"add\", \"elements\": 64}";
  t << "]}\n";
  const std::string path = write_temp("t.json", t.str());
  try {
    read_trace(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              path +
                  ":1:51: error: ops: 16385 ops, more than 16384 (the limit for a trace) "
                  "(split the trace)");
  }
}

TEST(Limits, AGeneratedTraceWithMoreOpsThanTheLimitIsRefused) {
  // 1,024 experts in each of 64 layers: three ops per expert that gets tokens.
  const std::string model = write_temp("moe.yaml",
                                       "hidden: 64\nffn: 64\nlayers: 64\nheads: 4\nvocab: 100\n"
                                       "experts: 1024\nexperts_per_token: 1024\n");
  CliRun r = run_cli("run -q --model '" + model + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "<command line>: error: --model: the trace of moe would have more than 16384 ops "
            "(the limit for a trace) (fewer layers or experts)\n");
}

TEST(Limits, WorkloadOptionsAreRangeChecked) {
  struct Case {
    std::string args, err;
  } cases[] = {
      {"run --batch 9223372036854775807",
       "<command line>: error: --batch: must be <= 1048576 (the limit), got 9223372036854775807"},
      {"run --context 100000000",
       "<command line>: error: --context: must be <= 16777216 tokens (the limit), got 100000000"},
      {"run --phase prefill --seq 100000000",
       "<command line>: error: --seq: must be <= 16777216 tokens (the limit), got 100000000"},
      {"run --batch 1048576 --context 16777216",
       "<command line>: error: --batch: batch x (context + seq) = 17592187092992 tokens, more "
       "than 2147483648 (the limit)"},
      {"run --model mixtral-8x7b --expert-load nan,0,0,0,0,0,0,1",
       "<command line>: error: --expert-load: shares must be >= 0 and add up to 1"},
      {"run --model mixtral-8x7b --expert-load inf,0,0,0,0,0,0,0",
       "<command line>: error: --expert-load: shares must be >= 0 and add up to 1"},
      {"move configs/hw/sn40l.yaml --bytes nan",
       "<command line>: error: --bytes: expected a number of bytes > 0 and <= 1000 TB, got nan"},
      {"move configs/hw/sn40l.yaml --bytes inf",
       "<command line>: error: --bytes: expected a number of bytes > 0 and <= 1000 TB, got inf"},
      {"move configs/hw/sn40l.yaml --bytes 17e9x",
       "<command line>: error: --bytes: expected a number of bytes, got \"17e9x\""},
  };
  for (const auto& c : cases) {
    CliRun r = run_cli(c.args + " -q");
    if (c.args.rfind("move", 0) == 0) r = run_cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, c.err + "\n") << c.args;
  }
}

TEST(Limits, NonUtf8ArgumentsExitTwoBeforeAnyWork) {
  const std::string out = temp_path("out.json");
  CliRun r = run_cli("run -q --model \"$(printf 'llama\\377')\" --json '" + out + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "<command line>: error: argument 4: invalid UTF-8 byte 0xFF: input text must be "
            "UTF-8 (give paths and names in UTF-8)\n");
  EXPECT_TRUE(files_starting(out.substr(0, out.rfind('/')), "out.json").empty());
}

TEST(Limits, QuantitiesOutsideTheirDimensionsRangeAreErrors) {
  auto errs = [](const std::string& line13) {
    return test::config_errors(test::replace_line(small_config(), 4, line13));
  };
  EXPECT_EQ(errs("frequency: 1e300 GHz"),
            std::vector<std::string>{
                "F:4:12: error: frequency: \"1e300 GHz\" is out of range of a number"});
  EXPECT_EQ(
      errs("frequency: 2000 GHz"),
      std::vector<std::string>{"F:4:12: error: frequency: value 2000 GHz out of range: must be "
                               "<= 1000 GHz, the largest frequency BitCycle accepts (check "
                               "the unit)"});
  EXPECT_EQ(
      test::config_errors(test::replace_line(small_config(), 30, "    bandwidth: 1e-300 B/s")),
      std::vector<std::string>{
          "F:30:16: error: memory.dram.bandwidth: value 1e-300 B/s out of range: must be "
          ">= 1 KB/s, the smallest bandwidth BitCycle accepts (check the unit)"});
}

TEST(SimulatedTime, DurationsSaturateInsteadOfWrapping) {
  EXPECT_EQ(ceil_ticks(1e30), kMaxTicks);
  EXPECT_EQ(ceil_ticks(std::numeric_limits<double>::quiet_NaN()), kMaxTicks);
  EXPECT_EQ(ceil_ticks(1000.0), 1000u);
  EXPECT_EQ(sat_add(kMaxTicks - 1, 5), kMaxTicks);
  EXPECT_EQ(sat_add(kMaxTicks, kMaxTicks), kMaxTicks);
  EXPECT_EQ(sat_add(2, 3), 5u);
  BusyServer s;
  for (int i = 0; i < 8; ++i) s.serve(0, kMaxTicks);  // would wrap at the fourth
  EXPECT_EQ(s.busy_until, kMaxTicks);
}

TEST(SimulatedTime, BookedLinksSaturateAsServedLinksDo) {
  // The transfer's hot loop (NocMesh::book_links, book_link_group) clamps
  // after the loop, and a group's busy totals are added when read; they must
  // leave every link where serve_link, which clamps each booking, does.
  NocMesh a(4, 4, 1e9, 0), b(4, 4, 1e9, 0), c(4, 4, 1e9, 0);
  const std::vector<uint32_t> ids = {0, 5, 9, 22, 63};
  const uint32_t g = c.add_link_group(ids, 1.0);
  const Tick steps[][2] = {{0, 1000},          {10, kMaxTicks / 3},    {20, kMaxTicks / 2},
                           {kMaxTicks - 5, 7}, {kMaxTicks, kMaxTicks}, {3, 0}};
  for (const auto& [now, dur] : steps) {
    Tick end = 0;
    for (uint32_t l : ids) end = std::max(end, a.serve_link(l, now, dur));
    EXPECT_EQ(b.book_links(ids.data(), ids.size(), now, dur), end);
    EXPECT_EQ(c.book_link_group(g, now, dur), end);
    for (NocMesh* m : {&a, &b, &c}) m->serve_link(5, now, 1);  // a grouped link alone too
    for (uint32_t l : ids) {
      EXPECT_EQ(b.link_busy_until(l), a.link_busy_until(l));
      EXPECT_EQ(b.link_busy_total(l), a.link_busy_total(l));
      EXPECT_EQ(c.link_busy_until(l), a.link_busy_until(l));
      EXPECT_EQ(c.link_busy_total(l), a.link_busy_total(l));
    }
  }
  EXPECT_EQ(b.link_busy_until(0), kMaxTicks);
  EXPECT_EQ(c.link_busy_total(0), kMaxTicks);
  EXPECT_EQ(b.book_links(ids.data(), 0, 5, 5), 0u);
  // A group's totals read between its bookings, and by the busiest-link figure.
  NocMesh d(2, 1, 1e9, 0);
  const uint32_t h = d.add_link_group(std::vector<uint32_t>{0}, 1.0);
  d.book_link_group(h, 0, 100);
  EXPECT_EQ(d.link_busy_total(0), 100u);
  d.book_link_group(h, 0, 50);
  EXPECT_EQ(d.link_busy_total(0), 150u);
  d.book_link_group(h, 0, 25);
  EXPECT_DOUBLE_EQ(d.link_busy_max_s(), 175e-12);
}

TEST(SimulatedTime, ARunPastTheClockLimitIsRefusedInBothModes) {
  // Llama-3.1-8B's 8.6 GB at 1 KB/s take 99 days: past 2^62 ps (53 days). The
  // message names the key: the slowest op in the mapper's estimate is the LM
  // head, its 128,256 x 4,096 int8 weights (525 MB) at 1 KB/s, bound by DRAM.
  for (const char* fidelity : {"cycle", "analytical"}) {
    CliRun r = run_cli(std::string("run -q --fidelity ") + fidelity +
                       " --set 'memory.dram.bandwidth=1 KB/s'");
    EXPECT_EQ(r.code, 2) << fidelity;
    EXPECT_EQ(r.err.rfind("--set memory.dram.bandwidth=1 KB/s: error: memory.dram.bandwidth: the "
                          "simulated time reaches 2^62 ps (about 53 days), the limit of the 64-bit "
                          "clock: the slowest op in the mapper's estimate, lm_head (",
                          0),
              0u)
        << r.err;
    EXPECT_NE(r.err.find("is bound by dram, which memory.dram.bandwidth sets (check "
                         "memory.dram.bandwidth for a unit slip)\n"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    // And nothing else: SystemC's notes on the stop stay off stdout.
    EXPECT_EQ(r.out, "") << fidelity;
  }
  // In a file: the key's line and column (default.yaml's dram bandwidth, line 44).
  std::ifstream in(project_root() + "/configs/hw/default.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find("bandwidth: 3.35 TB/s");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 20, "bandwidth: 1 KB/s");
  // The library path is relative to the config's folder: point it back.
  std::string fixed = text;
  fixed.replace(fixed.find("library: ../components/library.yaml"), 35,
                "library: " + project_root() + "/configs/components/library.yaml");
  const std::string cfg2 = write_temp("slow.yaml", fixed);
  CliRun f = run_cli("run -q '" + cfg2 + "'");
  EXPECT_EQ(f.code, 2);
  EXPECT_EQ(f.err.rfind(cfg2 + ":44:5: error: memory.dram.bandwidth: the simulated time", 0), 0u)
      << f.err;
}

TEST(SimulatedTime, ALongRunBelowTheLimitIsExact) {
  // 10 MB/s: the same weights take 13 minutes, well inside the clock; the
  // time is the bytes over the bandwidth (a memory-bound decode step).
  int code = 0;
  nlohmann::json r = test::run_json("--set 'memory.dram.bandwidth=10 MB/s'", &code);
  ASSERT_EQ(code, 0);
  const double bytes = r["trace_totals"]["weight_bytes_read"].get<double>();
  EXPECT_GT(r["latency_s"].get<double>(), bytes / 10e6 * 0.99);
}

TEST(Outputs, ADirectoryAsOutputExitsTwoAndLeavesNothing) {
  const std::string dir = temp_path("outdir");
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  CliRun r = run_cli("run -q --json '" + dir + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--json: cannot write \"" + dir + "\": it is a directory"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(files_starting(dir.substr(0, dir.rfind('/')), "outdir.").empty());
}

TEST(Outputs, AnUnwritableCsvLeavesNoJson) {
  const std::string json = temp_path("r.json");
  std::remove(json.c_str());
  CliRun r = run_cli("run -q --json '" + json + "' --csv /nonexistent-dir/r.csv");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--csv: cannot write"), std::string::npos) << r.err;
  EXPECT_TRUE(files_starting(json.substr(0, json.rfind('/')), "r.json").empty());
}

TEST(Outputs, StagedOutputsAppearOnlyWhenCommitted) {
  const std::string a = temp_path("a.txt"), b = temp_path("b.txt");
  std::remove(a.c_str());
  std::remove(b.c_str());
  {
    OutputFile fa(a, "--json"), fb(b, "--csv");
    fa.stage("a\n");
    // An error before fb is written: neither output, nor any temporary, remains.
  }
  const std::string dir = a.substr(0, a.rfind('/'));
  EXPECT_TRUE(files_starting(dir, "a.txt").empty());
  EXPECT_TRUE(files_starting(dir, "b.txt").empty());
  {
    OutputFile fa(a, "--json"), fb(b, "--csv");
    fa.stage("a\n");
    fb.stage("b\n");
    // Staged but not committed: an unnamed file (O_TMPFILE), nothing to see.
    EXPECT_TRUE(files_starting(dir, "a.txt").empty());
    fa.commit();
    fb.commit();
  }
  EXPECT_EQ(files_starting(dir, "a.txt"), std::vector<std::string>{"a.txt"});
  EXPECT_EQ(files_starting(dir, "b.txt"), std::vector<std::string>{"b.txt"});
}

TEST(Outputs, ARunKilledMidSimulationLeavesNoFile) {
  // The output is claimed (an unnamed file in its directory) before the
  // simulation; SIGKILL during it leaves neither the output nor a temporary.
  const std::string json = temp_path("killed.json");
  std::remove(json.c_str());
  const std::string cmd = "timeout -s KILL 0.5 " + std::string(BITCYCLE_BIN) + " run -q '" +
                          project_root() + "/configs/hw/sn40l.yaml' --no-compare --json '" + json +
                          "' >/dev/null 2>&1";
  const int st = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(st));
  ASSERT_EQ(WEXITSTATUS(st), 137) << "the run ended before the kill";  // 128 + SIGKILL
  EXPECT_TRUE(files_starting(json.substr(0, json.rfind('/')), "killed.json").empty());
}

TEST(Outputs, ConcurrentWritersLeaveOneCompleteFile) {
  // Two runs write the same --json at once: unique temporaries, so the file is
  // one run's whole report (never a mix), and no temporary is left.
  const std::string json = temp_path("same.json");
  const std::string bin = BITCYCLE_BIN;
  const std::string cmd = "(" + bin + " run -q --json '" + json + "' & " + bin +
                          " run -q --batch 2 --json '" + json + "' & wait)";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream f(json);
  nlohmann::json r = nlohmann::json::parse(f);  // throws on a torn file
  EXPECT_TRUE(r.contains("latency_s"));
  EXPECT_EQ(files_starting(json.substr(0, json.rfind('/')), "same.json"),
            std::vector<std::string>{"same.json"});
}

TEST(Determinism, TwoRunsWriteTheSameReport) {
  // Byte for byte, apart from the host's own measurements (sim.wall_s and
  // sim.events_per_s: how long the simulation took on this machine).
  std::string text[2], csv[2];
  for (int i = 0; i < 2; ++i) {
    const std::string j = temp_path("d" + std::to_string(i) + ".json");
    const std::string c = temp_path("d" + std::to_string(i) + ".csv");
    CliRun r =
        run_cli("run -q --model mixtral-8x7b --quant w4a8 --json '" + j + "' --csv '" + c + "'");
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream fj(j), fc(c);
    nlohmann::json rep = nlohmann::json::parse(fj);
    rep["sim"].erase("wall_s");
    rep["sim"].erase("events_per_s");
    text[i] = rep.dump(1);
    csv[i] = std::string(std::istreambuf_iterator<char>(fc), {});
  }
  EXPECT_EQ(text[0], text[1]);
  EXPECT_EQ(csv[0], csv[1]);
}

TEST(HfConfig, NullOptionalKeysTakeTheirDefaults) {
  const std::string hf = write_temp("config.json",
                                    "{\"model_type\": \"llama\", \"hidden_size\": 64, "
                                    "\"intermediate_size\": 128, \"num_hidden_layers\": 2, "
                                    "\"num_attention_heads\": 4, \"num_key_value_heads\": null, "
                                    "\"sliding_window\": null, \"vocab_size\": 100}\n");
  ModelDesc m = load_model(hf);
  EXPECT_EQ(m.kv_heads, 4);
  EXPECT_EQ(m.sliding_window, 0);
  EXPECT_EQ(m.head_dim, 16);
}

TEST(Trace, IntegersAreReadWholeAndIdsStayInsideThirtyTwoBits) {
  const std::string head = "{\"schema\": \"bitcycle-trace\", \"version\": 1, \"ops\": [\n";
  const std::string op0 =
      "{\"id\": 0, \"kind\": \"elementwise\", \"fn\": \"add\", \"elements\": 64}";
  auto err = [&](const std::string& op1) {
    try {
      read_trace(write_temp("t.json", head + op0 + ",\n" + op1 + "]}\n"));
    } catch (const InputError& e) {
      return std::string(e.what()).substr(std::string(e.what()).find(": error: "));
    }
    return std::string();
  };
  const std::string el = "\"kind\": \"elementwise\", \"fn\": \"add\", ";
  EXPECT_EQ(err("{\"id\": 1, " + el + "\"elements\": \"17e9\"}"),
            ": error: ops[1].elements: expected an integer, got \"17e9\"");
  EXPECT_EQ(err("{\"id\": 1, " + el + "\"elements\": 64, \"deps\": [\"17e9\"]}"),
            ": error: ops[1].deps: expected an op id, got \"17e9\"");
  EXPECT_EQ(err("{\"id\": 1, " + el + "\"elements\": 64, \"layer\": 4294967296}"),
            ": error: ops[1].layer: value 4294967296 out of range: must be >= -1 and <= 1023");
  EXPECT_EQ(err("{\"id\": 1, " + el + "\"elements\": 64, \"deps\": [4294967296]}"),
            ": error: ops[1].deps: expected an op id, got \"4294967296\"");
}

}  // namespace
}  // namespace bc

namespace bc {
namespace {

TEST(Overflow, Llama405bPrefillAt128kOn576ChipsRunsOrIsRefused) {
  // At the documented maxima's scale: either a finite report or one positioned
  // error (here: pipeline 8 does not divide 126 layers; with tensor 32 x
  // pipeline 2 the weights fit no chip), never a wrapped time or a crash.
  const std::string base =
      "run configs/hw/groq-tsp-x576.yaml --model llama-3.1-405b --phase prefill --seq 131072 "
      "--fidelity analytical -q";
  const std::regex positioned(R"(^[^:]+:[0-9]+:[0-9]+: error: .+\n$)");
  for (const std::string extra :
       {"", " --set system.parallel.tensor=32 --set system.parallel.pipeline=2"}) {
    const std::string json = test::temp_path("r.json");
    std::remove(json.c_str());
    test::CliRun r = test::run_cli(base + extra + " --json '" + json + "'");
    ASSERT_TRUE(r.code == 0 || r.code == 2) << extra << "\n" << r.err;
    if (r.code == 2) {
      EXPECT_TRUE(std::regex_match(r.err, positioned)) << r.err;
    } else {
      std::ifstream f(json);
      const double latency = nlohmann::json::parse(f)["latency_s"].get<double>();
      EXPECT_TRUE(latency > 0 && latency < 4.6e6) << latency;  // below 2^62 ps
    }
  }
}

TEST(Recipes, LayerRangesAreReadWhole) {
  const std::string r = test::write_temp(
      "r.yaml", "weights: int8\nactivations: int8\nlayers:\n  \"3x\": {weights: int4}\n");
  test::CliRun c = test::run_cli("run -q --quant '" + r + "'");
  EXPECT_EQ(c.code, 2);
  EXPECT_EQ(c.err, r + ":4:9: error: layers.3x: expected a layer index or range like \"0-3\", "
                       "got \"3x\"\n");
}

TEST(Recipes, AKeyThatMeansNothingForItsClassIsAnError) {
  // The attention class has no weights and a GEMM class no KV cache: both had
  // been read and silently unused.
  const std::string r =
      test::write_temp("r.yaml",
                       "weights: int8\nactivations: int8\nclasses:\n  attention: {weights: int4}\n"
                       "  lm_head: {kv_cache: int4}\n");
  test::CliRun c = test::run_cli("run -q --quant '" + r + "'");
  EXPECT_EQ(c.code, 2);
  EXPECT_EQ(c.err,
            r +
                ":4:24: error: classes.attention.weights: the attention class has no weights "
                "(weights applies to a GEMM's weights; attention reads the kv_cache) (give "
                "activations or kv_cache here)\n" +
                r +
                ":5:23: error: classes.lm_head.kv_cache: the lm_head class has no KV cache "
                "(kv_cache is read from the recipe's defaults or the attention class) (move "
                "kv_cache to attention)\n");
  // A layer entry's unknown key lists every key the entry takes: the class
  // names and sparsity too.
  const std::string l = test::write_temp(
      "l.yaml", "weights: int8\nactivations: int8\nlayers:\n  1: {bogus: {weights: int4}}\n");
  c = test::run_cli("run -q --quant '" + l + "'");
  EXPECT_EQ(c.code, 2);
  EXPECT_EQ(c.err, l + ":4:7: error: layers.1.bogus: unknown key (valid keys: activations, "
                       "attention, down, gate_up, kv_cache, lm_head, o, output_features, qkv, "
                       "router, sparsity, weights)\n");
}

TEST(Cli, NegativeTopIsAnError) {
  test::CliRun c = test::run_cli("run --top -5");
  EXPECT_EQ(c.code, 2);
  EXPECT_EQ(c.err, "<command line>: error: --top: must be >= 0 (0: no table rows), got -5\n");
}

}  // namespace
}  // namespace bc

namespace bc {
namespace {

TEST(Faults, AChildThatDiesIsThatRunsErrorNotTheCallers) {
  nlohmann::json r = run_isolated([]() -> nlohmann::json {
    std::raise(SIGKILL);
    return {};
  });
  EXPECT_EQ(r["exit_code"], 1);
  EXPECT_EQ(r["error"].get<std::string>(),
            "internal error: the run's process died of signal 9 (Killed)");
  nlohmann::json ok = run_isolated([] { return nlohmann::json{{"x", 1}}; });
  EXPECT_EQ(ok["x"], 1);
}

}  // namespace
}  // namespace bc

namespace bc {
namespace {

TEST(Limits, ASweepOfMoreRunsThanTheLimitIsRefused) {
  // Three parameters of 200 values: 8,000,000 grid points.
  std::string spec = "hw: " + project_root() + "/configs/hw/default.yaml\nparams:\n";
  for (const char* key : {"memory.dram.bandwidth", "noc.link_bandwidth", "core.dma.bandwidth"}) {
    spec += std::string("  ") + key + ": [";
    for (int j = 1; j <= 200; ++j) spec += (j > 1 ? ", " : "") + std::to_string(j) + " GB/s";
    spec += "]\n";
  }
  const std::string path = test::write_temp("s.yaml", spec);
  const std::string out = test::temp_path("out");
  test::CliRun r = test::run_cli("sweep '" + path + "' --out '" + out + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, path +
                       ":3:3: error: params: the spec expands to 8000000 runs, more than 1000000 "
                       "(the limit of one sweep) (sweep a coarser grid, or use combine: random "
                       "with samples)\n");
}

}  // namespace
}  // namespace bc

namespace bc {
namespace {

TEST(Limits, CoresSimulatedAtOnceAndUnitRatesAreBounded) {
  test::CliRun r =
      test::run_cli("run -q configs/hw/groq-tsp-x576.yaml --set noc.mesh.x=64 --set noc.mesh.y=64");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "configs/hw/groq-tsp-x576.yaml:31:15: error: system.parallel.pipeline: 8 pipeline "
            "stages of 4096 cores each are 32768 cores to simulate, more than 16384 (the limit) "
            "(fewer pipeline stages)\n");
  r = test::run_cli("run -q --set core.units.mac.rates.int8=1e300");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "--set core.units.mac.rates.int8=1e300: error: core.units.mac.rates.int8: value 1e300 "
            "out of range: must be >= 1e-09 and <= 1e+06\n");
}

}  // namespace
}  // namespace bc

namespace bc {
namespace {

// Inputs found by mutating the shipped ones (a black-box fuzzer of the command
// line): each exited 1 ("internal error"), printed a line without a position,
// or was accepted silently.

TEST(Fuzzed, NamesLongerThanTheFileSystemAllowsAreUnknownNamesNotInternalErrors) {
  // A name component over 255 bytes made std::filesystem throw (exit 1).
  const std::string name(300, 'x');
  for (const std::string& args : {"run -q --model " + name, "run -q --quant " + name,
                                  "trace " + name + " -o " + test::temp_path("t.json")}) {
    test::CliRun r = test::run_cli(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("<command line>: error: --", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(": unknown "), std::string::npos) << r.err;
  }
  // In a sweep spec: at the line that names it.
  const std::string spec = test::write_temp("long.yaml", "hw: " + name + ".yaml\n");
  test::CliRun s = test::run_cli("sweep '" + spec + "' --out '" + test::temp_path("out") + "'");
  EXPECT_EQ(s.code, 2);
  EXPECT_EQ(s.err, spec + ":1:5: error: hw: config \"" + name +
                       ".yaml\" does not exist (paths are relative to the spec's folder or the "
                       "repository root)\n");
}

TEST(Fuzzed, ASweepOutputFolderThatCannotBeMadeExitsTwo) {
  const std::string spec = project_root() + "/configs/sweeps/dram-x-sram.yaml";
  test::CliRun r =
      test::run_cli("sweep '" + spec + "' --fidelity analytical --out /dev/null/results");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err,
            "<command line>: error: --out: cannot create the folder \"/dev/null/results\": Not a "
            "directory\n");
}

TEST(Fuzzed, AnUnknownParetoMetricIsAnErrorAtItsLine) {
  // It left every front empty, silently.
  const std::string spec =
      test::write_temp("pareto.yaml", "hw: " + project_root() +
                                          "/configs/hw/default.yaml\n"
                                          "params:\n"
                                          "  core.sram.size: [1 MiB, 2 MiB]\n"
                                          "pareto: [latency_s, energy_per_tokn_j, "
                                          "max:tokens_per_s, core.sram.size, time_s.gemm]\n");
  test::CliRun r = test::run_cli("sweep '" + spec + "' --out '" + test::temp_path("out") + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            spec +
                ":4:21: error: pareto: unknown metric \"energy_per_tokn_j\" (did you mean "
                "\"energy_per_token_j\"? a numeric result column: latency_s, tokens_per_s, "
                "energy_per_token_j, area_mm2, ..., utilization.X, energy_j.X, area_mm2.X, "
                "time_s.KIND, a workload field or a varied parameter; max:NAME maximises)\n");
}

TEST(Fuzzed, AFolderOrAMissingRecipeFileIsAnErrorWhereItIsNamed) {
  // A spec's hw naming a folder was reported at the folder, with no line; a
  // --quant path naming no file, at that path.
  const std::string spec = test::write_temp(
      "folder.yaml", "hw: " + project_root() + "/configs/hw\nparams:\n  core.sram.size: [1 MiB]\n");
  test::CliRun r = test::run_cli("sweep '" + spec + "' --out '" + test::temp_path("out") + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, spec + ":1:5: error: hw: \"" + project_root() +
                       "/configs/hw\" is not a file (name a hardware config YAML file, or a glob "
                       "such as configs/hw/*.yaml)\n");
  EXPECT_TRUE(r.out.empty());
  r = test::run_cli("run -q --quant /");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "<command line>: error: --quant: no quantization recipe file \"/\" (give a .yaml "
            "quantization recipe file or the name of a shipped one)\n");
}

TEST(Fuzzed, ASweepOfNoConfigIsAnErrorAtItsLine) {
  // hw: [] swept nothing and ended in an internal error on the empty store.
  const std::string spec =
      test::write_temp("empty_hw.yaml", "hw: []\nparams:\n  core.sram.size: [1 MiB]\n");
  const std::string out = test::temp_path("empty_hw_out");
  test::CliRun r = test::run_cli("sweep '" + spec + "' --out '" + out + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, spec +
                       ":1:5: error: hw: the list is empty: a sweep needs at least one config "
                       "(e.g. hw: configs/hw/default.yaml)\n");
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Fuzzed, AnUnknownCommandIsOneLineNotTheUsage) {
  // It printed "bitcycle: unknown command" and then the whole usage on stderr.
  test::CliRun r = test::run_cli("rn --json x.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err,
            "<command line>: error: unknown command \"rn\" (did you mean \"run\"? commands: run, "
            "explain, trace, validate, move, sweep, crosscheck; see bitcycle --help)\n");
}

TEST(Fuzzed, AnEmptyComponentLibraryIsOneErrorPerSectionAndNoneWithoutAFile) {
  // It also printed "<input>: error: scaling.points: ..." for the missing table.
  test::CliRun r = test::run_cli("explain tests/corpus/hw_library_empty.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "tests/corpus/hw_library_empty_lib.yaml:1:1: error: scaling: missing required section\n"
            "tests/corpus/hw_library_empty_lib.yaml:1:1: error: components: missing required "
            "section\n");
  // A library set on the command line that does not exist: at the --set.
  r = test::run_cli("explain --set library=no-such-library.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "--set library=no-such-library.yaml: error: library: no library file "
            "\"no-such-library.yaml\" (name a component library YAML, relative to this file)\n");
}

}  // namespace
}  // namespace bc

// Found by a second fuzzing pass over recipes, traces, models, configs, reference
// CSVs and output paths: each printed a false second line, was accepted, hung
// or replaced what it should have written to.
namespace bc {
namespace {

// stderr of a CLI run that must exit 2 with nothing on stdout.
std::string refused(const std::string& args) {
  test::CliRun r = test::run_cli(args);
  EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
  EXPECT_TRUE(r.out.empty()) << args;
  return r.err;
}

TEST(Fuzzed2, ABadRecipeFormatIsOneErrorNotAlsoAMissingKey) {
  // It also printed "weights: missing required key (the default weight format)".
  const std::string r = write_temp("r.yaml", "weights: int9\nactivations: int8\n");
  EXPECT_EQ(refused("run -q --quant '" + r + "'"),
            r + ":1:10: error: weights: unknown format \"int9\"; did you mean \"int1\"?\n");
  const std::string f =
      write_temp("f.yaml",
                 "weights: int8\nactivations: int8\noutput_features:\n  - {fraction: 1, weights: "
                 "int9}\n");
  EXPECT_EQ(refused("run -q --quant '" + f + "'"),
            f + ":4:28: error: output_features[0].weights: unknown format \"int9\"; did you "
                "mean \"int1\"?\n");
}

TEST(Fuzzed2, ActivationGroupsMustDivideTheInputFeaturesAsWeightGroupsDo) {
  for (const std::string g : {"3", "4097"}) {
    const std::string r = write_temp("r.yaml", "weights: int8\nactivations: int4/g" + g + "\n");
    EXPECT_EQ(refused("run -q --quant '" + r + "'"),
              r + ":2:14: error: activations: group size " + g +
                  " does not divide the 4096 input features of layers.0.attn.qkv (use a group "
                  "size that divides 4096)\n");
  }
  const std::string ok = write_temp("ok.yaml", "weights: int8\nactivations: int4/g128/fp16\n");
  EXPECT_EQ(test::run_cli("run -q --fidelity analytical --quant '" + ok + "'").code, 0);
}

TEST(Fuzzed2, AFormatModifierTwiceOrAGroupOnABlockFormatIsAnError) {
  auto error_of = [](const std::string& text) {
    std::string err;
    return parse_tensor_format(text, &err) ? std::string("accepted") : err;
  };
  EXPECT_EQ(error_of("int4/g128/fp16/zp/zp"),
            "\"int4/g128/fp16/zp/zp\" gives a zp twice (\"/zp\"); give each of scale format, zp "
            "and type set at most once");
  EXPECT_EQ(error_of("mxfp4/g32"),
            "\"mxfp4\" already shares one scale per 32 elements: it takes no group scales "
            "(\"/g32\"); write \"mxfp4\" alone");
  for (const std::string bad : {"int4/g128/fp16/bf16", "int4/g128/t4/t8", "bfp8/g16"})
    EXPECT_NE(error_of(bad), "accepted") << bad;
  EXPECT_EQ(error_of("int4/g128/bf16/zp/t4"), "accepted");
}

std::string trace_error(const std::string& op) {
  try {
    read_trace(write_temp(
        "t.json", "{\"schema\": \"bitcycle-trace\", \"version\": 1, \"ops\": [\n" + op + "]}\n"));
  } catch (const InputError& e) {
    return std::string(e.what()).substr(std::string(e.what()).find(": error: "));
  }
  return "";
}

TEST(Fuzzed2, ATracesGroupSizesAndSparsityAreCheckedAsARecipesAre) {
  const std::string gemm = "{\"kind\": \"gemm\", \"m\": 1, \"n\": 64, \"k\": 4096, ";
  EXPECT_EQ(trace_error(gemm + "\"w\": \"int4/g100/fp16\"}"),
            ": error: ops[0].w: group size 100 does not divide k 4096 (use a group size that "
            "divides 4096)");
  EXPECT_EQ(trace_error(gemm + "\"a\": \"int4/g100\"}"),
            ": error: ops[0].a: group size 100 does not divide k 4096 (use a group size that "
            "divides 4096)");
  EXPECT_EQ(trace_error(gemm + "\"sparsity\": \"2:4\", \"density\": 0.7}"),
            ": error: ops[0].density: 2:4 sparsity keeps exactly half (0.5)");
  EXPECT_EQ(trace_error(gemm + "\"w\": \"int4/g128/fp16\", \"sparsity\": \"2:4\"}"), "");
  // A k that failed is not also a group size that does not divide it.
  EXPECT_EQ(trace_error("{\"kind\": \"gemm\", \"m\": 1, \"n\": 64, \"k\": \"x\", \"w\": "
                        "\"int4/g128\"}"),
            ": error: ops[0].k: expected an integer, got \"x\"");
  EXPECT_EQ(trace_error("{\"kind\": \"attention\", \"batch\": 1, \"heads\": 8, \"head_dim\": "
                        "128, \"q_len\": 1, \"kv_len\": 64, \"kv\": \"int4/g100/fp16\"}"),
            ": error: ops[0].kv: group size 100 does not divide head_dim 128 (use a group size "
            "that divides 128)");
}

TEST(Fuzzed2, AModelsHeadDimensionIsWholeAndItsKeysKnown) {
  // hidden / heads was rounded down (768 / 7 = 109).
  const std::string m =
      write_temp("m.yaml", "name: t\nhidden: 768\nffn: 3072\nlayers: 2\nheads: 7\nvocab: 1000\n");
  EXPECT_EQ(refused("run -q --model '" + m + "'"),
            m + ":5:8: error: heads: the head dimension is hidden / heads = 768 / 7, not a whole "
                "number (give head_dim, or a number of heads that divides 768)\n");
  const std::string moe = write_temp(
      "moe.yaml",
      "name: t\nhidden: 64\nffn: 128\nlayers: 2\nheads: 4\nvocab: 100\nexperts_per_token: 2\n");
  EXPECT_EQ(refused("run -q --model '" + moe + "'"),
            moe +
                ":7:20: error: experts_per_token: is 2 but the model has no experts (give the "
                "number of experts too, or remove this key for a dense model)\n");
  auto hf = [](const std::string& extra) {
    return write_temp("config.json",
                      "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": "
                      "128,\n\"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                      "\"vocab_size\": 100,\n" +
                          extra + "}\n");
  };
  using Case = std::pair<std::string, std::string>;  // config.json key, error after the path
  for (const auto& [key, error] : std::vector<Case>{
           {"\"hidden_act\": \"swish2\"",
            ":3:15: error: hidden_act: unknown activation \"swish2\" (accepted: gelu, "
            "gelu_accurate, gelu_fast, gelu_new, gelu_python, gelu_pytorch_tanh, quick_gelu, "
            "relu2, silu, swish)\n"},
           {"\"head_dim\": 0",
            ":3:13: error: head_dim: value 0 out of range: must be >= 1 and <= 262144\n"},
           {"\"num_experts_per_tok\": 2",
            ":3:24: error: num_experts_per_tok: is 2 but the model has no experts (give the "
            "number of experts too, or remove this key for a dense model)\n"}}) {
    const std::string p = hf(key);
    EXPECT_EQ(refused("run -q --model '" + p + "'"), p + error);
  }
  EXPECT_EQ(load_model(hf("\"hidden_act\": \"gelu_pytorch_tanh\"")).activation, "gelu");
}

TEST(Fuzzed2, AFifoAsAnInputIsRefusedNotWaitedOn) {
  const std::string fifo = temp_path("in.fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string line = fifo +
                           ": error: cannot open file: it is not a regular file (a FIFO, device or "
                           "socket) (give an input file)\n";
  // `timeout`: before, each waited for a writer forever.
  EXPECT_EQ(refused("run -q --trace '" + fifo + "'"), line);
  EXPECT_EQ(refused("validate '" + fifo + "'"), line);
}

TEST(Fuzzed2, ATraceRunRefusesTheOptionsThatMakeAWorkload) {
  const std::string t = test::temp_path("t.json");
  ASSERT_EQ(test::run_cli("trace llama-3.1-8b -o '" + t + "'").code, 0);
  EXPECT_EQ(refused("run -q --trace '" + t + "' --batch 4 --quant w4a16"),
            "<command line>: error: --trace: a trace holds its own workload: --quant, --batch "
            "cannot change it (give either --trace or the workload options, not both)\n");
}

TEST(Fuzzed2, AnEmptyOrRepeatedOutputPathIsAnError) {
  EXPECT_EQ(refused("run -q --json ''"),
            "<command line>: error: --json: is empty: expected a value (give the option a value, "
            "or leave it out)\n");
  const std::string x = temp_path("x.out");
  std::remove(x.c_str());
  EXPECT_EQ(refused("run -q --json '" + x + "' --csv '" + x + "'"),
            "<command line>: error: --csv: writes \"" + x +
                "\", which --json writes too: one would overwrite the other (give each output "
                "its own file)\n");
  EXPECT_FALSE(std::filesystem::exists(x));
}

TEST(Fuzzed2, OutputsGoThroughDevicesFifosAndLinksWithoutReplacingThem) {
  namespace fs = std::filesystem;
  const std::string fast = "run -q --fidelity analytical ";
  // A symbolic link: the file it points to gets the report; the link stays.
  const std::string target = temp_path("target.json"), link = temp_path("link.json");
  std::remove(target.c_str());
  std::remove(link.c_str());
  fs::create_symlink("target.json", link);
  EXPECT_EQ(test::run_cli(fast + "--json '" + link + "'").code, 0);
  EXPECT_TRUE(fs::is_symlink(link));
  std::ifstream t(target);
  EXPECT_TRUE(nlohmann::json::parse(t).contains("latency_s"));
  // A FIFO with a reader gets the report through it; without one, exit 2 at once.
  const std::string fifo = temp_path("out.fifo"), got = temp_path("got.json");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(test::run_cli(fast + "--json '" + fifo + "'").code, 2);
  // The reader may open after the writer looks: the writer tries until it has one.
  const std::string cmd = "timeout 60 cat '" + fifo + "' > '" + got +
                          "' & for i in $(seq 100); do " + BITCYCLE_BIN + " " + fast + "--json '" +
                          fifo + "' 2>/dev/null && break; sleep 0.05; done; wait";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(fs::status(fifo).type(), fs::file_type::fifo);
  std::ifstream g(got);
  EXPECT_TRUE(nlohmann::json::parse(g).contains("latency_s"));
  // A character device (a private null device, never the real /dev/null) stays one.
  const std::string dev = temp_path("null.dev");
  std::remove(dev.c_str());
  if (mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod needs root: the device case is not run";
  EXPECT_EQ(test::run_cli(fast + "--json '" + dev + "' --csv '" + temp_path("r.csv") + "'").code,
            0);
  EXPECT_EQ(fs::status(dev).type(), fs::file_type::character);
  std::remove(dev.c_str());
}

TEST(Fuzzed2, AFailedValueIsNotAlsoReportedByTheChecksThatDependOnIt) {
  // chips: -1 also printed "tensor x pipeline = 2 does not divide the 1 active
  // chips"; an unknown unit type also "vec is not a vector unit of this core".
  EXPECT_EQ(
      test::config_errors(small_config() + "system:\n  chips: -1\n  link: {bandwidth: 100 GB/s}\n"
                                           "  parallel: {tensor: 2}\n"),
      std::vector<std::string>{"F:33:10: error: system.chips: value -1 out of range: must "
                               "be >= 1 and <= 1048576"});
  std::string t = test::replace_line(small_config(), 24, "      type: vectr_unit");
  t = test::replace_line(t, 22, "      rates: {int8: 1, bf16: 1}\n      fallback: vec");
  auto e = test::config_errors(t);
  ASSERT_EQ(e.size(), 1u) << e[0];
  EXPECT_EQ(e[0].substr(0, e[0].find(";")),
            "F:25:13: error: core.units.vec.type: unknown value \"vectr_unit\"");
}

TEST(Fuzzed2, SizesAreWholeBytesPowerIsBoundedAndNumbersAreDecimal) {
  EXPECT_EQ(test::config_errors(small_config(), {"core.sram.bank_width=4 bit"}),
            std::vector<std::string>{
                "--set core.sram.bank_width=4 bit: error: core.sram.bank_width: value 4 bit is "
                "0.5 bytes, not a whole number (sizes and widths are whole bytes, e.g. 512 KiB)"});
  EXPECT_EQ(test::config_errors(small_config() + "power: {board: 2 MW}\n"),
            std::vector<std::string>{
                "F:32:16: error: power.board: value 2 MW out of range: must be <= 1 MW, the "
                "largest power BitCycle accepts (check the unit)"});
  EXPECT_TRUE(test::config_errors(small_config() + "power: {board: 25 kW}\n").empty());
  EXPECT_EQ(test::config_errors(test::replace_line(small_config(), 4, "frequency: 0x1p0 GHz")),
            std::vector<std::string>{"F:4:12: error: frequency: expected a frequency with a unit, "
                                     "e.g. \"1.2 GHz\", got \"0x1p0 GHz\""});
}

// Each reference CSV row, under the validate header, is refused with its one
// line (the error after the file's path).
using CsvCase = std::pair<std::string, std::string>;
void expect_rows_refused(const std::vector<CsvCase>& cases) {
  const std::string head =
      "name,hw,kind,m,n,k,a_format,w_format,model,quant,phase,batch,context,seq,"
      "measured_latency_s,measured_energy_j\n";
  const std::string p = write_temp("ref.csv", "");
  for (const auto& [row, error] : cases) {
    std::ofstream(p) << head << row << "\n";
    EXPECT_EQ(refused("validate '" + p + "'"), p + error) << row;
  }
}

TEST(Fuzzed2, ReferenceCsvCellsAreCheckedAsTraceOpsAre) {
  const std::string head =
      "name,hw,kind,m,n,k,a_format,w_format,model,quant,phase,batch,context,seq,"
      "measured_latency_s,measured_energy_j\n";
  const std::string p = write_temp("ref.csv", "");
  expect_rows_refused(
      {{"a,configs/hw/default.yaml,attention,8,,128,int8,int8,,,bogus,1,16,1,1e-3,",
        ":2:56: error: phase: unknown attention phase \"bogus\" (\"causal\" applies a causal "
        "mask; leave it blank for none)\n"},
       {"a,configs/hw/default.yaml,attention,8,,128,int8,int8,,,causal,1,16,512,1e-3,",
        ":2:68: error: seq: 512 queries outnumber the 16 keys: each query attends itself, so "
        "there are at least as many keys (give at least as many keys as queries)\n"},
       {"g,configs/hw/default.yaml,gemm,64,64,4096,int8,int4/g100,,,,,,,1e-3,",
        ":2:48: error: w_format: group size 100 does not divide k 4096 (use a group size "
        "that divides 4096)\n"},
       {"g,configs/hw/default.yaml,gemm,64,64,64,int8,int8,,,,,,,0x10,",
        ":2:57: error: measured_latency_s: expected a positive, finite number, got "
        "\"0x10\"\n"}});
  for (const std::string bound : {"-1", "nan"})
    EXPECT_EQ(refused("validate '" + p + "' --max-mape " + bound),
              "<command line>: error: --max-mape: expected a fraction >= 0, got " + bound +
                  " (0.1 allows a 10 % MAPE)\n");
  // A byte order mark before the header: the header reads as without one.
  const std::string bom =
      write_temp("bom.csv", "\xEF\xBB\xBF" + head +
                                "g,configs/hw/default.yaml,gemm,64,64,64,int8,int8,,,,,,,1e-6,\n");
  test::CliRun r = test::run_cli("validate '" + bom + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("rows compared: 1 of 1"), std::string::npos) << r.out;
}

TEST(Fuzzed2, SweepNamesAndBoundsAndTimelineWindowsAreChecked) {
  const std::string hw = project_root() + "/configs/hw/default.yaml";
  for (const std::string name : {"\"../x\"", "a/b", "\"\""}) {
    const std::string spec = write_temp(
        "s.yaml", "name: " + name + "\nhw: " + hw + "\nparams:\n  core.sram.size: [1 MiB]\n");
    const std::string err = refused("sweep '" + spec + "' --out '" + temp_path("out") + "'");
    EXPECT_EQ(err.rfind(spec + ":1:7: error: name: ", 0), 0u) << err;
    EXPECT_NE(err.find("cannot name the output folder sweeps/NAME"), std::string::npos) << err;
  }
  const std::string spec =
      write_temp("c.yaml", "hw: " + hw +
                               "\nparams:\n  core.sram.size: [1 MiB]\nconstraints: [\"area_mm2 "
                               "<= nan\"]\n");
  EXPECT_EQ(refused("sweep '" + spec + "' --out '" + temp_path("out") + "'"),
            spec +
                ":4:15: error: constraints: \"nan\" is not a number or a quantity (e.g. 400, 4 "
                "MiB, 3.2 TB/s)\n");
  EXPECT_EQ(refused("run -q --timeline '" + temp_path("t.json") + "' --timeline-window=-5us:10us"),
            "<command line>: error: --timeline-window: \"-5us\" is before the run starts (at 0) "
            "(expected FROM:TO, times with units, e.g. 0us:50us (either side may be empty))\n");
}

// `move --bytes` moves whole bytes, as every size is: 1e-300 B was "moved" at
// an absurd rate. A whole number in any notation is one.
TEST(Fuzzed3, MoveBytesAreWhole) {
  const std::string out = temp_path("move.json");
  for (const std::string b : {"1e-300", "0.001", "2.5"}) {
    EXPECT_EQ(refused("move configs/hw/h100.yaml --bytes " + b + " --json '" + out + "'"),
              "<command line>: error: --bytes: expected a whole number of bytes, got " + b +
                  " (sizes are whole bytes, e.g. 4096 or 1e9)\n");
    EXPECT_TRUE(files_starting(out.substr(0, out.rfind('/')), "move.json").empty()) << b;
  }
  CliRun r = run_cli("move configs/hw/h100.yaml --bytes 4e7 --json '" + out + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("moved 40 MB from dram to shared_sram", 0), 0u) << r.out;
}

// Reference CSVs are RFC 4180: "" inside quotes is one quote (it was dropped),
// a quoted comma is text. Lines of spaces are skipped as blank ones are; a
// quoted field does not span lines (an error at its column, not "expected 16
// fields, got 1").
TEST(Fuzzed3, ReferenceCsvQuotingIsRfc4180AndRowsSayWhatIsWrong) {
  const std::string head =
      "name,hw,kind,m,n,k,a_format,w_format,model,quant,phase,batch,context,seq,"
      "measured_latency_s,measured_energy_j\n";
  const std::string ok =
      write_temp("q.csv", head +
                              "\"g\"\"q, 2\",configs/hw/default.yaml,gemm,16,64,64,int8,int8,,,,,"
                              ",,1e-5,\n  \t\n\"g\",\"configs/hw/default.yaml\",gemm,16,64,64,"
                              "int8,int8,,,,,,,1e-5,\n");
  const std::string csv = temp_path("out.csv");
  CliRun r = run_cli("validate '" + ok + "' --csv '" + csv + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("g\"q, 2 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rows compared: 2 of 2"), std::string::npos) << r.out;
  std::ifstream f(csv);
  const auto out = lines_of(std::string(std::istreambuf_iterator<char>(f), {}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].rfind("\"g\"\"q, 2\",configs/hw/default.yaml,gemm,", 0), 0u) << out[1];
  // A quoted name holding a line break: the quote is open at the end of line 2.
  const std::string nl = write_temp(
      "nl.csv", head +
                    "g,configs/hw/default.yaml,gemm,16,64,64,int8,int8,,,,,,,1e-5,\"two\n"
                    "lines\"\n");
  EXPECT_EQ(refused("validate '" + nl + "' --csv '" + csv + "'"),
            nl + ":2:62: error: measured_energy_j: unterminated quoted field starting at column "
                 "62: the line ends before its closing quote (close the quote on this line: a "
                 "field cannot hold a line break, and a quote inside a quoted field is written "
                 "\"\")\n");
  const std::string after = write_temp(
      "after.csv", head + "\"g\"x,configs/hw/default.yaml,gemm,16,64,64,int8,int8,,,,,,,1e-5,\n");
  EXPECT_EQ(refused("validate '" + after + "'"),
            after +
                ":2:4: error: name: text after the closing quote of the field starting at "
                "column 1 (quote the whole field, and write a quote inside it as \"\")\n");
  // A misspelt column is unknown at its cell, with the nearest known name.
  const std::string typo =
      write_temp("typo.csv", replace_all(head, "a_format", "a_fromat") +
                                 "g,configs/hw/default.yaml,gemm,16,64,64,int8,int8,,,,,,,1e-5,\n");
  const std::string err = refused("validate '" + typo + "'");
  EXPECT_EQ(err.rfind(typo + ":1:20: error: a_fromat: unknown column \"a_fromat\" (did you mean "
                             "\"a_format\"? known columns: name, hw, kind, m, n,",
                      0),
            0u)
      << err;
}

// Each kind reads its columns, and a format it needs has no default: a blank
// one was read as bf16, a value in a column the kind does not read was
// ignored. Both are errors at their cell; every shipped reference file passes.
TEST(Fuzzed3, ReferenceCsvRowsFillTheColumnsOfTheirKindOnly) {
  expect_rows_refused(
      {{"a,configs/hw/default.yaml,attention,8,,128,int8,,,,,1,16,1,1e-3,",
        ":2:49: error: w_format: is blank: an attention row needs the format of its KV cache "
        "(give a format such as bf16, fp8, int8)\n"},
       {"s,configs/hw/default.yaml,softmax,8,128,,,,,,,,,,1e-3,",
        ":2:42: error: a_format: is blank: a softmax row needs the format of its activations "
        "(give a format such as bf16, fp8, int8)\n"},
       {"s,configs/hw/default.yaml,layernorm,8,128,,bf16,bf16,,,,,,,1e-3,",
        ":2:49: error: w_format: not used by a layernorm row, got \"bf16\" (leave it blank)\n"},
       {"a,configs/hw/default.yaml,attention,8,64,128,int8,int8,,,,1,16,1,1e-3,",
        ":2:39: error: n: not used by an attention row, got \"64\" (leave it blank)\n"},
       {"r,configs/hw/default.yaml,model,1,,,,,llama-3.1-8b,w8a8-int,decode,1,128,,1e-3,",
        ":2:33: error: m: not used by a model row, got \"1\" (leave it blank)\n"},
       {"r,configs/hw/default.yaml,model,,,,,,llama-3.1-8b,w8a8-int,decode,1,128,64,1e-3,",
        ":2:73: error: seq: not used by a decode model row (it makes one token a sequence), "
        "got \"64\" (leave it blank, or set phase to prefill)\n"}});
}

// crosscheck printed its whole table, then failed to write --json (exit 2):
// outputs are written first, as run's are.
TEST(Fuzzed3, CrosscheckWritesItsJsonBeforePrintingTheTable) {
  const std::string model = project_root() + "/configs/sweeps/models/llama-3.1-8b-1layer.yaml";
  EXPECT_EQ(refused("crosscheck --model '" + model + "' --context 64 --json /dev/full"),
            "<command line>: error: --json: cannot write \"/dev/full\": write failed: No space "
            "left on device (give a file in a directory that exists and is writable)\n");
  const std::string out = temp_path("x.json");
  CliRun r = run_cli("crosscheck --model '" + model + "' --context 64 --json '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("latency: analytical "), std::string::npos) << r.out;
  std::ifstream f(out);
  EXPECT_TRUE(nlohmann::json::parse(f).contains("ops"));
}

}  // namespace
}  // namespace bc
