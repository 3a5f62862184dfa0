#include <gtest/gtest.h>

#include "sim/config/quantity.h"

using namespace bc;

TEST(Quantity, ParsesUnits) {
  EXPECT_DOUBLE_EQ(parse_quantity("1.2 GHz", Dim::Frequency).value, 1.2e9);
  EXPECT_DOUBLE_EQ(parse_quantity("512 KiB", Dim::Bytes).value, 524288.0);
  EXPECT_DOUBLE_EQ(parse_quantity("3.35 TB/s", Dim::Bandwidth).value, 3.35e12);
  EXPECT_DOUBLE_EQ(parse_quantity("0.9 pJ", Dim::Energy).value, 0.9e-12);
  EXPECT_DOUBLE_EQ(parse_quantity("28 nm", Dim::Length).value, 28e-9);
  EXPECT_DOUBLE_EQ(parse_quantity("28nm", Dim::Length).value, 28e-9);
}

TEST(Quantity, RejectsUnknownUnitWithSuggestion) {
  auto q = parse_quantity("512 KiX", Dim::Bytes);
  EXPECT_EQ(q.error, "unknown size unit \"KiX\" in \"512 KiX\"");
  EXPECT_NE(q.hint.find("did you mean \"KiB\"?"), std::string::npos);
}

TEST(Quantity, RejectsMissingUnit) {
  EXPECT_FALSE(parse_quantity("512", Dim::Bytes).error.empty());
  EXPECT_TRUE(parse_quantity("512", Dim::Cycles).error.empty());
}
