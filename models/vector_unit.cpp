// Vector unit: `lanes` SIMD lanes for element-wise work (softmax, norms,
// activation functions, RoPE, residual adds, quantize/dequantize). A tile of
// E elements x P ops each takes ceil(E*P / (lanes * rate)) cycles plus the
// pipeline latency, once per tile. With `special_lanes`, the S special-function
// ops of each element (exp, reciprocal, tanh; counted in P) also pass through
// that many special-function units, as a GPU SM's 16 SFUs beside its FP32
// lanes: the tile takes the longer of the two, ceil(E*S / special_lanes).
#include <cmath>
#include <sstream>

#include "models/compute_unit.h"
#include "models/rate_table.h"

namespace bc {
namespace {

class VectorUnit : public ComputeUnit {
 public:
  explicit VectorUnit(Params& p) {
    lanes_ = p.integer("lanes", std::nullopt, "SIMD lanes", 1, 1 << 20);
    latency_ = p.integer("latency", 8, "pipeline latency per tile, cycles", 0, 1 << 20);
    rates_.read(p, "rates", "ops per lane per cycle for each class, e.g. {fp32: 1, bf16: 2}");
    special_lanes_ = p.integer("special_lanes", 0,
                               "special-function results (exp, reciprocal, tanh) per cycle; 0: "
                               "they run on the lanes like any op",
                               0, 1 << 20);
    lane_ = p.text("lane", "vector_lane", "library component of one lane");
  }

  std::string type() const override { return "vector_unit"; }

  bool can_vector(const Format& f, std::string* why) const override {
    return !rates_.pick(f, why).empty();
  }

  TileCost vector(const VectorTile& t) const override {
    const RateTable::Choice& ch = rates_.choose(t.fmt);
    const double rate = ch.cls.empty() ? rates_.rate(ch.cls) : ch.rate;  // none: throws as before
    double ops = static_cast<double>(t.elements) * t.ops_per_element;
    TileCost c;
    double cycles = std::ceil(ops / (lanes_ * rate));
    if (special_lanes_ > 0)
      cycles = std::max(cycles, std::ceil(static_cast<double>(t.elements) * t.special_per_element /
                                          special_lanes_));
    c.cycles = static_cast<int64_t>(cycles) + latency_;
    c.actions.push_back({ch.index, ops});
    c.sram_read_bytes = t.elements * t.read_bytes_per_element;
    c.sram_write_bytes = t.elements * t.write_bytes_per_element;
    return c;
  }

  double peak_vector_ops_per_cycle(const Format& f) const override {
    std::string cls = rates_.pick(f, nullptr);
    return cls.empty() ? 0 : lanes_ * rates_.rate(cls);
  }
  std::vector<std::string> formats() const override { return rates_.classes(); }

  std::vector<std::string> actions() const override {
    std::vector<std::string> a;
    for (const auto& c : rates_.classes()) a.push_back("op_" + c);
    return a;
  }
  ActionSource action_source(int i) const override { return {lane_, actions()[i], 1}; }
  Instances instances() const override { return {lane_, static_cast<double>(lanes_)}; }
  // A lane's datapath is shared by its formats and sized by the one that needs
  // the most: rate x that format's datapath area (the lane component's
  // area_per_format); a format the component does not list uses its area.
  double lane_area_m2(const LibComponent& c, std::string* widest = nullptr) const {
    double best = 0;
    for (const auto& cls : rates_.classes()) {
      auto it = c.area_per_format.find(cls);
      double a =
          rates_.rate(cls) * (it != c.area_per_format.end() ? it->second.value : c.area_m2.value);
      if (a > best) {
        best = a;
        if (widest) *widest = cls;
      }
    }
    return best;
  }
  double area_m2(const ComponentLibrary& lib, double node_m) const override {
    const LibComponent& c = lib.get(lane_);
    if (c.area_per_format.empty()) return ComputeUnit::area_m2(lib, node_m);
    const double scale = c.scales ? lib.area_factor(c.node_m, node_m) : 1.0;
    return static_cast<double>(lanes_) * lane_area_m2(c) * scale;
  }
  std::string area_how(const ComponentLibrary& lib) const override {
    const LibComponent& c = lib.get(lane_);
    if (c.area_per_format.empty()) return ComputeUnit::area_how(lib);
    std::string widest;
    lane_area_m2(c, &widest);
    std::ostringstream os;
    os << lanes_ << " x " << lane_ << " (datapath sized by " << widest << " x "
       << rates_.rate(widest) << ")";
    return os.str();
  }
  void check_library(const ComponentLibrary& lib, Params& p) const override {
    check_component(lib, p, "lane", lane_, actions(), "rates");
  }

  nlohmann::json resolved() const override {
    return {{"type", type()},
            {"lanes", lanes_},
            {"latency", latency_},
            {"rates", rates_.rates()},
            {"lane", lane_}};
  }

 private:
  int64_t lanes_ = 1, latency_ = 0, special_lanes_ = 0;
  std::string lane_;
  RateTable rates_;
};

}  // namespace
BC_REGISTER_UNIT("vector_unit", VectorUnit)
}  // namespace bc
