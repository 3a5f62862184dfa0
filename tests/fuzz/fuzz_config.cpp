// libFuzzer target: the located YAML parser and the include-free config tree
// (aliases, nesting, documents, UTF-8, --set). Any input must parse or end in
// an InputError. Built and run by tests/fuzz/run.sh.
#include <cstdint>
#include <string>

#include "sim/config/config_tree.h"
#include "sim/config/error.h"
#include "sim/config/params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    bc::CNode root = bc::parse_config_text(text, "fuzz.yaml");
    bc::CNode copy = root;
    bc::merge_into(copy, root);
    bc::DiagnosticSink sink;
    {
      // Typed reads of the keys a hardware config starts with.
      bc::Params p(&root, "", &sink);
      p.quantity("frequency", bc::Dim::Frequency, 1e9, "");
      p.quantity("node", bc::Dim::Length, 7e-9, "");
      p.integer("x", 1, "");
      p.number("y", 1.0, "");
      p.boolean("z", false, "");
      p.map("noc", "").quantity("link_bandwidth", bc::Dim::Bandwidth, 1e9, "");
      p.entry_names();
    }
    bc::apply_set(copy, "a.b=" + text.substr(0, 64));
  } catch (const bc::InputError& e) {
    if (e.diagnostics().empty()) __builtin_trap();
  }
  return 0;
}
