// The documented limits of every input (README, "Limits"). Each count, size and
// rate is checked against them where it is read, so that a hostile or mistyped
// input is refused with an error naming its limit instead of exhausting memory,
// hanging or wrapping a 64-bit counter. The maxima keep every derived product
// inside 64 bits: the largest product the simulator forms from them is a GEMM's
// m x n x k, formed in a double; two dimensions multiplied in 64-bit
// integers stay below 2^62.
#pragma once

#include <cstdint>

namespace bc::limits {

// Files and YAML.
inline constexpr int64_t kMaxFileBytes = 16 << 20;  // any config, model, recipe, trace or CSV
inline constexpr int kMaxYamlDepth = 64;            // nested maps and lists
inline constexpr int64_t kMaxYamlNodes = 1 << 18;   // nodes after alias expansion
inline constexpr int kMaxIncludeDepth = 16;         // include: chains
inline constexpr size_t kMaxDiagnostics = 50;       // error lines printed per input

// Hardware.
inline constexpr int64_t kMaxCores = 4096;  // noc.mesh.x x noc.mesh.y
// Cores simulated at once: a system simulates one chip per pipeline stage.
inline constexpr int64_t kMaxSimulatedCores = 16384;

// Models (a model .yaml or a Hugging Face config.json).
inline constexpr int64_t kMaxLayers = 1024;
inline constexpr int64_t kMaxHeads = 4096;      // heads and kv_heads
inline constexpr int64_t kMaxDim = 1 << 18;     // hidden, ffn, head_dim
inline constexpr int64_t kMaxQkvDim = 1 << 20;  // (heads + 2 kv_heads) x head_dim
inline constexpr int64_t kMaxVocab = 1 << 24;   // vocab
inline constexpr int64_t kMaxExperts = 1024;    // experts per layer
inline constexpr int64_t kMaxTokens = 1 << 24;  // seq, context, sliding window, positions

// Workloads (command line, reference CSV rows).
inline constexpr int64_t kMaxBatch = 1 << 20;
// batch x (context + seq): the KV-cache entries of one step, and a bound on
// the tokens of a step (2^31), so tokens x a model dimension fits in 64 bits.
inline constexpr int64_t kMaxBatchTokens = int64_t{1} << 31;

// Traces.
inline constexpr int64_t kMaxOps = 1 << 14;                // ops in a trace (read or generated)
inline constexpr int64_t kMaxOpDim = int64_t{1} << 31;     // gemm m, n, k; two of them fit 64 bits
inline constexpr double kMaxOpMacs = 1e24;                 // m x n x k of one GEMM (about 2^80)
inline constexpr int64_t kMaxElements = int64_t{1} << 60;  // element-wise and collective elements

// Tiles of one op on one chip (the mapper's emitters and the engine walk each):
// an op that needs more is refused rather than left to run for hours.
inline constexpr double kMaxTiles = 1 << 26;

// Runs one sweep spec expands to (configs x parameter combinations x workloads).
inline constexpr int64_t kMaxSweepRuns = 1000000;

// Bytes a run can move (--bytes; a model's weights): 1 PB.
inline constexpr double kMaxBytes = 1e15;

// Quantities in a hardware config, by dimension (SI units). A value outside
// them is a typo or a unit slip, not a design point (1e-300 B/s of DRAM
// bandwidth, 1e300 GHz).
inline constexpr double kMinFrequencyHz = 1e3, kMaxFrequencyHz = 1e12;
inline constexpr double kMinBandwidthBps = 1e3, kMaxBandwidthBps = 1e18;
inline constexpr double kMaxSizeBytes = 1e15;
inline constexpr double kMaxTimeS = 1e3;   // latencies and gaps
inline constexpr double kMaxPowerW = 1e6;  // board power, power limit, leakage (a wafer-scale
                                           // system draws about 25 kW)
inline constexpr double kMaxCycles = 1e9;  // cycle counts of a unit (fill, setup, ...)
// The component library: energy per action (an HBM byte costs about 1e-10 J),
// area per instance (a whole wafer is 0.07 m2), technology nodes, and the
// scaling table's factors. Past them a report printed inf or a 300-digit area.
inline constexpr double kMaxActionEnergyJ = 1.0;
inline constexpr double kMaxAreaM2 = 1.0;
inline constexpr double kMinNodeM = 1e-10, kMaxNodeM = 1e-5;  // 0.1 nm to 10 um
inline constexpr double kMaxScaleFactor = 1e6;
inline constexpr double kMaxRate = 1e6;  // a unit's operations per lane (PE) per cycle

// Simulated time is in picoseconds in 64 bits; a run whose time reaches this
// (2^62 ps, about 53 days) is refused rather than wrapped. Durations saturate
// at it, so sums of a few of them cannot wrap either.
inline constexpr uint64_t kMaxTicks = uint64_t{1} << 62;

}  // namespace bc::limits
