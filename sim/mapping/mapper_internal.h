// The mapper's internals, shared by its files in sim/mapping/ and by no other
// folder (the public entry points are in mapper.h): the cost-entry cache, the
// unit choice, the GEMM shapes and tilings, the op being mapped (OpContext) and
// the per-run state (Mapper). Each concern defines its own functions:
//   mapper.cpp           the driver (map_trace, Mapper::run)
//   placement.cpp        weights and outputs placement, the capacity errors
//   unit_choice.cpp      which unit runs an op, fallback conversions, fail()
//   gemm.cpp             GEMM grid, tiling and emission
//   attention.cpp        flash-attention tiles
//   elementwise.cpp      element-wise splitting and tiling
//   table_precompute.cpp LUT table fusion and precompute
//   dataflow.cpp         spatial dataflow core groups and row streaming
//   estimate.cpp         the cost model's estimate of emitted tiles
//   move.cpp             map_move
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/mapping/cost_model.h"
#include "sim/mapping/mapper.h"

namespace bc::mapping {

struct CostCache {
  CostCache(Program& p, const Units& u) : prog(p), units(u) {}
  Program& prog;
  const Units& units;
  std::map<
      std::tuple<int, int64_t, int64_t, int64_t, int, int, bool, int64_t, bool, bool, bool, bool>,
      uint32_t>
      matmul;
  std::vector<std::string> formats;  // interned names: cost keys hold small integers
  int fmt(const Format& f) {
    for (size_t i = 0; i < formats.size(); ++i)
      if (formats[i] == f.name) return static_cast<int>(i);
    formats.push_back(f.name);
    return static_cast<int>(formats.size() - 1);
  }
  std::map<std::tuple<int, int64_t, double, double, double, double, std::string>, uint32_t> vec;
  std::map<std::tuple<int, int64_t, int64_t, std::string>, uint32_t> pre;

  uint32_t add(int unit, TileCost c) {
    prog.costs.push_back(std::move(c));
    prog.cost_unit.push_back(static_cast<uint16_t>(unit));
    return static_cast<uint32_t>(prog.costs.size() - 1);
  }
  uint32_t mm(int unit, const MatmulTile& t) {
    // w_group: a bit-serial unit's per-group dequantization depends on it.
    auto key = std::make_tuple(unit, t.m, t.n, t.k, fmt(t.a), fmt(t.w), t.w_2_4, t.w_group,
                               t.k_last, t.acc_in_registers, t.out_in_registers, t.a_in_registers);
    auto it = matmul.find(key);
    if (it != matmul.end()) return it->second;
    return matmul[key] = add(unit, units[unit]->matmul(t));
  }
  uint32_t vector(int unit, const VectorTile& t) {
    auto key = std::make_tuple(unit, t.elements, t.ops_per_element, t.read_bytes_per_element,
                               t.write_bytes_per_element, t.special_per_element, t.fmt.name);
    auto it = vec.find(key);
    if (it != vec.end()) return it->second;
    return vec[key] = add(unit, units[unit]->vector(t));
  }
  // Element-wise work in fp32 (the vector unit's default arithmetic).
  uint32_t vector(int unit, int64_t elements, double ops, double rd, double wr,
                  double special = 0) {
    VectorTile t;
    t.elements = elements;
    t.ops_per_element = ops;
    t.special_per_element = special;
    t.fmt = fp32();
    t.read_bytes_per_element = rd;
    t.write_bytes_per_element = wr;
    return vector(unit, t);
  }
  // Table precompute of an m x k activation tile on a LUT unit's own engine.
  uint32_t precompute(int unit, int64_t m, int64_t k, const Format& a) {
    auto key = std::make_tuple(unit, m, k, a.name);
    auto it = pre.find(key);
    if (it != pre.end()) return it->second;
    return pre[key] = add(unit, units[unit]->precompute_cost(m, k, a));
  }
};

// ---- unit choice and fallback (unit_choice.cpp)

// Errors found while mapping name the config key that causes them; map_trace()
// moves them from this placeholder to the key's line in the config file.
inline constexpr const char* kMapperLoc = "<mapper>";
[[noreturn]] void fail(const Op& op, const std::string& config_key, const std::string& msg,
                       const std::string& hint = "");
// Refuses an op that would take more than limits::kMaxTiles tiles.
void check_tiles(const Op& op, double tiles);

// How a GEMM block runs: the unit, the formats it executes, and the conversions
// its fallback vector unit performs first when the unit cannot take the op's
// formats directly.
struct UnitChoice {
  int unit = -1;
  Format a, w;            // formats the unit executes
  int convert_unit = -1;  // fallback vector unit (-1: no conversion)
  bool convert_a = false, convert_w = false;
};

int unit_index(const Units& units, const std::string& name);
UnitChoice pick_matmul_unit(const Units& units, const Op& op, const Format& a, const Format& w);
int pick_vector_unit(const Units& units, const Op& op);

// ---- GEMM shapes and tilings (gemm.cpp)

inline int64_t round_up(int64_t v, int64_t a) { return ceil_div(v, a) * a; }

struct GemmTiling {
  int64_t tm = 0, tn = 0, tk = 0;
  bool reuse_a = true;  // loop order: A tile resident across the n loop (else W across m)
  double est_cycles = 0;
  int64_t tiles = 0;
};

// One weight column block of a GEMM: the whole W, or one output-feature block
// of a mixed-precision W.
struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  Format a, w;
  bool w_2_4 = false;   // W is 2:4 sparse
  int64_t w_group = 0;  // W's scale group along K
  double ba = 1, bw = 1,
         bo = 1;          // bytes per element: A as loaded (tables when fused), stored W, output
  UnitChoice uc;          // unit, executed formats, fallback conversions
  int pre_unit = -1;      // builds LUT tables before each new A tile (-1: none or fused)
  bool w_local = false;   // W resident in the cores' SRAM: no weight loads
  Level w_level = kDram;  // where W tiles are loaded from otherwise
  double registers = 0;   // the core's register file (core.registers), bytes
  double acc = 4;         // the unit's bytes per partial sum
  // Whether a tm x tn output tile's accumulators fit the register file.
  bool acc_in_registers(int64_t tm, int64_t tn) const {
    return registers > 0 && static_cast<double>(tm * tn) * acc <= registers;
  }
  MatmulTile tile(int64_t tm, int64_t tn, int64_t tk, bool k_last = true) const {
    MatmulTile t{tm, tn, tk, uc.a, uc.w};
    t.w_2_4 = w_2_4;
    t.w_group = w_group;
    t.k_last = k_last;
    t.acc_in_registers = acc_in_registers(tm, tn);
    return t;
  }
};

// A GEMM block's core grid and tiling.
struct GemmChoice {
  int64_t pm = 0, pn = 0, Ms = 0, Ns = 0;
  int64_t stages = 2;  // tile loads in flight (at most core.dma.stages)
  GemmTiling tiling;
};

// ---- the op being mapped and the run's state

// The op being mapped, built by run() for each trace op and passed to every
// function that needs it: its trace index, its core group, and whether its
// rows stream.
struct OpContext {
  size_t index = 0;      // trace index of the op being mapped
  bool grouped = false;  // on a dataflow core group of its layer
  bool stream = false;   // its token rows stream (spatial dataflow)
  int64_t base = 0;      // the group's first core (0: the whole chip)
  int64_t cores = 1;     // cores it runs on
};

class Mapper {
 public:
  Mapper(const Trace& t, const HwConfig& hw);
  Program run();

 private:
  // estimate.cpp
  void estimate_emitted(const OpContext& ctx, size_t idx);
  // Tile loads in flight an op may use: core.dma.stages and every count down
  // to double buffering, most first. Each stage holds its operand buffers in
  // SRAM, so fewer stages leave room for larger tiles; the searches take the
  // fastest, so a chip with more stages only has more choices.
  std::vector<int64_t> stage_choices() const {
    std::vector<int64_t> v;
    for (int64_t s = hw_.load_stages; s >= std::min<int64_t>(2, hw_.load_stages); --s)
      v.push_back(s);
    return v;
  }
  // `stages`: tile loads in flight per core (0: core.dma.stages).
  Estimate estimate_cores(const OpContext& ctx, const std::vector<const CoreOp*>& cores,
                          int64_t count = -1, int64_t stages = 0);

  // placement.cpp
  double sram_avail(const OpContext& ctx) const;
  void place_weights();
  Level place_output(const Op& op) const;

  // dataflow.cpp
  static int64_t op_rows(const Op& op, int64_t rows);
  double out_row_bytes(const Op& op, int64_t rows) const;
  bool streams_out(size_t i) const;
  void plan_dataflow(const std::map<int, int>& index_of);

  // table_precompute.cpp
  void plan_table_fusion(const std::map<int, int>& index_of);
  uint32_t precompute(const GemmShape& g, int64_t tm, int64_t tk);
  int map_table_precompute(const OpContext& ctx, const Op& gemm, const std::vector<int>& deps,
                           Level in);

  // gemm.cpp
  void map_gemm(const OpContext& ctx, const Op& op, size_t idx, Level in);
  GemmChoice choose_gemm(const OpContext& ctx, const Op& op, const GemmShape& g, Level in,
                         Level out);
  void emit_gemm(const OpContext& ctx, const GemmShape& g, const GemmChoice& c, Level in, Level out,
                 std::vector<CoreOp>& per_core, bool last_part);
  // multicast: share of the bytes a cluster peer reads for this core
  // (core.dma.multicast; 0: none).
  void load_shared_panel(Tile& tile, Level level, double bytes, double readers,
                         double multicast = 0) const;

  // attention.cpp
  void map_attention(const OpContext& ctx, const Op& op, size_t idx, Level in);

  // elementwise.cpp
  int64_t choose_elements_tile(const OpContext& ctx, int64_t elements, int64_t slice,
                               int64_t te_max, const std::function<Tile(int64_t)>& make);
  int split_elements(const OpContext& ctx, size_t idx, int64_t elements, int64_t slice, int64_t te,
                     const std::function<Tile(int64_t)>& make);
  void map_elementwise(const OpContext& ctx, const Op& op, size_t idx, Level in);

  const Trace& t_;
  const HwConfig& hw_;
  const Units units_;  // the core's units, in the config's order (Program steps index them)
  const Level home_;   // global memory: DRAM, or the shared SRAM of an SRAM-only chip
  Program prog_;
  CostCache cache_;
  CostModel model_;
  std::map<size_t, size_t> fused_gemm_;  // GEMM -> the element-wise op that builds its tables
  struct TableBuild {
    int lut_unit;
    Format a;  // table entry class
  };
  std::map<size_t, TableBuild> fused_producer_;  // element-wise op -> tables it builds
  std::map<size_t, TableBuild> lut_gemm_;        // GEMMs on a LUT unit (trace indices)
  std::map<
      std::tuple<int64_t, int64_t, int64_t, std::string, double, double, double, int, int, int64_t>,
      GemmChoice>
      gemm_cache_;
  std::map<std::string, std::array<int64_t, 4>>
      attention_cache_;  // shape -> query block, split, KV block, O in the V buffers (0/1)
  // Spatial dataflow (plan_dataflow): each layer op's core group (first core,
  // count), the ops whose token rows stream, each layer's token rows, every
  // op's consumers, and the most rows a streamed op handles in one tile.
  std::map<size_t, std::pair<int64_t, int64_t>> group_;
  std::set<size_t> streamable_;
  std::map<int, int64_t> layer_rows_;
  std::vector<std::vector<size_t>> consumers_;
  std::map<size_t, int64_t> tile_rows_;
};

}  // namespace bc::mapping
