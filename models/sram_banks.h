// A core's banked scratchpad. Accesses interleave over all banks; each bank
// serves bank_width bytes per cycle, so DMA fills and the units' operand reads
// contend for the same banks.
#pragma once

#include <cstdint>
#include <vector>

#include "models/busy_server.h"

namespace bc {

class SramBanks {
 public:
  SramBanks(int64_t banks, double bank_width_bytes, double freq_hz)
      : banks_(static_cast<size_t>(banks)), bank_bw_(bank_width_bytes * freq_hz) {}

  // Ticks each bank is busy for an access of `bytes` spread over all banks.
  Tick bank_ticks(double bytes) const {
    return transfer_ticks(bytes / static_cast<double>(banks_.size()), bank_bw_);
  }
  // The earliest all banks are free at or after `now`.
  Tick free_at(Tick now) const {
    Tick t = now;
    for (const auto& b : banks_) t = std::max(t, b.busy_until);
    return t;
  }
  void occupy(Tick start, Tick ticks) {
    for (auto& b : banks_) b.occupy(start, ticks);
  }
  // Reserves an access now (in order); returns when it completes.
  Tick access(Tick now, double bytes) {
    if (bytes <= 0) return now;
    Tick s = free_at(now), d = bank_ticks(bytes);
    occupy(s, d);
    return s + d;
  }

 private:
  std::vector<BusyServer> banks_;
  double bank_bw_;  // bytes/s per bank
};

}  // namespace bc
