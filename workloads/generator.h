// Workload generator: a model, a quantization recipe and a serving shape become
// a trace of decoder layers (dense or mixture-of-experts, Llama- or GPT-style).
#pragma once

#include <string>
#include <vector>

#include "sim/trace/trace.h"
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
  // Multi-chip: the trace is the work of one tensor-parallel rank (Megatron-style
  // split: QKV, gate/up and the LM head by output columns, O and down by input
  // rows, each followed by an all-reduce) of the pipeline stage holding decoder
  // layers [first_layer, last_layer). The checks that the split divides the
  // model are the caller's (check_parallelism).
  int64_t tp = 1;
  int first_layer = 0, last_layer = -1;  // -1: to the last layer
  bool send_next = false;                // end with a send to the next stage
};

// Why a tensor/pipeline split does not fit the model, or "" when it does: the
// tensor degree must divide the heads and FFN width (and divide or be a multiple
// of the KV heads, which are then replicated), the pipeline degree the layers.
std::string check_parallelism(const ModelDesc& m, int64_t tp, int64_t pp);

// Tokens routed to each expert: slots = tokens x experts_per_token, split by
// `load` (uniform when empty) with largest remainders, so they sum exactly.
std::vector<int64_t> tokens_per_expert(int64_t tokens, const ModelDesc& m,
                                       const std::vector<double>& load);

// Throws InputError when the recipe does not fit the model.
Trace generate_trace(const ModelDesc& m, const QuantRecipe& q, const WorkloadSpec& w);

}  // namespace bc
