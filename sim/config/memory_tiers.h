// Global memory tiers: the kinds of memory a chip's `memory:` section can
// describe, in one table (memory_tiers.cpp). Config reading, the resolved
// config, the channel placement on the mesh, the engine's action counters,
// energy, area and the reports all walk this table; a new tier is one row
// here (with its Level and its two action counters) and a library entry.
// What a tier is for (DRAM as the home of weights and activations, the shared
// SRAM as the filter in front of it, DDR as the capacity behind it) is the
// mapper's placement policy, which names tiers by Level.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace bc {

// Where a transfer goes: a tier, or kStream (another core group's SRAM, in
// dataflow execution). The tiers come first, in table order.
enum Level : uint8_t { kDram = 0, kShared = 1, kDdr = 2, kStream = 3, kLevels = 4 };
inline constexpr int kTiers = 3;  // Levels kDram .. kTiers - 1 are memory tiers

struct TierType {
  Level level;
  const char* key;    // memory.<key> in a config; the component name in reports
  const char* label;  // in messages: "DRAM", "shared SRAM", "DDR"
  const char* help;   // the section's help in the key reference
  // On the die: built of SRAM macros (memory.<key>.cell; area per macro),
  // channels spread over every mesh node, energy scaled with the core clock
  // under DVFS. Off chip: PHY + controller interfaces (memory.<key>.type and
  // .interfaces; area per interface), channels on the mesh perimeter.
  bool on_chip;
  const char* default_component;
  double default_latency_s;
  std::optional<double> default_capacity;  // bytes; none: the size is required
  int move_rank;  // `bitcycle move`'s default order: the deepest (capacity) tier first
};

const std::array<TierType, kTiers>& tier_types();
const TierType& tier_type(Level l);
// The tier's config key, or "stream".
const char* level_name(Level l);

}  // namespace bc
