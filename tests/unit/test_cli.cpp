// The command line as users run it: exit codes, messages, no partial output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "helpers.h"

using namespace bc::test;

namespace {
struct CliRun {
  int code;
  std::string out, err;
};

CliRun run(const std::string& args) {
  std::string out = temp_path("stdout.txt"), err = temp_path("stderr.txt");
  std::string cmd = std::string(BITCYCLE_BIN) + " " + args + " >'" + out + "' 2>'" + err + "'";
  int st = std::system(cmd.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
}
}  // namespace

TEST(Cli, HelpForEveryCommand) {
  for (std::string c : {"--help", "run --help", "explain --help", "trace --help"}) {
    CliRun r = run(c);
    EXPECT_EQ(r.code, 0) << c;
    EXPECT_NE(r.out.find("usage: bitcycle"), std::string::npos) << c;
  }
}

TEST(Cli, DefaultRunPrintsTheTable) {
  std::string json = temp_path("r.json"), csv = temp_path("r.csv");
  CliRun r = run("run --json '" + json + "' --csv '" + csv + "'");
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
      {"run /nonexistent.yaml", "/nonexistent.yaml: error: cannot open file"},
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
      {"move --from hbm", "--from: expected dram, ddr or shared_sram, got \"hbm\""},
  };
  for (const auto& c : cases) {
    CliRun r = run(c.args + " --json '" + json + "'");
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args;
    EXPECT_FALSE(std::filesystem::exists(json)) << c.args;
  }
}

TEST(Cli, ExplainPrintsDerivedValues) {
  CliRun r = run("explain");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("peak mac.int8"), std::string::npos);
  EXPECT_NE(r.out.find("ridge point"), std::string::npos);
  CliRun k = run("explain --keys");
  EXPECT_NE(k.out.find("core.units.<mac_array>.rows"), std::string::npos) << k.out;
}

TEST(Cli, TraceRoundTrip) {
  std::string tr = temp_path("t.json");
  CliRun t = run("trace llama-3.1-8b --batch 2 --context 1024 -o '" + tr + "'");
  ASSERT_EQ(t.code, 0) << t.err;
  CliRun r = run("run --trace '" + tr + "' -q --json '" + temp_path("r.json") + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  CliRun m = run("run --batch 2 --context 1024 -q --json '" + temp_path("m.json") + "'");
  std::ifstream a(temp_path("r.json")), b(temp_path("m.json"));
  auto ja = nlohmann::json::parse(a), jb = nlohmann::json::parse(b);
  EXPECT_DOUBLE_EQ(ja["latency_s"].get<double>(), jb["latency_s"].get<double>());
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
  CliRun r = run("validate '" + csv + "' --csv '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("rows compared: 4 of 4"), std::string::npos) << r.out;
  std::ifstream f(out);
  std::string header, line;
  std::getline(f, header);
  EXPECT_EQ(header,
            "name,hw,kind,simulated_latency_s,measured_latency_s,error,simulated_energy_j,measured_"
            "energy_j,status,roofline_latency_s");
  double ape = 0;
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
    if (c[0] == "gemv_a") EXPECT_NEAR(std::stod(c[9]), (4096.0 + 4096.0 * 4096 + 4096) / 100e9, 1e-12);
    if (c[0] == "allreduce") EXPECT_EQ(c[9], "");
    if (c[0] == "softmax") EXPECT_GT(std::stod(c[9]), 0);
    if (c[8] != "ok") continue;
    double sim = std::stod(c[3]), meas = std::stod(c[4]);
    EXPECT_NEAR(std::stod(c[5]), (sim - meas) / meas, 1e-6);
    ape += std::fabs(sim - meas) / meas;
    ++n;
  }
  EXPECT_EQ(n, 4);
  std::ostringstream mape;
  mape << std::fixed << std::setprecision(1) << "MAPE " << 100 * ape / n << " %";
  EXPECT_NE(r.out.find(mape.str()), std::string::npos) << r.out;
  // --max-mape below the achieved MAPE fails the run (exit 1).
  EXPECT_EQ(run("validate '" + csv + "' --max-mape 0").code, 1);
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
       ":2:54: error: measured_latency_s: expected a positive number, got \"fast\""},
      {hdr + "x,configs/hw/nope.yaml,gemm,1,1,1,int8,int8,,,,,,,1,\n",
       ":2:3: error: hw: no config \"configs/hw/nope.yaml\""},
      {hdr + "x,configs/hw/default.yaml,gemm,0,1,1,int8,int8,,,,,,,1,\n",
       ":2:32: error: m: expected a positive integer"},
      {hdr + "x,configs/hw/default.yaml,allreduce,8,64,,fp16,,,,,,,,1,\n",
       ":2:3: error: hw: an allreduce row needs a system config"},
  };
  for (const auto& c : cases) {
    std::string p = write_temp("bad.csv", c.text);
    CliRun r = run("validate '" + p + "'");
    EXPECT_EQ(r.code, 2) << c.text;
    EXPECT_NE(r.err.find(p + c.expect), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}
