// Workload generator: a model description (workloads/models/NAME.yaml), a
// quantization recipe (workloads/quant/NAME.yaml) and a serving shape become a
// trace of dense Llama-family decoder layers.
#pragma once

#include <string>

#include "sim/trace.h"

namespace bc {

struct ModelDesc {
  std::string name;
  std::string family = "llama";
  int64_t hidden = 0, ffn = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
  bool tie_embeddings = false;
  std::string source;
};

struct QuantRecipe {
  std::string name;
  TensorFormat weights, activations, kv_cache, residual, lm_head;
};

struct WorkloadSpec {
  std::string phase = "decode";  // decode | prefill
  int64_t batch = 1;
  int64_t context = 4096;  // decode: tokens in the KV cache; prefill: cached prefix
  int64_t seq = 1;         // prefill: prompt tokens per sequence
  bool lm_head = true;
  bool embedding = true;
};

// NAME or a path to a .yaml; unknown names list the known ones.
ModelDesc load_model(const std::string& name_or_path);
QuantRecipe load_quant(const std::string& name_or_path);
std::vector<std::string> known_models();
std::vector<std::string> known_quants();

Trace generate_trace(const ModelDesc& m, const QuantRecipe& q, const WorkloadSpec& w);

}  // namespace bc
