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
  kLinkByte,        // bytes x chip-to-chip links traversed (a system's local links)
  kGlobalLinkByte,  // bytes x global links traversed (Dragonfly)
  kFixedActions
};

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
