// The trace: a workload as a list of tensor ops, one entry per op with its shape,
// operand formats and dependencies (schema: workloads/TRACE_SCHEMA.md). Traces are
// JSON; they are read through the config tree, so errors carry file:line:column.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/config/error.h"
#include "sim/config/format.h"

namespace bc {

enum class OpKind { Gemm, Attention, Elementwise, Collective };
const char* op_kind_name(OpKind k);

// Element-wise functions: arithmetic ops per element and input tensors, counted
// from each function's formula [D]: rmsnorm x*w/sqrt(mean(x^2)): square, sum,
// scale, weight = 4; silu_mul x*sigmoid(x)*u: exp, add, div, mul, mul = 5;
// silu (a plain MLP's) x*sigmoid(x): 4;
// softmax: max, sub, exp, sum, div = 5; rope: 2 mul + 1 add = 3; add: 1;
// gelu (tanh form) 8; gelu_mul (GeGLU) gelu(x)*u: 8 + 1 = 9; relu2 (squared
// ReLU, Primer; BitNet b1.58 2B4T) max(x,0)^2: max, mul = 2; relu2_mul
// relu2(x)*u: 3; layernorm 7; quantize: scale + round = 2; embedding: a
// gather, 0; topk (router): compare + select = 2 per logit; moe_combine: the
// gate-weighted sum of expert outputs, mul + add = 2.
struct ElementwiseFn {
  const char* name;
  double ops_per_element;
  int inputs;
  // Of those ops, the special functions per element (exp, reciprocal, tanh):
  // a GPU runs them on its special-function units, at a fraction of the rate of
  // its FP32 lanes (vector_unit special_lanes).
  double special_per_element = 0;
};
const ElementwiseFn* find_elementwise_fn(const std::string& name);
std::vector<std::string> elementwise_fn_names();

struct Op {
  int id = 0;
  std::string name;
  OpKind kind = OpKind::Gemm;
  int layer = -1;  // -1: not in a decoder layer
  std::vector<int> deps;
  TensorFormat a, w, o;  // activation in, weight (gemm) / KV cache (attention), output
  // gemm: C[m x n] = A[m x k] W[k x n]
  int64_t m = 0, n = 0, k = 0;
  // Per-output-feature mixed precision: consecutive column blocks of W in their
  // own formats (sizes add up to n). Empty: all of W in `w`.
  std::vector<std::pair<int64_t, TensorFormat>> w_parts;
  std::string sparsity;  // "", "2:4" or "unstructured"
  double density = 1;    // kept fraction of W
  // attention (fused QK^T, softmax, AV over the KV cache)
  int64_t batch = 0, heads = 0, kv_heads = 0, head_dim = 0, q_len = 0, kv_len = 0;
  bool causal = false;
  int64_t window = 0;     // sliding-window attention: keys per query at most this (0: all)
  int64_t kv_append = 0;  // tokens appended to the KV cache per sequence
  // elementwise
  std::string fn;
  int64_t elements = 0;
  bool input_from_dram = false;  // reads a weight table (embedding), not an activation
  // collective (chip-to-chip): fn is allreduce | allgather | send; `elements` is
  // the tensor each rank holds after it (allreduce, allgather) or sends (send), in
  // format o; group is "tensor" (the tensor-parallel ranks) or "pipeline" (to the
  // same rank of the next stage).
  std::string group;

  double flops() const;             // 2 per MAC (dense); vector ops for element-wise
  double weight_bytes() const;      // gemm weights, with scales and sparsity index metadata
  double kv_bytes_read() const;     // attention
  double collective_bytes() const;  // collective: the tensor's bytes (0 for other kinds)
  // Attention: the keys [begin, end) that query rows [q_first, q_first + q_count)
  // of one sequence attend (causal mask and sliding window applied).
  std::pair<int64_t, int64_t> key_range(int64_t q_first, int64_t q_count) const;
  // The weight column blocks: w_parts, or {n, w}.
  std::vector<std::pair<int64_t, TensorFormat>> weight_parts() const;
  double sparsity_index_bits() const;  // index bits per stored weight
};

// The checks of an op across its keys (a GEMM's MAC limit, sparsity density
// and group sizes; an attention's key limit, GQA, q_len <= kv_len and KV group
// size), for every reader of ops (traces, reference CSVs): each diagnostic
// names the trace key and has no position, which the caller gives.
std::vector<Diagnostic> op_shape_errors(const Op& op);

// The one rule between a weight sparsity pattern and its kept fraction (traces
// and recipes): "" when `density` fits `pattern`, else the message.
std::string sparsity_density_error(const std::string& pattern, double density);

struct Trace {
  int version = 1;
  nlohmann::json model;                              // the model description it was generated from
  nlohmann::json workload;                           // phase, batch, context, seq, quant
  nlohmann::json totals = nlohmann::json::object();  // model-level totals from the generator
  std::vector<Op> ops;
};

// Reads and validates a trace file; throws InputError (file:line:column).
Trace read_trace(const std::string& path);
nlohmann::json trace_to_json(const Trace& t);
// Totals printed with a trace: FLOPs per format, weight bytes, KV bytes.
nlohmann::json trace_totals(const Trace& t);

}  // namespace bc
