// Mapping a workload onto a system of chips (or one chip). The model is split
// Megatron-style over tensor-parallel ranks and into pipeline stages; the
// remaining chips are data-parallel replicas. Ranks of one stage do identical
// work, so one chip per stage is simulated (its program is a rank's trace,
// mapped like any chip's) while the links carry every rank's and replica's
// traffic (sim/engine/chip_links.h), which is where contention between chips
// arises.
//
// Pipelining: the batch is split into microbatches that flow through the
// stages in order (stage s starts microbatch j when it has finished j - 1 and
// stage s - 1 has sent j). With more than one stage, two decode steps are
// simulated, the second microbatch j starting when the first has left the last
// stage, so the report gives both the first step (pipeline filling) and the
// steady-state time between steps.
#pragma once

#include "sim/config/hw_config.h"
#include "sim/mapping/program.h"
#include "sim/trace/trace.h"
#include "workloads/generator.h"

namespace bc {

struct SystemPlan {
  Program prog;
  Trace trace;  // the whole model (for totals) with workload.system filled in
  int64_t microbatches = 1, iterations = 1;
};

// Throws InputError (at the config's system.parallel key) when the split does
// not fit the model or the batch.
SystemPlan map_system(const ModelDesc& m, const QuantRecipe& q, const WorkloadSpec& w,
                      const HwConfig& hw);

// A system running a user's trace (already one rank's work): one stage, one
// microbatch. Pipeline parallelism needs a model (the layers to split).
SystemPlan map_system_trace(const Trace& t, const HwConfig& hw);

}  // namespace bc
