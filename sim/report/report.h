// Reports: one JSON document is built from the run, and the terminal table and
// the CSV are rendered from it, so all three carry the same numbers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/config/hw_config.h"
#include "sim/engine/engine.h"
#include "sim/mapping/program.h"
#include "sim/trace/trace.h"

namespace bc {

nlohmann::json build_report(const HwConfig& hw, const Trace& trace, const Program& prog,
                            const SimResult& sim);
std::string render_table(const nlohmann::json& report, int top_ops);

// A dataflow run is compared with the same workload run kernel-by-kernel on the
// same chip: execution_summary() reduces that run's report to the figures the
// comparison uses, add_kernel_comparison() puts them, the speed-up and the
// reasons into report["execution"].
nlohmann::json execution_summary(const nlohmann::json& report);
void add_kernel_comparison(nlohmann::json& report, const nlohmann::json& kernel);
std::string render_csv(const nlohmann::json& report);

// Writes `text` to `path` through a temporary file and a rename, so a failed
// run never leaves a partial file.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace bc
