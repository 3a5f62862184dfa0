// LUT tensor cores and bit-serial PEs against their published mechanisms.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "helpers.h"
#include "sim/cli/isolate.h"
#include "sim/engine/engine.h"
#include "sim/mapping/mapper.h"
#include "sim/report/report.h"
#include "workloads/generator.h"

using namespace bc;
using namespace bc::test;

namespace {

const char* kLut =
    "type: lut_tensor_core\narrays: 4\ntile: {m: 2, n: 64, k: 4}\nactivations: {int8: 1, fp16: 1}\n"
    "precompute: dedicated\nprecompute_lanes: 64\n";

Format int_w(int bits) { return format("int" + std::to_string(bits)); }

// Energy of one tile's actions on a unit, from the library at `node`.
double tile_energy(const ComputeUnit& u, const TileCost& c, const ComponentLibrary& lib,
                   double node) {
  double e = 0;
  for (const auto& a : c.actions) {
    auto src = u.action_source(a.action);
    e += a.count * lib.action_energy(lib.get(src.component), src.action, node) * src.multiplier;
  }
  return e;
}

// A one-core chip with bandwidth far above need, so GEMMs are compute-bound.
// A trace of one GEMM op.
Trace gemm_trace(const std::string& name, int64_t m, int64_t n, int64_t k, const TensorFormat& a,
                 const TensorFormat& w, const TensorFormat& o) {
  Trace t;
  Op op;
  op.name = name;
  op.kind = OpKind::Gemm;
  op.m = m, op.n = n, op.k = k;
  op.a = a, op.w = w, op.o = o;
  t.ops.push_back(op);
  return t;
}

// The report of `t` run on config file `cfg` (with `sets`), in a child process.
nlohmann::json report_isolated(const std::string& cfg, const Trace& t,
                               const std::vector<std::string>& sets = {}) {
  return run_isolated([&] {
    HwConfig hw = load_hw_config(cfg, sets);
    Program p = map_trace(t, hw);
    SimResult s = simulate(hw, p);
    return build_report(hw, t, p, s);
  });
}

std::string compute_bound_chip(const std::string& unit_yaml) {
  return "name: t\nlibrary: " + library_path() +
         "\nnode: 28 nm\nfrequency: 1 GHz\nnoc: {mesh: {x: 1, y: 1}, link_bandwidth: 1000 TB/s}\n"
         "core:\n  sram: {size: 16 MiB, banks: 64, bank_width: 1 KiB}\n  dma: {bandwidth: 1000 "
         "TB/s}\n"
         "  units:\n    mm: " +
         unit_yaml +
         "\n    vec: {type: vector_unit, lanes: 64, rates: {fp32: 1, bf16: 2}}\n"
         "memory:\n  dram: {channels: 4, bandwidth: 1000 TB/s, latency: 10 ns}\n";
}

// The matmul unit's busy cycles for a GEMM (compute minus table precompute) on
// the op's critical core, simulated in a child process.
double gemm_unit_cycles(const std::string& cfg, int64_t m, int64_t n, int64_t k,
                        const TensorFormat& a, const TensorFormat& w) {
  nlohmann::json r = run_isolated([&] {
    HwConfig hw = load_hw_config(cfg);
    const Trace t = gemm_trace("gemm", m, n, k, a, w, a);
    Program p = map_trace(t, hw);
    SimResult s = simulate(hw, p);
    return nlohmann::json{{"cycles", s.ops[0].compute_cycles - s.ops[0].precompute_cycles}};
  });
  if (r.contains("error")) ADD_FAILURE() << r["error"];
  return r.value("cycles", 0.0);
}

TensorFormat tf(const std::string& s) {
  std::string err;
  return *parse_tensor_format(s, &err);
}

}  // namespace

TEST(BitSerial, CyclesFollowSerialBits) {
  // Without Booth, one weight bit per cycle: a 16x16 DP4 array over a fold of
  // K = 8192 takes 8192/4 x bits cycles (+ latency 4).
  auto u = make_unit(
      "type: bit_serial_array\nrows: 16\ncols: 16\nbooth: false\nbits_per_cycle: 1\n"
      "activations: {int8: 1}\n");
  for (int b = 1; b <= 8; ++b)
    EXPECT_EQ(u->matmul({16, 16, 8192, format("int8"), int_w(b)}).cycles, 2048 * b + 4) << b;
  // Two bits per cycle: ceil(bits / 2) steps.
  auto u2 = make_unit(
      "type: bit_serial_array\nrows: 16\ncols: 16\nbooth: false\nbits_per_cycle: 2\n"
      "activations: {int8: 1}\n");
  EXPECT_EQ(u2->matmul({16, 16, 8192, format("int8"), int_w(5)}).cycles, 2048 * 3 + 4);
}

TEST(BitSerial, BoothTermsSetTheSteps) {
  // BitMoD: int8 -> 4 terms, int6 -> 3, fp4 -> 2, int2 -> 1, one term per cycle.
  auto u = make_unit("type: bit_serial_array\nrows: 16\ncols: 16\nactivations: {fp16: 1}\n");
  struct Case {
    const char* w;
    int terms;
  } cases[] = {{"int8", 4}, {"int6", 3}, {"fp4", 2}, {"int4", 2}, {"int2", 1}, {"ternary", 1}};
  for (const auto& c : cases)
    EXPECT_EQ(u->matmul({16, 16, 8192, format("fp16"), format(c.w)}).cycles, 2048 * c.terms + 4)
        << c.w;
  // Two terms per cycle: ceil(terms / 2).
  auto u2 = make_unit(
      "type: bit_serial_array\nrows: 16\ncols: 16\nterms_per_cycle: 2\nactivations: {fp16: 1}\n");
  EXPECT_EQ(u2->matmul({16, 16, 8192, format("fp16"), format("int6")}).cycles, 2048 * 2 + 4);
}

TEST(BitSerial, EngineCyclesProportionalToSerialSteps) {
  // The whole path (mapper tiling, engine) keeps cycles proportional to the
  // Booth terms within 1 % on a compute-bound GEMM.
  std::string cfg =
      write_temp("hw.yaml", compute_bound_chip("{type: bit_serial_array, rows: 16, cols: 16, "
                                               "activations: {int8: 1}}"));
  double c2 = gemm_unit_cycles(cfg, 256, 1024, 4096, tf("int8"), tf("int2"));  // 1 term
  for (int b : {4, 6, 8})
    EXPECT_NEAR(
        gemm_unit_cycles(cfg, 256, 1024, 4096, tf("int8"),
                         int_w(b) == format("int8") ? tf("int8") : tf("int" + std::to_string(b))) /
            c2,
        std::ceil(b / 2.0), 0.01 * std::ceil(b / 2.0))
        << b;
}

TEST(BitSerial, GroupDequantHiddenOrExposed) {
  // Groups of 128, dequantized in 8 cycles. DP4: a group's compute is 128/4 x 2
  // terms (int4) = 64 cycles >= 8: hidden. DP64: 128/64 x 2 = 4 < 8: 4 cycles
  // exposed per group, 8192/128 = 64 groups: 16 x 16 x 8192 takes
  // 8192/64 x 2 + 64 x 4 + 4 = 516 cycles.
  auto dp4 = make_unit("type: bit_serial_array\nrows: 16\ncols: 16\nactivations: {fp16: 1}\n");
  MatmulTile t{16, 16, 8192, format("fp16"), format("int4")};
  t.w_group = 128;
  EXPECT_EQ(dp4->matmul(t).cycles, 2048 * 2 + 4);
  auto dp64 =
      make_unit("type: bit_serial_array\nrows: 16\ncols: 16\ndp: 64\nactivations: {fp16: 1}\n");
  EXPECT_EQ(dp64->matmul(t).cycles, 516);
}

TEST(Lut, CyclesFollowWeightBitPlanes) {
  // 4 arrays of M2 N64 K4: a 256 x 1024 x 4096 GEMM is 128 x 16 x 1024 LUT-MMAs
  // per bit-plane, / 4 arrays = 524,288 cycles per plane (+ latency 4).
  auto u = make_unit(kLut);
  for (int b = 1; b <= 8; ++b)
    EXPECT_EQ(u->matmul({256, 1024, 4096, format("int8"), int_w(b)}).cycles, 524288 * b + 4) << b;
  EXPECT_EQ(u->matmul({256, 1024, 4096, format("int8"), format("ternary")}).cycles, 524288 * 2 + 4);
}

TEST(Lut, ArraysTakeAnyTileOfEnoughLutMmas) {
  // The arrays are independent: a tile runs at full rate once it holds a multiple
  // of `arrays` LUT-MMAs, whatever its shape, so the tiler's alignment is one
  // array's M2 N64 K4 tile, not the arrays side by side along N (64 x 16 = 1,024
  // columns). The paper's own kernels use warp tiles of 64 x 256 (LUT Tensor
  // Core, ISCA 2025, Sec. 4.3).
  std::string yaml = kLut;
  yaml.replace(yaml.find("arrays: 4"), 9, "arrays: 16");
  auto u = make_unit(yaml);
  TileAlign al = u->align(format("int8"), int_w(2));
  EXPECT_EQ(al.m, 2);
  EXPECT_EQ(al.n, 64);
  EXPECT_EQ(al.k, 4);
  // 64 x 256 x 4 at int2: 32 x 4 x 1 x 2 planes = 256 LUT-MMAs / 16 arrays = 16
  // cycles (+ latency 4); 2 x 4096 x 4: 1 x 64 x 1 x 2 = 128 / 16 = 8 (+ 4); the
  // same 512 MACs per array per plane-cycle either way.
  EXPECT_EQ(u->matmul({64, 256, 4, format("int8"), int_w(2)}).cycles, 16 + 4);
  EXPECT_EQ(u->matmul({2, 4096, 4, format("int8"), int_w(2)}).cycles, 8 + 4);
}

TEST(Lut, PartialSumsInRegistersAreWrittenOncePerTile) {
  // A 64 x 256 output, K step 64 (int8 activations, int2 weights): in SRAM the
  // int32 partial sums are written every K step, 64 x 256 x 4 = 65,536 B; with
  // core.registers (acc_in_registers) only the step that completes the tile
  // writes them. Reads (weight planes, tables) and cycles do not change.
  auto u = make_unit(kLut);
  MatmulTile step{64, 256, 64, format("int8"), int_w(2)};
  step.k_last = false;
  TileCost sram = u->matmul(step);
  EXPECT_DOUBLE_EQ(sram.sram_write_bytes, 65536);
  step.acc_in_registers = true;
  TileCost regs = u->matmul(step);
  EXPECT_DOUBLE_EQ(regs.sram_write_bytes, 0);
  EXPECT_DOUBLE_EQ(regs.sram_read_bytes, sram.sram_read_bytes);
  EXPECT_EQ(regs.cycles, sram.cycles);
  step.k_last = true;
  EXPECT_DOUBLE_EQ(u->matmul(step).sram_write_bytes, 65536);
}

TEST(Lut, EngineCyclesProportionalToBitPlanes) {
  std::string cfg =
      write_temp("hw.yaml", compute_bound_chip("{type: lut_tensor_core, arrays: 4, activations: "
                                               "{int8: 1}, precompute: dedicated}"));
  double c1 = gemm_unit_cycles(cfg, 256, 1024, 4096, tf("int8"), tf("int1"));
  for (int b = 2; b <= 8; ++b)
    EXPECT_NEAR(
        gemm_unit_cycles(cfg, 256, 1024, 4096, tf("int8"), tf("int" + std::to_string(b))) / c1, b,
        0.01 * b)
        << b;
}

TEST(Lut, SymmetrizationHalvesTableStorageAndBuildWork) {
  auto sym = make_unit(kLut);
  auto plain = make_unit(std::string(kLut) + "symmetric: false\n");
  // Groups of K=4: 2^4 = 16 entries, 8 when symmetric; int8 entries.
  EXPECT_EQ(sym->precompute_work(64, 4096, format("int8")).elements, 64 * 1024 * 8);
  EXPECT_EQ(plain->precompute_work(64, 4096, format("int8")).elements, 64 * 1024 * 16);
  EXPECT_DOUBLE_EQ(sym->table_bytes_per_activation(format("int8")), 2.0);    // 8 x 1 B / 4
  EXPECT_DOUBLE_EQ(plain->table_bytes_per_activation(format("int8")), 4.0);  // 16 x 1 B / 4
  auto count = [](const TileCost& c) { return c.actions[0].count; };
  EXPECT_DOUBLE_EQ(count(plain->precompute_cost(64, 4096, format("int8"))),
                   2 * count(sym->precompute_cost(64, 4096, format("int8"))));
}

TEST(Lut, FusionRemovesThePrecomputeLatency) {
  // rmsnorm -> GEMM on one LUT core whose tables are built by the vector unit.
  // Unfused, the tables are an op of their own between the two (activations read,
  // tables built and written, then read by the GEMM: added latency); fused, the
  // norm builds them in its own pass and writes tables instead of activations.
  std::string base = compute_bound_chip(
      "{type: lut_tensor_core, arrays: 4, activations: {int8: 1}, precompute: vec, "
      "precompute_fused: false}");
  std::string cfg = write_temp("hw.yaml", base);
  Trace t;
  Op norm;
  norm.name = "norm";
  norm.kind = OpKind::Elementwise;
  norm.fn = "rmsnorm";
  norm.elements = 64 * 4096;
  t.ops.push_back(norm);
  Op g;
  g.id = 1;
  g.name = "gemm";
  g.kind = OpKind::Gemm;
  g.m = 64, g.n = 4096, g.k = 4096;
  g.w = tf("int2");
  g.deps = {0};
  t.ops.push_back(g);
  auto run = [&](bool fused) {
    return report_isolated(
        cfg, t, {std::string("core.units.mm.precompute_fused=") + (fused ? "true" : "false")});
  };
  auto unfused = run(false), fused = run(true);
  ASSERT_EQ(unfused["ops"].size(), 3u);
  ASSERT_EQ(fused["ops"].size(), 2u);
  EXPECT_EQ(unfused["ops"][1]["name"], "gemm.tables");
  EXPECT_GT(unfused["ops"][1]["precompute_cycles"].get<double>(), 0);
  EXPECT_EQ(fused["ops"][0]["name"], "norm");
  EXPECT_GT(fused["ops"][0]["precompute_cycles"].get<double>(), 0);
  EXPECT_NE(fused["ops"][0]["mapping"].get<std::string>().find("builds the LUT tables"),
            std::string::npos);
  EXPECT_LT(fused["latency_s"].get<double>(), unfused["latency_s"].get<double>());
  // The report gives precompute's share of latency either way; unfused it is larger.
  EXPECT_GT(fused["precompute_share"].get<double>(), 0);
  EXPECT_GT(unfused["precompute_share"].get<double>(), fused["precompute_share"].get<double>());
}

TEST(Lut, BeatsInt8MacAtLowBitsAndLosesAboveFour) {
  // Unit level at 28 nm on a large compute-bound GEMM: energy per MAC (lookups,
  // accumulates and table builds / MACs) and MACs per cycle per mm2 of the unit.
  ComponentLibrary lib = ComponentLibrary::load(library_path());
  const double node = 28e-9;
  auto lut = make_unit(
      "type: lut_tensor_core\narrays: 8\nactivations: {int8: 1}\nprecompute: dedicated\n");
  auto unpu = make_unit(
      "type: lut_tensor_core\narrays: 8\nactivations: {int8: 1}\nprecompute: dedicated\n"
      "symmetric: false\narray: lut_array_unpu\n");
  auto mac = make_unit("type: mac_array\nrows: 16\ncols: 16\nrates: {int8: 1}\npe: mac_pe_int8\n");
  const int64_t M = 256, N = 1024, K = 4096;
  const double macs = double(M) * N * K;
  auto lut_metrics = [&](const ComputeUnit& u, int bits) {
    MatmulTile t{M, N, K, format("int8"), int_w(bits)};
    TileCost c = u.matmul(t), p = u.precompute_cost(M, K, format("int8"));
    double e = (tile_energy(u, c, lib, node) + tile_energy(u, p, lib, node)) / macs;
    double per_mm2 = macs / double(c.cycles) / (u.area_m2(lib, node) * 1e6);
    return std::pair{e, per_mm2};
  };
  TileCost mc = mac->matmul({M, N, K, format("int8"), format("int8")});
  double mac_e = tile_energy(*mac, mc, lib, node) / macs;
  double mac_t = macs / double(mc.cycles) / (mac->area_m2(lib, node) * 1e6);
  // Hand check of the baseline: Bit Fusion 0.298 pJ at 45 nm x 0.51 = 0.152 pJ per MAC.
  EXPECT_NEAR(mac_e, 0.298e-12 * 0.51, 1e-16);
  for (int b : {1, 2}) {
    auto [e, t] = lut_metrics(*lut, b);
    EXPECT_LT(e, mac_e) << b;
    EXPECT_GT(t, mac_t) << b;
  }
  // 4 bits: 4/4 lookups of 0.1267 pJ per MAC = 0.127 pJ, still below 0.152;
  // 5 bits and up: 0.158 pJ and more, above the int8 MAC.
  EXPECT_LT(lut_metrics(*lut, 4).first, mac_e);
  for (int b = 5; b <= 8; ++b) EXPECT_GT(lut_metrics(*lut, b).first, mac_e) << b;
  // The conventional (UNPU-style, unsymmetrized) LUT crosses over earlier: it
  // already loses at 4 bits (4/4 x 0.183 pJ).
  EXPECT_GT(lut_metrics(*unpu, 4).first, mac_e);
  EXPECT_LT(lut_metrics(*unpu, 2).first, mac_e);
}

TEST(Fallback, UnsupportedFormatIsAnErrorUnlessAFallbackConverts) {
  std::string unit =
      "{type: lut_tensor_core, arrays: 4, activations: {int8: 1}, precompute: dedicated}";
  std::string cfg = write_temp("hw.yaml", compute_bound_chip(unit));
  const Trace t = gemm_trace("proj", 16, 256, 256, tf("fp8"), tf("int4"), tf("int8"));
  HwConfig hw = load_hw_config(cfg);
  try {
    map_trace(t, hw);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        cfg +
            ":9:3: error: core.units: op proj (gemm): no unit of the core executes fp8_e4m3 x "
            "int4 "
            "matrix products (mm: "
            "no datapath class for fp8_e4m3 x fp8_e4m3 (needs a float class of at least 8 bits; "
            "the unit has "
            "int8); vec: a vector_unit unit does not execute matrix multiplications) (add a rate "
            "for this "
            "class to a unit, name a fallback vector unit, or use another --quant recipe)");
  }
  // With a fallback, the vector unit quantizes the fp8 activations to int8 first; its work is
  // counted.
  std::string cfg2 = write_temp(
      "hw2.yaml", compute_bound_chip(unit.substr(0, unit.size() - 1) + ", fallback: vec}"));
  nlohmann::json r = report_isolated(cfg2, t);
  ASSERT_FALSE(r.contains("error")) << r["error"];
  EXPECT_NE(r["ops"][0]["mapping"].get<std::string>().find("vec converts fp8_e4m3->int8"),
            std::string::npos)
      << r["ops"][0]["mapping"];
  double vec_ops = 0;
  for (const auto& a : r["actions"])
    if (a["component"] == "vec") vec_ops += a["count"].get<double>();
  // 16 x 256 activations, scale and round: 2 ops each (A is loaded once per m-tile).
  EXPECT_GE(vec_ops, 16.0 * 256 * 2);
}

TEST(Fallback, AnExactFormatsArrayWidensNarrowerWeightsOnItsFallback) {
  // An int8 array runs int8 x int2 in its int8 class. As it is, the int2
  // weights go straight in; with exact_formats (a GPU's tensor cores) the vec
  // fallback widens them first. One core, m = 16 (one M tile): each of the
  // 256 x 256 weights is widened once, 2 ops each = 131,072 vector ops, and
  // the array still does 16 x 256 x 256 int8 MACs.
  const Trace t = gemm_trace("proj", 16, 256, 256, tf("int8"), tf("int2"), tf("int8"));
  for (const bool exact : {false, true}) {
    std::string cfg = write_temp(
        "hw.yaml", compute_bound_chip(std::string("{type: mac_array, rows: 16, cols: 16, rates: "
                                                  "{int8: 1}, fallback: vec, exact_formats: ") +
                                      (exact ? "true" : "false") + "}"));
    nlohmann::json r = report_isolated(cfg, t);
    ASSERT_FALSE(r.contains("error")) << r["error"];
    double vec_ops = 0, macs = 0;
    for (const auto& a : r["actions"]) {
      if (a["component"] == "vec") vec_ops += a["count"].get<double>();
      if (a["action"] == "mac_int8") macs += a["count"].get<double>();
    }
    EXPECT_DOUBLE_EQ(vec_ops, exact ? 256.0 * 256 * 2 : 0) << exact;
    EXPECT_DOUBLE_EQ(macs, 16.0 * 256 * 256) << exact;
    EXPECT_EQ(r["ops"][0]["mapping"].get<std::string>().find("vec converts int2->int8") !=
                  std::string::npos,
              exact)
        << r["ops"][0]["mapping"];
  }
  // Widening needs a unit to do it.
  const std::vector<std::string> errs =
      config_errors(compute_bound_chip("{type: mac_array, rows: 16, cols: 16, rates: {int8: 1}, "
                                       "exact_formats: true}"),
                    {});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("core.units.mm.exact_formats: an array that takes only its classes' "
                         "formats needs a fallback"),
            std::string::npos)
      << errs[0];
}

TEST(Fallback, AttentionOnInt8OnlyLutTablesRunsSevenStepsPerBlock) {
  // Issue 9: a LUT unit whose tables hold int8 only (lut-tc-28nm.yaml without its
  // fp16 tables) under w4a16-g128 (bf16 activations and KV cache). Attention runs
  // on the LUT unit through the vec fallback, and the first KV block of a work
  // item takes 7 steps: convert K and V to int8, convert Q to int8, build Q's
  // tables, S = Q K^T, softmax, build P's tables, O += P V. Later blocks of the
  // item reuse Q and its tables: 5 steps. Tile::steps held 6, so the seventh
  // step was written past the array.
  const std::string cfg = project_root() + "/configs/hw/lut-tc-28nm.yaml";
  const std::string drop_fp16 = "core.units.lut.activations={fp16: null}";
  HwConfig hw = load_hw_config(cfg, {drop_fp16});
  int lut = -1, vec = -1;
  for (size_t i = 0; i < hw.units.size(); ++i)
    (hw.units[i].name == "lut" ? lut : vec) = static_cast<int>(i);
  ASSERT_EQ(hw.units.size(), 2u);
  WorkloadSpec w;
  w.context = 512;
  Trace t = generate_trace(load_model("llama-3.1-8b"), load_quant("w4a16-g128"), w);
  Program p = map_trace(t, hw);
  const std::vector<std::pair<int, int>> first_block = {{vec, kStepConvert},     // K and V to int8
                                                        {vec, kStepConvert},     // Q to int8
                                                        {vec, kStepPrecompute},  // Q's tables
                                                        {lut, kStepCompute},     // S = Q K^T
                                                        {vec, kStepCompute},     // softmax
                                                        {vec, kStepPrecompute},  // P's tables
                                                        {lut, kStepCompute}};    // O += P V
  const std::vector<std::pair<int, int>> later_block = {{vec, kStepConvert},
                                                        {lut, kStepCompute},
                                                        {vec, kStepCompute},
                                                        {vec, kStepPrecompute},
                                                        {lut, kStepCompute}};
  std::set<uint32_t> seven_step_ops;  // attention ops with a 7-step tile
  for (const auto& core : p.cores)
    for (const CoreOp& co : core) {
      if (p.ops[co.op].kind != OpKind::Attention) continue;
      for (const Tile& tile : co.tiles) {
        std::vector<std::pair<int, int>> steps;
        for (int s = 0; s < tile.nsteps; ++s)
          steps.emplace_back(tile.steps[s].unit, tile.steps[s].tag);
        if (steps == first_block)
          seven_step_ops.insert(co.op);
        else if (steps != later_block)
          ADD_FAILURE() << p.ops[co.op].name << ": a tile of " << int(tile.nsteps) << " steps";
      }
    }
  EXPECT_EQ(seven_step_ops.size(), 32u);  // every layer's attention
  // And the whole run goes through, as `bitcycle run` does it.
  int code = -1;
  nlohmann::json r =
      run_json(cfg + " --quant w4a16-g128 --context 512 --set '" + drop_fp16 + "'", &code);
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(r.is_object());
  EXPECT_GT(r["latency_s"].get<double>(), 0);
}
