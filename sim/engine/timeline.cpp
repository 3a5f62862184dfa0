#include "sim/engine/timeline.h"

#include <cinttypes>
#include <cstdio>

#include "sim/engine/core.h"

namespace bc {

namespace {

const char* cat_name(uint8_t c) {
  static const char* names[] = {"compute", "precompute", "convert", "load",      "store",
                                "pull",    "link",       "channel", "collective"};
  return c < 9 ? names[c] : "?";
}

// JSON string escaping for names (op names are plain, but stay safe).
void append_escaped(std::string& out, const std::string& s) {
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
}

// Picoseconds as microseconds, exactly (trace-event times are in us).
void append_us(std::string& out, Tick ps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%" PRIu64 ".%06" PRIu64, ps / 1000000, ps % 1000000);
  out += buf;
}

}  // namespace

int32_t Timeline::add_process(std::string name) {
  processes_.push_back(std::move(name));
  return static_cast<int32_t>(processes_.size());  // pids from 1
}

int32_t Timeline::add_track(int32_t pid, int32_t tid, std::string name, uint8_t cat) {
  tracks_.push_back({pid, tid, std::move(name), cat});
  return static_cast<int32_t>(tracks_.size() - 1);
}

void Timeline::attach(ChipContext& chip) {
  prog_ = &chip.prog;
  const HwConfig& hw = chip.hw;
  const int64_t cores = hw.cores();
  const int chips = chip.prog.chips;
  units_ = static_cast<int>(hw.units.size());
  auto prefix = [&](int k) {
    return chips > 1 ? "chip " + std::to_string(k) + " " : std::string();
  };
  const int64_t all = cores * chips;
  unit_track_.assign(static_cast<size_t>(all * units_), -1);
  load_lanes_.assign(static_cast<size_t>(all), {});
  store_lanes_.assign(static_cast<size_t>(all), {});
  core_pid_.assign(static_cast<size_t>(all), 0);
  for (int64_t c = 0; c < all; ++c) {
    const int64_t n = c % cores;
    core_pid_[c] =
        add_process(prefix(static_cast<int>(c / cores)) + "core " + std::to_string(n) + " (" +
                    std::to_string(n % hw.mesh_x) + "," + std::to_string(n / hw.mesh_x) + ")");
    for (int u = 0; u < units_; ++u)
      unit_track_[c * units_ + u] = add_track(core_pid_[c], u + 1, hw.units[u].name);
  }
  static const char* dir[] = {"+x", "-x", "+y", "-y"};
  for (int k = 0; k < chips; ++k) {
    ChipResources& r = chip.chips[static_cast<size_t>(k)];
    const int32_t noc = add_process(prefix(k) + "NoC links");
    std::vector<int32_t> link_tracks;
    for (int64_t node = 0; node < r.noc.nodes(); ++node)
      for (int d = 0; d < 4; ++d)
        link_tracks.push_back(add_track(noc, static_cast<int32_t>(node * 4 + d + 1),
                                        "link (" + std::to_string(node % hw.mesh_x) + "," +
                                            std::to_string(node / hw.mesh_x) + ") " + dir[d],
                                        kLink));
    r.noc.observe_links(this, std::move(link_tracks));
    // A level's channels interleave finely and always carry equal shares, so
    // the level is one server (models/memory_channels.h): one track per level.
    int32_t mem_pid = 0, tid = 0;
    auto level = [&](MemoryChannels& m, const char* what, const char* item) {
      if (!m.present()) return;
      if (mem_pid == 0) mem_pid = add_process(prefix(k) + "memory");
      BusyServer& s = m.server();
      s.observer = this;
      s.track = add_track(mem_pid, ++tid,
                          std::string(what) + " (" + std::to_string(m.channels()) + " " + item +
                              (m.channels() > 1 ? "s" : "") + ")",
                          kChannel);
    };
    for (const TierType& t : tier_types())
      level(r.level(t.level), t.label, t.on_chip ? "slice" : "channel");
    if (chip.links)
      collective_track_.push_back(
          add_track(add_process(prefix(k) + "chip-to-chip links"), 1, "collectives"));
  }
}

void Timeline::push(int32_t track, Tick start, Tick dur, int op, double bytes, uint8_t cat) {
  Track& t = tracks_[static_cast<size_t>(track)];
  const bool resource = cat == kLink || cat == kChannel;
  if (resource) {
    // Back-to-back with the track's last slice, same op: the same slice, kept
    // or left out with it (so a limit or window never splits one).
    const bool merge = t.last_end == start && t.last_op == op;
    t.last_end = start + dur;
    t.last_op = op;
    if (merge) {
      if (t.last >= 0) ev_[static_cast<size_t>(t.last)].dur += dur;
      return;
    }
    t.last = -1;
  }
  if (start < opt_.from || start >= opt_.to) return;
  if (opt_.limit > 0 &&
      (ev_.size() >= opt_.limit || (resource && 2 * resource_slices_ >= opt_.limit))) {
    ++dropped_;
    return;
  }
  if (resource) {
    ++resource_slices_;
    t.last = static_cast<int64_t>(ev_.size());
  }
  ev_.push_back({start, dur, track, op, bytes, cat});
}

void Timeline::unit_step(int core, int unit, Tick start, Tick dur, int op, uint8_t tag) {
  push(unit_track_[static_cast<size_t>(core) * units_ + unit], start, dur, op, 0,
       tag == 1   ? kPrecompute
       : tag == 2 ? kConvert
                  : kCompute);
}

int32_t Timeline::dma_lane(int core, bool load, Tick start, Tick end) {
  Lanes& l = (load ? load_lanes_ : store_lanes_)[static_cast<size_t>(core)];
  for (size_t i = 0; i < l.free_at.size(); ++i)
    if (l.free_at[i] <= start) {
      l.free_at[i] = end;
      return l.track[i];
    }
  const int32_t lane = static_cast<int32_t>(l.track.size());
  l.track.push_back(
      add_track(core_pid_[core], (load ? 100 : 200) + lane,
                std::string("DMA ") + (load ? "load" : "store") + " " + std::to_string(lane)));
  l.free_at.push_back(end);
  return l.track.back();
}

void Timeline::transfer(int core, Tick start, Tick end, int op, double bytes, Cat cat) {
  if (end <= start) return;
  push(dma_lane(core, cat != kStore, start, end), start, end - start, op, bytes, cat);
}

void Timeline::collective(int chip, Tick start, Tick end, int op) {
  if (end > start && static_cast<size_t>(chip) < collective_track_.size())
    push(collective_track_[static_cast<size_t>(chip)], start, end - start, op, 0, kCollective);
}

void Timeline::occupied(int32_t track, Tick start, Tick duration) {
  if (duration == 0) return;
  push(track, start, duration, op_, 0, tracks_[static_cast<size_t>(track)].cat);
}

std::string Timeline::json() const {
  std::vector<bool> used(tracks_.size(), false), proc_used(processes_.size() + 1, false);
  for (const Event& e : ev_) used[e.track] = true;
  for (size_t t = 0; t < tracks_.size(); ++t)
    if (used[t]) proc_used[tracks_[t].pid] = true;
  std::string out;
  out.reserve(ev_.size() * 150 + tracks_.size() * 100 + 512);
  out += "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"bitcycle run --timeline\"";
  out += ",\"slices\":" + std::to_string(ev_.size());
  out += ",\"dropped_slices\":" + std::to_string(dropped_);
  out += ",\"limit\":" + std::to_string(opt_.limit);
  out += "},\n\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  for (size_t p = 1; p <= processes_.size(); ++p) {
    if (!proc_used[p]) continue;
    sep();
    out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(p) +
           ",\"args\":{\"name\":\"";
    append_escaped(out, processes_[p - 1]);
    out += "\"}},\n{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" + std::to_string(p) +
           ",\"args\":{\"sort_index\":" + std::to_string(p) + "}}";
  }
  for (size_t t = 0; t < tracks_.size(); ++t) {
    if (!used[t]) continue;
    const Track& k = tracks_[t];
    sep();
    out += "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + std::to_string(k.pid) +
           ",\"tid\":" + std::to_string(k.tid) + ",\"args\":{\"name\":\"";
    append_escaped(out, k.name);
    out += "\"}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":" + std::to_string(k.pid) +
           ",\"tid\":" + std::to_string(k.tid) +
           ",\"args\":{\"sort_index\":" + std::to_string(k.tid) + "}}";
  }
  for (const Event& e : ev_) {
    const Track& k = tracks_[e.track];
    sep();
    out += "{\"ph\":\"X\",\"name\":\"";
    if (e.op >= 0 && prog_)
      append_escaped(out, prog_->ops[static_cast<size_t>(e.op)].name);
    else
      out += cat_name(e.cat);
    out += "\",\"cat\":\"";
    out += cat_name(e.cat);
    out += "\",\"ts\":";
    append_us(out, e.start);
    out += ",\"dur\":";
    append_us(out, e.dur);
    out += ",\"pid\":" + std::to_string(k.pid) + ",\"tid\":" + std::to_string(k.tid);
    if (e.bytes > 0) {
      char buf[48];
      std::snprintf(buf, sizeof buf, ",\"args\":{\"bytes\":%.17g}", e.bytes);
      out += buf;
    }
    out += "}";
  }
  out += "\n]}\n";
  return out;
}

}  // namespace bc
