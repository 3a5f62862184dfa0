// Workload generator: a model, a quantization recipe and a serving shape become
// a trace of decoder layers (dense or mixture-of-experts, Llama- or GPT-style).
#pragma once

#include <string>
#include <vector>

#include "sim/trace.h"
#include "workloads/model.h"
#include "workloads/quant.h"

namespace bc {

struct WorkloadSpec {
  std::string phase = "decode";  // decode | prefill
  int64_t batch = 1;
  int64_t context = 4096;  // decode: tokens in the KV cache; prefill: cached prefix
  int64_t seq = 1;         // prefill: prompt tokens per sequence
  bool lm_head = true;
  bool embedding = true;
  // MoE: share of routed tokens each expert receives (sums to 1); empty = uniform.
  std::vector<double> expert_load;
};

// Tokens routed to each expert: slots = tokens x experts_per_token, split by
// `load` (uniform when empty) with largest remainders, so they sum exactly.
std::vector<int64_t> tokens_per_expert(int64_t tokens, const ModelDesc& m,
                                       const std::vector<double>& load);

// Throws InputError when the recipe does not fit the model.
Trace generate_trace(const ModelDesc& m, const QuantRecipe& q, const WorkloadSpec& w);

}  // namespace bc
