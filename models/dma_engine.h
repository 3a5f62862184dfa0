// A core's DMA engine: moves a tile's operands between a global memory level
// (DRAM channels or shared SRAM slices) and the core's scratchpad over the NoC.
// The transfer splits over the level's channels (fine address interleaving).
// Each piece flows cut-through along its path: for a load, the memory channel,
// the mesh links of its XY route, the DMA engine, then the scratchpad banks (a
// store runs the path backwards). Every stage is a FIFO server: it starts the
// piece when it is free and the previous stage has started (plus a router hop),
// streams it at its own bandwidth, and cannot finish before the previous stage
// has delivered the last byte. Queues at any stage delay everything behind it.
#pragma once

#include <cstdint>

#include "models/action_ids.h"
#include "models/busy_server.h"
#include "models/memory_channels.h"
#include "models/noc_mesh.h"
#include "models/sram_banks.h"

namespace bc {

class DmaEngine {
 public:
  explicit DmaEngine(double bandwidth) : bw_(bandwidth) {}

  // Load (level -> SRAM) or store (SRAM -> level) of `bytes`; returns completion.
  // Counts level read/write bytes, SRAM bytes and NoC byte-hops.
  Tick transfer(Tick now, double bytes, bool load, MemoryChannels& level, int level_read_action,
                int level_write_action, int64_t core_node, NocMesh& noc, SramBanks& sram,
                const CountSink& counts);
  // Dataflow streaming: pulls `bytes` from another core's scratchpad (src_sram at
  // src_node) into this core's, cut-through over the source's banks, the mesh
  // route, this engine and the local banks. The same bytes go to `readers`
  // cores (a multicast): the source reads them once and the route carries them
  // once for all readers, so this pull takes 1/readers of the source's banks and
  // of the route's links except the last, which delivers them to this core alone.
  // Counts SRAM bytes and NoC byte-hops likewise.
  Tick pull(Tick now, double bytes, double readers, int64_t src_node, SramBanks& src_sram,
            int64_t core_node, NocMesh& noc, SramBanks& sram, const CountSink& counts);
  double busy_s() const { return ticks_to_seconds(server_.busy_total); }

 private:
  double bw_;
  BusyServer server_;
};

}  // namespace bc
