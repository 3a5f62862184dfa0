// The chip's shared resources as one description for the mapper and the
// engine: the mesh, and where each memory level's channels attach to it. The
// engine simulates these objects; the mapper's estimate reads the same routes,
// channel placements and bandwidths from them, so there is one source for each.
#pragma once

#include "models/memory_channels.h"
#include "models/noc_mesh.h"
#include "models/sram_banks.h"
#include "sim/config/hw_config.h"
#include "sim/mapping/program.h"

namespace bc {

struct ChipResources {
  NocMesh noc;
  std::array<MemoryChannels, kTiers> tiers{};  // by Level; absent tiers are not present()
  MemoryChannels& level(Level l) { return tiers[l]; }
  const MemoryChannels& level(Level l) const { return tiers[l]; }
};

// One chip's mesh and memory tiers as the config describes them: an off-chip
// tier's controllers spread over the mesh perimeter, an on-chip tier's slices
// over all nodes.
ChipResources make_chip_resources(const HwConfig& hw);

// One core's scratchpad banks: banks x ports, each port_width bytes a cycle.
inline SramBanks make_core_sram(const HwConfig& h) {
  return SramBanks(h.sram.banks * h.sram.ports, h.sram.bank_width_bytes, h.freq_hz);
}

}  // namespace bc
