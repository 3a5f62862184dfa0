#include "sim/mapping/unit_pipeline.h"

namespace bc {

namespace {

// Runs the rule over `tiles` with loads never late. Per entry: the cycles its
// tiles add to the schedule, averaged over its repeats (`avg`), and its
// steady-state period (`tail`: the mean of its last `stages` retirement gaps,
// which covers schedules that repeat every few tiles). Of a run, the first
// `sample` repeats are simulated and the rest take the tail period: past the
// fill the schedule of identical tiles repeats.
void run_pipeline(const std::vector<Tile>& tiles, const std::vector<TileCost>& costs,
                  int64_t stages, size_t units, std::vector<double>* avg,
                  std::vector<double>* tail) {
  const uint32_t sample = static_cast<uint32_t>(std::max<int64_t>(12, 4 * stages));
  avg->assign(tiles.size(), 0.0);
  tail->assign(tiles.size(), 0.0);
  auto dur = [&](const ComputeStep& st) { return static_cast<Tick>(costs[st.cost].cycles); };
  std::vector<Tick> unit_free(units, 0);
  std::vector<InFlight> flights;
  std::vector<size_t> entry_of;  // per flight, oldest first: its entry in `tiles`
  std::vector<Tick> gaps;        // the retiring entry's latest gaps (at most `stages`)
  size_t cur = 0, sampled = 0;   // the retiring entry, its tiles retired
  auto finish = [&](size_t e) {
    double g = 0;
    for (Tick x : gaps) g += static_cast<double>(x);
    (*tail)[e] = gaps.empty() ? 0 : g / static_cast<double>(gaps.size());
    const uint32_t r = std::max<uint32_t>(tiles[e].repeat, 1);
    if (r > sampled) (*avg)[e] += static_cast<double>(r - sampled) * (*tail)[e];
    (*avg)[e] /= static_cast<double>(r);
  };
  Tick now = 0, retired_at = 0;
  size_t next_entry = 0;
  uint32_t admitted = 0;  // of tiles[next_entry]'s sampled repeats
  while (next_entry < tiles.size() || !flights.empty()) {
    if (!flights.empty() && flights.front().step == flights.front().tile->nsteps &&
        flights.front().at <= now) {
      const size_t e = entry_of.front();
      if (e != cur) finish(cur), cur = e, sampled = 0, gaps.clear();
      const Tick gap = flights.front().at - retired_at;
      (*avg)[e] += static_cast<double>(gap);
      if (static_cast<int64_t>(gaps.size()) == stages) gaps.erase(gaps.begin());
      gaps.push_back(gap);
      ++sampled;
      retired_at = flights.front().at;
      flights.erase(flights.begin());
      entry_of.erase(entry_of.begin());
      continue;
    }
    if (next_entry < tiles.size() && static_cast<int64_t>(flights.size()) < stages) {
      flights.push_back({&tiles[next_entry], 0, now});
      entry_of.push_back(next_entry);
      if (++admitted >= std::min(tiles[next_entry].repeat, sample)) ++next_entry, admitted = 0;
      continue;
    }
    Tick next = kNever;
    if (InFlight* go = next_step(flights, unit_free, now, dur, &next)) {
      const ComputeStep& st = go->tile->steps[go->step];
      go->at = unit_free[st.unit] = now + dur(st);
      ++go->step;
      continue;
    }
    now = next;
  }
  if (!tiles.empty()) finish(cur);
}

bool one_unit(const std::vector<Tile>& tiles) {
  int unit = -1;
  for (const Tile& t : tiles)
    for (int s = 0; s < t.nsteps; ++s) {
      if (unit >= 0 && t.steps[s].unit != unit) return false;
      unit = t.steps[s].unit;
    }
  return true;
}

}  // namespace

std::vector<double> pipelined_cycles(const std::vector<Tile>& tiles,
                                     const std::vector<TileCost>& costs, int64_t stages,
                                     size_t units) {
  if (one_unit(tiles) || stages < 2) {
    std::vector<double> path(tiles.size(), 0.0);
    for (size_t i = 0; i < tiles.size(); ++i)
      for (int s = 0; s < tiles[i].nsteps; ++s)
        path[i] += static_cast<double>(costs[tiles[i].steps[s].cost].cycles);
    return path;
  }
  std::vector<double> avg, tail;
  run_pipeline(tiles, costs, stages, units, &avg, &tail);
  return avg;
}

double pipelined_period(const Tile& t, const std::vector<TileCost>& costs, int64_t stages,
                        size_t units) {
  std::vector<Tile> run{t};
  run[0].repeat = 1000;
  if (one_unit(run) || stages < 2) return pipelined_cycles(run, costs, stages, units)[0];
  std::vector<double> avg, tail;
  run_pipeline(run, costs, stages, units, &avg, &tail);
  return tail[0];
}

}  // namespace bc
