// Bit-serial PE array (BitMoD, HPCA 2025; Stripes/Loom laws). An output-
// stationary rows x cols array of DP-d PEs: each cycle a PE multiplies d
// activations by one serial step of d weights (or the reverse when the
// activation is the serial operand). A tile's latency scales with the serial
// operand's width: ceil(bits / bits_per_cycle) steps, or with Booth term
// decomposition ceil(terms / terms_per_cycle), terms = ceil(bits / 2)
// (int8 -> 4, int6 -> 3, fp4 -> 2; BitMoD).
// Weights carry a scale per group of group_size; the PE dequantizes a group
// bit-serially in dequant_cycles, hidden behind the group's compute when that is
// at least as long, exposed otherwise.
#include <algorithm>
#include <cmath>

#include "models/compute_unit.h"
#include "models/rate_table.h"

namespace bc {
namespace {

class BitSerialArray : public ComputeUnit {
 public:
  explicit BitSerialArray(Params& p) {
    rows_ = p.integer("rows", std::nullopt, "PE rows", 1, 1 << 16);
    cols_ = p.integer("cols", std::nullopt, "PE columns", 1, 1 << 16);
    dp_ = p.integer("dp", 4, "dot-product width of a PE (products per serial step)", 1, 64);
    serial_ = p.choice("serial_operand", "weight", {"weight", "activation"},
                       "operand consumed bit-serially");
    bits_per_cycle_ =
        p.integer("bits_per_cycle", 1, "serial bits per cycle (without Booth)", 1, 16);
    booth_ = p.boolean("booth", true, "Booth term decomposition: ceil(bits/2) terms");
    terms_per_cycle_ = p.integer("terms_per_cycle", 1, "Booth terms per cycle", 1, 8);
    activations_.read(p, "activations", "parallel-operand classes, e.g. {fp16: 1, int8: 1}");
    max_serial_bits_ = p.integer("max_serial_bits", 8, "widest serial operand", 1, 16);
    dequant_cycles_ =
        p.integer("dequant_cycles", 8, "bit-serial dequantization per weight group", 0, 1 << 16);
    latency_ = p.integer("latency", 4, "pipeline latency per tile, cycles", 0, 1 << 16);
    pe_ = p.text("pe", "bitmod_pe", "library component of one PE");
    fallback_ =
        p.text("fallback", "", "vector unit that converts unsupported formats (\"\" = none)");
  }

  std::string type() const override { return "bit_serial_array"; }

  const Format& serial(const MatmulTile& t) const { return serial_ == "weight" ? t.w : t.a; }
  const Format& parallel(const MatmulTile& t) const { return serial_ == "weight" ? t.a : t.w; }

  // Serial steps per weight for a format: bits, or Booth terms.
  int64_t steps(const Format& f) const {
    int64_t bits = f.value_bits;
    if (booth_) return ceil_div(ceil_div(bits, 2), terms_per_cycle_);
    return ceil_div(bits, bits_per_cycle_);
  }

  bool can_matmul(const Format& a, const Format& w, std::string* why) const override {
    const Format& s = serial_ == "weight" ? w : a;
    const Format& par = serial_ == "weight" ? a : w;
    if (s.value_bits > max_serial_bits_ || s.lookup) {
      if (why)
        *why = "serial operand " + s.name + " exceeds max_serial_bits " +
               std::to_string(max_serial_bits_);
      return false;
    }
    return !activations_.pick(par, why).empty();
  }

  TileCost matmul(const MatmulTile& t) const override {
    const int64_t s = steps(serial(t));
    const int64_t folds = ceil_div(t.m, rows_) * ceil_div(t.n, cols_);
    // Per fold: ceil(k/dp) dot-product steps of s serial cycles each, plus the
    // exposed part of each weight group's dequantization.
    const int64_t dot = ceil_div(t.k, dp_) * s;
    int64_t exposed = 0;
    if (t.w_group > 0 && dequant_cycles_ > 0) {
      int64_t groups = ceil_div(t.k, t.w_group);
      int64_t group_compute = ceil_div(t.w_group, dp_) * s;
      exposed = groups * std::max<int64_t>(0, dequant_cycles_ - group_compute);
    }
    TileCost c;
    c.cycles = folds * (dot + exposed) + (t.k_last ? latency_ : 0);  // once per output tile
    // Energy follows BitMoD's model: every PE of the array is busy each cycle.
    c.actions.push_back(
        {0, static_cast<double>(rows_ * cols_) * static_cast<double>(folds * (dot + exposed))});
    c.sram_read_bytes =
        static_cast<double>(folds) * (std::min(t.m, rows_) * t.k * t.a.storage_bits / 8 +
                                      std::min(t.n, cols_) * t.k * t.w.storage_bits / 8);
    c.sram_write_bytes = static_cast<double>(t.m) * t.n * 4;
    return c;
  }

  TileAlign align(const Format&, const Format&) const override { return {rows_, cols_, dp_}; }
  double peak_macs_per_cycle(const Format& a, const Format& w) const override {
    if (!can_matmul(a, w, nullptr)) return 0;
    MatmulTile t{1, 1, 1, a, w};
    return static_cast<double>(rows_ * cols_ * dp_) / static_cast<double>(steps(serial(t)));
  }
  std::vector<std::string> formats() const override { return activations_.classes(); }
  std::vector<Format> fallback_formats() const override {
    return {format(activations_.classes().front()), format("int8")};
  }

  std::vector<std::string> actions() const override { return {"pe_cycle"}; }
  ActionSource action_source(int) const override { return {pe_, "pe_cycle", 1}; }
  Instances instances() const override { return {pe_, static_cast<double>(rows_ * cols_)}; }
  void check_library(const ComponentLibrary& lib, Params& p) const override {
    check_component(lib, p, "pe", pe_, actions(), "pe");
  }
  nlohmann::json resolved() const override {
    return {{"type", type()},
            {"rows", rows_},
            {"cols", cols_},
            {"dp", dp_},
            {"serial_operand", serial_},
            {"bits_per_cycle", bits_per_cycle_},
            {"booth", booth_},
            {"terms_per_cycle", terms_per_cycle_},
            {"activations", activations_.rates()},
            {"max_serial_bits", max_serial_bits_},
            {"dequant_cycles", dequant_cycles_},
            {"latency", latency_},
            {"pe", pe_},
            {"fallback", fallback_}};
  }

 private:
  int64_t rows_ = 1, cols_ = 1, dp_ = 4, bits_per_cycle_ = 1, terms_per_cycle_ = 1,
          max_serial_bits_ = 8, dequant_cycles_ = 8, latency_ = 4;
  bool booth_ = true;
  std::string serial_, pe_;
  RateTable activations_;
};

}  // namespace
BC_REGISTER_UNIT("bit_serial_array", BitSerialArray)
}  // namespace bc
