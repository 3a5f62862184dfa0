#include <gtest/gtest.h>

// libsystemc supplies main(), which calls sc_main: run the tests from here.
extern "C" int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
