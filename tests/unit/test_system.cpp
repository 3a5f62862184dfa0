// Multi-chip systems: the chip-to-chip links against hand-derived times, and
// whole runs checking what tensor and pipeline parallelism must do.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "sim/engine/chip_links.h"

using namespace bc;
using namespace bc::test;

namespace {
SystemConfig links(const std::string& topology, int64_t chips) {
  SystemConfig s;
  s.present = true;
  s.chips = chips;
  s.topology = topology;
  s.link_bandwidth = 1e9;   // 1 GB/s per direction
  s.link_latency_s = 1e-6;  // 1 us
  s.group_size = 2;
  s.global_links = 1;
  s.global_bandwidth = 1e9;
  s.global_latency_s = 1e-6;
  return s;
}

std::string stderr_of(const std::string& args, int* code) {
  std::string err = temp_path("err.txt");
  std::string cmd = std::string(BITCYCLE_BIN) + " " + args + " >/dev/null 2>'" + err + "'";
  int st = std::system(cmd.c_str());
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream f(err);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

const std::string kSys =
    " --set system.chips=2 --set system.link.bandwidth=100GB/s --set system.link.latency=1us";
}  // namespace

TEST(ChipLinks, RingAllReduceTakesTwoNMinusOneNeighbourSteps) {
  SystemConfig s = links("ring", 4);
  ChipLinks l(s);
  // 4 MB over 4 ranks: 6 steps of a 1 MB chunk over one link: 6 x (1 ms + 1 us).
  Tick t = l.collective(0, "allreduce", {{0, 1, 2, 3}}, 4e6);
  EXPECT_EQ(l.algorithm(4, 4e6), "ring");
  EXPECT_NEAR(ticks_to_seconds(t), 6 * (1e-3 + 1e-6), 1e-9);
  // Bytes x links: 6 steps x 4 ranks x 1 MB, each over one link.
  EXPECT_DOUBLE_EQ(l.local_bytes, 24e6);
}

TEST(ChipLinks, CollectiveLatencyAndLinkEfficiency) {
  // The ring all-reduce above with an 8 us software cost per collective and
  // links that reach 80 % of their bandwidth: 8 us + 6 x (1 MB / 0.8 GB/s + 1 us)
  // = 8 us + 6 x 1.251 ms.
  SystemConfig s = links("ring", 4);
  s.collective_latency_s = 8e-6;
  s.link_efficiency = 0.8;
  ChipLinks l(s);
  Tick t = l.collective(0, "allreduce", {{0, 1, 2, 3}}, 4e6);
  EXPECT_NEAR(ticks_to_seconds(t), 8e-6 + 6 * (1.25e-3 + 1e-6), 1e-9);
  // A send pays it once too; a group of one rank does not communicate at all.
  EXPECT_NEAR(ticks_to_seconds(ChipLinks(s).collective(0, "send", {{0, 1}}, 1e6)),
              8e-6 + 1.25e-3 + 1e-6, 1e-9);
  EXPECT_EQ(ChipLinks(s).collective(5, "allreduce", {{2}}, 1e6), 5u);
}

TEST(ChipLinks, DirectAllReduceOnASwitchSerialisesOnEachPort) {
  SystemConfig s = links("switch", 4);
  s.collective = "direct";
  ChipLinks l(s);
  // Each phase a rank sends 3 chunks of 1 MB through its one port: 3 ms, plus
  // the chip-to-chip latency (half up, half down); two phases.
  Tick t = l.collective(0, "allreduce", {{0, 1, 2, 3}}, 4e6);
  EXPECT_NEAR(ticks_to_seconds(t), 2 * (3e-3 + 1e-6), 1e-8);
}

TEST(ChipLinks, DirectAllReduceOnFullyConnectedUsesAllLinksAtOnce) {
  SystemConfig s = links("fully_connected", 4);
  ChipLinks l(s);
  EXPECT_EQ(l.algorithm(4, 4e6), "direct");
  // Every pair has its own link: each phase is one 1 MB chunk time + latency.
  Tick t = l.collective(0, "allreduce", {{0, 1, 2, 3}}, 4e6);
  EXPECT_NEAR(ticks_to_seconds(t), 2 * (1e-3 + 1e-6), 1e-8);
}

TEST(ChipLinks, GroupsSharingALinkContend) {
  // Ring 0-1-2-3-0. Group {0, 2}: 0->2 runs 0->1->2 and 2->0 runs 2->1->0.
  // Group {1, 3}: 3->1 runs 3->0->1, sharing link 0->1 with 0->2.
  SystemConfig s = links("ring", 4);
  Tick alone = ChipLinks(s).collective(0, "allreduce", {{0, 2}}, 2e6);
  Tick both = ChipLinks(s).collective(0, "allreduce", {{0, 2}, {1, 3}}, 2e6);
  // Alone: 2 steps of a 1 MB chunk over 2 links, cut-through: 1 ms + 2 us each.
  EXPECT_NEAR(ticks_to_seconds(alone), 2 * (1e-3 + 2e-6), 1e-8);
  // Together, the second flow on link 0->1 waits for the first: each step ends
  // one chunk time later.
  EXPECT_NEAR(ticks_to_seconds(both), 2 * (2e-3 + 2e-6), 1e-5);
}

TEST(ChipLinks, DragonflyRoutesThroughAGlobalLink) {
  SystemConfig s = links("dragonfly", 4);  // groups {0, 1} and {2, 3}, one global link
  ChipLinks l(s);
  // The global link joins chip 0 (port 0 of group 0) and chip 2: 1 -> 3 is local,
  // global, local.
  EXPECT_EQ(l.route(1, 3).size(), 3u);
  EXPECT_EQ(l.route(0, 2).size(), 1u);
  l.transfer(0, 1, 3, 1e6);
  EXPECT_DOUBLE_EQ(l.global_bytes, 1e6);
  EXPECT_DOUBLE_EQ(l.local_bytes, 2e6);
}

TEST(System, PipelineParallelDoublesLargeBatchThroughputNotSingleTokenLatency) {
  const std::string w = " --model llama-2-7b --context 256";
  auto one = run_json(w + " --batch 128");
  auto pp = run_json(w + " --batch 128" + kSys + " --set system.parallel.pipeline=2");
  ASSERT_FALSE(one.is_null());
  ASSERT_FALSE(pp.is_null());
  EXPECT_EQ(pp["system"]["microbatches"], 2);
  const double speedup = pp["tokens_per_s"].get<double>() / one["tokens_per_s"].get<double>();
  EXPECT_GT(speedup, 1.8);
  EXPECT_LT(speedup, 2.1);
  auto one1 = run_json(w + " --batch 1");
  auto pp1 = run_json(w + " --batch 1" + kSys + " --set system.parallel.pipeline=2");
  // Batch 1: the token still passes every layer, plus a hop between the stages.
  EXPECT_GE(pp1["token_latency_s"].get<double>(), 0.99 * one1["token_latency_s"].get<double>());
}

TEST(System, TensorParallelCutsLatencyUntilCommunicationDominates) {
  const std::string w = " --model llama-2-7b --context 1024";
  auto lat = [&](int tp, const std::string& link) {
    auto r = run_json(w + " --set system.chips=" + std::to_string(tp) +
                      " --set system.parallel.tensor=" + std::to_string(tp) + link);
    return std::pair{r["token_latency_s"].get<double>(), r["communication_share"].get<double>()};
  };
  const std::string fast =
      " --set system.topology=switch --set system.link.bandwidth=400GB/s "
      "--set system.link.latency=1us";
  auto [t1, c1] = lat(1, fast);
  auto [t2, c2] = lat(2, fast);
  auto [t4, c4] = lat(4, fast);
  EXPECT_LT(t2, 0.75 * t1);
  EXPECT_LT(t4, 0.75 * t2);
  EXPECT_EQ(c1, 0.0);
  EXPECT_GT(c4, c2);
  // A ring of slow links: a ring all-reduce takes 2(N-1) steps, so past some N
  // communication dominates and more ranks make a token slower.
  const std::string slow =
      " --set system.topology=ring --set system.link.bandwidth=1GB/s "
      "--set system.link.latency=20us";
  auto [s4, sc4] = lat(4, slow);
  auto [s8, sc8] = lat(8, slow);
  EXPECT_GT(sc8, 0.5);
  EXPECT_GT(s8, s4);
}

TEST(System, MovingAModelOnSixteenSocketsTakesBytesOverAggregateBandwidth) {
  int code = 0;
  std::string out = temp_path("move.json");
  std::string cmd = std::string(BITCYCLE_BIN) + " move " + project_root() +
                    "/configs/hw/sn40l-x16.yaml --bytes 16e9 --from ddr --to dram --json '" + out +
                    "' >/dev/null";
  code = std::system(cmd.c_str());
  ASSERT_EQ(code, 0);
  auto r = nlohmann::json::parse(std::ifstream(out));
  // 16 GB over 16 sockets x 100 GB/s of DDR = 10 ms. The simulated 10.6 ms is
  // the DDR channels' 10 ms plus queueing on the 40 x 26 mesh: transfers queued
  // deep behind the DDR reserve mesh links ahead of time (FIFO servers).
  EXPECT_NEAR(r["latency_s"].get<double>() / 10e-3, 1.0, 0.07);
  EXPECT_EQ(r["chips"], 16);
}

TEST(System, AParallelDegreeThatDoesNotDivideIsAnError) {
  int code = 0;
  std::string e = stderr_of(
      "run --model llama-2-7b --set system.chips=3 "
      "--set system.link.bandwidth=1GB/s --set system.parallel.tensor=3",
      &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(e.find("system.parallel.tensor: tensor parallelism 3 does not divide the 32 heads"),
            std::string::npos)
      << e;
  e = stderr_of(
      "run --model llama-2-7b --set system.chips=3 --set system.link.bandwidth=1GB/s "
      "--set system.parallel.pipeline=3",
      &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(e.find("pipeline parallelism 3 does not divide the 32 layers"), std::string::npos) << e;
  e = stderr_of(
      "run --model llama-2-7b --set system.chips=4 --set system.link.bandwidth=1GB/s "
      "--set system.parallel.tensor=8",
      &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(e.find("tensor x pipeline = 8 does not divide the 4 active chips"), std::string::npos)
      << e;
}

TEST(System, ATopologyThatCannotConnectTheChipsIsAnError) {
  std::string cfg = write_temp("sys.yaml", "include: " + project_root() +
                                               "/configs/hw/default.yaml\n"
                                               "system:\n"
                                               "  chips: 8\n"
                                               "  topology: fully_connected\n"
                                               "  ports: 4\n"
                                               "  link: {bandwidth: 10 GB/s}\n");
  int code = 0;
  std::string e = stderr_of("explain " + cfg, &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(e.find(cfg + ":4:13: error: system.topology: a fully_connected topology cannot "
                         "connect 8 chips: each chip needs 7 links (7 peers x 1), it has 4 ports"),
            std::string::npos)
      << e;
  std::string dfly = write_temp("dfly.yaml", "include: " + project_root() +
                                                 "/configs/hw/default.yaml\n"
                                                 "system:\n"
                                                 "  chips: 12\n"
                                                 "  topology: dragonfly\n"
                                                 "  group_size: 5\n"
                                                 "  link: {bandwidth: 10 GB/s}\n");
  e = stderr_of("explain " + dfly, &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(e.find("group_size 5 does not divide the chips"), std::string::npos) << e;
}
