// libFuzzer target: the trace reader (and under it the located YAML/JSON
// parser, the typed reader, quantities and formats). Any input must either
// load or end in an InputError; another exception, a crash or a sanitizer
// report is a bug. Built and run by tests/fuzz/run.sh.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/config/error.h"
#include "sim/trace/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // read_trace() reads a file: the input goes to a private temporary one.
  static const std::string path = [] {
    std::string p = "/tmp/bc_fuzz_trace_" + std::to_string(getpid()) + ".json";
    return p;
  }();
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  try {
    bc::Trace t = bc::read_trace(path);
    (void)bc::trace_totals(t);
  } catch (const bc::InputError& e) {
    if (e.diagnostics().empty()) std::abort();  // an error must say something
  }
  return 0;
}
