// LUT tensor core (LUT Tensor Core, Mo et al., ISCA 2025; T-MAC, EuroSys 2025).
//
// Activations are grouped by K (default 4). Each group builds a table of the
// 2^K signed sums of its activations; with weight reinterpretation
// (q' = 2q - (2^b - 1)) the table is symmetric and only 2^(K-1) entries are
// stored. Low-bit weights are consumed one bit-plane per cycle: the K bits of a
// plane index the table, the looked-up partial sum is shifted by the plane's
// weight and accumulated. So a b-bit weight costs b lookup passes (ternary 2,
// int1 1). The array processes one bit-plane of an elongated tile_m x tile_n x
// tile_k tile per cycle (the paper's M2 N64 K4).
//
// Tables are built once per activation tile and reused across every output
// column and bit-plane: by the vector unit (precompute: <vector unit>), by a
// dedicated engine (precompute: dedicated), separately before the matmul, or
// fused into the preceding element-wise op (precompute_fused: true).
#include <algorithm>
#include <cmath>

#include "models/compute_unit.h"
#include "models/rate_table.h"

namespace bc {
namespace {

class LutTensorCore : public ComputeUnit {
 public:
  explicit LutTensorCore(Params& p) {
    arrays_ = p.integer("arrays", std::nullopt, "LUT arrays, each one tile per cycle", 1, 1 << 20);
    {
      Params t = p.map("tile", "tile one array processes per cycle for one weight bit-plane");
      tm_ = t.integer("m", 2, "activation rows", 1, 1 << 16);
      tn_ = t.integer("n", 64, "output columns", 1, 1 << 16);
      tk_ = t.integer("k", 4, "reduction elements (a multiple of group_k)", 1, 1 << 16);
    }
    group_k_ = p.integer("group_k", 4, "activations per table (table of 2^K sums)", 1, 8);
    if (tk_ % group_k_ != 0) p.error("tile", "tile.k must be a multiple of group_k");
    symmetric_ =
        p.boolean("symmetric", true, "weight reinterpretation: symmetric tables, half the entries");
    table_storage_ = p.choice("table_storage", "registers", {"registers", "sram"},
                              "where tables live: registers, or the core's SRAM (lookups read it)");
    activations_.read(p, "activations",
                      "table entry classes and their rate (1), e.g. {int8: 1, fp16: 1}");
    max_weight_bits_ = p.integer("max_weight_bits", 8, "widest integer weight (bit-planes)", 1, 8);
    precompute_ =
        p.text("precompute", "dedicated", "table builder: \"dedicated\" or a vector unit's name");
    precompute_lanes_ =
        p.integer("precompute_lanes", 16, "dedicated builder: entries built per cycle", 1, 1 << 16);
    fused_ = p.boolean("precompute_fused", false, "build tables in the preceding element-wise op");
    array_ = p.text("array", "lut_array_m2n64k4", "library component of one array");
    latency_ = p.integer("latency", 4, "pipeline latency per tile, cycles", 0, 1 << 16);
    fallback_ =
        p.text("fallback", "", "vector unit that converts unsupported formats (\"\" = none)");
  }

  std::string type() const override { return "lut_tensor_core"; }

  // Integer weights (and ternary) as bit-planes; table entries in an activation class.
  bool can_matmul(const Format& a, const Format& w, std::string* why) const override {
    if (w.family != Family::Int || w.lookup || w.is_block()) {
      if (why)
        *why = "weights " + w.name + " are not integer bit-planes (int1..int" +
               std::to_string(max_weight_bits_) + ", ternary)";
      return false;
    }
    if (w.value_bits > max_weight_bits_) {
      if (why)
        *why = "weights " + w.name + " exceed max_weight_bits " + std::to_string(max_weight_bits_);
      return false;
    }
    return !activations_.pick(a, why).empty();
  }

  int64_t planes(const Format& w) const { return w.value_bits; }  // ternary: 2 planes, int1: 1
  int64_t entries() const {
    return symmetric_ ? (int64_t{1} << (group_k_ - 1)) : (int64_t{1} << group_k_);
  }
  double entry_bytes(const Format& a) const {
    return format(activations_.pick(a, nullptr)).storage_bits / 8;
  }

  TileCost matmul(const MatmulTile& t) const override {
    const std::string cls = activations_.pick(t.a, nullptr);
    const int64_t b = planes(t.w);
    // LUT-MMAs: one per (tile_m x tile_n x tile_k block, bit-plane), spread over the arrays.
    const int64_t mmas = ceil_div(t.m, tm_) * ceil_div(t.n, tn_) * ceil_div(t.k, tk_) * b;
    TileCost c;
    c.cycles = ceil_div(mmas, arrays_) + (t.k_last ? latency_ : 0);  // latency once per output tile
    // One lookup + accumulate per output per K-group per bit-plane.
    double lookups =
        static_cast<double>(t.m) * t.n * std::ceil(static_cast<double>(t.k) / group_k_) * b;
    c.actions.push_back({action_of("lookup_accumulate_" + cls), lookups});
    // Operands from SRAM: weight bit-planes once, the tables (or activations) once
    // per column tile; tables in SRAM are read once per lookup.
    c.sram_read_bytes = static_cast<double>(t.k) * t.n * t.w.storage_bits / 8 +
                        static_cast<double>(t.m) * t.k * entry_bytes(t.a) * ceil_div(t.n, tn_);
    if (table_storage_ == "sram") c.sram_read_bytes += lookups * entry_bytes(t.a);
    // int32/fp32 partial sums, written per K step; in the register file
    // (core.registers) only the finished tile is written, once.
    const bool kept = t.acc_in_registers && (!t.k_last || t.out_in_registers);
    c.sram_write_bytes = kept ? 0 : static_cast<double>(t.m) * t.n * 4;
    return c;
  }

  // The arrays are independent (cycles above: LUT-MMAs spread over them), so any
  // tile of enough LUT-MMAs keeps them all busy: the alignment is one array's tile.
  // Aligning N to tn x arrays forced tiles at least 64 x arrays columns wide, whose
  // accumulators left the SRAM room for only a few rows per tile (8-20 on an
  // A100-sized core with 16-32 arrays) and re-read the weights per row block.
  TileAlign align(const Format&, const Format&) const override { return {tm_, tn_, tk_}; }

  double peak_macs_per_cycle(const Format& a, const Format& w) const override {
    if (!can_matmul(a, w, nullptr)) return 0;
    return static_cast<double>(arrays_ * tm_ * tn_ * tk_) / static_cast<double>(planes(w));
  }
  std::vector<std::string> formats() const override {
    std::vector<std::string> f;
    for (const auto& c : activations_.classes()) f.push_back(c);
    return f;
  }

  bool has_precompute() const override { return true; }
  std::string precompute_unit() const override {
    return precompute_ == "dedicated" ? "" : precompute_;
  }
  bool precompute_fused() const override { return fused_; }
  // Tables for an m x k activation tile: m x ceil(k/K) tables of `entries`, one add each.
  VectorTile precompute_work(int64_t m, int64_t k, const Format& a) const override {
    VectorTile v;
    v.elements = m * ceil_div(k, group_k_) * entries();
    v.ops_per_element = 1;
    v.fmt = format(activations_.pick(a, nullptr));
    v.read_bytes_per_element = a.storage_bits / 8 * group_k_ / static_cast<double>(entries());
    v.write_bytes_per_element = table_storage_ == "sram" ? entry_bytes(a) : 0;
    return v;
  }
  TileCost precompute_cost(int64_t m, int64_t k, const Format& a) const override {
    VectorTile v = precompute_work(m, k, a);
    TileCost c;
    c.cycles = ceil_div(v.elements, precompute_lanes_) + latency_;
    c.actions.push_back({action_of("table_entry_" + activations_.pick(a, nullptr)),
                         static_cast<double>(v.elements)});
    c.sram_read_bytes = v.elements * v.read_bytes_per_element;
    c.sram_write_bytes = v.elements * v.write_bytes_per_element;
    return c;
  }
  // Fused: the producer writes the tables: entries x entry bytes per K activations.
  double table_bytes_per_activation(const Format& a) const override {
    return static_cast<double>(entries()) * entry_bytes(a) / static_cast<double>(group_k_);
  }
  std::vector<Format> fallback_formats() const override {
    return {format(activations_.classes().front()), format("int8")};
  }

  std::vector<std::string> actions() const override {
    std::vector<std::string> a;
    for (const auto& c : activations_.classes()) a.push_back("lookup_accumulate_" + c);
    for (const auto& c : activations_.classes()) a.push_back("table_entry_" + c);
    return a;
  }
  ActionSource action_source(int i) const override { return {array_, actions()[i], 1}; }
  Instances instances() const override { return {array_, static_cast<double>(arrays_)}; }
  void check_library(const ComponentLibrary& lib, Params& p) const override {
    check_component(lib, p, "array", array_, actions(), "activations");
  }
  nlohmann::json resolved() const override {
    return {{"type", type()},
            {"arrays", arrays_},
            {"tile", {{"m", tm_}, {"n", tn_}, {"k", tk_}}},
            {"group_k", group_k_},
            {"symmetric", symmetric_},
            {"table_entries", entries()},
            {"table_storage", table_storage_},
            {"activations", activations_.rates()},
            {"max_weight_bits", max_weight_bits_},
            {"precompute", precompute_},
            {"precompute_lanes", precompute_lanes_},
            {"precompute_fused", fused_},
            {"array", array_},
            {"latency", latency_},
            {"fallback", fallback_}};
  }

 private:
  int action_of(const std::string& name) const {
    auto a = actions();
    return static_cast<int>(std::find(a.begin(), a.end(), name) - a.begin());
  }

  int64_t arrays_ = 1, tm_ = 2, tn_ = 64, tk_ = 4, group_k_ = 4, max_weight_bits_ = 8,
          precompute_lanes_ = 16, latency_ = 4;
  bool symmetric_ = true, fused_ = false;
  std::string table_storage_, precompute_, array_;
  RateTable activations_;
};

}  // namespace
BC_REGISTER_UNIT("lut_tensor_core", LutTensorCore)
}  // namespace bc
