// Quantization recipes (workloads/quant/NAME.yaml): the formats of weights,
// activations and the KV cache, per tensor class (qkv, o, gate_up, down, router,
// lm_head, attention), per layer range and per tensor name, with group scales,
// per-output-feature mixed precision and weight sparsity. Every entry keeps
// where it was written, so a recipe that names a missing tensor or a group size
// that does not divide a dimension is reported at its file:line:column.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/error.h"
#include "sim/config/format.h"
#include "workloads/model.h"

namespace bc {

struct LocatedFormat {
  TensorFormat fmt;
  SourceLoc loc;
};

// Per-output-feature mixed precision: a fraction of a weight's output features
// (columns) in one format (MixLLM, SliM-LLM style).
struct FeaturePart {
  double fraction = 1;
  TensorFormat fmt;
  SourceLoc loc;
};

struct Sparsity {
  std::string pattern;  // "" (dense), "2:4", "unstructured"
  double density = 1;   // kept fraction of weights
  SourceLoc loc;
  // Index metadata bits per stored (non-zero) weight: 2:4 keeps a 2-bit
  // position per non-zero (NVIDIA sparse tensor core layout); unstructured keeps
  // a 1-bit-per-weight bitmap, i.e. 1/density bits per non-zero.
  double index_bits_per_nonzero() const;
};

struct TensorSpec {
  std::optional<LocatedFormat> weights, activations, kv_cache;
  std::vector<FeaturePart> output_features;
  std::optional<Sparsity> sparsity;
};

struct LayerRule {
  int64_t first = 0, last = 0;
  TensorSpec all;
  std::map<std::string, TensorSpec> classes;
  SourceLoc loc;
};

struct QuantRecipe {
  std::string name, description, source, path;
  TensorSpec base;  // weights, activations, kv_cache for everything
  TensorFormat residual;
  std::map<std::string, TensorSpec> classes;
  std::vector<LayerRule> layers;
  std::map<std::string, std::pair<TensorSpec, SourceLoc>> tensors;  // by tensor name
};

// What one tensor resolves to: defaults < class < layer range < layer range's
// class < tensor name.
struct ResolvedQuant {
  TensorFormat weights, activations, kv_cache;
  SourceLoc weights_loc, activations_loc, kv_loc;
  std::vector<FeaturePart> parts;  // empty: all output features in `weights`
  Sparsity sparsity;
};

const std::vector<std::string>& tensor_classes();
QuantRecipe load_quant(const std::string& name_or_path);
std::vector<std::string> known_quants();
ResolvedQuant resolve_quant(const QuantRecipe& q, const std::string& cls, int layer,
                            const std::string& tensor);
// Checks a recipe against a model: named tensors exist, layer ranges are inside
// the model, group sizes (of weights, activations and the KV cache) divide the
// dimensions they group. Throws InputError.
void check_quant(const QuantRecipe& q, const ModelDesc& m);
// Bytes of one weight tensor under the recipe (scales, sparsity metadata included).
double weight_bytes(const QuantRecipe& q, const WeightTensor& t);

}  // namespace bc
