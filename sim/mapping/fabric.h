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
  MemoryChannels dram, shared, ddr;
  MemoryChannels& level(Level l) { return l == kDram ? dram : l == kShared ? shared : ddr; }
};

// One chip's mesh and memory levels as the config describes them: DRAM and DDR
// controllers spread over the mesh perimeter, shared-SRAM slices over all nodes.
ChipResources make_chip_resources(const HwConfig& hw);

// One core's scratchpad banks: banks x ports, each port_width bytes a cycle.
inline SramBanks make_core_sram(const HwConfig& h) {
  return SramBanks(h.sram.banks * h.sram.ports, h.sram.bank_width_bytes, h.freq_hz);
}

}  // namespace bc
