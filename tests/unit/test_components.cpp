// Unit tests per component, with the expected numbers derived by hand.
#include <gtest/gtest.h>

#include "helpers.h"
#include "models/compute_unit.h"
#include "models/dma_engine.h"
#include "sim/config/component_library.h"
#include "sim/config/format.h"
#include "sim/trace/trace.h"

using namespace bc;
using namespace bc::test;

TEST(Format, StorageBitsIncludeGroupScales) {
  std::string err;
  auto f = parse_tensor_format("int4/g128/fp16", &err);
  ASSERT_TRUE(f) << err;
  EXPECT_DOUBLE_EQ(f->bits_per_element(), 4.125);  // 4 + 16/128
  EXPECT_DOUBLE_EQ(f->bytes(4096.0 * 4096), 4096.0 * 4096 * 4.125 / 8);
  EXPECT_DOUBLE_EQ(format("mxfp4").storage_bits, 4.25);  // 4 + 8/32 shared E8M0 scale
  EXPECT_DOUBLE_EQ(format("fp8").storage_bits, 8);
  EXPECT_EQ(format("fp8").name, "fp8_e4m3");
  EXPECT_EQ(format_class(format("ternary")), "int2");
  EXPECT_FALSE(parse_tensor_format("int4/g0", &err));
  EXPECT_FALSE(parse_tensor_format("int88", &err));
  EXPECT_EQ(err, "unknown format \"int88\"; did you mean \"int8\"?");
}

TEST(MacArray, ScaleSimWeightStationaryExample) {
  // REFERENCES.md: M=128, N=1024, K=1024 on a 32x32 WS array:
  // (2*32 + 32 + 128 - 2) x 32 x 32 = 227,328 cycles.
  auto u = make_unit(
      "type: mac_array\nrows: 32\ncols: 32\ndataflow: weight_stationary\n"
      "fold_pipelining: false\nrates: {int8: 1}\n");
  TileCost c = u->matmul({128, 1024, 1024, format("int8"), format("int8")});
  EXPECT_EQ(c.cycles, 227328);
  ASSERT_EQ(c.actions.size(), 1u);
  EXPECT_DOUBLE_EQ(c.actions[0].count, 128.0 * 1024 * 1024);
}

TEST(MacArray, ScaleSimPartialFoldsDrainTheWholeArray) {
  // Issue 9: a fold that maps fewer than R rows or C columns still fills and
  // drains the whole array; SCALE-Sim v2 pads it with idle PEs. Weight-
  // stationary on 32x32, M x K by K x N, pipelining off: S_R = K, S_C = N, T = M,
  // ceil(K/32) x ceil(N/32) folds of 2*R + C + T - 2 = 2*32 + 32 + M - 2 cycles.
  // SCALE-Sim v2 reports the index of the last cycle, counting from zero (one
  // less, as for 227,327 vs 227,328 above; REFERENCES.md).
  auto u = make_unit(
      "type: mac_array\nrows: 32\ncols: 32\ndataflow: weight_stationary\n"
      "fold_pipelining: false\nrates: {int8: 1}\n");
  // 33x33x33: 2 x 2 folds of 64 + 32 + 33 - 2 = 127 cycles = 508 (SCALE-Sim 507).
  // Charging only the used PEs gave 2*33*2 + 33*2 + 4*(33-2) = 322.
  EXPECT_EQ(u->matmul({33, 33, 33, format("int8"), format("int8")}).cycles, 508);
  // 100x100x100: 4 x 4 folds of 64 + 32 + 100 - 2 = 194 cycles = 3,104 (SCALE-Sim 3,103).
  EXPECT_EQ(u->matmul({100, 100, 100, format("int8"), format("int8")}).cycles, 3104);
  // A fold that fits exactly is unchanged: 32x32x32 is one fold of 64 + 32 + 30 = 126.
  EXPECT_EQ(u->matmul({32, 32, 32, format("int8"), format("int8")}).cycles, 126);
}

TEST(MacArray, PipelinedFoldsExposeFillOnce) {
  // Same GEMM, folds pipelined: 32 x 32 folds of max(T=128, S_R=32) = 128 cycles,
  // plus one fill/drain 2*32 + 32 - 2 = 94: 131,072 + 94 = 131,166.
  auto u = make_unit(
      "type: mac_array\nrows: 32\ncols: 32\ndataflow: weight_stationary\nrates: {int8: 1}\n");
  EXPECT_EQ(u->matmul({128, 1024, 1024, format("int8"), format("int8")}).cycles, 131166);
}

TEST(MacArray, ATallerArrayRunsTheFoldsOfAShorterOne) {
  // Weight-stationary, int8 rate 1, a 16 x 512 x 320 tile (T = M = 16 streamed
  // rows, S_R = K = 512 stationary rows, one column block) that completes its
  // output. In folds of 16 rows each fold streams max(16, 16) = 16 cycles while
  // the next one loads, 32 folds 512 cycles, and the last exposes a fill and
  // drain of 2*16 + 320 - 2 = 350: 862 cycles on 320 rows and on 640. Folds of
  // the array's full height would expose 2*320 + 318 after 320 + 192 cycles
  // (1,470), and 2*512 + 318 after 512 on 640 rows (1,854): the taller array
  // slower.
  for (int rows : {320, 640}) {
    auto u = make_unit("type: mac_array\nrows: " + std::to_string(rows) +
                       "\ncols: 320\ndataflow: weight_stationary\nrates: {int8: 1}\n");
    EXPECT_EQ(u->matmul({16, 320, 512, format("int8"), format("int8")}).cycles, 862) << rows;
    // A step that does not complete the tile exposes no fill: the fewest folds,
    // balanced (320 rows: 2 of 256; 640: 1 of 512), stream 512 cycles.
    MatmulTile step{16, 320, 512, format("int8"), format("int8")};
    step.k_last = false;
    EXPECT_EQ(u->matmul(step).cycles, 512) << rows;
  }
  // A stream longer than the folds: T = 400 on 320 rows, K = 512. Two folds
  // stream max(400, 256) = 400 each and expose 2*256 + 318 = 830: 1,630; three
  // would stream 1,200.
  auto u = make_unit(
      "type: mac_array\nrows: 320\ncols: 320\ndataflow: weight_stationary\nrates: {int8: 1}\n");
  EXPECT_EQ(u->matmul({400, 320, 512, format("int8"), format("int8")}).cycles, 1630);
}

TEST(MacArray, FillAndDrainOncePerOutputTile) {
  // Output-stationary 16x16, int8 rate 2, a 32x32 output over K = 512 in two
  // K steps of 256. The first step streams 2x2 folds of max(T=128, 16) = 512
  // cycles and exposes no fill or drain (k_last false); the step that completes
  // the output tile adds 2*16 + 16 - 2 = 46: 512 + 558 = 1,070 cycles, the same
  // as the whole K in one tile (2x2 folds of 256 + 46).
  auto u = make_unit("type: mac_array\nrows: 16\ncols: 16\nrates: {int8: 2}\n");
  MatmulTile first{32, 32, 256, format("int8"), format("int8")};
  first.k_last = false;
  EXPECT_EQ(u->matmul(first).cycles, 512);
  EXPECT_EQ(u->matmul({32, 32, 256, format("int8"), format("int8")}).cycles, 558);
  EXPECT_EQ(u->matmul({32, 32, 512, format("int8"), format("int8")}).cycles, 1070);
  // SCALE-Sim's exact mode (fold_pipelining false) charges every tile in full.
  auto exact =
      make_unit("type: mac_array\nrows: 16\ncols: 16\nrates: {int8: 2}\nfold_pipelining: false\n");
  EXPECT_EQ(exact->matmul(first).cycles, 4 * (2 * 16 + 16 + 128 - 2));
}

TEST(MacArray, AccumulatorsInRegistersLeaveSramToTheOperands) {
  // Output-stationary 16x16, int8 (1 B operands, 4 B partial sums), a 32x32
  // output, K step 256. In SRAM, each K step reads A once per column fold (2 x
  // 32*256), W once per row fold (2 x 256*32) and the 32*32 partial sums, and
  // writes them back: 32,768 + 4,096 read, 4,096 written. In the register file
  // the partial sums never reach SRAM and the folds share fragments: A and W
  // are read once (8,192 + 8,192); only the step that completes the tile writes
  // it (4,096). Cycles do not change.
  auto u = make_unit("type: mac_array\nrows: 16\ncols: 16\nrates: {int8: 1}\n");
  MatmulTile step{32, 32, 256, format("int8"), format("int8")};
  step.k_last = false;
  TileCost sram = u->matmul(step);
  EXPECT_DOUBLE_EQ(sram.sram_read_bytes, 32768 + 4096);
  EXPECT_DOUBLE_EQ(sram.sram_write_bytes, 4096);
  step.acc_in_registers = true;
  TileCost regs = u->matmul(step);
  EXPECT_DOUBLE_EQ(regs.sram_read_bytes, 16384);
  EXPECT_DOUBLE_EQ(regs.sram_write_bytes, 0);
  EXPECT_EQ(regs.cycles, sram.cycles);
  step.k_last = true;
  EXPECT_DOUBLE_EQ(u->matmul(step).sram_write_bytes, 4096);
  // A finished tile kept for the next step (FlashAttention's S) is not written;
  // an A already in the register file (its P) is not read: W alone, 8,192.
  step.out_in_registers = true;
  step.a_in_registers = true;
  EXPECT_DOUBLE_EQ(u->matmul(step).sram_write_bytes, 0);
  EXPECT_DOUBLE_EQ(u->matmul(step).sram_read_bytes, 8192);
}

TEST(MacArray, RatePacksTheReductionDimension) {
  // Output-stationary 16x16, int8 rate 2: K=256 -> T = 128 per fold.
  // M=N=32: 2x2 folds of max(128, 16) + 2*16 + 16 - 2 = 4*128 + 46 = 558.
  auto u = make_unit("type: mac_array\nrows: 16\ncols: 16\nrates: {int8: 2, bf16: 1}\n");
  EXPECT_EQ(u->matmul({32, 32, 256, format("int8"), format("int8")}).cycles, 558);
  // bf16 runs at rate 1: T = 256 -> 4*256 + 46 = 1070.
  EXPECT_EQ(u->matmul({32, 32, 256, format("bf16"), format("bf16")}).cycles, 1070);
  // W4A16 (int4 weights, bf16 activations) runs as bf16.
  EXPECT_EQ(u->matmul({32, 32, 256, format("bf16"), format("int4")}).cycles, 1070);
  // fp8 has no class of its own here: it runs on the narrowest wider float, bf16.
  EXPECT_EQ(u->matmul({32, 32, 256, format("fp8"), format("fp8")}).cycles, 1070);
  auto ints = make_unit("type: mac_array\nrows: 16\ncols: 16\nrates: {int8: 2}\n");
  std::string why;
  EXPECT_FALSE(ints->can_matmul(format("fp8"), format("fp8"), &why));
  EXPECT_EQ(why,
            "no datapath class for fp8_e4m3 x fp8_e4m3 (needs a float class of at least 8 bits; "
            "the unit has int8)");
}

TEST(VectorUnit, CyclesAndActions) {
  // 100 elements x 5 ops = 500 ops over 16 lanes = ceil(31.25) = 32, + latency 8 = 40.
  auto u = make_unit("type: vector_unit\nlanes: 16\nrates: {fp32: 1}\n");
  VectorTile t;
  t.elements = 100;
  t.ops_per_element = 5;
  TileCost c = u->vector(t);
  EXPECT_EQ(c.cycles, 40);
  EXPECT_DOUBLE_EQ(c.actions[0].count, 500);
}

TEST(VectorUnit, SpecialFunctionsPassThroughTheirOwnUnits) {
  // An H100 SM: 128 FP32 lanes and 16 special-function units. A 128 x 128
  // softmax block (16,384 elements, 5 ops each, one exp): the lanes issue
  // 81,920 ops in 640 cycles, the SFUs take 16,384 / 16 = 1,024: 1,024 + 8.
  // silu_mul's exp and reciprocal: 2,048 + 8. Without special_lanes the
  // exp issues on the lanes like any op: 640 + 8. Actions count every op.
  auto u = make_unit("type: vector_unit\nlanes: 128\nrates: {fp32: 1}\nspecial_lanes: 16\n");
  VectorTile t;
  t.elements = 16384;
  t.ops_per_element = find_elementwise_fn("softmax")->ops_per_element;
  t.special_per_element = find_elementwise_fn("softmax")->special_per_element;
  TileCost c = u->vector(t);
  EXPECT_EQ(c.cycles, 1024 + 8);
  EXPECT_DOUBLE_EQ(c.actions[0].count, 81920);
  t.ops_per_element = find_elementwise_fn("silu_mul")->ops_per_element;
  t.special_per_element = find_elementwise_fn("silu_mul")->special_per_element;
  EXPECT_EQ(u->vector(t).cycles, 2048 + 8);
  auto plain = make_unit("type: vector_unit\nlanes: 128\nrates: {fp32: 1}\n");
  t.ops_per_element = 5, t.special_per_element = 1;
  EXPECT_EQ(plain->vector(t).cycles, 640 + 8);
  // Element-wise work with no special function is unchanged.
  t.special_per_element = find_elementwise_fn("rmsnorm")->special_per_element;
  t.ops_per_element = find_elementwise_fn("rmsnorm")->ops_per_element;
  EXPECT_EQ(u->vector(t).cycles, 16384 * 4 / 128 + 8);
}

TEST(Library, ScalesToNode) {
  ComponentLibrary lib = ComponentLibrary::load(library_path());
  // Table points are exact: 45 nm -> 28 nm energy 0.51.
  EXPECT_NEAR(lib.energy_factor(45e-9, 28e-9), 0.51, 1e-12);
  EXPECT_NEAR(lib.area_factor(28e-9, 7e-9), 0.059 / 0.38, 1e-12);
  // fp16 MAC 0.77 pJ at 28 nm -> 7 nm: 0.77 x 0.094 / 0.51.
  const auto& pe = lib.get("mac_pe_fp16");
  EXPECT_NEAR(lib.action_energy(pe, "mac_fp16", 7e-9), 0.77e-12 * 0.094 / 0.51, 1e-20);
  // DRAM energy per bit does not scale with the logic node.
  EXPECT_DOUBLE_EQ(lib.action_energy(lib.get("hbm3"), "read_byte", 28e-9), 32.4e-12);
  // Between points: log-log interpolation, 28 nm..45 nm at 35 nm lies between.
  double f = lib.energy_factor(45e-9, 35e-9);
  EXPECT_GT(f, 0.51);
  EXPECT_LT(f, 1.0);
}

TEST(Library, EveryConstantHasASource) {
  ComponentLibrary lib = ComponentLibrary::load(library_path());
  for (const auto& n : lib.names()) {
    const auto& c = lib.get(n);
    for (const auto& [a, act] : c.actions) EXPECT_FALSE(act.source.empty()) << n << "." << a;
    EXPECT_FALSE(c.area_m2.source.empty()) << n;
    for (const auto& [f, a] : c.area_per_format) EXPECT_FALSE(a.source.empty()) << n << "." << f;
    if (c.router.present) {
      EXPECT_FALSE(c.router.buffer_bit_area.source.empty()) << n;
      if (c.router.has_anchor) {
        for (const Sourced* x : {&c.router.anchor_area, &c.router.anchor_ports,
                                 &c.router.anchor_width_bits, &c.router.anchor_depth}) {
          EXPECT_FALSE(x->source.empty()) << n;
        }
      }
    }
  }
}

TEST(NocMesh, XYRouting) {
  NocMesh noc(4, 4, 1e12, 0);
  // (0,0) -> (2,3): two hops in X, then three in Y.
  const auto& r = noc.route(noc.node(0, 0), noc.node(2, 3));
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0], noc.node(0, 0) * 4 + 0);  // +x
  EXPECT_EQ(r[1], noc.node(1, 0) * 4 + 0);
  EXPECT_EQ(r[2], noc.node(2, 0) * 4 + 2);  // +y
  EXPECT_EQ(noc.perimeter().size(), 12u);
}

TEST(NocMesh, ACrossbarContendsOnlyAtTheCoresPorts) {
  // Three nodes in a row, link 100 GB/s, 1 ns a hop; one DRAM channel at node
  // 0 (1 TB/s, no latency) and two cores at nodes 1 and 2 each loading 100 KB
  // at t = 0 on their own DMA engines (1 TB/s) into fast banks. The channel
  // serves 0.1 us per load, the engines 0.1 us. On a mesh both routes cross
  // link 0 (+x): 1 us for the first, 2 us for the second behind it, plus
  // their routers (2 and 3): 1002 and 2003 ns. On a crossbar each load
  // crosses only its own core's in port: 1 us each, 1002 and 1003 ns (the
  // latency still grows with the distance on the grid).
  for (const bool crossbar : {false, true}) {
    NocMesh noc(3, 1, 100e9, 1000, crossbar);
    MemoryChannels dram(1e12, 0, {0});
    SramBanks sram1(64, 256, 1e9), sram2(64, 256, 1e9);
    DmaEngine dma1(1e12), dma2(1e12);
    std::vector<double> op(kFixedActions, 0), core(kFixedActions, 0);
    CountSink sink{op.data(), core.data()};
    EXPECT_EQ(dma1.transfer(0, 1e5, true, dram, kDramRead, kDramWrite, 1, noc, sram1, sink),
              1002000u);
    EXPECT_EQ(dma2.transfer(0, 1e5, true, dram, kDramRead, kDramWrite, 2, noc, sram2, sink),
              crossbar ? 1003000u : 2003000u);
    // Byte-hops (energy) by the distance on either topology: 1 + 2 links,
    // plus each load's injecting router.
    EXPECT_DOUBLE_EQ(op[kNocByteHop], 1e5 * 2 + 1e5 * 3);
  }
  NocMesh xbar(3, 1, 100e9, 1000, true);
  // Between two cores: the source's out port, then the destination's in port.
  EXPECT_EQ(xbar.route(0, 2), (std::vector<uint32_t>{xbar.port(0, false), xbar.port(2, true)}));
  EXPECT_EQ(xbar.hops(0, 2), 2);
  // A level's fanout on a crossbar: the core's port alone, all the bytes.
  MemoryChannels l2(1e12, 0, {0, 1, 2});
  const Fanout& f = l2.fanout(xbar, 2, true);
  ASSERT_EQ(f.links.size(), 1u);
  EXPECT_EQ(f.links[0].first, xbar.port(2, true));
  EXPECT_DOUBLE_EQ(f.links[0].second, 1.0);
  EXPECT_EQ(f.routers, 3);  // the farthest channel, node 0: two steps + the injecting router
  // A pull of 100 KB shared by two readers from core 0 into core 2: the
  // source's out port carries this reader's half (0.5 us), the in port all of
  // it (1 us), then three routers: 1003 ns.
  SramBanks src(64, 256, 1e9), dst(64, 256, 1e9);
  DmaEngine dma(1e12);
  std::vector<double> op(kFixedActions, 0), core(kFixedActions, 0);
  CountSink sink{op.data(), core.data()};
  EXPECT_EQ(dma.pull(0, 1e5, 2, 0, src, 2, xbar, dst, sink), 1003000u);
  EXPECT_EQ(xbar.link_busy_total(xbar.port(0, false)), 500000u);
  EXPECT_EQ(xbar.link_busy_total(xbar.port(2, true)), 1000000u);
}

TEST(DmaEngine, ResourcesAreWorkConserving) {
  // A 2x1 mesh: both levels attach at node 0, the core sits at node 1, one
  // link (0 -> 1, +x) at 1 TB/s, DMA 1 TB/s, banks 64 x 256 B x 1 GHz = 16 TB/s,
  // hop 1 ns, no access latency. Load A: 1 MB from a 1 GB/s level (1 ms on
  // its channel, 1 us on the link, the engine and 62.5 ns on the banks). Load
  // B, issued at the same time: 1 MB from a 1 TB/s level. The link, the engine
  // and the banks are not held for A's slow channel, so B only queues behind
  // A's own 1 us on them: B done at 1 + 1 = 2 us plus two routers (2 ns),
  // where a pipeline that books each stage until its upstream finishes would
  // hold the link until 1 ms.
  NocMesh noc(2, 1, 1e12, 1000);
  MemoryChannels slow(1e9, 0, {0}), fast(1e12, 0, {0});
  SramBanks sram(64, 256, 1e9);
  DmaEngine dma(1e12);
  std::vector<double> op(kFixedActions, 0), core(kFixedActions, 0);
  CountSink sink{op.data(), core.data()};
  EXPECT_EQ(dma.transfer(0, 1e6, true, slow, kDramRead, kDramWrite, 1, noc, sram, sink),
            1000000000u + 2000u);  // 1 ms on the channel + 2 routers
  EXPECT_EQ(dma.transfer(0, 1e6, true, fast, kSharedRead, kSharedWrite, 1, noc, sram, sink),
            2000000u + 2000u);
  EXPECT_EQ(noc.link_busy_total(0 * 4 + 0), 2000000u);  // 2 us of bytes, not 1 ms held
}

TEST(DmaEngine, AMulticastLoadTakesOnlyItsOwnReadOfTheChannels) {
  // The hand-derived setup below (64 GB/s channel, 100 ns, DMA 128 GB/s, 4 x 64 B
  // banks at 1 GHz, 2 ns router). Two cores of a cluster load the same 64 KiB W
  // tile with one multicast read (core.dma.multicast = 2): each transfer
  // carries 32 KiB of its own read and 32 KiB its peer read. The channel serves
  // 32 KiB per transfer, 512 ns, as fast as the DMA engine moves the whole
  // 64 KiB (512 ns): 512 + 100 + 2 = 614 ns. The second, issued at the same
  // time on its own engine, queues 512 ns behind the first on the channel:
  // 1024 + 100 + 2 = 1126 ns, where two loads without multicast end at 2150 ns.
  NocMesh noc(1, 1, 1e12, 2000);
  MemoryChannels dram(64e9, 100e-9, {0});
  SramBanks sram0(4, 64, 1e9), sram1(4, 64, 1e9);
  DmaEngine dma0(128e9), dma1(128e9);
  std::vector<double> op(kFixedActions, 0), core(kFixedActions, 0);
  CountSink sink{op.data(), core.data()};
  EXPECT_EQ(dma0.transfer(0, 65536, true, dram, kDramRead, kDramWrite, 0, noc, sram0, sink, 32768),
            614000u);
  EXPECT_EQ(dma1.transfer(0, 65536, true, dram, kDramRead, kDramWrite, 0, noc, sram1, sink, 32768),
            1126000u);
  // Every byte reaches each core's banks; the read energy is counted per
  // delivered byte (models/dma_engine.h says why).
  EXPECT_DOUBLE_EQ(op[kSramWrite], 131072);
  EXPECT_DOUBLE_EQ(op[kDramRead], 131072);
  EXPECT_DOUBLE_EQ(ticks_to_seconds(dram.server().busy_total), 1024e-9);
}

TEST(DmaEngine, LoadTimingDerivedByHand) {
  // 1x1 mesh (no links), one DRAM channel at 64 GB/s with 100 ns latency, DMA
  // 128 GB/s, 4 banks x 64 B x 1 GHz, router hop 2 ns. Loading 64 KiB: the
  // channel (the bottleneck) streams 65536 B / 64 GB/s = 1024 ns, the DMA
  // engine 512 ns, the banks 256 ns, all from the request on; then the
  // access latency and one router: 1024 + 100 + 2 = 1126 ns.
  NocMesh noc(1, 1, 1e12, 2000);
  MemoryChannels dram(64e9, 100e-9, {0});
  SramBanks sram(4, 64, 1e9);
  DmaEngine dma(128e9);
  std::vector<double> op(kFixedActions, 0), core(kFixedActions, 0);
  CountSink sink{op.data(), core.data()};
  EXPECT_EQ(dma.transfer(0, 65536, true, dram, kDramRead, kDramWrite, 0, noc, sram, sink),
            1126000u);
  // A second load issued at the same time queues behind the first on the
  // channel (busy until 1024 ns): 1024 + 1024 + 100 + 2 = 2150 ns.
  EXPECT_EQ(dma.transfer(0, 65536, true, dram, kDramRead, kDramWrite, 0, noc, sram, sink),
            2150000u);
  EXPECT_DOUBLE_EQ(op[kDramRead], 131072);
  EXPECT_DOUBLE_EQ(op[kSramWrite], 131072);
  EXPECT_DOUBLE_EQ(op[kNocByteHop], 131072);  // one router each
}
