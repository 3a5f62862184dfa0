// The compute-unit interface. A unit answers, for one tile of work, how many
// cycles it takes and which actions it performs; it holds no SystemC state, so
// the engine, the mapper's search and unit tests all call the same cost code.
// A new unit type is one file under models/ that registers itself with
// BC_REGISTER_UNIT; YAML then names it by its type string.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/config/component_library.h"
#include "sim/config/format.h"
#include "sim/config/params.h"
#include "sim/config/unit_desc.h"

namespace bc {

// C[m x n] (+)= A[m x k] * W[k x n]: one tile of a GEMM or of attention.
struct MatmulTile {
  int64_t m = 1, n = 1, k = 1;
  Format a;             // activation (streamed operand); int8 unless set
  Format w;             // weight (or K/V cache in attention)
  bool w_2_4 = false;   // W is 2:4 structured-sparse (half its values are zero)
  int64_t w_group = 0;  // W's scale group size along K (0: no group scales)
  // This tile is the last K step of its output tile. A pipelined datapath keeps
  // streaming across the K steps of one output tile, so its fill and drain (or
  // pipeline latency) are exposed once per output tile, on the step that
  // completes it; earlier K steps pay only their streaming cycles.
  bool k_last = true;
  // The output tile's partial sums stay in the core's register file across its
  // K steps (core.registers): the unit neither reads nor writes them in SRAM,
  // and writes the finished tile there once, on its last K step.
  bool acc_in_registers = false;
  // The finished tile stays in the register file for the next step (as
  // FlashAttention keeps S and P): with acc_in_registers, nothing is written to SRAM.
  bool out_in_registers = false;
  // A is already in the register file (the previous step's output, e.g. P in
  // O += P V): it is not read from SRAM.
  bool a_in_registers = false;
};

inline const Format& fp32() {
  static const Format f = format("fp32");
  return f;
}

// Element-wise work: `elements` values, `ops_per_element` arithmetic ops each.
struct VectorTile {
  int64_t elements = 0;
  double ops_per_element = 1;
  Format fmt = fp32();                 // arithmetic format
  double read_bytes_per_element = 0;   // operand bytes read from SRAM per element
  double write_bytes_per_element = 0;  // result bytes written to SRAM per element
  double special_per_element = 0;      // of the ops, special functions (exp, rcp, tanh)
};

// An action count against the unit's action list (index into actions()).
struct ActionCount {
  int action = 0;
  double count = 0;
};

// A tile's action counts, kept inline: a unit books one or two per tile, and
// the mapper's tiling search costs millions of candidate tiles (a heap
// allocation each took a tenth of its time).
class ActionCounts {
 public:
  static constexpr size_t kMax = 4;
  void push_back(const ActionCount& a) {
    if (n_ >= kMax)  // checked in every build, as Tile::add_step is
      throw std::logic_error("a tile books more than " + std::to_string(kMax) +
                             " actions (raise ActionCounts::kMax in models/compute_unit.h)");
    v_[n_++] = a;
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const ActionCount& operator[](size_t i) const { return v_[i]; }
  const ActionCount* begin() const { return v_.data(); }
  const ActionCount* end() const { return v_.data() + n_; }

 private:
  std::array<ActionCount, kMax> v_{};
  size_t n_ = 0;
};

struct TileCost {
  int64_t cycles = 0;
  ActionCounts actions;
  double sram_read_bytes = 0;  // operand traffic between the unit and its core's SRAM
  double sram_write_bytes = 0;
};

// Tile sizes the unit prefers (multiples of these waste no lanes).
struct TileAlign {
  int64_t m = 1, n = 1, k = 1;
};

class ComputeUnit {
 public:
  virtual ~ComputeUnit() = default;
  const std::string& name() const { return name_; }
  virtual std::string type() const = 0;

  // Whether the unit executes this work; `why` says why not.
  virtual bool can_matmul(const Format& a, const Format& w, std::string* why) const;
  virtual bool can_vector(const Format& f, std::string* why) const;
  virtual TileCost matmul(const MatmulTile& t) const;  // precondition: can_matmul
  virtual TileCost vector(const VectorTile& t) const;  // precondition: can_vector
  virtual TileAlign align(const Format& a, const Format& w) const;
  // Bytes of one partial sum the unit keeps per output element while K
  // accumulates (the accumulator tile the mapper reserves in SRAM). 4: int32/fp32.
  virtual double accumulator_bytes() const { return 4; }

  // Peaks, for `explain`: MACs per cycle for a format pair, vector ops per cycle.
  virtual double peak_macs_per_cycle(const Format& a, const Format& w) const;
  virtual double peak_vector_ops_per_cycle(const Format& f) const;
  // Formats named in the unit's rate table, for `explain`.
  virtual std::vector<std::string> formats() const { return {}; }

  // Energy and area: action names (TileCost indexes them), the library
  // component each action's energy comes from, and area/leakage.
  virtual std::vector<std::string> actions() const = 0;
  struct ActionSource {
    std::string component;  // library component name
    std::string action;     // action name within it
    double multiplier = 1;  // library actions per unit action
  };
  virtual ActionSource action_source(int action) const = 0;
  // What the unit is built of: `count` instances of a library component (PEs,
  // lanes, LUT arrays). Area and leakage follow from it.
  struct Instances {
    std::string component;
    double count = 0;
  };
  virtual Instances instances() const = 0;
  // Area: instances x the component's area, unless the unit sizes itself
  // (a vector unit from its lanes' formats).
  virtual double area_m2(const ComponentLibrary& lib, double node_m) const;
  // How the area was reckoned, for the report's area table.
  virtual std::string area_how(const ComponentLibrary& lib) const;
  double leakage_w(const ComponentLibrary& lib, double node_m) const;
  // Checks that the library has what this unit references.
  virtual void check_library(const ComponentLibrary& lib, Params& p) const = 0;

  virtual nlohmann::json resolved() const = 0;

  // Table precompute (LUT cores): work that must happen once per activation
  // tile before its matmul tiles, reused across all output columns and weight
  // bit-planes. Units without tables return false.
  virtual bool has_precompute() const { return false; }
  // Whether matmul() honours MatmulTile::a_in_registers and out_in_registers: an
  // operand read from, and a result left in, the core's register file.
  virtual bool register_operands() const { return false; }
  // The precompute as element-wise work (tables to build) for an m x k activation tile.
  virtual VectorTile precompute_work(int64_t m, int64_t k, const Format& a) const;
  // Unit that builds the tables: a vector unit's name, or "" for the unit's own
  // precompute engine (then precompute_cost() gives its cycles and actions).
  virtual std::string precompute_unit() const { return ""; }
  virtual TileCost precompute_cost(int64_t m, int64_t k, const Format& a) const;
  // Fused: the producing element-wise op builds the tables in its pass, and the
  // matmul loads tables instead of activations.
  virtual bool precompute_fused() const { return false; }
  virtual double table_bytes_per_activation(const Format& a) const;

  // Fallback for formats the unit cannot execute: a vector unit converts the
  // operand to a format it can (its cost is counted). "" = no fallback.
  virtual std::string fallback_unit() const { return fallback_; }
  virtual std::vector<Format> fallback_formats() const { return {}; }
  // With exact_formats (a GPU's tensor cores: only the listed input formats),
  // an operand the unit runs as a wider class or as the other family (int2
  // weights in the int8 class, int4 in bf16, fp8 keys in fp16) is widened to
  // the class by the fallback unit first, as CUDA cores unpack them in the
  // main loop; without it the datapath takes them as they are. The class an
  // operand pair runs as (the format it is widened to); "" if none.
  virtual bool exact_formats() const { return false; }
  virtual std::string matmul_class(const Format&, const Format&) const { return ""; }

 protected:
  std::string name_;
  std::string fallback_;
  friend class UnitRegistry;
};

using UnitFactory = std::function<std::unique_ptr<ComputeUnit>(Params&)>;

// Self-registering factory: each unit file registers its type string. add()
// also registers how the config checks a unit of the type (UnitTypes), so one
// BC_REGISTER_UNIT line makes a type both checkable at load time and buildable.
class UnitRegistry {
 public:
  static bool add(const std::string& type, UnitFactory f);
  static std::unique_ptr<ComputeUnit> create(const std::string& type, const std::string& name,
                                             Params& p);
  static std::vector<std::string> types();
};

#define BC_REGISTER_UNIT(TYPE, CLASS)                                                            \
  namespace {                                                                                    \
  const bool bc_registered_##CLASS =                                                             \
      ::bc::UnitRegistry::add(TYPE, [](::bc::Params& p) { return std::make_unique<CLASS>(p); }); \
  }

// The compute units of one core, in config order (a Program's compute steps
// index them), built by the registry from the config's descriptions. The config
// holds descriptions only, so that it does not depend on the units; whoever
// needs unit objects (the mapper, the engine, energy and area) builds them.
using Units = std::vector<std::shared_ptr<const ComputeUnit>>;
Units build_units(const std::vector<UnitDesc>& descs);
// Each unit's first action counter (the fixed counters of models/action_ids.h
// come first, then each unit's actions in turn); *total: all counters.
std::vector<int> unit_action_bases(const Units& units, int* total);

int64_t ceil_div(int64_t a, int64_t b);

}  // namespace bc
