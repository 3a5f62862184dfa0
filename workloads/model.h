// Model descriptions: the dimensions of a decoder-only transformer, read from
// workloads/models/NAME.yaml or a Hugging Face config.json, and the list of its
// weight tensors, from which parameter counts, weight bytes, recipe checks and
// the trace's GEMMs all follow.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/config/error.h"

namespace bc {

struct ModelDesc {
  std::string name;
  std::string family = "llama";  // llama | mistral | mixtral | qwen2 | gpt | bitnet
  int64_t hidden = 0, ffn = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
  bool tie_embeddings = false;
  int64_t sliding_window = 0;  // 0: full attention
  int64_t experts = 0;         // 0: dense MLP
  int64_t experts_per_token = 0;
  bool gated_mlp = true;            // SwiGLU (gate, up, down) vs plain (up, down)
  std::string norm = "rmsnorm";     // rmsnorm | layernorm (with bias)
  std::string activation = "silu";  // silu | gelu
  bool attention_bias = false;      // biases on Q, K, V (qwen2) or on all projections (gpt)
  bool mlp_bias = false;
  int64_t max_positions = 0;  // learned position embeddings (gpt); 0 = rotary
  std::string source;
  std::vector<std::string> unmapped_keys;  // HF config.json keys that were not used

  bool is_moe() const { return experts > 0; }
};

// One weight matrix (or vector) of the model, named as the trace names ops.
struct WeightTensor {
  std::string name;  // e.g. layers.3.ffn.down, layers.3.moe.experts.5.gate_up
  std::string
      cls;  // recipe tensor class: qkv, o, gate_up, down, router, lm_head, embedding, norm, bias
  int layer = -1;
  int64_t k = 0, n = 0;  // input and output features (vectors: k = 1)
  int expert = -1;
  double params() const { return static_cast<double>(k) * static_cast<double>(n); }
};

std::vector<WeightTensor> weight_tensors(const ModelDesc& m);
double param_count(const ModelDesc& m);
// Parameters touched per token: shared weights plus experts_per_token experts.
double active_param_count(const ModelDesc& m);
// KV-cache elements appended per token (all layers): 2 x layers x kv_heads x head_dim.
double kv_elements_per_token(const ModelDesc& m);

// The .yaml names in workloads/SUB (sorted), and the file a NAME or path means:
// a path is taken as is; a name must be in workloads/SUB, else an error on
// `option` lists the known ones (`what`: "model", "quantization recipe").
// The stems of the .yaml files in `dir`, sorted (the names a user may give).
std::vector<std::string> yaml_names(const std::string& dir);
std::vector<std::string> workload_names(const std::string& sub);
std::string workload_file(const std::string& name_or_path, const std::string& sub,
                          const std::string& what, const std::string& option,
                          const std::string& extra_hint = "");

// NAME (workloads/models/NAME.yaml), a model .yaml, or a Hugging Face config.json.
ModelDesc load_model(const std::string& name_or_path);
std::vector<std::string> known_models();
// Hugging Face config.json: llama, mistral, mixtral, qwen2 and gpt-style keys.
ModelDesc read_hf_config(const std::string& path);
nlohmann::json to_hf_config(const ModelDesc& m);
nlohmann::json model_to_json(const ModelDesc& m);

}  // namespace bc
