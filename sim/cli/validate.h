// The validation harness: runs every row of a reference CSV (published or
// measured figures) and compares the simulated latency (and energy, where
// given) with the measured one. Columns:
// name,hw,kind,m,n,k,a_format,w_format,model,quant,phase,batch,context,seq,
// measured_latency_s,measured_energy_j
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bc {

struct ValidationRow {
  std::string name, hw, kind;
  double simulated_latency_s = 0, measured_latency_s = 0;
  double simulated_energy_j = 0, measured_energy_j = 0;  // 0 = not given
  std::string status;                                    // "ok", or why the row was not simulated
  // Roofline baseline: per op max(FLOPs / peak, bytes / memory bandwidth),
  // summed (0: no roofline, a collectives-only row).
  double roofline_latency_s = 0;
};

struct ValidationSummary {
  std::vector<ValidationRow> rows;
  int compared = 0;
  double mape = 0;     // mean |sim - meas| / meas over compared rows
  double pearson = 0;  // correlation of simulated and measured latency (NaN if < 2 rows)
  // The plain roofline of the same configs on the compared rows that have one,
  // so every user sees what the simulator adds over the simplest baseline.
  int roofline_rows = 0;
  double roofline_mape = 0;
  double sim_mape_on_roofline_rows = 0;  // the simulator's MAPE on those same rows
  // Energy, over the compared rows that give a measured energy.
  int energy_rows = 0;
  double energy_mape = 0;
};

// Parses the file (InputError with file:line:column on bad input) and runs each
// row in its own child process.
ValidationSummary run_validation(const std::string& csv_path);
std::string validation_table(const ValidationSummary& s);
std::string validation_csv(const ValidationSummary& s);

}  // namespace bc
