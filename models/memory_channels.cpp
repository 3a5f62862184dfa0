#include "models/memory_channels.h"

namespace bc {

MemoryChannels::MemoryChannels(int64_t channels, double total_bandwidth, double latency_s,
                               std::vector<int64_t> attach_nodes)
    : servers_(static_cast<size_t>(channels)),
      nodes_(std::move(attach_nodes)),
      per_channel_bw_(total_bandwidth / static_cast<double>(channels)),
      latency_(seconds_to_ticks(latency_s)) {}

std::vector<int64_t> MemoryChannels::spread(int64_t channels,
                                            const std::vector<int64_t>& candidates) {
  std::vector<int64_t> n;
  int64_t k = static_cast<int64_t>(candidates.size());
  for (int64_t c = 0; c < channels; ++c) n.push_back(candidates[(c * k) / channels]);
  return n;
}

double MemoryChannels::busy_max_s() const {
  Tick m = 0;
  for (const auto& s : servers_) m = std::max(m, s.busy_total);
  return ticks_to_seconds(m);
}

}  // namespace bc
