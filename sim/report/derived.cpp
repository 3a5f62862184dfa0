#include "sim/report/derived.h"

#include <algorithm>

#include "models/compute_unit.h"

namespace bc {

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
      ridge[key] = ops / (hw.dram.present ? hw.dram.bandwidth : hw.shared_sram.bandwidth);
    }
  }
  d["peak_ops_per_s"] = peaks;
  d["ridge_point_ops_per_byte"] = ridge;
  d["cores"] = hw.cores();
  d["local_sram_total_bytes"] = hw.sram.size_bytes * cores;
  d["local_sram_bandwidth_Bps_per_core"] =
      hw.sram.banks * hw.sram.ports * hw.sram.bank_width_bytes * hw.freq_hz;
  d["shared_sram_bytes"] = hw.shared_sram.present ? hw.shared_sram.capacity : 0.0;
  d["onchip_sram_total_bytes"] =
      hw.sram.size_bytes * cores + (hw.shared_sram.present ? hw.shared_sram.capacity : 0.0);
  d["dram_bandwidth_Bps"] = hw.dram.bandwidth;
  d["dram_capacity_bytes"] = hw.dram.capacity;
  d["noc_bisection_bandwidth_Bps"] =
      hw.noc_link_bandwidth * 2.0 * static_cast<double>(std::min(hw.mesh_x, hw.mesh_y));
  return d;
}

}  // namespace bc
