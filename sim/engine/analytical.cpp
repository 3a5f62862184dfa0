#include "sim/engine/analytical.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <utility>

#include "models/action_ids.h"
#include "models/memory_channels.h"
#include "models/noc_mesh.h"
#include "sim/engine/chip_links.h"
#include "sim/engine/engine.h"
#include "sim/mapping/fabric.h"
#include "sim/mapping/unit_pipeline.h"

namespace bc {
namespace {

// One global memory level as the engine builds it: where its channels attach,
// and per core node the mean NoC path of a transfer (split evenly over the
// channels) as links with their share of the bytes.
struct LevelModel {
  bool present = false;
  double bytes_per_cycle = 0;                // all channels, reads
  const MemoryChannels* channels = nullptr;  // the engine's, for a written byte's channel time
  double latency_cycles = 0;
  int read = 0, write = 0;  // action ids
  // Per core node: routers traversed per byte, the most routers a piece passes,
  // and the links a load / a store crosses with the share of its bytes.
  std::vector<double> hops_per_byte, route_hops;
  std::vector<std::vector<std::pair<uint32_t, double>>> load_links, store_links;
};

// A level of the chip's resources (sim/mapping/fabric.h, the engine's and the cost
// model's one description): the same channel placement and, per core, the same
// fanout of a transfer over the mesh links (models/memory_channels.h).
LevelModel make_level(ChipResources& res, Level l, const ChannelsConfig& c, int read, int write,
                      double freq) {
  LevelModel m;
  if (!c.present) return m;
  MemoryChannels& ch = res.level(l);
  m.present = true;
  m.bytes_per_cycle = ch.bandwidth() / freq;  // the engine's channels: efficiency applied
  m.channels = &ch;
  m.read = read, m.write = write;
  const int64_t nodes = res.noc.nodes();
  m.hops_per_byte.assign(static_cast<size_t>(nodes), 0);
  m.route_hops.assign(static_cast<size_t>(nodes), 0);
  m.load_links.resize(static_cast<size_t>(nodes));
  m.store_links.resize(static_cast<size_t>(nodes));
  for (int64_t n = 0; n < nodes; ++n) {
    const size_t k = static_cast<size_t>(n);
    const Fanout& in = ch.fanout(res.noc, n, true);
    m.hops_per_byte[k] = in.byte_hop_factor;
    m.route_hops[k] = static_cast<double>(in.routers);
    m.load_links[k] = in.links;
    m.store_links[k] = ch.fanout(res.noc, n, false).links;
  }
  m.latency_cycles = c.latency_s * freq;
  return m;
}

}  // namespace

SimResult analytical_simulate(const HwConfig& hw, const Program& prog,
                              std::vector<AnalyticalOp>* detail, bool roofline_time) {
  const auto t0 = std::chrono::steady_clock::now();
  const double freq = hw.freq_hz;
  // Kernel launch gaps (GPU configs), where the engine applies them.
  const double launch_gap_s = hw.execution == "kernel" && !hw.deterministic ? hw.launch_gap_s : 0.0;
  const int64_t P = hw.cores();
  const size_t nops = prog.ops.size();

  SimResult r;
  r.unit_action_base = unit_action_bases(build_units(hw.units), &r.num_actions);
  const int na = r.num_actions;
  r.op_counts.assign(nops * static_cast<size_t>(na), 0.0);
  r.core_counts.assign(static_cast<size_t>(P * prog.chips) * static_cast<size_t>(na), 0.0);
  r.ops.resize(nops);

  // Every simulated chip has the same mesh and channel placement: one model.
  ChipResources res = make_chip_resources(hw);
  const NocMesh& noc = res.noc;
  const double hop_cycles = static_cast<double>(hw.noc_hop_cycles);
  std::array<LevelModel, kLevels> lv;
  for (const TierType& t : tier_types())
    lv[t.level] = make_level(res, t.level, hw.tier(t.level), tier_read_action(t.level),
                             tier_write_action(t.level), freq);
  const double link_bpc = hw.noc_link_bandwidth / freq;
  const double dma_bpc = hw.dma_bandwidth / freq;
  const double sram_bpc = make_core_sram(hw).bandwidth() / freq;
  const size_t nlinks = static_cast<size_t>(P * 4);

  // Each op's (core, CoreOp) entries, in each core's program order.
  std::vector<std::vector<std::pair<int, const CoreOp*>>> by_op(nops);
  for (size_t c = 0; c < prog.cores.size(); ++c)
    for (const CoreOp& co : prog.cores[c]) by_op[co.op].push_back({static_cast<int>(c), &co});

  // Whole-run resource totals, for the utilisations.
  std::array<double, kLevels> level_total{};
  std::vector<double> link_total(nlinks, 0.0), dma_total(prog.cores.size(), 0.0);
  std::vector<double> link_op(nlinks, 0.0);
  double chip_link_busy_s = 0;

  // Collectives: the link model run for one collective alone, cached by what
  // determines it (its groups follow from the op's kind and stage).
  struct LinkCost {
    double seconds = 0, local = 0, global = 0, busiest = 0;
  };
  std::map<std::tuple<std::string, std::string, int, double>, LinkCost> link_cache;
  auto collective_cost = [&](const OpPlan& p) {
    auto key = std::make_tuple(p.collective, p.group, p.chip, p.collective_bytes);
    auto hit = link_cache.find(key);
    if (hit != link_cache.end()) return hit->second;
    LinkCost lc;
    if (hw.system.present) {
      ChipLinks links(hw.system);
      // The groups of LinkProcess::groups: this stage's tensor ranks in every
      // replica, or (send) each rank and the same rank of the next stage.
      const SystemConfig& s = hw.system;
      std::vector<std::vector<int64_t>> g;
      for (int64_t rep = 0; rep < s.dp(); ++rep) {
        const int64_t base = (rep * s.pp + p.chip) * s.tp;
        if (p.collective == "send") {
          if (p.chip + 1 >= s.pp) continue;
          for (int64_t i = 0; i < s.tp; ++i) g.push_back({base + i, base + s.tp + i});
        } else {
          std::vector<int64_t> ranks;
          for (int64_t i = 0; i < s.tp; ++i) ranks.push_back(base + i);
          g.push_back(std::move(ranks));
        }
      }
      const Tick done = links.collective(0, p.collective, g, p.collective_bytes);
      lc = {ticks_to_seconds(done), links.local_bytes, links.global_bytes, links.busiest_link_s()};
    }
    return link_cache[key] = lc;
  };

  // When each core and each chip's link process is next free (seconds).
  std::vector<double> core_free(prog.cores.size(), 0.0), links_free(prog.chips, 0.0);
  if (detail) detail->assign(nops, AnalyticalOp{});

  for (size_t i = 0; i < nops; ++i) {
    const OpPlan& p = prog.ops[i];
    double* opc = &r.op_counts[i * static_cast<size_t>(na)];
    auto add = [&](int core, int action, double v) {
      opc[action] += v;
      r.core_counts[static_cast<size_t>(core) * na + action] += v;
    };
    AnalyticalOp a;
    a.mapper_cycles = p.est_cycles;
    double ready = 0;  // dependencies met (seconds)
    double stream_end = 0, last_end = 0;
    for (int d : p.deps) {
      const bool streamed =
          std::find(p.stream_in.begin(), p.stream_in.end(), d) != p.stream_in.end();
      if (streamed) {
        ready = std::max(ready, r.ops[d].start_s);
        stream_end = std::max(stream_end, r.ops[d].end_s);
      } else {
        last_end = std::max(last_end, r.ops[d].end_s);
      }
    }
    // As ChipContext::wait_launch: a kernel launches launch_gap after the last
    // of its (non-streamed) dependencies ended (the first ones at launch_gap).
    ready = std::max(ready, last_end + launch_gap_s);
    OpResult& o = r.ops[i];
    if (!p.collective.empty()) {
      const LinkCost lc = collective_cost(p);
      const int core = p.chip * static_cast<int>(P);  // where the engine books link counts
      add(core, kLinkByte, lc.local);
      add(core, kGlobalLinkByte, lc.global);
      chip_link_busy_s += lc.busiest;
      const double start = std::max(ready, links_free[p.chip]);
      o.start_s = start;
      o.end_s = start + lc.seconds;
      o.memory_stall_cycles = lc.seconds * freq;
      links_free[p.chip] = o.end_s;
      a.roofline_cycles = a.cycles = lc.seconds * freq;
      a.source = "links";
      a.bound = "links";
      if (detail) (*detail)[i] = a;
      continue;
    }

    // The roofline's terms over this op's tiles.
    std::array<double, kLevels> level_bytes{};
    std::fill(link_op.begin(), link_op.end(), 0.0);
    double t_compute = 0, t_dma = 0, t_sram = 0, t_latency = 0, pre_crit = 0;
    double load_lat = 0, store_lat = 0;
    int crit = -1;
    const int64_t stages = p.stages_on(hw.load_stages);  // as the engine's
    for (const auto& [core, co] : by_op[i]) {
      const int64_t node = core % P;
      double compute = 0, pre = 0, dma = 0, sram = 0, tiles = 0;
      // A streamed input comes from the producer's core group: the mean route.
      double pull_hops = 0;
      if (p.stream_src >= 0) {
        const OpPlan& src = prog.ops[p.stream_src];
        double sum = 0;
        const int64_t n = std::max<int64_t>(1, src.core_count);
        for (int64_t k = 0; k < n; ++k)
          sum += static_cast<double>(noc.hops((src.core_base + k) % P, node));
        pull_hops = sum / static_cast<double>(n);
      }
      const std::vector<double> piped =
          hw.concurrent_units ? pipelined_cycles(co->tiles, prog.costs, stages, hw.units.size())
                              : std::vector<double>();
      for (const Tile& t : co->tiles) {
        const double rep = t.repeat;
        tiles += rep;
        double path = 0;  // the tile's unit cycles end to end
        for (int s = 0; s < t.nsteps; ++s) {
          const ComputeStep& st = t.steps[s];
          const TileCost& c = prog.costs[st.cost];
          const double bank = (c.sram_read_bytes + c.sram_write_bytes) / sram_bpc;
          const double cyc = std::max(static_cast<double>(c.cycles), bank);
          compute += rep * cyc;
          path += static_cast<double>(c.cycles);
          sram += rep * bank;
          if (st.tag == kStepPrecompute) pre += rep * static_cast<double>(c.cycles);
          const int base = r.unit_action_base[st.unit];
          for (const ActionCount& ac : c.actions) add(core, base + ac.action, rep * ac.count);
          add(core, kSramRead, rep * c.sram_read_bytes);
          add(core, kSramWrite, rep * c.sram_write_bytes);
        }
        // Units overlapping tiles (core.concurrent_units) save what the
        // engine's rule saves: the path less the pipelined period.
        if (!piped.empty())
          compute -= rep * (path - piped[static_cast<size_t>(&t - co->tiles.data())]);
        for (int l = 0; l < kLevels; ++l) {
          const double ld = t.load_bytes[l] * rep, stb = t.store_bytes[l] * rep;
          if (l == kStream) {
            if (ld > 0) {
              const double shared = ld / p.stream_readers;
              add(core, kSramRead, shared);
              add(core, kSramWrite, ld);
              add(core, kNocByteHop, shared * pull_hops + ld);
              r.stream_bytes += ld;
              dma += ld;
              sram += ld / sram_bpc;
            }
            continue;  // streamed results stay in the producer's SRAM
          }
          const LevelModel& m = lv[l];
          if (!m.present) continue;
          const size_t nn = static_cast<size_t>(node);
          // A load counts the level's read and a bank write, a store the
          // reverse; both cross the mesh along the core's fanout.
          auto move = [&](double b, int level_action, int bank_action,
                          const std::vector<std::pair<uint32_t, double>>& links, double& lat) {
            if (b <= 0) return;
            add(core, level_action, b);
            add(core, bank_action, b);
            add(core, kNocByteHop, b * m.hops_per_byte[nn]);
            for (const auto& [link, f] : links) link_op[link] += b * f;
            lat = std::max(lat, m.latency_cycles + m.route_hops[nn] * hop_cycles);
          };
          move(ld, m.read, kSramWrite, m.load_links[nn], load_lat);
          move(stb, m.write, kSramRead, m.store_links[nn], store_lat);
          // Channel time, in read bytes: a tile that also reads the level
          // stores right after a read, as the engine's channels see it; a
          // load less what a cluster peer reads for this core (multicast).
          const double mc = t.multicast(l) * rep;
          level_bytes[l] += ld - mc + stb * m.channels->write_cost(ld > 0);
          dma += ld + stb;
          sram += (ld + stb) / sram_bpc;
        }
      }
      dma_total[core] += dma;
      if (compute > t_compute || crit < 0) t_compute = compute, pre_crit = pre, crit = core;
      t_dma = std::max(t_dma, dma / dma_bpc);
      t_sram = std::max(t_sram, sram);
      // The op's tiles in flight (core.dma.stages or fewer, as mapped): a core
      // cannot issue faster than a load latency per that many tiles.
      t_latency = std::max(t_latency, tiles * load_lat / static_cast<double>(stages));
    }
    double roof = t_compute;
    a.bound = "compute";
    auto bind = [&](double v, const char* what) {
      if (v > roof) roof = v, a.bound = what;
    };

    for (int l = 0; l < kStream; ++l) {
      level_total[l] += level_bytes[l];
      if (lv[l].present)
        bind(level_bytes[l] / lv[l].bytes_per_cycle, level_name(static_cast<Level>(l)));
    }
    bind(t_dma, "dma");
    bind(t_sram, "sram");
    double link_max = 0;
    for (size_t l = 0; l < nlinks; ++l) {
      link_max = std::max(link_max, link_op[l]);
      link_total[l] += link_op[l];
    }
    bind(link_max / link_bpc, "noc");
    bind(t_latency, "latency");
    a.roofline_cycles = roof + load_lat + store_lat;
    // The mapper's estimate (sim/mapping/cost_model.h: the engine's resources without
    // contention) where it gives one; the roofline only for ops it did not
    // estimate.
    const bool mapper = p.est_cycles > 0 && !roofline_time;
    a.cycles = mapper ? p.est_cycles : a.roofline_cycles;
    a.source = mapper ? "mapper" : "roofline";
    if (mapper && !p.est_bound.empty()) a.bound = p.est_bound;

    double start = ready;
    for (const auto& [core, co] : by_op[i]) start = std::max(start, core_free[core]);
    o.start_s = start;
    // A streamed consumer works through its input in row blocks: after its
    // producer's last block it still has its own last block to do, 1/blocks of
    // its time (a one-row decode step: all of it, so the two run in series).
    double blocks = 1;
    if (!p.stream_in.empty())
      for (const auto& [core, co] : by_op[i]) {
        double b = 0;
        uint32_t last = 0;
        for (const Tile& t : co->tiles)
          if (t.rows_done > last) last = t.rows_done, b += 1;
        blocks = std::max(blocks, b);
      }
    o.end_s = std::max(start + a.cycles / freq, stream_end + a.cycles / freq / blocks);
    for (const auto& [core, co] : by_op[i]) core_free[core] = o.end_s;
    o.critical_core = crit;
    o.compute_cycles = t_compute;
    o.precompute_cycles = pre_crit;
    o.memory_stall_cycles = std::max(0.0, (o.end_s - o.start_s) * freq - t_compute);
    if (detail) (*detail)[i] = a;
  }
  for (const auto& op : r.ops) r.latency_s = std::max(r.latency_s, op.end_s);
  // The same limit as the engine's clock, so both modes accept the same runs.
  if (!(r.latency_s * 1e12 < static_cast<double>(kMaxTicks))) refuse_simulated_time(hw, prog);

  // Busiest instance of each resource over the run, as the engine reports it:
  // a level's bytes split evenly over its channels.
  auto busy = [&](Level l) {
    return lv[l].present ? level_total[l] / lv[l].bytes_per_cycle / freq : 0.0;
  };
  for (const TierType& t : tier_types()) r.tier_channel_busy_s[t.level] = busy(t.level);
  r.noc_link_busy_s = *std::max_element(link_total.begin(), link_total.end()) / link_bpc / freq;
  r.dma_busy_s = dma_total.empty()
                     ? 0
                     : *std::max_element(dma_total.begin(), dma_total.end()) / hw.dma_bandwidth;
  r.chip_link_busy_s = chip_link_busy_s;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace bc
