#include "sim/report/derived.h"

#include <algorithm>

#include "models/compute_unit.h"
#include "sim/mapping/energy.h"

namespace bc {

namespace {

// Energy per op of a unit running format class `f` at its peak: the actions of
// a large tile of its preferred shape (fill, drain and per-tile latency
// amortised), priced by the library at the chip's node. A MAC is 2 ops. LUT
// table builds are not included (they are the precompute's, reported apart).
double energy_per_op(const ComputeUnit& u, const Format& f, const HwConfig& hw) {
  const ComponentLibrary& lib = *hw.lib;
  TileCost c;
  double ops = 0;
  if (u.peak_macs_per_cycle(f, f) > 0 && u.can_matmul(f, f, nullptr)) {
    TileAlign al = u.align(f, f);
    MatmulTile t;
    t.m = al.m * 8, t.n = al.n * 8, t.k = al.k * 64, t.a = f, t.w = f;
    c = u.matmul(t);
    ops = 2.0 * static_cast<double>(t.m) * static_cast<double>(t.n) * static_cast<double>(t.k);
  } else if (u.can_vector(f, nullptr)) {
    VectorTile t;
    t.elements = 1 << 20, t.fmt = f;
    c = u.vector(t);
    ops = static_cast<double>(t.elements);
  }
  if (ops <= 0) return 0;
  double e = 0;
  for (const auto& a : c.actions) {
    auto src = u.action_source(a.action);
    e +=
        a.count * src.multiplier * lib.action_energy(lib.get(src.component), src.action, hw.node_m);
  }
  return e / ops;
}

}  // namespace

nlohmann::json density_values(const HwConfig& hw, const nlohmann::json& peaks) {
  const ComponentLibrary& lib = *hw.lib;
  const double cores = static_cast<double>(hw.cores());
  double chip_area = 0, chip_leak = 0, compute_area = 0;
  for (const auto& a : component_areas(hw)) chip_area += a.area_m2, chip_leak += a.leakage_w;
  nlohmann::json units = nlohmann::json::object(), chip = nlohmann::json::object();
  for (const auto& u : build_units(hw.units)) {
    const double area = cores * u->area_m2(lib, hw.node_m);
    const double leak = cores * u->leakage_w(lib, hw.node_m);
    bool matrix = false;
    for (const auto& cls : u->formats()) {
      const std::string key = u->name() + "." + cls;
      const double peak = peaks.value(key, 0.0);
      if (peak <= 0) continue;
      const Format& f = format(cls);
      matrix = matrix || u->peak_macs_per_cycle(f, f) > 0;
      const double dyn = peak * energy_per_op(*u, f, hw);
      units[key] = {{"unit", u->name()},
                    {"format", cls},
                    {"peak_ops_per_s", peak},
                    {"area_mm2", area * 1e6},
                    {"power_at_peak_w", dyn + leak},
                    {"peak_ops_per_s_per_mm2", area > 0 ? peak / (area * 1e6) : 0.0},
                    {"peak_ops_per_s_per_w", dyn + leak > 0 ? peak / (dyn + leak) : 0.0}};
      // The chip per format: its best unit for the format, over the whole
      // chip's area, and that unit's dynamic power plus every part's leakage.
      if (!chip.contains(cls) || chip[cls]["peak_ops_per_s"].get<double>() < peak)
        chip[cls] = {
            {"unit", u->name()},
            {"format", cls},
            {"peak_ops_per_s", peak},
            {"area_mm2", chip_area * 1e6},
            {"power_at_peak_w", dyn + chip_leak},
            {"peak_ops_per_s_per_mm2", peak / (chip_area * 1e6)},
            {"peak_ops_per_s_per_w", dyn + chip_leak > 0 ? peak / (dyn + chip_leak) : 0.0}};
    }
    if (matrix) compute_area += area;
  }
  return {{"units", units},
          {"chip", chip},
          {"chip_area_mm2", chip_area * 1e6},
          {"compute_area_mm2", compute_area * 1e6}};
}

nlohmann::json derived_values(const HwConfig& hw) {
  nlohmann::json d;
  double cores = static_cast<double>(hw.cores());
  nlohmann::json peaks = nlohmann::json::object();
  nlohmann::json ridge = nlohmann::json::object();
  for (const auto& u : build_units(hw.units)) {
    for (const auto& cls : u->formats()) {
      const Format& f = format(cls);
      double ops = 2 * u->peak_macs_per_cycle(f, f) * hw.freq_hz * cores;  // 1 MAC = 2 ops
      if (ops == 0) ops = u->peak_vector_ops_per_cycle(f) * hw.freq_hz * cores;
      std::string key = u->name() + "." + cls;
      peaks[key] = ops;
      ridge[key] = ops / (hw.dram().present ? hw.dram().bandwidth : hw.shared_sram().bandwidth);
    }
  }
  d["peak_ops_per_s"] = peaks;
  d["density"] = density_values(hw, peaks);
  d["ridge_point_ops_per_byte"] = ridge;
  d["cores"] = hw.cores();
  d["local_sram_total_bytes"] = hw.sram.size_bytes * cores;
  d["local_sram_bandwidth_Bps_per_core"] =
      hw.sram.banks * hw.sram.ports * hw.sram.bank_width_bytes * hw.freq_hz;
  d["shared_sram_bytes"] = hw.shared_sram().present ? hw.shared_sram().capacity : 0.0;
  d["onchip_sram_total_bytes"] =
      hw.sram.size_bytes * cores + (hw.shared_sram().present ? hw.shared_sram().capacity : 0.0);
  d["dram_bandwidth_Bps"] = hw.dram().bandwidth;
  d["dram_capacity_bytes"] = hw.dram().capacity;
  d["noc_bisection_bandwidth_Bps"] =
      hw.noc_link_bandwidth * 2.0 * static_cast<double>(std::min(hw.mesh_x, hw.mesh_y));
  return d;
}

}  // namespace bc
