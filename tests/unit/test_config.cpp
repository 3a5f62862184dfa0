// Config loading and every class of config error. Expected texts are exact:
// the message is the product.
#include <gtest/gtest.h>

#include "helpers.h"
#include "models/action_ids.h"
#include "sim/mapping/energy.h"

using namespace bc;
using namespace bc::test;

TEST(Config, SmallConfigLoadsWithDefaults) {
  HwConfig hw = load_hw_config(write_temp("hw.yaml", small_config()));
  EXPECT_EQ(hw.cores(), 4);
  EXPECT_DOUBLE_EQ(hw.sram.size_bytes, 1048576.0);
  EXPECT_EQ(hw.sram.banks, 8);
  EXPECT_DOUBLE_EQ(hw.sram.bank_width_bytes, 64.0);  // default
  EXPECT_DOUBLE_EQ(hw.dram().bandwidth, 100e9);
  EXPECT_DOUBLE_EQ(hw.dram().latency_s, 100e-9);
  ASSERT_EQ(hw.units.size(), 2u);
  EXPECT_EQ(hw.units[0].type, "mac_array");
  EXPECT_EQ(hw.units[1].type, "vector_unit");
}

TEST(ConfigErrors, UnknownKeySuggestsNearest) {
  auto e = config_errors(replace_line(small_config(), 14, "    bankz: 8"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "F:14:5: error: core.sram.bankz: unknown key (did you mean \"banks\"? valid keys: "
            "bank_width, "
            "banks, cell, ports, size)");
}

TEST(ConfigErrors, WrongType) {
  auto e = config_errors(replace_line(small_config(), 20, "      rows: many"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "F:20:13: error: core.units.mac.rows: expected an integer, got \"many\"");
}

TEST(ConfigErrors, MapWhereScalarExpected) {
  auto e = config_errors(replace_line(small_config(), 4, "frequency: {value: 1}"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "F:4:12: error: frequency: expected 1.2 GHz, got a map");
}

TEST(ConfigErrors, MissingField) {
  auto e = config_errors(replace_line(small_config(), 4, ""));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(
      e[0],
      "F:1:1: error: frequency: missing required key (a frequency) (add e.g. frequency: 1.2 GHz)");
}

TEST(ConfigErrors, OutOfRange) {
  auto e = config_errors(replace_line(small_config(), 20, "      rows: 0"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "F:20:13: error: core.units.mac.rows: value 0 out of range: must be >= 1 and <= 65536");
}

TEST(ConfigErrors, NegativeAndZeroSizes) {
  auto neg = config_errors(replace_line(small_config(), 13, "    size: -1 MiB"));
  ASSERT_EQ(neg.size(), 1u);
  EXPECT_EQ(neg[0], "F:13:11: error: core.sram.size: value -1 MiB out of range: must be > 0 B");
  auto zero = config_errors(replace_line(small_config(), 30, "    bandwidth: 0 GB/s"));
  ASSERT_EQ(zero.size(), 1u);
  EXPECT_EQ(zero[0],
            "F:30:16: error: memory.dram.bandwidth: value 0 GB/s out of range: must be > 0 B/s");
}

TEST(ConfigErrors, UnknownUnit) {
  auto e = config_errors(replace_line(small_config(), 13, "    size: 1 MiX"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "F:13:11: error: core.sram.size: unknown size unit \"MiX\" in \"1 MiX\" (did you mean "
            "\"MiB\"? "
            "units: B, KB, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, bit, Kibit, Mibit)");
}

TEST(ConfigErrors, UnknownChoiceAndUnitType) {
  auto e = config_errors(replace_line(small_config(), 19, "      type: mac_aray"));
  ASSERT_GE(e.size(), 1u);
  EXPECT_EQ(e[0],
            "F:19:13: error: core.units.mac.type: unknown value \"mac_aray\"; expected one of "
            "bit_serial_array|lut_tensor_core|mac_array|vector_unit (did you mean \"mac_array\"?)");
}

TEST(ConfigErrors, AllErrorsOfAFileAtOnce) {
  std::string t = replace_line(small_config(), 20, "      rows: 0");
  t = replace_line(t, 14, "    bankz: 8");
  auto e = config_errors(t);
  EXPECT_EQ(e.size(), 2u);
}

TEST(ConfigErrors, MalformedYaml) {
  auto e = config_errors(replace_line(small_config(), 9, "  link_bandwidth: [1 TB/s"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].substr(0, 2), "F:");
  EXPECT_NE(e[0].find("error: malformed YAML"), std::string::npos) << e[0];
}

TEST(ConfigErrors, MissingFile) {
  try {
    load_hw_config("/nonexistent/hw.yaml");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/hw.yaml: error: cannot open file (check the path)");
  }
}

TEST(ConfigErrors, NodeOutsideScalingTable) {
  auto e = config_errors(replace_line(small_config(), 3, "node: 3 nm"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "F:3:7: error: node: node 3 nm is outside the scaling table (5 nm to 45 nm) of " +
                      library_path());
}

TEST(ConfigErrors, LibraryComponentMissing) {
  auto e = config_errors(small_config() + "    type: hbm33\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "F:32:11: error: memory.dram.type: component \"hbm33\" is not in the library " +
                      library_path() + " (did you mean \"hbm3\"?)");
}

TEST(ConfigSet, OverridesWithSameValidation) {
  std::string p = write_temp("hw.yaml", small_config());
  HwConfig hw = load_hw_config(p, {"memory.dram.bandwidth=200 GB/s", "core.units.mac.rows=64"});
  EXPECT_DOUBLE_EQ(hw.dram().bandwidth, 200e9);
  EXPECT_EQ(build_units(hw.units)[0]->resolved()["rows"], 64);  // units built later see --set
  auto e = config_errors(small_config(), {"core.sram.size=12 furlongs"});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(
      e[0].rfind("--set core.sram.size=12 furlongs: error: core.sram.size: unknown size unit", 0),
      0u)
      << e[0];
  auto u = config_errors(small_config(), {"core.sram.colour=red"});
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].rfind("--set core.sram.colour=red: error: core.sram.colour: unknown key", 0), 0u)
      << u[0];
}

TEST(ConfigInclude, VariantOverridesBase) {
  std::string base = write_temp("base.yaml", small_config());
  std::string v = write_temp("variant.yaml",
                             "include: base.yaml\n"
                             "name: variant\n"
                             "core:\n"
                             "  sram:\n"
                             "    size: 4 MiB\n");
  (void)base;
  HwConfig hw = load_hw_config(v);
  EXPECT_EQ(hw.name, "variant");
  EXPECT_DOUBLE_EQ(hw.sram.size_bytes, 4.0 * 1048576);
  EXPECT_EQ(hw.sram.banks, 8);  // kept from the base
  // An error in the variant is reported at the variant's line.
  std::string bad = write_temp("bad.yaml", "include: base.yaml\ncore:\n  sram:\n    size: 4 MiX\n");
  try {
    load_hw_config(bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind(bad + ":4:11: error: core.sram.size: unknown size unit", 0), 0u)
        << e.what();
  }
}

TEST(ConfigInclude, EveryShippedConfigLoads) {
  // Guards against a unit type silently missing from the build (its
  // registration dropped): every config in configs/hw must load.
  for (const auto& e : std::filesystem::directory_iterator(project_root() + "/configs/hw")) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().string());
    EXPECT_NO_THROW(load_hw_config(e.path().string()));
  }
}

TEST(ConfigErrors, WrongKindOfSectionIsOneError) {
  // A scalar where a map belongs is reported once, not again as missing keys inside it.
  auto e = config_errors(small_config(), {"noc.mesh=3"});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "--set noc.mesh=3: error: noc.mesh: expected a map of keys, got a scalar");
}

namespace bc {
namespace {

// The memory-tier table (sim/config/memory_tiers.h) is what config reading,
// the engine's counters, energy, area and reports walk: its rows follow the
// Level order and the counters, and each tier a config has shows up under its
// key in the resolved config, the energy catalog and (off chip) the area list.
TEST(MemoryTiers, TableFollowsLevelsCountersAndReports) {
  for (int i = 0; i < kTiers; ++i) {
    const TierType& t = tier_types()[static_cast<size_t>(i)];
    EXPECT_EQ(t.level, i);
    EXPECT_STREQ(level_name(t.level), t.key);
  }
  EXPECT_EQ(tier_read_action(kDram), kDramRead);
  EXPECT_EQ(tier_write_action(kShared), kSharedWrite);
  EXPECT_EQ(tier_read_action(kDdr), kDdrRead);
  EXPECT_STREQ(level_name(kStream), "stream");
  // sn40l.yaml has DRAM and DDR; with a shared SRAM added, all three tiers.
  HwConfig hw =
      load_hw_config(project_root() + "/configs/hw/sn40l.yaml",
                     {"memory.shared_sram.size=8MB", "memory.shared_sram.bandwidth=1TB/s"});
  auto cat = action_catalog(hw);
  auto areas = component_areas(hw);
  for (const TierType& t : tier_types()) {
    ASSERT_TRUE(hw.tier(t.level).present) << t.key;
    EXPECT_TRUE(hw.resolved_tree["memory"].contains(t.key)) << t.key;
    EXPECT_EQ(cat[static_cast<size_t>(tier_read_action(t.level))].component, t.key);
    EXPECT_EQ(cat[static_cast<size_t>(tier_write_action(t.level))].action, "write_byte");
    bool in_area = false;
    for (const auto& a : areas) in_area |= a.component == t.key;
    EXPECT_TRUE(in_area) << t.key;
  }
  // A tier the config leaves out is absent from all of them.
  HwConfig one = load_hw_config(project_root() + "/configs/hw/default.yaml");
  EXPECT_FALSE(one.ddr().present);
  EXPECT_FALSE(one.resolved_tree["memory"].contains("ddr"));
  EXPECT_TRUE(action_catalog(one)[kDdrRead].library.empty());
}

}  // namespace
}  // namespace bc
