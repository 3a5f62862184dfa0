// The mapper's output and the engine's input: per-core lists of tile tasks.
// A tile loads its operands into the core's SRAM (double-buffered), runs up to
// kMaxTileSteps compute steps on the core's units, and stores its results.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/compute_unit.h"
#include "sim/config/memory_tiers.h"
#include "sim/trace/trace.h"

namespace bc {

// Where a tensor lives between ops. kStream: in the SRAM of the core group that
// produced it (spatial dataflow); a consumer pulls it over the NoC, and the
// producer keeps it only until its consumers have used it (back-pressure).

enum StepTag : uint8_t {
  kStepCompute = 0,     // the op's own work
  kStepPrecompute = 1,  // LUT table building
  kStepConvert = 2,     // a fallback's format conversion
};

struct ComputeStep {
  uint16_t unit = 0;  // index into the core's units (HwConfig::units, build_units)
  uint32_t cost = 0;  // index into Program::costs
  uint8_t tag = kStepCompute;
};

// The most compute steps the mapper's emitters put in one tile (sim/mapping/:
// gemm.cpp, elementwise.cpp, attention.cpp), the largest of: a GEMM tile 4
// (convert A, convert W, build A's LUT tables, matmul); an element-wise tile 2
// (the op, a fused table build); an attention KV block 7 (convert K and V,
// convert Q, build Q's tables, S = Q K^T, softmax, build P's tables, O += P V:
// a LUT unit with a fallback, e.g. int8-only tables under bf16 activations).
// Tile::add_step refuses one more, so an emitter that outgrows this stops with
// an internal error instead of writing past `steps`.
inline constexpr int kMaxTileSteps = 7;

struct Tile {
  std::array<double, kLevels> load_bytes{};   // into SRAM, from each level
  std::array<double, kLevels> store_bytes{};  // out of SRAM, to each level
  // Of load_bytes[multicast_level], what another core of this one's cluster
  // reads from that level for both (core.dma.multicast): delivered over the
  // network to this core's DMA engine and SRAM, taking no channel time of the
  // level (its read energy is still counted per delivered byte:
  // models/dma_engine.h). One level at most (a GEMM's W tile), so one figure:
  // a tile list holds millions of tiles.
  double multicast_bytes = 0;
  uint8_t multicast_level = 0;
  uint8_t nsteps = 0;
  std::array<ComputeStep, kMaxTileSteps> steps{};
  uint32_t repeat = 1;  // run-length: this tile, this many times in a row
  // Row streaming (dataflow): the tile loads only once every streamed input has
  // its first rows_need rows (token rows), and after it this core has finished
  // every output row below rows_done (the start of its next unfinished row).
  uint32_t rows_need = 0, rows_done = 0;
  // The tile's loads wait until the store of the tile this many before it on
  // its core has completed (0: they do not): its buffer holds that tile's
  // output until the store has read it out (attention's O staged in the V
  // buffers, sim/mapping/attention.cpp).
  uint8_t after_store = 0;
  // The tile's loads wait until the tile this many before it has retired (0:
  // they do not): its buffer is one that tile still reads (attention's Q,
  // single-buffered where O is staged in the V buffers).
  uint8_t after_retire = 0;

  // Bytes of level l's load that a cluster peer reads for this core.
  double multicast(int l) const { return l == multicast_level ? multicast_bytes : 0; }

  void add_step(const ComputeStep& s) {
    if (nsteps >= kMaxTileSteps)  // checked in every build: a Release build has no assert
      throw std::logic_error("a tile needs more than " + std::to_string(kMaxTileSteps) +
                             " compute steps (raise kMaxTileSteps in sim/mapping/program.h)");
    steps[nsteps++] = s;
  }

  bool same_work(const Tile& o) const {
    if (nsteps != o.nsteps || load_bytes != o.load_bytes || store_bytes != o.store_bytes ||
        multicast_bytes != o.multicast_bytes || multicast_level != o.multicast_level ||
        rows_need != o.rows_need || rows_done != o.rows_done || after_store != o.after_store ||
        after_retire != o.after_retire)
      return false;
    for (int i = 0; i < nsteps; ++i)
      if (steps[i].unit != o.steps[i].unit || steps[i].cost != o.steps[i].cost ||
          steps[i].tag != o.steps[i].tag)
        return false;
    return true;
  }
};

struct CoreOp {
  uint32_t op = 0;  // index into Program::ops
  std::vector<Tile> tiles;
  void push(const Tile& t) {
    if (!tiles.empty() && tiles.back().same_work(t))
      tiles.back().repeat += t.repeat;
    else
      tiles.push_back(t);
  }
};

struct OpPlan {
  std::string name;
  OpKind kind = OpKind::Gemm;
  std::vector<int> deps;  // indices into Program::ops
  std::string units;      // units used, e.g. "mac" or "mac+vec"
  std::string mapping;    // human-readable: grid, tile, loop order
  double flops = 0;
  double est_cycles = 0;  // mapper's estimate (its search objective; sim/mapping/cost_model.h)
  std::string est_bound;  // the resource that binds the estimate
  Level out_level = kDram;
  bool table_precompute = false;  // a LUT table-precompute op the mapper added
  // Collectives (chip-to-chip): allreduce | allgather | send, over the "tensor"
  // or "pipeline" group, of a tensor of collective_bytes.
  std::string collective, group;
  double collective_bytes = 0;
  // Tile loads in flight on the op's cores (0: core.dma.stages). The mapper
  // may take fewer than the chip allows, where their buffers would shrink
  // the op's tiles more than the extra loads in flight gain (a chip with more
  // DMA stages is never slower for having them).
  int64_t stages = 0;
  // Loads in flight on a chip of `chip_stages` (core.dma.stages).
  int64_t stages_on(int64_t chip_stages) const {
    return stages > 0 ? std::min(stages, chip_stages) : chip_stages;
  }
  int chip = 0;        // which simulated chip (pipeline stage) runs the op
  int microbatch = 0;  // pipeline microbatch (and iteration) it belongs to
  // Spatial dataflow: the op runs on cores [core_base, core_base + core_count)
  // of its chip (count 0: the whole chip, kernel-by-kernel). Its `rows` token
  // rows stream: it waits for rows of the ops in stream_in (a subset of deps)
  // instead of their completion, pulls kStream inputs from stream_src's cores,
  // and may run at most buffer_rows ahead of the ops in stream_out.
  int core_base = 0, core_count = 0;
  int64_t rows = 0, buffer_rows = 0;
  std::vector<int> stream_in, stream_out;
  int stream_src = -1;
  double stream_readers = 1;  // cores of the op that receive each streamed row block
};

struct Program {
  std::vector<OpPlan> ops;
  // cores[c] in program order; a system program holds the cores of every
  // simulated chip, chip k's at [k x cores per chip, (k + 1) x cores per chip).
  std::vector<std::vector<CoreOp>> cores;
  int chips = 1;  // simulated chips (one per pipeline stage; see sim/mapping/system.h)
  std::vector<TileCost> costs;
  std::vector<uint16_t> cost_unit;  // unit of each cost entry
  std::string weight_placement;     // local_sram | shared_sram | dram
  double weight_bytes = 0;          // model weights placed there
  double resident_bytes_per_core = 0;
  std::string execution = "kernel";  // kernel | dataflow (HwConfig::execution)
};

}  // namespace bc
