// A core's DMA engine: moves a tile's operands between a global memory level
// (DRAM channels or shared SRAM slices) and the core's scratchpad over the NoC.
//
// Resource model (why it is built this way): every resource a transfer needs
// (the level's channels, each mesh link its pieces cross, this DMA engine, the
// scratchpad banks) is a FIFO server, and the transfer asks each of them for
// its own share of the work at the moment it is issued. A resource is
// therefore never reserved while it waits for a slower one upstream, and never
// booked ahead of the present: it is busy exactly for the bytes it moves, and
// idle only when no request is pending (work-conserving). The transfer is
// complete when its last resource has delivered, plus the pipeline's fixed
// delays (the level's access latency and one router delay per hop). Without
// contention this is cut-through streaming at the bottleneck's rate:
//   latency + routers x hop + max(bytes / bandwidth of each resource);
// under contention each resource queues its requests in arrival order.
// This is the bottleneck (max over resources) form of a flow model; the
// mapper's estimate (sim/mapping/cost_model.h) uses the same resources and shares, so the
// two differ only by queueing.
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
  // Counts level read/write bytes, SRAM bytes and NoC byte-hops. `multicast`:
  // of a load's bytes, those a peer core of the cluster reads from the level
  // for both (core.dma.multicast): they take no channel time here, and cross
  // the mesh, this engine and the banks as the rest. Their energy is still
  // counted as the level's read: a GPU's L2 figure holds the crossbar that
  // carries each copy to its SM, and no published split says how much of it
  // the one slice read is (so the saving is the slices' time, not energy).
  Tick transfer(Tick now, double bytes, bool load, MemoryChannels& level, int level_read_action,
                int level_write_action, int64_t core_node, NocMesh& noc, SramBanks& sram,
                const CountSink& counts, double multicast = 0);
  // Dataflow streaming: pulls `bytes` from another core's scratchpad (src_sram at
  // src_node) into this core's, over the source's banks, the mesh route, this
  // engine and the local banks. The same bytes go to `readers` cores (a
  // multicast): the source reads them once and the route carries them once for
  // all readers, so this pull takes 1/readers of the source's banks and of the
  // route's links except the last, which delivers them to this core alone.
  // Counts SRAM bytes and NoC byte-hops likewise.
  Tick pull(Tick now, double bytes, double readers, int64_t src_node, SramBanks& src_sram,
            int64_t core_node, NocMesh& noc, SramBanks& sram, const CountSink& counts);
  double bandwidth() const { return bw_; }
  double busy_s() const { return ticks_to_seconds(server_.busy_total); }

 private:
  double bw_;
  BusyServer server_;
};

}  // namespace bc
