// End-to-end timing and energy properties of the SystemC engine. Each
// simulation runs in a child process (SystemC elaborates once per process).
#include <gtest/gtest.h>

#include "helpers.h"
#include "sim/cli/isolate.h"
#include "sim/engine/analytical.h"
#include "sim/engine/engine.h"
#include "sim/mapping/cost_model.h"
#include "sim/mapping/mapper.h"
#include "sim/mapping/unit_pipeline.h"
#include "sim/report/report.h"
#include "workloads/generator.h"

using namespace bc;
using namespace bc::test;

namespace {

std::string chip(const std::string& dram_bw, int channels, const std::string& link_bw,
                 const std::string& dma_bw, const std::string& sram, int mesh_x, int mesh_y,
                 int rows, int cols) {
  return "name: t\nlibrary: " + library_path() +
         "\nnode: 7 nm\nfrequency: 1 GHz\n"
         "noc: {mesh: {x: " +
         std::to_string(mesh_x) + ", y: " + std::to_string(mesh_y) +
         "}, link_bandwidth: " + link_bw +
         ", hop_latency: 1}\n"
         "core:\n  sram: {size: " +
         sram + ", banks: 64, bank_width: 256 B}\n  dma: {bandwidth: " + dma_bw +
         "}\n  units:\n"
         "    mac: {type: mac_array, rows: " +
         std::to_string(rows) + ", cols: " + std::to_string(cols) +
         ", rates: {int8: 1, bf16: 1}}\n"
         "    vec: {type: vector_unit, lanes: 64, rates: {fp32: 1}}\n"
         "memory:\n  dram: {channels: " +
         std::to_string(channels) + ", bandwidth: " + dram_bw + ", latency: 100 ns}\n";
}

Trace gemm_trace(int64_t m, int64_t n, int64_t k) {
  Trace t;
  Op op;
  op.name = "gemm";
  op.kind = OpKind::Gemm;
  op.m = m, op.n = n, op.k = k;
  op.a = op.w = op.o = TensorFormat{};  // int8
  t.ops.push_back(op);
  return t;
}

// One non-causal int8 attention op with one (KV) head of 64 dimensions.
Trace attention_trace(int64_t batch, int64_t q_len, int64_t kv_len) {
  Trace t;
  Op op;
  op.name = "attention";
  op.kind = OpKind::Attention;
  op.batch = batch, op.heads = 1, op.kv_heads = 1, op.head_dim = 64, op.q_len = q_len,
  op.kv_len = kv_len;
  op.causal = false, op.kv_append = 0;
  op.a = op.w = op.o = TensorFormat{};  // int8
  t.ops.push_back(op);
  return t;
}

nlohmann::json simulate_in_child(const std::string& cfg_path, const Trace& t,
                                 std::vector<std::string> sets = {}) {
  nlohmann::json r = run_isolated([&] {
    HwConfig hw = load_hw_config(cfg_path, sets);
    Program p = map_trace(t, hw);
    SimResult s = simulate(hw, p);
    return build_report(hw, t, p, s);
  });
  if (r.contains("error")) ADD_FAILURE() << r["error"];
  return r;
}

// Runs `t` on each chip in turn (each with more of one resource than the one
// before): none may be slower than the one before by more than `tol`, and the
// op's mapping must hold `mapping` on each. The latencies, in order.
std::vector<double> run_growing(const std::vector<std::string>& chips, const Trace& t,
                                const std::string& mapping, double tol) {
  std::vector<double> lat;
  for (const std::string& c : chips) {
    auto r = simulate_in_child(write_temp("hw.yaml", c), t);
    const std::string m = r["ops"][0]["mapping"].get<std::string>();
    EXPECT_NE(m.find(mapping), std::string::npos) << lat.size() << ": " << m;
    lat.push_back(r["latency_s"].get<double>());
    if (lat.size() > 1) EXPECT_LE(lat.back(), lat[lat.size() - 2] * (1 + tol)) << m;
  }
  return lat;
}

// A hand-built program on a two-core chip: each of `cores` cores runs its own
// op of `tiles` tiles, each loading `bytes` from DRAM and running a one-element
// step on unit 1 (the vector unit: negligible compute).
// Each of `cores` cores moves `tiles` tiles of `bytes` between DRAM and its
// SRAM (loads; stores with `store`), with a one-element vector step each.
Program streaming_program(const HwConfig& hw, int cores, double bytes, uint32_t tiles,
                          bool store = false, bool copy = false) {
  Program p;
  p.cores.resize(2);
  VectorTile vt;
  vt.elements = 1;
  p.costs.push_back(build_units(hw.units)[1]->vector(vt));
  p.cost_unit.push_back(1);
  for (int c = 0; c < cores; ++c) {
    OpPlan plan;
    plan.name = "stream" + std::to_string(c);
    p.ops.push_back(plan);
    CoreOp co;
    co.op = static_cast<uint32_t>(c);
    Tile t;
    (store ? t.store_bytes : t.load_bytes)[kDram] = bytes;
    if (copy) t.load_bytes[kDram] = t.store_bytes[kDram] = bytes;
    t.nsteps = 1;
    t.steps[0] = {1, 0};
    t.repeat = tiles;
    co.tiles.push_back(t);
    p.cores[static_cast<size_t>(c)].push_back(co);
  }
  return p;
}

}  // namespace

TEST(Simulation, ComputeBoundGemmWithinTwoPercentOfFloor) {
  // 4 cores x 32x32 int8 PEs at 1 GHz, bandwidth far above need.
  // Floor: 1024*1024*4096 MACs / (4 * 32*32 MACs/cycle) = 1,048,576 cycles = 1.048576 ms.
  std::string cfg =
      write_temp("hw.yaml", chip("1000 TB/s", 16, "1000 TB/s", "1000 TB/s", "8 MiB", 2, 2, 32, 32));
  auto r = simulate_in_child(cfg, gemm_trace(1024, 1024, 4096));
  double floor_s = 1048576e-9;
  double lat = r["latency_s"].get<double>();
  EXPECT_GE(lat, floor_s);
  EXPECT_LE(lat, floor_s * 1.02) << r["ops"][0]["mapping"];
}

TEST(Simulation, GemvFromDramWithinTwoPercentOfBandwidthFloor) {
  // 8192x8192 int8 weights = 67,108,864 B over 100 GB/s = 671.09 us; the four
  // 32x128 arrays consume 512 B/cycle, so DRAM is the bottleneck.
  std::string cfg =
      write_temp("hw.yaml", chip("100 GB/s", 4, "1 TB/s", "1 TB/s", "2 MiB", 2, 2, 32, 128));
  auto r = simulate_in_child(cfg, gemm_trace(1, 8192, 8192));
  double floor_s = 67108864.0 / 100e9;
  double lat = r["latency_s"].get<double>();
  EXPECT_GE(lat, floor_s);
  EXPECT_LE(lat, floor_s * 1.02) << r["ops"][0]["mapping"];
}

TEST(Simulation, EstimateWithinTwoPercentOfSimulationWithoutContention) {
  // One op alone on the chip: the mapper's estimate (the cost model the tiles
  // were chosen by) and the engine see the same resources; only queueing
  // differs, and there is little of it: a compute-bound GEMM and a GEMV bound
  // by DRAM bandwidth.
  std::string cfg =
      write_temp("hw.yaml", chip("1000 TB/s", 16, "1000 TB/s", "1000 TB/s", "8 MiB", 2, 2, 32, 32));
  auto r = simulate_in_child(cfg, gemm_trace(1024, 1024, 4096));
  EXPECT_EQ(r["ops"][0]["estimate_bound"], "compute");
  EXPECT_NEAR(r["estimate"]["ratio"].get<double>(), 1.0, 0.02);
  std::string cfg2 =
      write_temp("hw2.yaml", chip("100 GB/s", 4, "1 TB/s", "1 TB/s", "2 MiB", 2, 2, 32, 128));
  auto g = simulate_in_child(cfg2, gemm_trace(1, 8192, 8192));
  EXPECT_EQ(g["ops"][0]["estimate_bound"], "dram");
  EXPECT_NEAR(g["estimate"]["ratio"].get<double>(), 1.0, 0.02);
}

TEST(Simulation, LaunchGapSeparatesKernels) {
  // Two dependent element-wise kernels on a chip with launch_gap: 5 us: the
  // second starts 5 us after the first ends (kernel by kernel); with
  // execution: dataflow or deterministic: true the gap does not apply.
  Trace t;
  for (int i = 0; i < 2; ++i) {
    Op op;
    op.name = "ew" + std::to_string(i);
    op.kind = OpKind::Elementwise;
    op.fn = "add";
    op.elements = 4096;
    op.id = i;
    if (i) op.deps = {0};
    t.ops.push_back(op);
  }
  std::string cfg =
      write_temp("hw.yaml", "launch_gap: 5 us\n" +
                                chip("1 TB/s", 4, "1 TB/s", "1 TB/s", "2 MiB", 2, 2, 32, 32));
  auto r = simulate_in_child(cfg, t);
  const double gap = r["ops"][1]["start_s"].get<double>() - r["ops"][0]["end_s"].get<double>();
  EXPECT_NEAR(gap, 5e-6, 1e-12);
  EXPECT_GE(r["ops"][0]["start_s"].get<double>(), 5e-6 - 1e-12);  // the first kernel's launch
  auto d = simulate_in_child(cfg, t, {"deterministic=true"});
  EXPECT_LT(d["ops"][1]["start_s"].get<double>() - d["ops"][0]["end_s"].get<double>(), 1e-9);
}

TEST(Simulation, FlashAttentionKeepsScoresInRegisters) {
  // One core, an int8 16x16 output-stationary array (4 B partial sums), one
  // head: 16 queries over 256 keys, head_dim 64, int8 Q, K, V. Summed over the
  // KV blocks (whatever block the mapper picks, sum kb = 256):
  // - O alone in registers (4 KiB holds 16 x 64 x 4 B): S = Q K^T reads Q once
  //   per column fold (kb/16 x 16 x 64) and K (64 x kb) and its partial sums
  //   (16 x kb x 4), writes them: 192 kb read, 64 kb written; softmax reads S
  //   and writes P: 64 kb, 16 kb; O += P V reads P (16 x kb) and V (kb x 64):
  //   80 kb. Read 336 x 256 = 86,016 B; written 80 x 256 + the finished O
  //   4,096 = 24,576 B.
  // - S and P in registers too (256 KiB): S reads Q (1,024 B) and K per block,
  //   softmax touches no SRAM, P V reads V only: 1,024 x blocks + 2 x 64 x 256
  //   read, only O written (4,096 B).
  std::string cfg =
      write_temp("hw.yaml", chip("1000 TB/s", 4, "1000 TB/s", "1000 TB/s", "16 MiB", 1, 1, 16, 16));
  Trace t;
  Op op;
  op.name = "attention";
  op.kind = OpKind::Attention;
  op.batch = 1, op.heads = 1, op.kv_heads = 1, op.head_dim = 64, op.q_len = 16, op.kv_len = 256;
  op.causal = false, op.kv_append = 0;
  op.a = op.w = op.o = TensorFormat{};  // int8
  t.ops.push_back(op);
  auto sram_bytes = [&](const std::string& regs) {
    return run_isolated([&] {
      HwConfig hw = load_hw_config(cfg, {"core.registers=" + regs});
      Program p = map_trace(t, hw);
      double rd = 0, wr = 0, blocks = 0;
      for (const auto& core : p.cores)
        for (const CoreOp& co : core)
          for (const Tile& tile : co.tiles) {
            blocks += tile.repeat;
            for (int s = 0; s < tile.nsteps; ++s) {
              rd += tile.repeat * p.costs[tile.steps[s].cost].sram_read_bytes;
              wr += tile.repeat * p.costs[tile.steps[s].cost].sram_write_bytes;
            }
          }
      return nlohmann::json{{"read", rd}, {"write", wr}, {"blocks", blocks}};
    });
  };
  nlohmann::json o_only = sram_bytes("4 KiB"), all = sram_bytes("256 KiB");
  EXPECT_DOUBLE_EQ(o_only["read"].get<double>(), 86016);
  EXPECT_DOUBLE_EQ(o_only["write"].get<double>(), 24576);
  const double blocks = all["blocks"].get<double>();
  EXPECT_GE(blocks, 1);
  EXPECT_DOUBLE_EQ(all["read"].get<double>(), 1024 * blocks + 2 * 64 * 256);
  EXPECT_DOUBLE_EQ(all["write"].get<double>(), 4096);
}

TEST(Simulation, OutputTilesRunInWavesOverTheCores) {
  // Wave quantization: a GEMM's output tiles (here the 16x16 array's) are
  // dealt to the cores; one tile more than there are cores takes a second
  // wave. 4 cores, int8 16x16 output-stationary arrays, memory and NoC far
  // from binding. M = 16, K = 4096: N = 64 is 4 tiles, one a core, each
  // 4096 + 2 x 16 + 16 - 2 = 4,142 cycles (fill and drain once per output
  // tile); N = 80 is 5 tiles, and whatever the grid, some core runs two:
  // 8,284 cycles. With the same fixed costs L (the first load's latency, the
  // last store) on both, (8,284 + L) / (4,142 + L) is just under 2 for 25 %
  // more work.
  std::string cfg =
      write_temp("hw.yaml", chip("1000 TB/s", 4, "1000 TB/s", "1000 TB/s", "16 MiB", 2, 2, 16, 16));
  auto one = simulate_in_child(cfg, gemm_trace(16, 64, 4096));
  auto two = simulate_in_child(cfg, gemm_trace(16, 80, 4096));
  const double t1 = one["latency_s"].get<double>(), t2 = two["latency_s"].get<double>();
  EXPECT_GT(t1, 4142e-9);
  EXPECT_LT(t1, 4142e-9 * 1.1);
  EXPECT_GT(t2 / t1, 1.9);
  EXPECT_LE(t2 / t1, 2.0);
}

TEST(Simulation, AClusterReadsASharedWeightTileOnce) {
  // core.dma.multicast: the cores of a grid column read the same W panel at
  // the same K steps; a cluster of 2 takes each W tile with one read of the
  // channels. 4 cores with 16x16 int8 arrays (256 MACs a cycle at 1 GHz), DRAM
  // at 20 GB/s, no shared SRAM. GEMM M = 64, N = 64, K = 8,192: A and W are
  // 512 KiB each, 33.5 M MACs. Each core reads its A rows and W columns once;
  // a core's 16x16 output tile takes 8,192 + 2 x 16 + 16 - 2 = 8,238 cycles.
  //   1x1 grid: 16 tiles on one core, 131.8 us of compute;
  //   2x1 (or 1x2): 8 tiles a core, 65.9 us; DRAM 1.5 MiB = 78.6 us: 78.6 us;
  //   2x2: 2 MiB = 104.9 us; 4x1 or 1x4: 2.5 MiB = 131 us.
  // With clusters of 2 the 2x1 grid's W is read once for both cores: 1 MiB,
  // 52.4 us, under its compute: 65.9 us. Plus the same small fixed costs
  // (the first load's latency, the last store) on both.
  const std::string base = chip("20 GB/s", 4, "1000 TB/s", "1000 TB/s", "16 MiB", 2, 2, 16, 16);
  std::string mc = base;
  const std::string dma = "dma: {bandwidth: 1000 TB/s";
  ASSERT_NE(mc.find(dma), std::string::npos);
  mc.replace(mc.find(dma), dma.size(), dma + ", multicast: 2");
  auto off = simulate_in_child(write_temp("off.yaml", base), gemm_trace(64, 64, 8192));
  auto on = simulate_in_child(write_temp("on.yaml", mc), gemm_trace(64, 64, 8192));
  const double t0 = off["latency_s"].get<double>(), t1 = on["latency_s"].get<double>();
  const double mib = 1024.0 * 1024.0;
  EXPECT_GT(t0, 1.5 * mib / 20e9);
  EXPECT_LT(t0, 1.5 * mib / 20e9 * 1.03);
  EXPECT_GT(t1, 8 * 8238e-9);
  EXPECT_LT(t1, 8 * 8238e-9 * 1.03);
  EXPECT_NE(on["ops"][0]["mapping"].get<std::string>().find("grid 2x1"), std::string::npos);
  // The read energy is counted per byte each core receives (models/dma_engine.h
  // says why): 1.5 MiB on both, though the channels moved 1 MiB with clusters.
  auto dram_reads = [](const nlohmann::json& r) {
    for (const auto& a : r["actions"])
      if (a["component"] == "dram" && a["action"] == "read_byte") return a["count"].get<double>();
    return -1.0;
  };
  EXPECT_DOUBLE_EQ(dram_reads(off), 1.5 * mib);
  EXPECT_DOUBLE_EQ(dram_reads(on), 1.5 * mib);
}

TEST(Simulation, OnlyWholeClustersShareAWeightTile) {
  // The share of a core's W bytes a cluster peer reads for it, averaged over a
  // grid column of r cores in clusters of c: (c - 1) / c for the cores in
  // whole clusters, none for the rest. By hand: c = 2, r = 2: 1/2; r = 3 (one
  // pair, one alone): 1/2 x 2/3 = 1/3; r = 1: 0; c = 4, r = 6 (one cluster of
  // 4): 3/4 x 4/6 = 1/2; r = 8: 3/4; c = 1 (no multicast): 0.
  EXPECT_DOUBLE_EQ(multicast_share(2, 2), 0.5);
  EXPECT_DOUBLE_EQ(multicast_share(2, 3), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(multicast_share(2, 1), 0.0);
  EXPECT_DOUBLE_EQ(multicast_share(4, 6), 0.5);
  EXPECT_DOUBLE_EQ(multicast_share(4, 8), 0.75);
  EXPECT_DOUBLE_EQ(multicast_share(1, 8), 0.0);
}

TEST(Simulation, AWiderArrayLeavesNoCoreIdleOnAGemv) {
  // A GEMV's slices are whole tiles of the array while that gives every core
  // one; a matrix too narrow for that is cut finer, the arrays partly filled.
  // 4 cores, each loading at 10 GB/s (the DMA binds; DRAM, NoC far from it);
  // int8 GEMV M = 1, N = 64, K = 4096: 256 KiB of weights. 16-column arrays:
  // 4 slices of 16 columns, 64 KiB a core, 65,536 B / 10 GB/s = 6.55 us. 64-column
  // arrays: one whole-array slice would leave 3 cores idle (26.2 us on one
  // core's DMA); cut to 16 columns, they run as the narrow arrays do (each
  // fold 4,096 + 2 x 16 + 64 - 2 = 4,190 cycles = 4.19 us at 1 GHz, under
  // the load time), plus the same fixed costs (the first load's latency, the
  // last K step's compute and store): under 15 % here. Before the finer cut the
  // 64-column chip took 4x as long.
  const auto t = run_growing({chip("1000 TB/s", 4, "1000 TB/s", "10 GB/s", "16 MiB", 2, 2, 16, 16),
                              chip("1000 TB/s", 4, "1000 TB/s", "10 GB/s", "16 MiB", 2, 2, 16, 64)},
                             gemm_trace(1, 64, 4096), "grid 1x4 cores", 1e-9);
  for (double v : t) {
    EXPECT_GT(v, 65536 / 10e9);
    EXPECT_LT(v, 65536 / 10e9 * 1.15);
  }
}

TEST(Simulation, ATallerArrayLeavesNoCoreIdleOnAShortPrompt) {
  // Attention's query blocks fill the array's rows; a prompt too short for
  // that to give every core a block is also tried in shorter blocks, the
  // array partly filled (as GEMM slices are cut). 4 cores, one head, 64
  // query tokens over 64 keys (too few to split the context: a split is at
  // least 64 keys). 16-row arrays: 4 blocks of 16 rows, one a core. 64-row
  // arrays: one block of 64 rows would run on one core with three idle; in
  // 16-row blocks it takes the 4 cores as the short arrays do.
  run_growing({chip("1000 TB/s", 4, "1000 TB/s", "1000 TB/s", "16 MiB", 2, 2, 16, 16),
               chip("1000 TB/s", 4, "1000 TB/s", "1000 TB/s", "16 MiB", 2, 2, 64, 16)},
              attention_trace(1, 64, 64), "4 work items (batch x kv_heads x 4 query blocks", 1e-9);
}

TEST(Simulation, DecodeAttentionEvensOutItsLastRoundOverMoreCores) {
  // Decode attention's work items (sequence x KV head) are dealt to the
  // cores in rounds; 6 items on 5 cores leave a last round of one item while
  // 4 cores' last round has two: without context splits, the fifth core made
  // the op slower. Split into a few context chunks (the cost model picks how
  // many, as decode kernels choose their KV splits from the SM count) the
  // rounds even out. 6 sequences, one head, 4,096 keys of int8 K and V each
  // (512 KiB); each core loads at 4 GB/s from a 10 GB/s DRAM (compute far
  // below). Unsplit, 4 cores: a round of 4 items sharing the DRAM
  // (4 x 512 KiB / 10 GB/s = 210 us), then 2 at 4 GB/s each (131 us), 341 us;
  // 5 cores: 262 us, then one item alone (131 us), 393 us. Evened out, the
  // 3 MiB take 315 us at the DRAM's rate on either.
  const auto t = run_growing({chip("10 GB/s", 4, "1000 TB/s", "4 GB/s", "16 MiB", 4, 1, 16, 16),
                              chip("10 GB/s", 4, "1000 TB/s", "4 GB/s", "16 MiB", 5, 1, 16, 16)},
                             attention_trace(6, 1, 4096), "context splits", 0.01);
  const double even = 6 * 524288 / 10e9;
  for (double v : t) {
    EXPECT_GT(v, even);
    EXPECT_LT(v, even * 1.02);
  }
}

TEST(Simulation, MoreDmaStagesNeitherShrinkATileNorRejectAnOp) {
  // Each DMA stage holds its operand buffers in SRAM, so a chip's stages are
  // what an op may use, not what it must: the mapper takes fewer where their
  // buffers would shrink its tiles more than the loads in flight gain, and
  // says so in the op's mapping. On the Groq-like chip (its test model, two
  // layers), ffn.gate_up's 1x640x320 tile took 4 stages' buffers only as
  // 1x320x320 tiles (8.5 % slower), and at 8 stages no tile fitted the
  // SRAM at all: the op was rejected. Its tile is the same at every count.
  // Within 0.1 %: loads prefetched deeper queue a hair differently in the
  // engine's FIFO servers (README, Monotone sweeps).
  const auto ops =
      test::run_growing_resource(project_root() + "/configs/hw/groq-tsp.yaml --no-compare " +
                                     test::model_args("groq-tsp.yaml"),
                                 "core.dma.stages", {"2", "4", "8"}, "layers.0.ffn.gate_up", 1e-3);
  ASSERT_EQ(ops.size(), 3u);
  auto tile = [](const std::string& m) {
    const size_t at = m.find("tile ");
    return m.substr(at, m.find(',', at) - at);
  };
  for (const auto& o : ops) EXPECT_EQ(tile(o["mapping"]), tile(ops[0]["mapping"])) << o["mapping"];
  EXPECT_NE(ops[2]["mapping"].get<std::string>().find("loads in flight"), std::string::npos);
}

TEST(Simulation, TheTileSearchCountsAFallbacksConversions) {
  // The 28 nm fp16 MAC chip runs w8a8's int8 GEMMs by converting A and W to
  // bf16 on its vector unit, one conversion per newly loaded tile. The tile
  // search ranked tilings on the matmul alone, so with 4 DMA stages it took
  // 64-row tiles (more loads in flight, in its view) whose extra
  // conversions made every GEMM 11 % slower than the 128-row tiles it took
  // with 3 stages. Counted as emitted, the search keeps the 128-row tiles.
  const auto ops = test::run_growing_resource(
      project_root() + "/configs/hw/mac-fp16-28nm-iso-area.yaml --no-compare --phase prefill " +
          "--seq 128",
      "core.dma.stages", {"2", "3", "4"}, "layers.0.ffn.gate_up", 1e-3);
  for (const auto& o : ops) {
    const std::string m = o["mapping"].get<std::string>();
    EXPECT_NE(m.find("tile 128x"), std::string::npos) << m;
    EXPECT_NE(m.find("converts"), std::string::npos) << m;
  }
}

TEST(Simulation, ATallerArrayMayFillPartOfItsRowsAlongK) {
  // K tiles may be a half to an eighth of a weight-stationary array's rows
  // (folds filling part of them), so a taller array keeps the K steps of a
  // shorter one. The Groq-like chip's MXM at 640 rows took only whole-array
  // K steps of 640, whose operand tiles halved the streamed rows its SRAM
  // held: a 512-token prefill of the test's two-layer model ran 1.82x
  // slower than at 320 rows. Each fold still loads its 640 rows of weights
  // and fills and drains through them (README, Monotone sweeps), within 5 %.
  const std::string cfg = project_root() + "/configs/hw/groq-tsp.yaml --no-compare " +
                          test::model_args("groq-tsp.yaml") + " --phase prefill --seq 512";
  int code = 0;
  auto short_rows = test::run_json(cfg, &code);
  ASSERT_EQ(code, 0);
  auto tall = test::run_json(cfg + " --set core.units.mxm.rows=640", &code);
  ASSERT_EQ(code, 0);
  EXPECT_LE(tall["latency_s"].get<double>(), short_rows["latency_s"].get<double>() * 1.05);
}

TEST(Simulation, DoublingDramBandwidthHalvesMemoryBoundLatency) {
  std::string cfg =
      write_temp("hw.yaml", chip("100 GB/s", 4, "1 TB/s", "1 TB/s", "2 MiB", 2, 2, 32, 128));
  auto slow = simulate_in_child(cfg, gemm_trace(1, 8192, 8192));
  auto fast = simulate_in_child(cfg, gemm_trace(1, 8192, 8192), {"memory.dram.bandwidth=200 GB/s"});
  double ratio = slow["latency_s"].get<double>() / fast["latency_s"].get<double>();
  EXPECT_NEAR(ratio, 2.0, 0.1);
}

TEST(Simulation, TwoCoresOnOneChannelEachTakeTwiceAsLong) {
  // Hand-built program: each core streams 32 tiles of 256 KiB from one 50 GB/s
  // channel, with negligible compute. Alone a core takes ~8 MiB / 50 GB/s = T.
  // With both streaming, the FIFO channel serves them in turns of one tile (the
  // op's first loads go out in rounds, one per core, and each later load when
  // a buffer frees): one core ends at 2T, the other one tile earlier, at
  // (64 - 1) / 32 x T = 1.97 T.
  std::string cfg =
      write_temp("hw.yaml", chip("50 GB/s", 1, "1 TB/s", "1 TB/s", "4 MiB", 2, 1, 8, 8));
  auto run = [&](bool both) {
    return run_isolated([&] {
      HwConfig hw = load_hw_config(cfg);
      SimResult s = simulate(hw, streaming_program(hw, both ? 2 : 1, 262144, 32));
      nlohmann::json j = nlohmann::json::array();
      for (const auto& o : s.ops) j.push_back(o.end_s - o.start_s);
      return j;
    });
  };
  auto alone = run(false);
  auto both = run(true);
  double t1 = alone[0].get<double>();
  EXPECT_NEAR(t1, 8 * 1048576 / 50e9, 8 * 1048576 / 50e9 * 0.01);
  const double a = both[0].get<double>() / t1, b = both[1].get<double>() / t1;
  EXPECT_NEAR(std::max(a, b), 2.0, 0.01);
  EXPECT_NEAR(std::min(a, b), 63.0 / 32, 0.01);
}

TEST(Simulation, MoreStagesInFlightHideLoadLatency) {
  // One core streams 32 tiles of 4 KiB from DRAM with negligible compute: each
  // load takes 100 ns of latency + 1 ns (one router) + 4.1 ns on the 1 TB/s DMA
  // engine, and each tile 9 cycles (9 ns) on the vector unit (1 element on 64
  // lanes, 8 cycles of latency). With B loads in flight, a buffer cycles through
  // load + compute = 114.1 ns, so a tile takes 114.1 / B ns: 32 tiles take about
  // 1,826 ns with 2 stages and 913 ns with 4, plus the first load.
  std::string cfg =
      write_temp("hw.yaml", chip("1000 TB/s", 1, "1 TB/s", "1 TB/s", "4 MiB", 2, 1, 8, 8));
  auto run = [&](int stages) {
    return run_isolated([&] {
      HwConfig hw = load_hw_config(cfg, {"core.dma.stages=" + std::to_string(stages)});
      SimResult s = simulate(hw, streaming_program(hw, 1, 4096, 32));
      return nlohmann::json(s.ops[0].end_s - s.ops[0].start_s);
    });
  };
  const double two = run(2).get<double>(), four = run(4).get<double>();
  EXPECT_NEAR(two, 16 * 114.1e-9, 16 * 114.1e-9 * 0.02) << two;  // 1,835 ns simulated
  EXPECT_NEAR(four, 8 * 114.1e-9, 8 * 114.1e-9 * 0.05) << four;  // 940 ns simulated
  EXPECT_NEAR(two / four, 2.0, 0.1);
}

TEST(Simulation, ALoadBehindAStoreWaitsForIt) {
  // One core, three tiles of one 4 KiB DRAM load and a 9 ns vector step; the
  // first also stores 4 KiB. A load or store takes 100 ns of latency, 1 ns (a
  // router) and 4.096 ns on the 1 TB/s DMA engine, which serves them in turn.
  // Two loads in flight: tiles 0 and 1 load at 0 and land at 105.1 and 109.2 ns;
  // tile 0 computes to 114.1 ns and its store is issued then, ending at
  // 114.1 + 4.1 + 101 = 219.2 ns. Tile 1 computes to 123.1 ns.
  // - Tile 2 loading as its buffer frees (114.1 ns), behind the store on the
  //   DMA engine: it lands at 114.1 + 8.2 + 101 = 223.3 ns and ends 9 ns later,
  //   232.3 ns.
  // - Tile 2 held behind tile 0's store (Tile::after_store = 2, its buffer
  //   holds that output, as attention's O staged in the V buffers): it loads
  //   at 219.2 ns, lands at 324.3 ns and ends at 333.3 ns, one store path
  //   (101 ns) later.
  std::string cfg =
      write_temp("hw.yaml", chip("1000 TB/s", 1, "1 TB/s", "1 TB/s", "4 MiB", 2, 1, 8, 8));
  // `retire1`, `store2`: tile 1's after_retire and tile 2's after_store.
  auto run = [&](uint8_t retire1, uint8_t store2) {
    return run_isolated([&] {
      HwConfig hw = load_hw_config(cfg, {"core.dma.stages=2"});
      Program p = streaming_program(hw, 1, 4096, 1);
      std::vector<Tile>& tiles = p.cores[0][0].tiles;
      tiles[0].store_bytes[kDram] = 4096;
      Tile t = tiles[0];
      t.store_bytes[kDram] = 0;
      t.after_retire = retire1;
      tiles.push_back(t);
      t.after_retire = 0;
      t.after_store = store2;
      tiles.push_back(t);
      SimResult s = simulate(hw, p);
      return nlohmann::json(s.ops[0].end_s - s.ops[0].start_s);
    });
  };
  EXPECT_NEAR(run(0, 0).get<double>(), 232.3e-9, 2e-9);
  EXPECT_NEAR(run(0, 2).get<double>(), 333.3e-9, 2e-9);
  // Tile 1 held until tile 0 retires (Tile::after_retire = 1, a buffer tile 0
  // still reads: attention's single Q buffer): it loads at 114.1 ns, behind
  // the store on the DMA engine, lands at 223.4 ns and ends at 232.4 ns.
  // Tile 2 waits for the store, done at 219.2 ns, and not for tile 1 to
  // retire: it loads then, lands at 324.3 ns and ends at 333.3 ns (loaded at
  // tile 1's retirement it would end 13 ns later).
  EXPECT_NEAR(run(1, 2).get<double>(), 333.3e-9, 2e-9);
}

TEST(Simulation, TheEstimateExposesALoadBehindAStore) {
  // The cost model sees the same wait (the tiles of the test above, as tile
  // classes, one core): a tile held behind an earlier store adds that store's
  // path, 101 cycles of latency and router + 4.096 on the DMA engine, and its
  // own load's, the same, less the 9 cycles of unit work between: 201.192
  // cycles.
  const HwConfig hw = load_hw_config(
      write_temp("hw.yaml", chip("1000 TB/s", 1, "1 TB/s", "1 TB/s", "4 MiB", 2, 1, 8, 8)));
  CostModel model(hw);
  auto estimate = [&](bool after_store, bool after_retire = false) {
    CoreWork w;
    w.stages = 2;
    for (int i = 0; i < 3; ++i) {
      TileClass c;
      c.count = 1;
      c.compute_cycles = 9;
      c.load[kDram] = 4096;
      if (i == 0) c.store[kDram] = 4096;
      c.after_store = after_store && i == 2;
      c.after_retire = after_retire && i == 1;
      w.classes.push_back(c);
    }
    return model.estimate(w, 0, 1).cycles;
  };
  EXPECT_NEAR(estimate(true) - estimate(false), 2 * 105.096 - 9, 1e-6);
  // A tile held until the one before retires exposes its own load path.
  EXPECT_NEAR(estimate(false, true) - estimate(false), 105.096, 1e-6);
}

TEST(Simulation, AttentionStagesOInTheVBuffersWhenThatBuysLargerBlocks) {
  // H100 (228 KiB of shared memory an SM), bf16 attention at head dimension
  // 256, 128 query rows: Q takes 128 x 256 x 2 B = 64 KiB and the finished O as
  // much. With a separate O buffer, two stages of 64-key K and V blocks
  // (2 x 2 x 64 x 256 x 2 B = 128 KiB) need 256 KiB, so blocks stop at 32
  // keys; with O staged in the V buffers (FlashAttention-3) they need 192 KiB.
  // The mapper takes the larger blocks.
  const std::string trace = write_temp("att.json", R"({"schema": "bitcycle-trace", "version": 1,
    "workload": {"phase": "prefill", "batch": 8},
    "ops": [{"id": 0, "name": "att", "kind": "attention", "a": "bf16", "kv": "bf16", "o": "bf16",
             "batch": 8, "heads": 8, "kv_heads": 8, "head_dim": 256, "q_len": 2048,
             "kv_len": 2048, "deps": []}]})");
  auto r = run_json("h100 --trace '" + trace + "'");
  ASSERT_FALSE(r.is_null());
  const std::string m = r["ops"][0]["mapping"].get<std::string>();
  EXPECT_NE(m.find("O staged in the V buffers"), std::string::npos) << m;
  const size_t at = m.find("KV block ");
  ASSERT_NE(at, std::string::npos) << m;
  EXPECT_GE(std::stoi(m.substr(at + 9)), 64) << m;
}

// A hand-built op on core 0 of a two-core chip: `tiles` tiles with no loads,
// each running steps of the given cycles on the given units (0: mac, 1: vec).
static Program pipeline_program(const std::vector<std::pair<uint16_t, int64_t>>& steps,
                                uint32_t tiles) {
  Program p;
  p.cores.resize(2);
  OpPlan plan;
  plan.name = "steps";
  p.ops.push_back(plan);
  CoreOp co;
  Tile t;
  for (const auto& [unit, cycles] : steps) {
    TileCost c;
    c.cycles = cycles;
    t.add_step({unit, static_cast<uint32_t>(p.costs.size())});
    p.costs.push_back(c);
    p.cost_unit.push_back(unit);
  }
  t.repeat = tiles;
  co.tiles.push_back(t);
  p.cores[0].push_back(co);
  return p;
}

TEST(Simulation, UnitsOverlapTilesAsPipelines) {
  // Two loads in flight, loads free (no bytes), 1 GHz: one cycle is one ns.
  std::string cfg =
      write_temp("hw.yaml", chip("1000 TB/s", 1, "1 TB/s", "1 TB/s", "4 MiB", 2, 1, 8, 8));
  auto run = [&](const std::vector<std::pair<uint16_t, int64_t>>& steps, uint32_t tiles,
                 bool concurrent) {
    return run_isolated([&] {
             HwConfig hw = load_hw_config(
                 cfg, {std::string("core.concurrent_units=") + (concurrent ? "true" : "false")});
             Program p = pipeline_program(steps, tiles);
             SimResult s = simulate(hw, p);
             return nlohmann::json{
                 {"ns", (s.ops[0].end_s - s.ops[0].start_s) * 1e9},
                 {"period", pipelined_period(p.cores[0][0].tiles[0], p.costs, 2, 2)},
                 {"compute", s.ops[0].compute_cycles}};
           })
        .get<nlohmann::json>();
  };
  // MAC 300 then vector 200 cycles, 16 tiles. In series: 16 x 500 = 8,000 ns.
  // Overlapped: the MAC array starts tile i+1 while the vector unit finishes
  // tile i, so the MAC array sets the pace: 16 x 300 + the last tile's 200 =
  // 5,000 ns; the units' union busy time is the whole op.
  auto serial = run({{0, 300}, {1, 200}}, 16, false);
  auto overlap = run({{0, 300}, {1, 200}}, 16, true);
  EXPECT_NEAR(serial["ns"].get<double>(), 8000, 1);
  EXPECT_NEAR(overlap["ns"].get<double>(), 5000, 1);
  EXPECT_NEAR(overlap["period"].get<double>(), 300, 1e-9);
  EXPECT_NEAR(overlap["compute"].get<double>(), 5000, 1);
  // Attention-like: S = QK^T (MAC 100), softmax (vector 150), O += PV (MAC
  // 100), 8 tiles. Tile 2's QK^T runs during tile 1's softmax (it ends at 200,
  // before tile 1's PV is ready at 250); tile 3's would end after tile 2's
  // softmax, delaying an older tile, so it waits for tile 2's PV. Each pair of
  // tiles takes 500 ns (tiles retire at 350, 500, 850, 1000, ...): 2,000 ns,
  // against 8 x 350 = 2,800 in series; the cost model's period is 250.
  EXPECT_NEAR(run({{0, 100}, {1, 150}, {0, 100}}, 8, false)["ns"].get<double>(), 2800, 1);
  auto att = run({{0, 100}, {1, 150}, {0, 100}}, 8, true);
  EXPECT_NEAR(att["ns"].get<double>(), 2000, 1);
  EXPECT_NEAR(att["period"].get<double>(), 250, 1e-9);
  // With a 50-cycle softmax, tile 2's QK^T (100) would delay tile 1's PV: no
  // overlap, 8 x 250 = 2,000 ns either way.
  EXPECT_NEAR(run({{0, 100}, {1, 50}, {0, 100}}, 8, true)["ns"].get<double>(), 2000, 1);
}

TEST(Simulation, ReportedEnergyIsSumOfActionsTimesEnergies) {
  std::string cfg = write_temp("hw.yaml", small_config());
  ModelDesc m;
  m.name = "tiny";
  m.hidden = 256, m.ffn = 512, m.layers = 2, m.heads = 4, m.kv_heads = 2, m.head_dim = 64,
  m.vocab = 1000;
  QuantRecipe q = load_quant("w8a8-int");
  WorkloadSpec w;
  w.context = 512;
  auto r = simulate_in_child(cfg, generate_trace(m, q, w));
  double dynamic = 0;
  for (const auto& a : r["actions"]) {
    EXPECT_EQ(a["energy_j"].get<double>(),
              a["count"].get<double>() * a["energy_per_action_j"].get<double>());
    dynamic += a["count"].get<double>() * a["energy_per_action_j"].get<double>();
    EXPECT_FALSE(a["source"].get<std::string>().empty());
  }
  double leakage = 0;
  for (const auto& c : r["area"])
    leakage += c["leakage_w"].get<double>() * r["latency_s"].get<double>();
  EXPECT_DOUBLE_EQ(r["dynamic_energy_j"].get<double>(), dynamic);
  EXPECT_DOUBLE_EQ(r["energy_j"].get<double>(), dynamic + leakage);
  double ops = 0;
  for (const auto& o : r["ops"]) ops += o["energy_j"].get<double>();
  EXPECT_NEAR(ops, dynamic, dynamic * 1e-9);
  double by_component = 0;
  for (auto& [k, v] : r["breakdown"]["energy_j"].items()) by_component += v.get<double>();
  EXPECT_NEAR(by_component, r["energy_j"].get<double>(), r["energy_j"].get<double>() * 1e-12);
  EXPECT_GT(r["breakdown"]["energy_j"]["dram"].get<double>(), 0);
}

TEST(Simulation, OpCyclesAddUpOnTheCriticalCore) {
  std::string cfg = write_temp("hw.yaml", small_config());
  auto r = simulate_in_child(cfg, gemm_trace(64, 512, 1024));
  const auto& o = r["ops"][0];
  double cycles = o["compute_cycles"].get<double>() + o["memory_stall_cycles"].get<double>() +
                  o["dependency_stall_cycles"].get<double>();
  // The critical core starts the op at time 0, so its cycles span the latency.
  EXPECT_NEAR(cycles, o["latency_s"].get<double>() * 1e9, 1.0);
  EXPECT_GT(o["compute_cycles"].get<double>(), 0);
}

TEST(Simulation, KernelOpCyclesAddUpToTheirLatencyOnEveryOp) {
  // Kernel by kernel, an op's window on its critical core opens at its launch:
  // compute + memory stall + dependency stall is its latency, on every op of
  // a whole model, so a per-op breakdown sums to the run (a core that skipped
  // the ops before it does not count their time as this op's wait).
  for (const char* args :
       {"configs/hw/default.yaml", "configs/hw/h100.yaml", "configs/hw/a100-x4.yaml",
        "configs/hw/lut-tc-28nm-iso-area.yaml --quant w4a8 --batch 8",
        "configs/hw/bitmod-28nm.yaml --quant w4a8"}) {
    int code = -1;
    nlohmann::json r = run_json(args, &code);
    ASSERT_EQ(code, 0) << args;
    const double f = load_hw_config(project_root() + "/" +
                                    std::string(args).substr(0, std::string(args).find(' ')))
                         .freq_hz;
    int checked = 0;
    for (const auto& o : r["ops"]) {
      if (o["kind"] == "collective") continue;
      const double cycles = o["compute_cycles"].get<double>() +
                            o["memory_stall_cycles"].get<double>() +
                            o["dependency_stall_cycles"].get<double>();
      const double latency = o["latency_s"].get<double>() * f;
      EXPECT_NEAR(cycles, latency, 1e-6 * latency + 1e-3) << args << ": " << o["name"];
      ++checked;
    }
    EXPECT_GT(checked, 300) << args;
  }
}

TEST(Mapper, TileThatFitsNoSramIsAnError) {
  // Smallest output-stationary tile on 32x32: 32x32 outputs, k = 1:
  // 2 x (32x1 + 1x32) int8 operands + 32x32 x (4 B accumulator + 1 B output) = 5,248 B.
  std::string cfg = write_temp("hw.yaml", replace_line(small_config(), 13, "    size: 1 KiB"));
  HwConfig hw = load_hw_config(cfg);
  try {
    map_trace(gemm_trace(64, 512, 1024), hw);
    FAIL();
  } catch (const InputError& e) {
    // At the key that causes it (line 13 of the config), not at "<mapper>".
    EXPECT_EQ(std::string(e.what()),
              cfg +
                  ":13:5: error: core.sram.size: op gemm (gemm): no tile fits the core's SRAM: "
                  "the smallest tile needs 5.248 KB, core.sram.size is 1.024 KB (raise "
                  "core.sram.size)");
  }
}

TEST(Mapper, UnsupportedFormatNamesOpUnitAndFormats) {
  std::string cfg = write_temp("hw.yaml", small_config());
  HwConfig hw = load_hw_config(cfg);
  Trace t = gemm_trace(1, 64, 64);
  t.ops[0].a.elem = format("fp32");  // the small chip has int8 and bf16 classes only
  t.ops[0].w.elem = format("fp32");
  try {
    map_trace(t, hw);
    FAIL();
  } catch (const InputError& e) {
    std::string s = e.what();
    EXPECT_NE(s.find("op gemm (gemm): no unit of the core executes fp32 x fp32"), std::string::npos)
        << s;
    EXPECT_NE(s.find("mac: no datapath class"), std::string::npos) << s;
  }
}

TEST(Simulation, SharedSramLevelHoldsActivations) {
  // With a shared SRAM level, activations between ops live there (they fit):
  // the element-wise op reads and writes no DRAM at all.
  std::string cfg = write_temp(
      "hw.yaml",
      small_config() + "  shared_sram:\n    size: 8 MiB\n    channels: 4\n    bandwidth: 1 TB/s\n");
  Trace t;
  Op g;
  g.name = "gemm";
  g.kind = OpKind::Gemm;
  g.m = 64, g.n = 256, g.k = 256;
  t.ops.push_back(g);
  Op e;
  e.id = 1;
  e.name = "act";
  e.kind = OpKind::Elementwise;
  e.fn = "add";
  e.elements = 64 * 256;
  e.deps = {0};
  t.ops.push_back(e);
  auto r = simulate_in_child(cfg, t);
  EXPECT_EQ(r["ops"][1]["dram_bytes"].get<double>(), 0.0);
  // Shared SRAM traffic, whatever the core grid: the GEMM writes C (64 x 256
  // int8 = 16,384 B), the add reads two 16,384 B inputs and writes 16,384 B.
  double rd = 0, wr = 0;
  for (const auto& a : r["actions"])
    if (a["component"] == "shared_sram")
      (a["action"] == "read_byte" ? rd : wr) = a["count"].get<double>();
  EXPECT_EQ(wr, 32768.0);
  // Reads: the add's 32,768 B, plus the GEMM's weight-panel reads that the shared
  // level filters (cores of one grid column share a W panel).
  EXPECT_GE(rd, 32768.0);
  EXPECT_GT(r["breakdown"]["energy_j"]["shared_sram"].get<double>(), 0.0);
  EXPECT_GT(r["breakdown"]["area_mm2"]["shared_sram"].get<double>(), 0.0);
}

TEST(Residency, WeightsThatFitStayInCoreSram) {
  // A tiny model on the small chip (4 cores x 1 MiB) made statically scheduled:
  // its weights fit in 75 % of the cores' SRAM, so auto keeps them resident and
  // GEMMs read no weights from DRAM; forced to DRAM, the same GEMMs stream them.
  // Kernel by kernel (the chip as it is), a kernel keeps nothing in its cores'
  // SRAM, so auto leaves the weights in DRAM.
  std::string cfg = write_temp("hw.yaml", "deterministic: true\n" + small_config());
  ModelDesc m;
  m.name = "tiny";
  m.hidden = 256, m.ffn = 512, m.layers = 2, m.heads = 4, m.kv_heads = 2, m.head_dim = 64,
  m.vocab = 1000;
  WorkloadSpec w;
  w.context = 256;
  w.embedding = false, w.lm_head = false;
  Trace t = generate_trace(m, load_quant("w8a8-int"), w);
  auto resident = simulate_in_child(cfg, t);
  auto streamed = simulate_in_child(cfg, t, {"memory.weights=dram"});
  auto kernel = simulate_in_child(cfg, t, {"deterministic=false"});
  EXPECT_EQ(kernel["weights"]["placement"], "dram");
  EXPECT_EQ(resident["weights"]["placement"], "local_sram");
  EXPECT_EQ(streamed["weights"]["placement"], "dram");
  double gemm_w = 0;
  for (const auto& op : t.ops) gemm_w += op.weight_bytes();
  double r_dram = 0, s_dram = 0;
  for (size_t i = 0; i < t.ops.size(); ++i)
    if (t.ops[i].kind == OpKind::Gemm) {
      r_dram += resident["ops"][i]["dram_bytes"].get<double>();
      s_dram += streamed["ops"][i]["dram_bytes"].get<double>();
      EXPECT_NE(
          resident["ops"][i]["mapping"].get<std::string>().find("weights resident in core SRAM"),
          std::string::npos);
    }
  // Streamed GEMMs read every weight byte from DRAM at least once; resident ones none.
  EXPECT_GE(s_dram - r_dram, gemm_w * 0.999);
  EXPECT_LT(resident["latency_s"].get<double>(), streamed["latency_s"].get<double>());
}

TEST(Residency, AModelThatFitsNowhereIsAnError) {
  std::string cfg = write_temp("hw.yaml", small_config() + "    size: 1 GB\n");
  HwConfig hw = load_hw_config(cfg);
  WorkloadSpec w;
  Trace t = generate_trace(load_model("llama-3.1-8b"), load_quant("w16a16"), w);
  try {
    map_trace(t, hw);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find(
                  cfg + ":27:1: error: memory: the model fits nowhere: weights 16.06 GB + KV "
                        "cache 536.9 MB = 16.6 GB, but the chip holds 1.004 GB"),
              0u)
        << e.what();
  }
}

TEST(Tiers, WeightsSpillToDdrAndMoveAtTheSlowerTiersBandwidth) {
  // HBM (dram) too small for Llama-3.1-8B int8 (8.6 GB), a DDR tier behind it:
  // the weights go to DDR, and a decode step streams them at DDR bandwidth.
  std::string cfg =
      write_temp("hw.yaml", small_config() +
                                "    size: 4 GB\n"
                                "  ddr:\n    type: ddr3\n    channels: 4\n    bandwidth: 50 GB/s\n"
                                "    latency: 200 ns\n    size: 64 GB\n");
  WorkloadSpec w;
  w.context = 1024;
  Trace t = generate_trace(load_model("llama-3.1-8b"), load_quant("w8a8-int"), w);
  auto r = simulate_in_child(cfg, t);
  EXPECT_EQ(r["weights"]["placement"], "ddr");
  double weights_read = r["trace_totals"]["weight_bytes_read"].get<double>();
  EXPECT_GE(r["latency_s"].get<double>(), weights_read / 50e9);
  EXPECT_GT(r["breakdown"]["energy_j"]["ddr"].get<double>(), 0);
  // Moving 16 GB from DDR (50 GB/s) to HBM (100 GB/s) takes its bytes over the
  // slower tier's bandwidth: 16e9 / 50e9 = 0.32 s.
  nlohmann::json m = run_isolated([&] {
    HwConfig hw = load_hw_config(cfg);
    Program p = map_move(hw, 16e9, kDdr, kDram);
    return nlohmann::json{{"latency_s", simulate(hw, p).latency_s}};
  });
  EXPECT_NEAR(m["latency_s"].get<double>(), 0.32, 0.32 * 0.02);
}

TEST(Simulation, AccumulatorsTakeTheirShareOfTheRegisters) {
  // One core, an int8 16x16 output-stationary array (4 B partial sums), a
  // 16 x 16 x 4096 int8 GEMM: one output tile, 16 x 16 x 4 = 1,024 B of
  // accumulators. 16 KiB of SRAM cannot hold a K step of 4,096 (A alone is
  // 64 KiB), so the tile takes several K steps. With 1 KiB of registers and
  // core.accumulator_share 1 the accumulators stay in the registers: SRAM sees
  // only the finished sums written, once, 1,024 B. With a share of 0.5
  // they have 512 B, too few: every K step writes its 1,024 B of partial sums
  // back to SRAM (the last one the finished sums), 1,024 B per step. And
  // the share only scales the budget: 2 KiB at 0.5 maps as 1 KiB at 1.
  std::string cfg =
      write_temp("hw.yaml", chip("1000 TB/s", 4, "1000 TB/s", "1000 TB/s", "16 KiB", 1, 1, 16, 16));
  const Trace t = gemm_trace(16, 16, 4096);
  auto sram_writes = [&](const std::string& regs, const std::string& share) {
    return run_isolated([&] {
      HwConfig hw =
          load_hw_config(cfg, {"core.registers=" + regs, "core.accumulator_share=" + share});
      Program p = map_trace(t, hw);
      double wr = 0, steps = 0;
      for (const auto& core : p.cores)
        for (const CoreOp& co : core)
          for (const Tile& tile : co.tiles) {
            steps += tile.repeat;
            for (int s = 0; s < tile.nsteps; ++s)
              wr += tile.repeat * p.costs[tile.steps[s].cost].sram_write_bytes;
          }
      return nlohmann::json{{"write", wr}, {"steps", steps}};
    });
  };
  const auto all = sram_writes("1 KiB", "1"), half = sram_writes("1 KiB", "0.5");
  EXPECT_DOUBLE_EQ(all["write"].get<double>(), 1024);
  EXPECT_GE(half["steps"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(half["write"].get<double>(), 1024 * half["steps"].get<double>());
  EXPECT_EQ(sram_writes("2 KiB", "0.5"), all);
}

TEST(Simulation, DramWritesReachTheirOwnShareOfTheBandwidth) {
  // One core moves 32 tiles of 256 KiB over one 50 GB/s DRAM channel, compute
  // negligible. Loads take T = 8 MiB / 50 GB/s = 167.8 us. With
  // memory.dram.write_efficiency 0.5 (efficiency 1) a written byte holds the
  // channel twice as long: storing the same tiles takes 2T; the analytical
  // mode's channel bound says the same. Without the key writes run as reads.
  std::string cfg =
      write_temp("hw.yaml", chip("50 GB/s", 1, "1 TB/s", "1 TB/s", "4 MiB", 2, 1, 8, 8));
  const double T = 8 * 1048576 / 50e9;
  auto run = [&](bool store, const std::string& weff, bool analytical) {
    return run_isolated([&] {
      std::vector<std::string> sets;
      if (!weff.empty()) sets.push_back("memory.dram.write_efficiency=" + weff);
      HwConfig hw = load_hw_config(cfg, sets);
      Program p = streaming_program(hw, 1, 262144, 32, store);
      SimResult s = analytical ? analytical_simulate(hw, p) : simulate(hw, p);
      return nlohmann::json(s.ops[0].end_s - s.ops[0].start_s);
    });
  };
  EXPECT_NEAR(run(false, "0.5", false).get<double>(), T, T * 0.01);
  EXPECT_NEAR(run(true, "", false).get<double>(), T, T * 0.01);
  EXPECT_NEAR(run(true, "0.5", false).get<double>(), 2 * T, T * 0.02);
  EXPECT_NEAR(run(true, "0.5", true).get<double>(), 2 * T, T * 0.02);
}

TEST(Simulation, AWriteAfterAReadPaysTheTurnaround) {
  // The same core and channel copies: each of 32 tiles loads 256 KiB and
  // stores it (T = 8 MiB / 50 GB/s = 167.8 us of reads). With write_efficiency
  // 0.5 and mixed_write_efficiency 0.25 a written byte right after a read holds
  // the channel 4 times as long as a read one. With two loads in flight the
  // channel serves L1 L2 S1 L3 S2 ... L32 S31 S32: 31 stores follow a load, the
  // last follows a store (2x): T + (31 x 4 + 2) T / 32 = 4.9375T. The
  // analytical mode, whose tiles each read and write, takes T + 4T = 5T.
  // Without the key a write after a read costs what any write does: T + 2T. A
  // store stream alone still takes 2T.
  std::string cfg =
      write_temp("hw.yaml", chip("50 GB/s", 1, "1 TB/s", "1 TB/s", "4 MiB", 2, 1, 8, 8));
  const double T = 8 * 1048576 / 50e9;
  auto run = [&](bool copy, bool mixed, bool analytical) {
    return run_isolated([&] {
      std::vector<std::string> sets = {"memory.dram.write_efficiency=0.5"};
      if (mixed) sets.push_back("memory.dram.mixed_write_efficiency=0.25");
      HwConfig hw = load_hw_config(cfg, sets);
      Program p = streaming_program(hw, 1, 262144, 32, true, copy);
      SimResult s = analytical ? analytical_simulate(hw, p) : simulate(hw, p);
      return nlohmann::json(s.ops[0].end_s - s.ops[0].start_s);
    });
  };
  EXPECT_NEAR(run(true, true, false).get<double>(), 4.9375 * T, T * 0.01);
  EXPECT_NEAR(run(true, true, true).get<double>(), 5 * T, T * 0.01);
  EXPECT_NEAR(run(true, false, false).get<double>(), 3 * T, T * 0.01);
  EXPECT_NEAR(run(false, true, false).get<double>(), 2 * T, T * 0.02);
}
