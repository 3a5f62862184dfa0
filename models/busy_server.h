// A shared resource that serves requests in arrival order: a request is granted
// at max(now, busy_until) and moves busy_until on by its duration. Contention
// between cores emerges from these servers, not from a formula.
// Requests are always made at the current simulation time (never booked ahead),
// and SystemC runs processes in time order, so each server sees its arrivals in
// time order: a FIFO single server fed that way is work-conserving (idle only
// when nobody is waiting for it), and its departures are monotone in arrival
// times and service times (Lindley's recursion D = max(A, D_prev) + S).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/config/limits.h"

namespace bc {

using Tick = uint64_t;  // picoseconds, the SystemC time resolution used here

// Durations saturate at limits::kMaxTicks (2^62 ps) instead of wrapping: two
// of them still add up inside 64 bits, and the engine refuses a run whose time
// reaches the limit (engine.cpp), so a 1e12 s latency is an error, not a short run.
inline constexpr Tick kMaxTicks = limits::kMaxTicks;
// Branch-free (it runs for every link a transfer crosses): both terms are
// clamped to the limit first, so their sum fits in 64 bits.
inline Tick sat_add(Tick a, Tick b) {
  return std::min(std::min(a, kMaxTicks) + std::min(b, kMaxTicks), kMaxTicks);
}

// Rounds up (less a millionth of a tick, so float noise on an exact count does
// not add one); written without std::ceil, which is a library call on x86-64.
// nan and anything past the limit give the limit.
inline Tick ceil_ticks(double ps) {
  const double x = ps - 1e-6;
  if (x <= 0) return 0;
  if (!(x < static_cast<double>(kMaxTicks))) return kMaxTicks;
  const Tick t = static_cast<Tick>(x);
  return static_cast<double>(t) < x ? t + 1 : t;
}
inline Tick seconds_to_ticks(double s) { return ceil_ticks(s * 1e12); }
inline double ticks_to_seconds(Tick t) { return static_cast<double>(t) * 1e-12; }

// Told of every interval a hooked server is occupied (the run's timeline,
// models/timeline.h); `track` is the id the observer gave the server.
struct BusyObserver {
  virtual void occupied(int32_t track, Tick start, Tick duration) = 0;

 protected:
  ~BusyObserver() = default;
};

struct BusyServer {
  Tick busy_until = 0;
  Tick busy_total = 0;               // for utilisation
  BusyObserver* observer = nullptr;  // null: no timeline (one branch per request)
  int32_t track = -1;
  Tick free_at(Tick now) const { return std::max(now, busy_until); }
  void occupy(Tick start, Tick duration) {
    // Neither term ever exceeds kMaxTicks (durations come from ceil_ticks, and
    // simulated time stops at the limit), so the sum fits in 64 bits and one
    // min saturates it: this runs for every link a transfer crosses.
    busy_until = std::min(start + duration, kMaxTicks);
    busy_total = std::min(busy_total + duration, kMaxTicks);
    if (observer) observer->occupied(track, start, duration);
  }
  // Serves `duration` of work requested at `now`; returns when it is done.
  Tick serve(Tick now, Tick duration) {
    occupy(free_at(now), duration);
    return busy_until;
  }
};

// A resource that keeps its reserved intervals rather than one busy-until
// time: a request takes the earliest gap that fits, so a transfer reserved
// ahead in time (after link latency, behind another rank's step) does not
// block one that arrives later in program order but earlier in time. Used for
// chip-to-chip links, where collectives reserve many transfers ahead; too slow
// for the on-chip servers, which see millions of requests and stay FIFO.
// Intervals that ended before `floor` (the current simulation time) are
// forgotten; a request finding no gap among the next kMaxProbe intervals queues
// after the last one, bounding the cost on a fragmented resource.
class Calendar {
 public:
  Tick reserve(Tick t, Tick dur, Tick floor) {
    busy_total += dur;
    while (head_ < busy_.size() && busy_[head_].second <= floor) ++head_;
    if (head_ > 256 && head_ * 2 > busy_.size()) {
      busy_.erase(busy_.begin(), busy_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    auto it = std::upper_bound(busy_.begin() + static_cast<std::ptrdiff_t>(head_), busy_.end(), t,
                               [](Tick v, const std::pair<Tick, Tick>& b) { return v < b.second; });
    for (int probe = 0; it != busy_.end() && it->first < t + dur; ++it, ++probe) {
      t = std::max(t, it->second);
      if (probe == kMaxProbe) {
        t = std::max(t, busy_.back().second);
        it = busy_.end();
        break;
      }
    }
    if (dur > 0) busy_.insert(it, {t, t + dur});
    return t;
  }
  Tick busy_total = 0;

 private:
  static constexpr int kMaxProbe = 16;
  std::vector<std::pair<Tick, Tick>> busy_;  // sorted, disjoint [start, end)
  size_t head_ = 0;                          // busy_[0, head_) ended before the floor
};

// Bytes per second -> ticks to move `bytes`.
inline Tick transfer_ticks(double bytes, double bytes_per_s) {
  return bytes <= 0 ? 0 : seconds_to_ticks(bytes / bytes_per_s);
}

}  // namespace bc
