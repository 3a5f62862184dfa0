// `bitcycle run --timeline`: the file is Chrome/Perfetto trace-event JSON whose
// unit slices add up to the report's per-unit busy time, with tracks for every
// kind of resource, no overlapping slices on a track, and a working limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "sim/config/quantity.h"
#include "tests/unit/helpers.h"

namespace bc::test {
namespace {

const char* kTinyModel =
    "name: tiny\nfamily: llama\nhidden: 512\nffn: 1024\nlayers: 2\n"
    "heads: 8\nkv_heads: 2\nhead_dim: 64\nvocab: 2000\n";

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) return nlohmann::json();
  return nlohmann::json::parse(f);  // throws on invalid JSON: the test fails
}

struct Parsed {
  std::map<std::pair<int, int>, std::string> thread;  // (pid, tid) -> track name
  std::map<int, std::string> process;
  std::vector<nlohmann::json> slices;
};

Parsed parse_trace(const nlohmann::json& t) {
  Parsed p;
  for (const auto& e : t.at("traceEvents")) {
    const std::string ph = e.at("ph");
    if (ph == "M") {
      if (e.at("name") == "thread_name")
        p.thread[{e.at("pid"), e.at("tid")}] = e.at("args").at("name");
      if (e.at("name") == "process_name") p.process[e.at("pid")] = e.at("args").at("name");
    } else {
      EXPECT_EQ(ph, "X");
      p.slices.push_back(e);
    }
  }
  return p;
}

}  // namespace

TEST(Timeline, ValidTraceEventsWhoseUnitSlicesAddUpToBusyTime) {
  std::string hw = write_temp("hw.yaml", small_config());
  std::string model = write_temp("m.yaml", kTinyModel);
  std::string tl = temp_path("timeline.json");
  int code = 0;
  auto r = run_json(hw + " --model " + model + " --batch 4 --context 512 --timeline '" + tl +
                        "' --timeline-limit 0",
                    &code);
  ASSERT_EQ(code, 0);
  const nlohmann::json t = read_json(tl);
  ASSERT_TRUE(t.is_object());
  EXPECT_EQ(t.at("otherData").at("dropped_slices"), 0);
  Parsed p = parse_trace(t);
  ASSERT_FALSE(p.slices.empty());

  // Every slice: a name, a category, non-negative time and a named track of a
  // named process; no slice ends after the run.
  const double latency_us = r["latency_s"].get<double>() * 1e6;
  std::map<std::string, double> unit_us;  // per unit name, over all cores
  std::set<std::string> cats;
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> by_track;
  for (const auto& s : p.slices) {
    ASSERT_TRUE(s.at("name").is_string());
    const std::string cat = s.at("cat");
    cats.insert(cat);
    const double ts = s.at("ts"), dur = s.at("dur");
    EXPECT_GE(ts, 0);
    EXPECT_GT(dur, 0);
    EXPECT_LE(ts + dur, latency_us * (1 + 1e-9) + 1e-6);
    const std::pair<int, int> key{s.at("pid"), s.at("tid")};
    ASSERT_TRUE(p.thread.count(key)) << s.dump();
    ASSERT_TRUE(p.process.count(key.first)) << s.dump();
    if (cat == "compute" || cat == "precompute" || cat == "convert") unit_us[p.thread[key]] += dur;
    by_track[key].push_back({ts, ts + dur});
  }
  // Slices on one track never overlap (trace viewers need them nested or disjoint).
  for (auto& [key, v] : by_track) {
    std::sort(v.begin(), v.end());
    for (size_t i = 1; i < v.size(); ++i)
      EXPECT_GE(v[i].first + 1e-9, v[i - 1].second)
          << p.process[key.first] << " / " << p.thread[key] << " slice " << i;
  }
  // The resources: compute units, DMA loads and stores, NoC links, DRAM.
  for (const char* c : {"compute", "load", "store", "link", "channel"})
    EXPECT_TRUE(cats.count(c)) << c;
  std::set<std::string> names;
  for (const auto& [k, n] : p.thread) names.insert(n.substr(0, n.find(' ')));
  for (const char* n : {"mac", "vec", "DMA", "link", "DRAM"}) EXPECT_TRUE(names.count(n)) << n;

  // Per unit, the slices add up to the report's busy time (summed over cores).
  ASSERT_TRUE(r.contains("unit_busy_s"));
  ASSERT_EQ(r["unit_busy_s"].size(), 2u);
  for (const auto& [unit, busy] : r["unit_busy_s"].items()) {
    const double want_us = busy.get<double>() * 1e6;
    EXPECT_GT(want_us, 0) << unit;
    EXPECT_NEAR(unit_us[unit], want_us, 1e-9 * want_us + 1e-6) << unit;
  }
  // And the report's busy time is what the ops' compute adds up to at least on
  // the critical cores: no unit is busier than cores x latency.
  for (const auto& [unit, busy] : r["unit_busy_s"].items())
    EXPECT_LE(busy.get<double>(), 4 * r["latency_s"].get<double>()) << unit;
}

TEST(Timeline, LimitKeepsTheFirstSlicesAndSaysHowManyWereLeftOut) {
  std::string hw = write_temp("hw.yaml", small_config());
  std::string model = write_temp("m.yaml", kTinyModel);
  std::string all = temp_path("all.json"), few = temp_path("few.json");
  int code = 0;
  run_json(hw + " --model " + model + " --timeline '" + all + "' --timeline-limit 0", &code);
  ASSERT_EQ(code, 0);
  run_json(hw + " --model " + model + " --timeline '" + few + "' --timeline-limit 25", &code);
  ASSERT_EQ(code, 0);
  const auto a = read_json(all), f = read_json(few);
  const auto pa = parse_trace(a), pf = parse_trace(f);
  EXPECT_EQ(pf.slices.size(), 25u);
  EXPECT_EQ(f["otherData"]["dropped_slices"].get<size_t>(), pa.slices.size() - 25);
  // Links and channels (most of the slices) take at most half of the limit, so
  // the cores' slices are not crowded out.
  size_t resource = 0, all_resource = 0;
  for (const auto& s : pf.slices) resource += s["cat"] == "link" || s["cat"] == "channel";
  for (const auto& s : pa.slices) all_resource += s["cat"] == "link" || s["cat"] == "channel";
  EXPECT_GT(all_resource, pa.slices.size() / 2);
  EXPECT_LE(resource, 13u);
  EXPECT_GE(resource, 1u);
  // A window keeps only slices starting in it.
  std::string win = temp_path("win.json");
  run_json(hw + " --model " + model + " --timeline '" + win + "' --timeline-window 1us:2us", &code);
  ASSERT_EQ(code, 0);
  const auto pw = parse_trace(read_json(win));
  ASSERT_FALSE(pw.slices.empty());
  size_t in_window = 0;
  for (const auto& s : pa.slices)
    if (s["ts"].get<double>() >= 1.0 && s["ts"].get<double>() < 2.0) ++in_window;
  EXPECT_EQ(pw.slices.size(), in_window);
  for (const auto& s : pw.slices) {
    EXPECT_GE(s["ts"].get<double>(), 1.0);
    EXPECT_LT(s["ts"].get<double>(), 2.0);
  }
}

TEST(Timeline, CollectivesOnTheChipLinksTrack) {
  // A system (4 A100-like chips, tensor parallel): one slice per collective on
  // the chip-to-chip links track, lasting the op's reported latency.
  std::string model = write_temp("m.yaml",
                                 "name: tiny4\nfamily: llama\nhidden: 512\nffn: 1024\nlayers: 2\n"
                                 "heads: 8\nkv_heads: 4\nhead_dim: 64\nvocab: 2000\n");
  std::string tl = temp_path("sys.json");
  int code = 0;
  auto r = run_json("configs/hw/a100-x4.yaml --model " + model + " --context 256 --timeline '" +
                        tl + "' --timeline-limit 0",
                    &code);
  ASSERT_EQ(code, 0);
  const Parsed p = parse_trace(read_json(tl));
  std::map<std::string, double> want;  // collective op -> latency, us
  for (const auto& op : r["ops"])
    if (op["kind"] == "collective" && op["latency_s"].get<double>() > 0)
      want[op["name"]] = op["latency_s"].get<double>() * 1e6;
  ASSERT_GE(want.size(), 4u);  // two all-reduces per layer
  size_t n = 0;
  for (const auto& s : p.slices) {
    if (s["cat"] != "collective") continue;
    ++n;
    EXPECT_EQ(p.process.at(s["pid"]), "chip-to-chip links");
    ASSERT_TRUE(want.count(s["name"])) << s.dump();
    EXPECT_NEAR(s["dur"].get<double>(), want[s["name"]], 1e-6 * want[s["name"]] + 1e-6);
  }
  EXPECT_EQ(n, want.size());
}

TEST(Timeline, BadOptionsExitTwoWithoutAFile) {
  std::string hw = write_temp("hw.yaml", small_config());
  std::string model = write_temp("m.yaml", kTinyModel);
  std::string tl = temp_path("bad.json");
  for (const std::string opt : {"--timeline-window 5us", "--timeline-window 2us:1us",
                                "--timeline-window 1parsec:2us", "--timeline-limit -3"}) {
    std::remove(tl.c_str());
    int code = 0;
    run_json(hw + " --model " + model + " --timeline '" + tl + "' " + opt, &code);
    EXPECT_EQ(code, 2) << opt;
    EXPECT_FALSE(std::ifstream(tl).good()) << opt;
  }
  int code = 0;
  run_json(hw + " --model " + model + " --timeline-limit 10", &code);  // no --timeline
  EXPECT_EQ(code, 2);
}

// A window bound past 1000 s (the largest time an input gives) is an error
// naming --timeline-window; a window inside it that catches no slice writes
// an empty timeline and says so, with the run's end time (a window from
// 1e300 s wrote an empty file in silence).
TEST(Timeline, AWindowPastTheTimeLimitIsAnErrorAndAnEmptyOneIsNoted) {
  std::string hw = write_temp("hw.yaml", small_config());
  std::string model = write_temp("m.yaml", kTinyModel);
  std::string tl = temp_path("w.json");
  for (const auto& [window, bound] : std::vector<std::pair<std::string, std::string>>{
           {"1e300s:", "1e300s"}, {"0s:1001s", "1001s"}}) {
    std::remove(tl.c_str());
    CliRun r = run_cli("run -q '" + hw + "' --model '" + model + "' --timeline '" + tl +
                       "' --timeline-window " + window);
    EXPECT_EQ(r.code, 2) << window;
    EXPECT_EQ(r.err, "<command line>: error: --timeline-window: \"" + bound +
                         "\" is past 1000 s, the largest time BitCycle accepts (expected FROM:TO, "
                         "times with units, e.g. 0us:50us (either side may be empty))\n")
        << window;
    EXPECT_TRUE(r.out.empty()) << window;
    EXPECT_FALSE(std::ifstream(tl).good()) << window;
  }
  std::remove(tl.c_str());
  CliRun r = run_cli("run -q '" + hw + "' --model '" + model + "' --timeline '" + tl +
                     "' --timeline-window 999s: --json '" + temp_path("r.json") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto report = read_json(temp_path("r.json"));
  EXPECT_EQ(r.err, "timeline: note: no slice starts in --timeline-window 999s:; the run ends at " +
                       format_quantity(report["latency_s"].get<double>(), Dim::Time) + "\n");
  EXPECT_EQ(read_json(tl)["otherData"]["slices"].get<int>(), 0);
}

}  // namespace bc::test
