// A shared resource that serves requests in arrival order: a request is granted
// at max(now, busy_until) and moves busy_until on by its duration. Contention
// between cores emerges from these servers, not from a formula.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace bc {

using Tick = uint64_t;  // picoseconds, the SystemC time resolution used here

inline Tick seconds_to_ticks(double s) { return static_cast<Tick>(std::ceil(s * 1e12 - 1e-6)); }
inline double ticks_to_seconds(Tick t) { return static_cast<double>(t) * 1e-12; }

struct BusyServer {
  Tick busy_until = 0;
  Tick busy_total = 0;  // for utilisation
  Tick free_at(Tick now) const { return std::max(now, busy_until); }
  void occupy(Tick start, Tick duration) {
    busy_until = start + duration;
    busy_total += duration;
  }
};

// Bytes per second -> ticks to move `bytes`.
inline Tick transfer_ticks(double bytes, double bytes_per_s) {
  return bytes <= 0 ? 0 : seconds_to_ticks(bytes / bytes_per_s);
}

}  // namespace bc
