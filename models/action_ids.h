// Action counters shared by the engine and the energy model. Fixed actions
// (memories, NoC) come first; each compute unit's actions follow at its offset.
#pragma once

namespace bc {

enum FixedAction : int {
  kSramRead = 0,  // bytes read from a core's scratchpad
  kSramWrite,     // bytes written to a core's scratchpad
  kNocByteHop,    // bytes x routers traversed
  kDramRead,      // bytes
  kDramWrite,
  kSharedRead,  // bytes, shared on-chip SRAM level
  kSharedWrite,
  kDdrRead,  // bytes, the capacity tier (DDR) behind DRAM (HBM)
  kDdrWrite,
  // (memory tier t's bytes read: kTierRead + 2 t, written: kTierRead + 2 t + 1,
  // in the order of sim/config/memory_tiers.h)
  kLinkByte,        // bytes x chip-to-chip links traversed (a system's local links)
  kGlobalLinkByte,  // bytes x global links traversed (Dragonfly)
  kFixedActions
};

inline constexpr int kTierRead = kDramRead;
inline constexpr int tier_read_action(int tier) { return kTierRead + 2 * tier; }
inline constexpr int tier_write_action(int tier) { return kTierRead + 2 * tier + 1; }
static_assert(tier_read_action(1) == kSharedRead && tier_write_action(2) == kDdrWrite,
              "tier counters follow the tier order");

// Adds counts to an op's and a core's counters at once.
struct CountSink {
  double* op = nullptr;
  double* core = nullptr;
  void add(int action, double v) const {
    op[action] += v;
    core[action] += v;
  }
};

}  // namespace bc
