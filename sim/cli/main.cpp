#include <cstdlib>

#include "sim/cli/cli.h"

namespace {
// libsystemc prints its banner before sc_main runs unless this is set; set it
// during static initialisation, before libsystemc's main().
const int kQuietSystemC = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
}  // namespace

// libsystemc supplies main(), which sets up the kernel and calls sc_main.
extern "C" int sc_main(int argc, char** argv) { return bc::cli_main(argc, argv); }
