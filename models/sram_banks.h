// A core's banked scratchpad. Every access interleaves over all banks (tiles
// are laid out bank-striped), so the banks are always equally loaded and act as
// one server of (banks x ports) x bank_width bytes per cycle; DMA fills and the
// units' operand reads contend for it.
#pragma once

#include <cstdint>

#include "models/busy_server.h"

namespace bc {

class SramBanks {
 public:
  // `ports` = banks x ports per bank, each moving port_width bytes per cycle.
  SramBanks(int64_t ports, double port_width_bytes, double freq_hz)
      : bw_(static_cast<double>(ports) * port_width_bytes * freq_hz) {}

  double bandwidth() const { return bw_; }  // bytes/s, all banks
  // Ticks the banks are busy for an access of `bytes`.
  Tick bank_ticks(double bytes) const { return transfer_ticks(bytes, bw_); }
  Tick free_at(Tick now) const { return server_.free_at(now); }
  void occupy(Tick start, Tick ticks) { server_.occupy(start, ticks); }
  BusyServer& server() { return server_; }
  // Reserves an access now (in order); returns when it completes.
  Tick access(Tick now, double bytes) {
    if (bytes <= 0) return now;
    Tick s = free_at(now), d = bank_ticks(bytes);
    occupy(s, d);
    return s + d;
  }

 private:
  double bw_;  // bytes/s, all banks
  BusyServer server_;
};

}  // namespace bc
