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

// The limits as the README writes them parse (they had been unknown units),
// and outputs keep their units: 1 PB still prints as 1000 TB.
TEST(Quantity, TheLimitsParseInTheUnitsTheReadmeGives) {
  EXPECT_DOUBLE_EQ(parse_quantity("1 PB", Dim::Bytes).value, 1e15);
  EXPECT_DOUBLE_EQ(parse_quantity("1 EB/s", Dim::Bandwidth).value, 1e18);
  EXPECT_DOUBLE_EQ(parse_quantity("2 PB/s", Dim::Bandwidth).value, 2e15);
  EXPECT_DOUBLE_EQ(parse_quantity("1 THz", Dim::Frequency).value, 1e12);
  EXPECT_DOUBLE_EQ(parse_quantity("1 m2", Dim::Area).value, 1.0);
  EXPECT_EQ(format_quantity(1e15, Dim::Bytes), "1000 TB");
  EXPECT_EQ(format_quantity(1e18, Dim::Bandwidth), "1e+06 TB/s");
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
