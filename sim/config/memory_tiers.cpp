#include "sim/config/memory_tiers.h"

namespace bc {

const std::array<TierType, kTiers>& tier_types() {
  static const std::array<TierType, kTiers> t = {{
      {kDram, "dram", "DRAM", "off-chip memory channels (absent: an SRAM-only chip)", false, "hbm3",
       100e-9, 80e9, 1},
      {kShared, "shared_sram", "shared SRAM", "optional on-chip shared SRAM level (like a GPU L2)",
       true, "sram_8kb_512b", 20e-9, std::nullopt, 2},
      {kDdr, "ddr", "DDR", "optional capacity tier behind DRAM (e.g. DDR behind HBM)", false,
       "hbm3", 100e-9, 80e9, 0},
  }};
  return t;
}

const TierType& tier_type(Level l) { return tier_types()[static_cast<size_t>(l)]; }

const char* level_name(Level l) { return l < kTiers ? tier_type(l).key : "stream"; }

}  // namespace bc
