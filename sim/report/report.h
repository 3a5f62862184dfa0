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

// Lines of peak density and efficiency per unit.format and for the chip per
// format (derived_values' "density"), for the terminal table and `explain`.
std::string render_density(const nlohmann::json& density, const std::string& indent);

// An output file (--json, --csv, -o), claimed before the work that fills it:
// the constructor creates an unnamed file (O_TMPFILE; else a unique named
// temporary) in the file's directory, so a path that cannot be written is an
// InputError (exit 2) before a long simulation, not after it. write() fills it,
// names it and renames it over the path; a run that fails or is killed before
// that leaves nothing (an unnamed file vanishes with its descriptor; a named
// one is removed by the destructor). An empty path is no output: write() does
// nothing. A symbolic link is followed: the file it points to is replaced. A
// character device or a FIFO (/dev/stdout, a pipe) is written through at
// commit(), never replaced; a FIFO nobody reads and a block device are errors.
class OutputFile {
 public:
  OutputFile(std::string path, std::string option);
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();
  void write(const std::string& text);  // stage(text), then commit()
  // For a run with several outputs: stage every one (a write that fails leaves
  // none behind), then commit each; renames in the same directory do not fail
  // for want of space.
  void stage(const std::string& text);
  void commit();
  bool empty() const { return path_.empty(); }
  const std::string& option() const { return option_; }
  std::string target() const;  // the absolute path written, links resolved

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  void write_all(const std::string& text);
  std::string path_, option_, tmp_;
  std::string pending_;  // direct_: the text commit() writes
  int fd_ = -1;
  bool direct_ = false;  // a device or FIFO, written through
};

// Two outputs of one run naming the same file are an error (exit 2) at the
// second one's option.
void check_distinct_outputs(const std::vector<const OutputFile*>& outputs);

}  // namespace bc
