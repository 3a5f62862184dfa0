// A run's timeline: Chrome / Perfetto trace-event JSON (opens in
// ui.perfetto.dev or chrome://tracing). One process per core (a track per
// compute unit and lanes for the DMA engine's loads and stores), one per chip's
// NoC (a track per directed link) and one per chip's memory (a track per level:
// DRAM, shared SRAM, DDR, each one server of all its channels). One slice per
// unit step of a tile, per DMA transfer (from issue to completion) and per
// occupancy of a link or memory level.
//
// The engine holds an optional pointer to a Timeline (ChipContext::timeline);
// null costs one branch per step. Links and channels report through the
// BusyObserver hook of busy_server.h; back-to-back occupancies of a link or
// channel by the same op merge into one slice. Large runs: `limit` caps the
// slices kept (the first ones recorded, in simulation order), links and
// channels taking at most half of it so that they cannot crowd out the cores'
// slices; `window` keeps only the slices starting inside [from, to). The file
// says how many were left out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/busy_server.h"

namespace bc {

struct ChipContext;
struct Program;

class Timeline : public BusyObserver {
 public:
  struct Options {
    uint64_t limit = 0;  // slices kept at most (0: all)
    Tick from = 0;       // keep slices starting in [from, to)
    Tick to = ~Tick(0);
  };
  explicit Timeline(Options o) : opt_(o) {}

  // Names the tracks of a chip context's cores, links and channels, and hooks
  // the links and channels. Call once, before the simulation starts.
  void attach(ChipContext& chip);

  // Slice kinds (the trace event's category).
  enum Cat : uint8_t {
    kCompute,
    kPrecompute,
    kConvert,
    kLoad,
    kStore,
    kPull,
    kLink,
    kChannel,
    kCollective
  };

  // A unit step of a tile on core `core`.
  void unit_step(int core, int unit, Tick start, Tick dur, int op, uint8_t tag);
  // A DMA transfer of core `core`, from issue to completion.
  void transfer(int core, Tick start, Tick end, int op, double bytes, Cat cat);
  // A collective of chip `chip` on the chip-to-chip links, start to end.
  void collective(int chip, Tick start, Tick end, int op);
  // The op whose transfer is being booked (names the link and channel slices).
  void set_op(int op) { op_ = op; }
  void occupied(int32_t track, Tick start, Tick duration) override;

  // The trace-event JSON document.
  std::string json() const;
  uint64_t recorded() const { return static_cast<uint64_t>(ev_.size()); }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Track {
    int32_t pid, tid;
    std::string name;
    uint8_t cat = kCompute;  // of the hooked tracks' slices
    // The track's last slice (links and channels, to merge back-to-back
    // occupancies): its end, op, and index in ev_ if it was kept (else -1).
    Tick last_end = ~Tick(0);
    int32_t last_op = -2;
    int64_t last = -1;
  };
  struct Event {
    Tick start, dur;
    int32_t track, op;
    double bytes;
    uint8_t cat;
  };
  int32_t add_track(int32_t pid, int32_t tid, std::string name, uint8_t cat = kCompute);
  int32_t add_process(std::string name);
  void push(int32_t track, Tick start, Tick dur, int op, double bytes, uint8_t cat);
  int32_t dma_lane(int core, bool load, Tick start, Tick end);

  Options opt_;
  const Program* prog_ = nullptr;       // names the slices (outlives the chip context)
  std::vector<std::string> processes_;  // pid - 1 -> name
  std::vector<Track> tracks_;
  std::vector<int32_t> unit_track_;  // core * units + unit
  int units_ = 0;
  // Per core, per direction: DMA lanes (each a track) and when each lane frees;
  // a transfer takes the first free lane, so a lane's slices never overlap.
  struct Lanes {
    std::vector<int32_t> track;
    std::vector<Tick> free_at;
  };
  std::vector<Lanes> load_lanes_, store_lanes_;
  std::vector<int32_t> core_pid_;
  std::vector<int32_t> collective_track_;  // per simulated chip
  std::vector<Event> ev_;
  uint64_t dropped_ = 0;
  uint64_t resource_slices_ = 0;  // kept slices of links and channels
  int op_ = -1;
};

}  // namespace bc
