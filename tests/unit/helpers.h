// Test helpers: temporary files and a small, fully specified hardware config.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "models/compute_unit.h"
#include "sim/config/error.h"
#include "sim/config/hw_config.h"

namespace bc::test {

inline std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  // The process group keeps two test runs on one machine (two checkouts' suites)
  // out of each other's files: they name their tests alike.
  std::string dir = ::testing::TempDir() + "bc_" + std::to_string(getpgrp()) + "_" +
                    info->test_suite_name() + "_" + info->name();
  std::string cmd = "mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("mkdir failed");
  return dir + "/" + name;
}

inline std::string write_temp(const std::string& name, const std::string& text) {
  std::string p = temp_path(name);
  std::ofstream(p) << text;
  return p;
}

// Runs the bitcycle binary with `args` (shell words); its exit code, stdout and stderr.
struct CliRun {
  int code;
  std::string out, err;
};

inline CliRun run_cli(const std::string& args) {
  std::string out = temp_path("stdout.txt"), err = temp_path("stderr.txt");
  std::string cmd = std::string(BITCYCLE_BIN) + " " + args + " >'" + out + "' 2>'" + err + "'";
  int st = std::system(cmd.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
}

// Runs `bitcycle run` and returns its JSON report (null when it wrote none);
// exit code in *code.
inline nlohmann::json run_json(const std::string& args, int* code = nullptr) {
  std::string out = temp_path("r.json"), err = temp_path("err.txt");
  std::remove(out.c_str());
  std::string cmd = std::string(BITCYCLE_BIN) + " run -q --json '" + out + "' " + args + " 2>'" +
                    err + "' >/dev/null";
  int st = std::system(cmd.c_str());
  if (code) *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream f(out);
  if (!f) return nlohmann::json();
  return nlohmann::json::parse(f);
}

// Every shipped chip config (configs/hw/*.yaml): the configs the property
// tests run. base-28nm.yaml is the common base of the 28 nm chips, with no
// matrix unit of its own: not a chip that runs a model.
inline std::vector<std::string> shipped_configs() {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(project_root() + "/configs/hw"))
    if (e.path().extension() == ".yaml" && e.path().filename() != "base-28nm.yaml")
      v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

// A gtest parameter name for a config file name: "h100-x8.yaml" -> "h100_x8".
inline std::string config_test_name(const ::testing::TestParamInfo<std::string>& i) {
  std::string n = i.param.substr(0, i.param.size() - 5);
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

// The model each config runs: Llama-3.1-8B, except on the Groq chips, whose
// SRAM holds 230 MB a chip: the 576-chip system runs Llama-2-70B (its design
// point) and the single chip a two-layer model of 2048 hidden units and a
// 1,024-entry vocabulary, 130 MB of int8 weights.
inline std::string model_args(const std::string& name) {
  if (name == "groq-tsp-x576.yaml") return "--model llama-2-70b";
  if (name != "groq-tsp.yaml") return "";
  const std::string m = write_temp("small.yaml",
                                   "name: small-2l\nfamily: llama\nhidden: 2048\nffn: 8192\n"
                                   "layers: 2\nheads: 16\nkv_heads: 8\nhead_dim: 128\n"
                                   "vocab: 1024\nsource: a test model\n");
  return "--model '" + m + "' --context 512";
}

// Runs `bitcycle run ARGS --set 'KEY=v'` for each value v in turn (each a
// bigger resource than the one before): every run must succeed and none be
// slower than the one before by more than `tol`. Returns each run's op
// `op` (null if it has none), for the caller's checks of its mapping.
inline std::vector<nlohmann::json> run_growing_resource(const std::string& args,
                                                        const std::string& key,
                                                        const std::vector<std::string>& values,
                                                        const std::string& op, double tol) {
  std::vector<nlohmann::json> ops;
  double before = 0;
  for (const std::string& v : values) {
    int code = 0;
    const nlohmann::json r = run_json(args + " --set '" + key + "=" + v + "'", &code);
    EXPECT_EQ(code, 0) << key << "=" << v;
    if (r.is_null()) return ops;
    const double t = r["latency_s"].get<double>();
    if (before > 0) EXPECT_LE(t, before * (1 + tol)) << key << "=" << v;
    before = t;
    nlohmann::json found;
    for (const auto& o : r["ops"])
      if (o["name"] == op) found = o;
    ops.push_back(found);
  }
  return ops;
}

inline std::string library_path() { return project_root() + "/configs/components/library.yaml"; }

// A small chip, one key per line so error positions are easy to state.
// Line numbers (1-based) are given in the comments the tests rely on.
inline std::string small_config() {
  return "name: small\n"  // 1
         "library: " +
         library_path() +
         "\n"                                 // 2
         "node: 7 nm\n"                       // 3
         "frequency: 1 GHz\n"                 // 4
         "noc:\n"                             // 5
         "  mesh:\n"                          // 6
         "    x: 2\n"                         // 7
         "    y: 2\n"                         // 8
         "  link_bandwidth: 1 TB/s\n"         // 9
         "  hop_latency: 1\n"                 // 10
         "core:\n"                            // 11
         "  sram:\n"                          // 12
         "    size: 1 MiB\n"                  // 13
         "    banks: 8\n"                     // 14
         "  dma:\n"                           // 15
         "    bandwidth: 1 TB/s\n"            // 16
         "  units:\n"                         // 17
         "    mac:\n"                         // 18
         "      type: mac_array\n"            // 19
         "      rows: 32\n"                   // 20
         "      cols: 32\n"                   // 21
         "      rates: {int8: 1, bf16: 1}\n"  // 22
         "    vec:\n"                         // 23
         "      type: vector_unit\n"          // 24
         "      lanes: 16\n"                  // 25
         "      rates: {fp32: 1}\n"           // 26
         "memory:\n"                          // 27
         "  dram:\n"                          // 28
         "    channels: 4\n"                  // 29
         "    bandwidth: 100 GB/s\n"          // 30
         "    latency: 100 ns\n";             // 31
}

inline std::string replace_line(const std::string& text, int line, const std::string& with) {
  std::istringstream in(text);
  std::string l, out;
  int n = 0;
  while (std::getline(in, l)) {
    ++n;
    if (n == line) {
      if (!with.empty()) out += with + "\n";
    } else {
      out += l + "\n";
    }
  }
  return out;
}

// The diagnostics a config load produces (empty if it loads).
inline std::vector<std::string> config_errors(const std::string& text,
                                              const std::vector<std::string>& sets = {}) {
  std::string p = write_temp("hw.yaml", text);
  try {
    load_hw_config(p, sets);
  } catch (const InputError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) {
      std::string s = d.str();
      // Tests compare text after the file path, which depends on the temp dir.
      if (s.rfind(p, 0) == 0) s = "F" + s.substr(p.size());
      out.push_back(s);
    }
    return out;
  }
  return {};
}

// A compute unit built from YAML text, as a config would build it.
inline std::unique_ptr<ComputeUnit> make_unit(const std::string& yaml) {
  CNode n = parse_config_text(yaml, "unit.yaml");
  DiagnosticSink sink;
  std::unique_ptr<ComputeUnit> u;
  {
    Params p(&n, "unit", &sink);
    std::string type = p.text("type", std::nullopt, "");
    u = UnitRegistry::create(type, "u", p);
  }
  sink.throw_if_any();
  return u;
}

}  // namespace bc::test
