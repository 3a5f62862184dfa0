#include <gtest/gtest.h>

#include <cstdlib>

namespace {
// Keep libsystemc's banner out of test output (set before its main() runs).
const int kQuietSystemC = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
}  // namespace

// libsystemc supplies main(), which calls sc_main: run the tests from here.
extern "C" int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
