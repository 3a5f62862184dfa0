// Placement: where the weights live for the run (and whether the model fits at
// all), where each op's output goes, and the SRAM a core has for tile buffers.

#include <sstream>

#include "sim/mapping/mapper_internal.h"

namespace bc::mapping {

// SRAM a core has for tile buffers: what resident weights leave; in a
// dataflow core group, half of that (the other half holds stream buffers).
double Mapper::sram_avail(const OpContext& ctx) const {
  const double free = hw_.sram.size_bytes - prog_.resident_bytes_per_core;
  return ctx.grouped ? free / 2 : free;
}

// Where the weights live for the whole run, and whether the model fits at all.
void Mapper::place_weights() {
  double weights = 0, kv = 0;
  for (const auto& op : t_.ops) weights += op.weight_bytes(), kv += op.kv_bytes_read();
  if (t_.totals.contains("weight_bytes")) weights = t_.totals["weight_bytes"].get<double>();
  if (t_.totals.contains("kv_cache_bytes")) kv = t_.totals["kv_cache_bytes"].get<double>();
  const double cores = static_cast<double>(hw_.cores());
  const double local = cores * hw_.sram.size_bytes,
               shared = hw_.shared_sram().present ? hw_.shared_sram().capacity : 0;
  const double ddr = hw_.ddr().present ? hw_.ddr().capacity : 0;
  const double dram = hw_.dram().present ? hw_.dram().capacity : 0;
  const double total = dram + ddr + shared + local;
  auto q = [](double b) { return format_quantity(b, Dim::Bytes); };
  if (weights + kv > total)
    fail_input(SourceLoc{kMapperLoc, 0, 0}, "memory",
               "the model fits nowhere: weights " + q(weights) + " + KV cache " + q(kv) + " = " +
                   q(weights + kv) + ", but the chip holds " + q(total) + " (DRAM " + q(dram) +
                   (hw_.ddr().present ? ", DDR " + q(ddr) : std::string()) + ", shared SRAM " +
                   q(shared) + ", core SRAM " + q(local) + ")",
               "use more memory, a narrower --quant recipe, or a smaller --batch/--context");
  const double local_budget = local * hw_.resident_max_fraction;
  std::string where = hw_.weight_placement;
  // Resident in the cores' SRAM only where a schedule keeps them there across
  // ops: a statically scheduled chip, dataflow execution, or a chip with no
  // DRAM. Kernel by kernel (a GPU), a kernel keeps nothing in its cores' SRAM
  // after it ends, so the next one finds its weights in global memory.
  const bool resident_ok = hw_.deterministic || hw_.execution == "dataflow" || !hw_.dram().present;
  if (where == "auto")
    where =
        weights <= local_budget && resident_ok ? "local_sram"
        // Half the shared level stays free for activations, unless there is no
        // DRAM to hold them: an SRAM-only chip keeps everything on chip.
        : hw_.shared_sram().present && weights <= (hw_.dram().present ? shared / 2 : shared - kv)
            ? "shared_sram"
        : !hw_.dram().present                        ? "none"
        : weights + kv <= dram || !hw_.ddr().present ? "dram"
                                                     : "ddr";  // spill to the capacity tier
  if (where == "none" || (where == "dram" && !hw_.dram().present))
    fail_input(SourceLoc{kMapperLoc, 0, 0}, "memory.weights",
               "weights (" + q(weights) + ") + KV cache (" + q(kv) +
                   ") do not fit on this SRAM-only chip (core SRAM budget " + q(local_budget) +
                   ", shared SRAM " + q(shared) + ") and there is no DRAM",
               "split the model over more chips (system.parallel) or use a narrower recipe");
  if (where == "ddr" && !hw_.ddr().present)
    fail_input(SourceLoc{kMapperLoc, 0, 0}, "memory.weights",
               "weights are placed in DDR, but there is no memory.ddr",
               "add a memory.ddr tier or set memory.weights to auto");
  if (where == "local_sram" && weights > local_budget)
    fail_input(
        SourceLoc{kMapperLoc, 0, 0}, "memory.weights",
        "weights (" + q(weights) + ") do not fit the cores' SRAM: " + q(local_budget) + " = " +
            std::to_string(hw_.cores()) + " cores x " + q(hw_.sram.size_bytes) +
            " x resident_max_fraction " +
            [&] {
              std::ostringstream f;
              f << hw_.resident_max_fraction;
              return f.str();
            }(),
        "set memory.weights to auto or dram");
  if (where == "shared_sram" && (!hw_.shared_sram().present || weights > shared))
    fail_input(SourceLoc{kMapperLoc, 0, 0}, "memory.weights",
               "weights (" + q(weights) + ") do not fit the shared SRAM (" + q(shared) + ")",
               "set memory.weights to auto or dram");
  prog_.weight_placement = where;
  prog_.weight_bytes = weights;
  prog_.resident_bytes_per_core = where == "local_sram" ? weights / cores : 0;
}

// Activations go to the shared SRAM level when it exists and the tensor fits
// in half of it (the other half holds the tensor being read); else DRAM.
Level Mapper::place_output(const Op& op) const {
  if (!hw_.shared_sram().present) return kDram;
  if (!hw_.dram().present) return kShared;  // an SRAM-only chip: activations stay on chip
  double elems = op.kind == OpKind::Gemm ? double(op.m) * op.n
                 : op.kind == OpKind::Attention
                     ? double(op.batch) * op.q_len * op.heads * op.head_dim
                     : double(op.elements);
  return op.o.bytes(elems) <= hw_.shared_sram().capacity / 2 ? kShared : kDram;
}

}  // namespace bc::mapping
