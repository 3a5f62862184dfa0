#include "sim/mapping/system.h"

#include "sim/mapping/mapper.h"

namespace bc {
namespace {

nlohmann::json system_json(const HwConfig& hw, int64_t microbatches, int64_t iterations) {
  const SystemConfig& s = hw.system;
  return {{"chips", s.present ? s.chips : 1},
          {"active_chips", s.present ? s.active() : 1},
          {"tensor", s.tp},
          {"pipeline", s.pp},
          {"replicas", s.present ? s.dp() : 1},
          {"microbatches", microbatches},
          {"simulated_steps", iterations},
          {"topology", s.present ? s.topology : "single chip"}};
}

// Appends one copy of a stage's program: its ops (dependencies shifted, entry
// ops made to wait for `entry_deps`), its cores' tiles on the stage's chip.
int append_stage(Program& out, const Program& stage, int chip, int microbatch, size_t cost_base,
                 const std::vector<int>& entry_deps, const std::string& prefix, int64_t cores) {
  const int base = static_cast<int>(out.ops.size());
  for (const OpPlan& op : stage.ops) {
    OpPlan p = op;
    p.name = prefix + op.name;
    p.chip = chip;
    p.microbatch = microbatch;
    for (auto* v : {&p.deps, &p.stream_in, &p.stream_out})
      for (int& d : *v) d += base;
    if (p.stream_src >= 0) p.stream_src += base;
    if (op.deps.empty()) p.deps = entry_deps;
    out.ops.push_back(std::move(p));
  }
  for (int64_t c = 0; c < cores; ++c)
    for (const CoreOp& co : stage.cores[c]) {
      CoreOp copy = co;
      copy.op += static_cast<uint32_t>(base);
      for (Tile& t : copy.tiles)
        for (int s = 0; s < t.nsteps; ++s) t.steps[s].cost += static_cast<uint32_t>(cost_base);
      out.cores[static_cast<size_t>(chip * cores + c)].push_back(std::move(copy));
    }
  return base;
}

}  // namespace

SystemPlan map_system(const ModelDesc& m, const QuantRecipe& q, const WorkloadSpec& w,
                      const HwConfig& hw) {
  const SystemConfig& s = hw.system;
  const std::string why = check_parallelism(m, s.tp, s.pp);
  if (!why.empty()) {
    const bool tensor = why.rfind("tensor", 0) == 0;
    fail_input(tensor ? s.loc_tp : s.loc_pp,
               tensor ? "system.parallel.tensor" : "system.parallel.pipeline", why,
               tensor ? "choose a tensor degree that divides the heads and the FFN width"
                      : "choose a pipeline degree that divides the layers");
  }
  int64_t mb = s.microbatches;
  if (mb == 0) {  // auto: as many as there are stages, if the batch splits evenly
    mb = std::min<int64_t>(w.batch, s.pp);
    while (w.batch % mb != 0) --mb;
  } else if (w.batch % mb != 0) {
    fail_input(
        s.loc_microbatches, "system.parallel.microbatches",
        std::to_string(mb) + " microbatches do not divide the batch of " + std::to_string(w.batch),
        "use a divisor of the batch, or 0 for automatic");
  }
  const int64_t pp = s.pp, iters = pp > 1 ? 2 : 1, C = hw.cores();

  SystemPlan plan;
  plan.microbatches = mb;
  plan.iterations = iters;
  // One program per stage: a rank's share of the stage's layers, one microbatch.
  std::vector<Program> stages;
  for (int64_t st = 0; st < pp; ++st) {
    WorkloadSpec ws = w;
    ws.batch = w.batch / mb;
    ws.tp = s.tp;
    ws.first_layer = static_cast<int>(st * m.layers / pp);
    ws.last_layer = static_cast<int>((st + 1) * m.layers / pp);
    ws.send_next = st + 1 < pp;
    stages.push_back(map_trace(generate_trace(m, q, ws), hw));
  }
  if (pp == 1 && mb == 1) {
    plan.prog = std::move(stages[0]);
  } else {
    Program& out = plan.prog;
    out.chips = static_cast<int>(pp);
    out.cores.resize(static_cast<size_t>(pp * C));
    std::vector<size_t> cost_base;
    for (const Program& p : stages) {
      cost_base.push_back(out.costs.size());
      out.costs.insert(out.costs.end(), p.costs.begin(), p.costs.end());
      out.cost_unit.insert(out.cost_unit.end(), p.cost_unit.begin(), p.cost_unit.end());
    }
    // Microbatch j of step i: through stages 0..pp-1; it enters stage s after
    // stage s - 1 sent it, and step i + 1 enters stage 0 once step i has left.
    std::vector<int> step_end(static_cast<size_t>(mb), -1);
    for (int64_t it = 0; it < iters; ++it)
      for (int64_t j = 0; j < mb; ++j) {
        int prev_last = -1;
        for (int64_t st = 0; st < pp; ++st) {
          std::vector<int> entry;
          if (st > 0)
            entry = {prev_last};
          else if (step_end[j] >= 0)
            entry = {step_end[j]};
          const std::string prefix =
              (iters > 1 ? "step" + std::to_string(it) + "." : std::string()) +
              (mb > 1 ? "mb" + std::to_string(j) + "." : std::string());
          int base = append_stage(out, stages[st], static_cast<int>(st),
                                  static_cast<int>(it * mb + j), cost_base[st], entry, prefix, C);
          prev_last = base + static_cast<int>(stages[st].ops.size()) - 1;
        }
        step_end[j] = prev_last;
      }
    out.weight_placement = stages[0].weight_placement;
    out.execution = stages[0].execution;
    out.resident_bytes_per_core = stages[0].resident_bytes_per_core;
    for (const Program& p : stages) out.weight_bytes = std::max(out.weight_bytes, p.weight_bytes);
  }

  // The report's trace: the whole model at the whole batch (its totals), with the split.
  WorkloadSpec whole = w;
  plan.trace = generate_trace(m, q, whole);
  plan.trace.workload["system"] = system_json(hw, mb, iters);
  return plan;
}

SystemPlan map_system_trace(const Trace& t, const HwConfig& hw) {
  if (hw.system.pp > 1)
    fail_input(hw.system.loc_pp, "system.parallel.pipeline",
               "a trace file is one rank's work; pipeline parallelism needs --model (the layers "
               "to split)",
               "run with --model, or set system.parallel.pipeline to 1");
  SystemPlan plan;
  plan.prog = map_trace(t, hw);
  plan.trace = t;
  plan.trace.workload["system"] = system_json(hw, 1, 1);
  return plan;
}

}  // namespace bc
