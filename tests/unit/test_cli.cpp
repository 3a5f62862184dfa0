// The command line as users run it: exit codes, messages, no partial output.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "helpers.h"

using namespace bc::test;

TEST(Cli, HelpForEveryCommand) {
  for (std::string c : {"--help", "run --help", "explain --help", "trace --help"}) {
    CliRun r = run_cli(c);
    EXPECT_EQ(r.code, 0) << c;
    EXPECT_NE(r.out.find("usage: bitcycle"), std::string::npos) << c;
  }
}

TEST(Cli, DefaultRunPrintsTheTable) {
  std::string json = temp_path("r.json"), csv = temp_path("r.csv");
  CliRun r = run_cli("run --json '" + json + "' --csv '" + csv + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("tokens/s"), std::string::npos);
  EXPECT_NE(r.out.find("energy per token"), std::string::npos);
  EXPECT_NE(r.out.find("chip area"), std::string::npos);
  EXPECT_TRUE(r.err.empty()) << r.err;
  std::ifstream f(json);
  auto j = nlohmann::json::parse(f);
  for (const char* k : {"latency_s", "tokens_per_s", "energy_j", "energy_per_token_j", "area_mm2"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_TRUE(j["breakdown"]["energy_j"].contains("dram"));
  EXPECT_TRUE(j["breakdown"]["area_mm2"].contains("sram"));
  for (const char* k : {"name", "kind", "latency_s", "compute_cycles", "memory_stall_cycles",
                        "dependency_stall_cycles", "energy_j"})
    EXPECT_TRUE(j["ops"][0].contains(k)) << k;
  std::ifstream c(csv);
  std::string header;
  std::getline(c, header);
  EXPECT_EQ(
      header.rfind("name,kind,units,latency_s,start_s,end_s,compute_cycles,memory_stall_cycles,"
                   "dependency_stall_cycles",
                   0),
      0u);
}

TEST(Cli, BadInputExitsTwoWithOneLineAndNoOutputFile) {
  std::string json = temp_path("out.json");
  std::string bad = write_temp("bad.yaml", replace_line(small_config(), 13, "    size: 1 MiX"));
  std::string hf = write_temp("config.json", "{\"model_type\": \"mamba\", \"hidden_size\": 8}\n");
  std::string recipe = write_temp(
      "r.yaml", "weights: int8\nactivations: int8\ntensors:\n  layers.99.ffn.down: {}\n");
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"run /nonexistent.yaml",
       "<command line>: error: --hw: no hardware config file \"/nonexistent.yaml\""},
      {"run h10",
       "<command line>: error: --hw: no hardware config \"h10\" (did you mean \"h100\"?"},
      {"run '" + bad + "'", ":13:11: error: core.sram.size: unknown size unit \"MiX\""},
      {"run --batch 0", "--batch: must be >= 1"},
      {"run --model llama-9b", "unknown model \"llama-9b\""},
      {"run --quant w9a9", "unknown quantization recipe \"w9a9\""},
      {"run --phase sideways", "--phase: expected decode or prefill"},
      {"run --set core.sram.size=1KiB", "no tile fits the core's SRAM"},
      {"run --set core.sram.size=-4MiB", "core.sram.size: value -4MiB out of range"},
      {"run --bogus", "unrecognised option '--bogus'"},
      {"run --model '" + hf + "'", ":1:16: error: model_type: unknown model family \"mamba\""},
      {"run --quant '" + recipe + "'",
       ":4:3: error: tensors.layers.99.ffn.down: the recipe names tensor"},
      {"run --context 0", "--context: decode needs a context >= 1"},
      {"move --from ddr", "--from: this config has no ddr level"},
      {"move --from hbm", "--from: expected one of dram, shared_sram, ddr, got \"hbm\""},
  };
  for (const auto& c : cases) {
    CliRun r = run_cli(c.args + " --json '" + json + "'");
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args;
    EXPECT_FALSE(std::filesystem::exists(json)) << c.args;
  }
}

TEST(Cli, AShippedConfigCanBeNamed) {
  // "h100" is configs/hw/h100.yaml, as --model takes a model's name.
  CliRun r = run_cli("explain h100");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("resolved config (" + bc::project_root() + "/configs/hw/h100.yaml)"),
            std::string::npos)
      << r.out.substr(0, 200);
}

TEST(Cli, ExplainPrintsDerivedValues) {
  CliRun r = run_cli("explain");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("peak mac.int8"), std::string::npos);
  EXPECT_NE(r.out.find("ridge point"), std::string::npos);
  CliRun k = run_cli("explain --keys");
  EXPECT_NE(k.out.find("core.units.<mac_array>.rows"), std::string::npos) << k.out;
}

TEST(Cli, TraceRoundTrip) {
  std::string tr = temp_path("t.json");
  CliRun t = run_cli("trace llama-3.1-8b --batch 2 --context 1024 -o '" + tr + "'");
  ASSERT_EQ(t.code, 0) << t.err;
  CliRun r = run_cli("run --trace '" + tr + "' -q --json '" + temp_path("r.json") + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  CliRun m = run_cli("run --batch 2 --context 1024 -q --json '" + temp_path("m.json") + "'");
  std::ifstream a(temp_path("r.json")), b(temp_path("m.json"));
  auto ja = nlohmann::json::parse(a), jb = nlohmann::json::parse(b);
  EXPECT_DOUBLE_EQ(ja["latency_s"].get<double>(), jb["latency_s"].get<double>());
}

TEST(Cli, TraceRunReportsWhatTheModelRunReports) {
  // Issue 9: a trace run dropped the trace's workload, so tokens/s and energy per
  // token were per one sequence (batch 4 decode: 4x too low and 4x too high), and
  // the table crashed on the missing model name. The same workload through a
  // trace file and through --model must give the same report; the table prints.
  struct Case {
    std::string workload;
    double tokens;  // decode: one per sequence; prefill: batch x seq
  } cases[] = {{"--batch 4 --context 1024", 4}, {"--phase prefill --batch 2 --seq 64", 128}};
  for (const auto& c : cases) {
    std::string tr = temp_path("t.json"), rj = temp_path("r.json"), mj = temp_path("m.json");
    CliRun t = run_cli("trace llama-3.1-8b " + c.workload + " -o '" + tr + "'");
    ASSERT_EQ(t.code, 0) << t.err;
    CliRun r = run_cli("run --trace '" + tr + "' --json '" + rj + "'");  // with the table
    ASSERT_EQ(r.code, 0) << c.workload << "\n" << r.err;
    EXPECT_NE(r.out.find("BitCycle: llama-3.1-8b"), std::string::npos) << r.out;
    CliRun m = run_cli("run " + c.workload + " --json '" + mj + "'");
    ASSERT_EQ(m.code, 0) << m.err;
    std::ifstream a(rj), b(mj);
    auto ja = nlohmann::json::parse(a), jb = nlohmann::json::parse(b);
    EXPECT_EQ(ja["tokens"].get<double>(), c.tokens) << c.workload;
    for (const char* k :
         {"latency_s", "step_period_s", "tokens", "tokens_per_s", "tokens_per_s_per_user",
          "token_latency_s", "energy_j", "energy_per_token_j", "average_power_w"})
      EXPECT_EQ(ja[k].get<double>(), jb[k].get<double>()) << c.workload << ": " << k;
    EXPECT_EQ(ja["workload"], jb["workload"]) << c.workload;
    EXPECT_EQ(ja["model"], jb["model"]) << c.workload;
    EXPECT_EQ(ja["ops"].size(), jb["ops"].size());
    // The tables are identical too: same workload line, same figures.
    EXPECT_EQ(r.out, m.out) << c.workload;
  }
  // On a system a trace is one tensor-parallel rank's work: the trace of rank
  // 1 of 8 on h100-x8.yaml reports what the model run on it reports.
  const std::string tr = temp_path("tp.json"), rj = temp_path("tp.r.json"),
                    mj = temp_path("tp.m.json"),
                    x8 = bc::project_root() + "/configs/hw/h100-x8.yaml";
  ASSERT_EQ(run_cli("trace llama-3.1-8b --tp 8 --batch 4 --context 1024 -o '" + tr + "'").code, 0);
  ASSERT_EQ(run_cli("run '" + x8 + "' --trace '" + tr + "' -q --json '" + rj + "'").code, 0);
  ASSERT_EQ(run_cli("run '" + x8 + "' --batch 4 --context 1024 -q --json '" + mj + "'").code, 0);
  auto ja = nlohmann::json::parse(std::ifstream(rj)), jb = nlohmann::json::parse(std::ifstream(mj));
  EXPECT_EQ(ja["tokens"].get<double>(), 4);
  for (const char* k : {"latency_s", "tokens_per_s", "energy_per_token_j"})
    EXPECT_EQ(ja[k].get<double>(), jb[k].get<double>()) << "h100-x8: " << k;
}

TEST(Cli, TraceWorkloadIsCheckedAndMayBeLeftOut) {
  // The trace's workload sets the tokens per step, so its phase, batch and seq
  // are checked where they are written; a hand-written trace may leave it (and
  // the model) out: one decode step of one sequence, and the table still prints.
  const std::string ops =
      " \"ops\": [{\"kind\": \"elementwise\", \"fn\": \"add\", "
      "\"elements\": 4096}]\n}\n";
  const std::string head = "{\n \"schema\": \"bitcycle-trace\",\n \"version\": 1,\n";
  const std::string bad = write_temp(
      "bad.json", head + " \"workload\": {\"phase\": \"prefil\", \"batch\": 0},\n" + ops);
  CliRun b = run_cli("run --trace '" + bad + "'");
  EXPECT_EQ(b.code, 2);
  EXPECT_EQ(b.err, bad +
                       ":4:24: error: workload.phase: unknown value \"prefil\"; expected one of "
                       "decode|prefill (did you mean \"prefill\"?)\n" +
                       bad +
                       ":4:43: error: workload.batch: value 0 out of range: must be >= 1 and "
                       "<= 1048576\n");
  EXPECT_TRUE(b.out.empty());
  const std::string bare = write_temp("bare.json", head + ops);
  const std::string json = temp_path("bare.r.json");
  CliRun r = run_cli("run --trace '" + bare + "' --json '" + json + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("BitCycle: trace decode, batch 1,", 0), 0u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(json))["tokens"].get<double>(), 1);
}

TEST(Cli, PrefillStartsFromAnEmptyKvCacheUnlessContextIsGiven) {
  // Issue 9: --phase prefill silently attended a 4,096-token cached prefix (the
  // decode default of --context). Llama-3.1-8B, w8a8-int (int8 KV cache), seq
  // 256: each of the 32 layers reads K and V of kv_len keys for its 8 KV heads of
  // 128: 2 x 8 x kv_len x 128 x 1 B. Without --context kv_len = 256:
  // 524,288 B a layer, 16,777,216 B in all.
  int code = -1;
  nlohmann::json r = run_json("--phase prefill --seq 256", &code);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(r["workload"]["context"].get<int64_t>(), 0);
  EXPECT_DOUBLE_EQ(r["trace_totals"]["kv_bytes_read"].get<double>(), 16777216.0);
  // An explicit --context 0 is the same run.
  nlohmann::json z = run_json("--phase prefill --seq 256 --context 0", &code);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(z["latency_s"].get<double>(), r["latency_s"].get<double>());
  // A prefix given explicitly is attended: kv_len = 4,096 + 256 = 4,352 keys,
  // 2 x 8 x 4,352 x 128 = 8,912,896 B a layer, 285,212,672 B in all.
  nlohmann::json p = run_json("--phase prefill --seq 256 --context 4096", &code);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(p["workload"]["context"].get<int64_t>(), 4096);
  EXPECT_DOUBLE_EQ(p["trace_totals"]["kv_bytes_read"].get<double>(), 285212672.0);
  EXPECT_GT(p["latency_s"].get<double>(), r["latency_s"].get<double>());
  // Decode keeps its default of 4,096 cached tokens: 2 x 8 x 4,096 x 128 x 32 =
  // 268,435,456 B.
  nlohmann::json d = run_json("--phase decode", &code);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(d["workload"]["context"].get<int64_t>(), 4096);
  EXPECT_DOUBLE_EQ(d["trace_totals"]["kv_bytes_read"].get<double>(), 268435456.0);
}

TEST(Cli, MoveDefaultsFollowTheChipAndCapacityIsChecked) {
  // Issue 9: `move` defaulted to --from ddr --to dram, which fails on every chip
  // without DDR, and moved 8.6 GB into a 50 MB L2 without complaint. Defaults now
  // go from the chip's capacity tier (DDR, else DRAM) to its fastest other tier,
  // and both tiers must hold the bytes (a system: each chip's share).
  const std::string hw = bc::project_root() + "/configs/hw/";
  std::string json = temp_path("move.json");
  std::filesystem::remove(json);  // from an earlier run of this test
  struct Bad {
    std::string args, err;
  } bad[] = {
      // default.yaml has DRAM only: nothing to move to.
      {"move",
       "<command line>: error: --to: this config has no memory tier besides dram to move to (add "
       "memory.ddr or memory.shared_sram)\n"},
      // groq-tsp.yaml has its shared SRAM only.
      {"move '" + hw + "groq-tsp.yaml'",
       "<command line>: error: --to: this config has no memory tier besides shared_sram to move "
       "to (add memory.ddr or memory.dram)\n"},
      // h100.yaml: DRAM and a 50 MB L2; 51e6 B = 51 MB do not fit it.
      {"move '" + hw + "h100.yaml' --to shared_sram --bytes 51e6",
       "<command line>: error: --to: shared_sram holds 50 MB, the move needs 51 MB (move fewer "
       "--bytes, or choose a larger tier)\n"},
      // Eight H100s move 800e6 B: 100 MB a chip, into 50 MB of L2 each.
      {"move '" + hw + "h100-x8.yaml' --bytes 800e6",
       "<command line>: error: --to: shared_sram (the default --to of this chip) holds 50 MB per "
       "chip, the move needs 100 MB per chip (move fewer --bytes, or choose a larger tier)\n"},
      // The 1 TB source does not fit the 80 GB of HBM.
      {"move '" + hw + "h100.yaml' --bytes 1e12 --from dram --to shared_sram",
       "<command line>: error: --from: dram holds 80 GB, the move needs 1 TB (move fewer --bytes, "
       "or choose a larger tier)\n"},
  };
  for (const auto& b : bad) {
    CliRun r = run_cli(b.args + " --json '" + json + "'");
    EXPECT_EQ(r.code, 2) << b.args;
    EXPECT_EQ(r.err, b.err) << b.args;
    EXPECT_TRUE(r.out.empty()) << b.args;
    EXPECT_FALSE(std::filesystem::exists(json)) << b.args;
  }
  // The default model's weights (8.6 GB) do not fit the default --to of h100.yaml.
  CliRun l2 = run_cli("move '" + hw + "h100.yaml'");
  EXPECT_EQ(l2.code, 2);
  EXPECT_EQ(l2.err.rfind("<command line>: error: --to: shared_sram (the default --to of this "
                         "chip) holds 50 MB, the move needs 8.",
                         0),
            0u)
      << l2.err;
  // Defaults that fit: h100.yaml moves 40 MB from DRAM into its L2, at most at
  // DRAM's 3.35 TB/s: at least 40e6 / 3.35e12 = 11.9 us.
  CliRun ok = run_cli("move '" + hw + "h100.yaml' --bytes 40e6 --json '" + json + "'");
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto j = nlohmann::json::parse(std::ifstream(json));
  EXPECT_EQ(j["workload"]["from"], "dram");
  EXPECT_EQ(j["workload"]["to"], "shared_sram");
  EXPECT_EQ(j["workload"]["bytes"].get<double>(), 40e6);
  EXPECT_GE(j["latency_s"].get<double>(), 40e6 / 3.35e12);
  // sn40l.yaml has DDR behind its HBM: the default is DDR to HBM, and 1 GB at the
  // DDR's 100 GB/s takes at least 10 ms.
  CliRun sn = run_cli("move '" + hw + "sn40l.yaml' --bytes 1e9 --json '" + json + "'");
  ASSERT_EQ(sn.code, 0) << sn.err;
  j = nlohmann::json::parse(std::ifstream(json));
  EXPECT_EQ(j["workload"]["from"], "ddr");
  EXPECT_EQ(j["workload"]["to"], "dram");
  EXPECT_GE(j["latency_s"].get<double>(), 1e9 / 100e9);
}

TEST(Cli, UnwritableOutputIsReportedBeforeTheWorkAndNothingIsLeftBehind) {
  // Issue 9: an output path that cannot be written was found only after the
  // simulation, and its temporary (path.tmp) could survive. Outputs are now
  // claimed first: a unique temporary in the file's directory, renamed at the end.
  namespace fs = std::filesystem;
  const std::string dir = temp_path("outs");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string json = dir + "/r.json", csv = dir + "/r.csv", missing = dir + "/no/r.csv";
  auto entries = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::string no_dir = "cannot create a file in its directory: No such file or directory";
  struct Bad {
    std::string args, err;
  } bad[] = {
      // The path is checked before the config is even read, let alone mapped: this
      // SRAM fits no tile, yet the error is the output's.
      {"run --set core.sram.size=1KiB --json '" + json + "' --csv '" + missing + "'",
       "<command line>: error: --csv: cannot write \"" + missing + "\": " + no_dir},
      {"run --json '" + dir + "'",
       "<command line>: error: --json: cannot write \"" + dir + "\": it is a directory"},
      {"trace llama-3.1-8b -o '" + missing + "'",
       "<command line>: error: --output: cannot write \"" + missing + "\": " + no_dir},
      {"move --json '" + missing + "'",
       "<command line>: error: --json: cannot write \"" + missing + "\": " + no_dir},
      {"validate '" + bc::project_root() + "/tests/validation/a100_gemm.csv' --csv '" + missing +
           "'",
       "<command line>: error: --csv: cannot write \"" + missing + "\": " + no_dir},
      {"explain --json '" + missing + "'",
       "<command line>: error: --json: cannot write \"" + missing + "\": " + no_dir},
  };
  for (const auto& b : bad) {
    CliRun r = run_cli(b.args);
    EXPECT_EQ(r.code, 2) << b.args;
    EXPECT_EQ(r.err, b.err + " (give a file in a directory that exists and is writable)\n")
        << b.args;
    EXPECT_TRUE(r.out.empty()) << b.args;
    // No output at all: not the JSON that could be written, no temporary.
    EXPECT_EQ(entries(), std::vector<std::string>{}) << b.args;
  }
  // A run that fails after its outputs were claimed removes their temporaries.
  CliRun late = run_cli("run --set core.sram.size=1KiB --json '" + json + "' --csv '" + csv + "'");
  EXPECT_EQ(late.code, 2);
  EXPECT_NE(late.err.find("no tile fits the core's SRAM"), std::string::npos) << late.err;
  EXPECT_EQ(entries(), std::vector<std::string>{});
  // A run that succeeds leaves exactly its outputs, readable as usual (umask 022:
  // 0644, not the 0600 of a private temporary).
  umask(022);
  CliRun ok = run_cli("run -q --context 128 --json '" + json + "' --csv '" + csv + "'");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(entries(), (std::vector<std::string>{"r.csv", "r.json"}));
  EXPECT_EQ(fs::status(json).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::others_read);
  EXPECT_NO_THROW(nlohmann::json::parse(std::ifstream(json)));
}

TEST(Cli, AbsentComponentsAreLeftOutOfTheBreakdowns) {
  // Issue 9: default.yaml has no DDR, no shared SRAM and one chip, yet its report
  // listed ddr, shared_sram and chip_links at 0 J. Its components are the two
  // units (mac, vec), the core SRAM, the NoC and its HBM (dram), nothing else.
  const std::string json = temp_path("r.json");
  CliRun r = run_cli("run --context 128 --json '" + json + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(std::ifstream(json));
  auto keys = [](const nlohmann::json& o) {
    std::vector<std::string> k;
    for (auto& [name, v] : o.items()) k.push_back(name);
    return k;  // nlohmann keeps object keys sorted
  };
  const std::vector<std::string> present = {"dram", "mac", "noc", "sram", "vec"};
  for (const char* b : {"energy_j", "dynamic_energy_j", "leakage_energy_j", "area_mm2"})
    EXPECT_EQ(keys(j["breakdown"][b]), present) << b;
  for (const auto& a : j["actions"])
    EXPECT_NE(std::find(present.begin(), present.end(), a["component"]), present.end())
        << a["component"];
  for (const char* absent : {"    ddr ", "    shared_sram ", "    chip_links "})
    EXPECT_EQ(r.out.find(absent), std::string::npos) << absent << "\n" << r.out;
  EXPECT_NE(r.out.find("    dram "), std::string::npos) << r.out;
  // Nor is an absent tier shown busy at 0 % among the busiest resources.
  EXPECT_NE(r.out.find("% DRAM channel, "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("shared SRAM slice"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("DDR channel"), std::string::npos) << r.out;
  // A two-chip system of a chip that has all three tiers: every component is
  // there, DDR (where the weights go: 4.3 GB a rank do not fit the 4 GB of HBM),
  // shared SRAM and the chip links (the all-reduces) with energy.
  const std::string full = write_temp(
      "full.yaml", small_config() +
                       "    size: 4 GB\n"
                       "  ddr: {type: ddr3, channels: 4, bandwidth: 50 GB/s, size: 64 GB}\n"
                       "  shared_sram: {channels: 4, bandwidth: 1 TB/s, size: 8 MiB}\n"
                       "system:\n  chips: 2\n  link: {bandwidth: 100 GB/s}\n"
                       "  parallel: {tensor: 2}\n");
  CliRun f = run_cli("run '" + full + "' --context 128 --json '" + json + "'");
  ASSERT_EQ(f.code, 0) << f.err;
  j = nlohmann::json::parse(std::ifstream(json));
  EXPECT_EQ(j["weights"]["placement"], "ddr");
  EXPECT_EQ(keys(j["breakdown"]["energy_j"]),
            (std::vector<std::string>{"chip_links", "ddr", "dram", "mac", "noc", "shared_sram",
                                      "sram", "vec"}));
  EXPECT_EQ(keys(j["breakdown"]["area_mm2"]),
            (std::vector<std::string>{"ddr", "dram", "mac", "noc", "shared_sram", "sram", "vec"}));
  for (const char* c : {"ddr", "shared_sram", "chip_links"}) {
    EXPECT_GT(j["breakdown"]["energy_j"][c].get<double>(), 0) << c;
    EXPECT_NE(f.out.find(std::string("    ") + c + " "), std::string::npos) << c << "\n" << f.out;
  }
  for (const char* busy : {"% DRAM channel, ", "% shared SRAM slice, ", "% DDR channel, "})
    EXPECT_NE(f.out.find(busy), std::string::npos) << busy << "\n" << f.out;
}

TEST(Docs, ReadmeListsEveryConfigKey) {
  // Every key a shipped config accepts appears in the README's key reference.
  std::ifstream f(bc::project_root() + "/README.md");
  std::string readme((std::istreambuf_iterator<char>(f)), {});
  for (const auto& e : std::filesystem::directory_iterator(bc::project_root() + "/configs/hw")) {
    if (e.path().extension() != ".yaml") continue;
    std::vector<bc::ParamDoc> docs;
    bc::load_hw_config(e.path().string(), {}, &docs);
    for (const auto& d : docs)
      EXPECT_NE(readme.find("`" + d.key + "`"), std::string::npos) << d.key;
  }
}

TEST(Validate, ComparesRowsAndSummarises) {
  // GEMV and softmax rows on the small chip and an all-reduce on the 4-GPU system;
  // instead of guessing the simulator, check the harness's arithmetic on its own rows.
  std::string hw = write_temp("hw.yaml", small_config());
  std::string csv = write_temp("ref.csv",
                               "# comment lines are skipped\n"
                               "name,hw,kind,m,n,k,a_format,w_format,model,quant,phase,batch,"
                               "context,seq,measured_latency_s,measured_energy_j\n"
                               "gemv_a," +
                                   hw +
                                   ",gemm,1,4096,4096,int8,int8,,,,,,,0.0002,\n"
                                   "gemv_b," +
                                   hw +
                                   ",gemm,1,8192,4096,int8,int8,,,,,,,0.0003,\n"
                                   "softmax," +
                                   hw +
                                   ",softmax,64,4096,,bf16,,,,,,,,0.00001,\n"
                                   "allreduce,configs/hw/a100-x4.yaml,allreduce,8,12288,,fp16,"
                                   ",,,,,,,0.00003,\n");
  std::string out = temp_path("res.csv");
  CliRun r = run_cli("validate '" + csv + "' --csv '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("rows compared: 4 of 4"), std::string::npos) << r.out;
  std::ifstream f(out);
  std::string header, line;
  std::getline(f, header);
  EXPECT_EQ(header,
            "name,hw,kind,simulated_latency_s,measured_latency_s,error,simulated_energy_j,measured_"
            "energy_j,status,roofline_latency_s");
  double ape = 0, roof_ape = 0, sim_ape = 0;
  int roof_n = 0;
  int n = 0;
  while (std::getline(f, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, ',')) c.push_back(x);
    if (c.size() == 9) c.push_back("");  // a trailing empty field
    ASSERT_EQ(c.size(), 10u) << line;
    // Roofline baseline: the GEMV is memory-bound on the small chip (100 GB/s):
    // int8 input, weights and output once each. The all-reduce has none.
    if (c[0] == "gemv_a") {
      EXPECT_NEAR(std::stod(c[9]), (4096.0 + 4096.0 * 4096 + 4096) / 100e9, 1e-12);
    }
    if (c[0] == "allreduce") {
      EXPECT_EQ(c[9], "");
    }
    if (c[0] == "softmax") {
      EXPECT_GT(std::stod(c[9]), 0);
    }
    if (c[8] != "ok") continue;
    double sim = std::stod(c[3]), meas = std::stod(c[4]);
    EXPECT_NEAR(std::stod(c[5]), (sim - meas) / meas, 1e-6);
    ape += std::fabs(sim - meas) / meas;
    ++n;
    if (!c[9].empty()) {  // the roofline baseline's error on the same row
      roof_ape += std::fabs(std::stod(c[9]) - meas) / meas;
      sim_ape += std::fabs(sim - meas) / meas;
      ++roof_n;
    }
  }
  EXPECT_EQ(n, 4);
  std::ostringstream mape;
  mape << std::fixed << std::setprecision(1) << "MAPE " << 100 * ape / n << " %";
  EXPECT_NE(r.out.find(mape.str()), std::string::npos) << r.out;
  // Beside it, the plain roofline's MAPE over the rows that have one (all but
  // the all-reduce), and the simulator's on those same rows.
  std::ostringstream roof;
  roof << std::fixed << std::setprecision(1) << "roofline baseline (peak ops and DRAM bandwidth "
       << "of the same config) on " << roof_n << " rows: MAPE " << 100 * roof_ape / roof_n
       << " %, the simulator's " << 100 * sim_ape / roof_n << " %";
  EXPECT_EQ(roof_n, 3);
  EXPECT_NE(r.out.find(roof.str()), std::string::npos) << r.out;
  // --max-mape below the achieved MAPE fails the run (exit 1).
  EXPECT_EQ(run_cli("validate '" + csv + "' --max-mape 0").code, 1);
}

TEST(Validate, ComparingNothingOrFailingRowsFails) {
  // A harness must not pass when it could not compare: a file whose every row
  // fails to simulate (Llama-3.1-405B fits nowhere on the default chip), a file
  // with no rows (an input error), and, under --max-mape, a file with one failing row among good
  // ones.
  std::string hdr =
      "name,hw,kind,m,n,k,a_format,w_format,model,quant,phase,batch,context,seq,measured_latency_s,"
      "measured_energy_j\n";
  std::string bad =
      "big,configs/hw/default.yaml,model,,,,,,llama-3.1-405b,w16a16,decode,1,"
      "4096,,0.1,\n";
  std::string good = "gemv,configs/hw/default.yaml,gemm,1,4096,4096,int8,int8,,,,,,,1e-5,\n";
  CliRun all_bad = run_cli("validate '" + write_temp("all_bad.csv", hdr + bad) + "' --max-mape 10");
  EXPECT_EQ(all_bad.code, 1);
  EXPECT_NE(all_bad.err.find("was compared (1 rows, 1 failed)"), std::string::npos) << all_bad.err;
  // A file with no row is bad input: exit 2 at its header line, no table
  // (it printed an empty one and exited 1 before 2026-12-02).
  CliRun empty = run_cli("validate '" + write_temp("empty.csv", hdr) + "'");
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.err.find("empty.csv:1:1: error: no data row follows the header"),
            std::string::npos)
      << empty.err;
  EXPECT_EQ(empty.out, "");
  const std::string mixed = write_temp("mixed.csv", hdr + good + bad);
  CliRun strict = run_cli("validate '" + mixed + "' --max-mape 10");
  EXPECT_EQ(strict.code, 1);
  EXPECT_NE(strict.err.find("1 of 2 rows failed to simulate"), std::string::npos) << strict.err;
  EXPECT_EQ(run_cli("validate '" + mixed + "'").code, 0);  // without a bound: reported, not fatal
}

TEST(Validate, BadReferenceFilesExitTwo) {
  std::string hdr =
      "name,hw,kind,m,n,k,a_format,w_format,model,quant,phase,batch,context,seq,measured_latency_s,"
      "measured_energy_j\n";
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"name,hw,kind\n", ":1:1: error: m: missing column \"m\""},
      {hdr + "x,configs/hw/default.yaml,conv,1,1,1,int8,int8,,,,,,,1,\n",
       ":2:27: error: kind: unknown kind \"conv\""},
      {hdr + "x,configs/hw/default.yaml,gemm,1,1,1,int8,int8,,,,,,,fast,\n",
       ":2:54: error: measured_latency_s: expected a positive, finite number, got \"fast\""},
      {hdr + "x,configs/hw/default.yaml,gemm,1,1,1,int8,int8,,,,,,,inf,\n",
       ":2:54: error: measured_latency_s: expected a positive, finite number, got \"inf\""},
      {hdr + "x,configs/hw/nope.yaml,gemm,1,1,1,int8,int8,,,,,,,1,\n",
       ":2:3: error: hw: no config \"configs/hw/nope.yaml\""},
      {hdr + "x,configs/hw/default.yaml,gemm,0,1,1,int8,int8,,,,,,,1,\n",
       ":2:32: error: m: expected a positive integer"},
      {hdr + "x,configs/hw/default.yaml,allreduce,8,64,,fp16,,,,,,,,1,\n",
       ":2:3: error: hw: an allreduce row needs a system config"},
  };
  for (const auto& c : cases) {
    std::string p = write_temp("bad.csv", c.text);
    CliRun r = run_cli("validate '" + p + "'");
    EXPECT_EQ(r.code, 2) << c.text;
    EXPECT_NE(r.err.find(p + c.expect), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}
