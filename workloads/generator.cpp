#include "workloads/generator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/config/limits.h"

namespace bc {

std::vector<int64_t> tokens_per_expert(int64_t tokens, const ModelDesc& m,
                                       const std::vector<double>& load) {
  const int64_t E = m.experts, slots = tokens * m.experts_per_token;
  std::vector<double> share(static_cast<size_t>(E), 1.0 / static_cast<double>(E));
  if (!load.empty()) share = load;
  std::vector<int64_t> n(static_cast<size_t>(E));
  std::vector<std::pair<double, int64_t>> rem;
  int64_t given = 0;
  for (int64_t e = 0; e < E; ++e) {
    double exact = share[e] * static_cast<double>(slots);
    n[e] = static_cast<int64_t>(std::floor(exact));
    given += n[e];
    rem.push_back({exact - static_cast<double>(n[e]), -e});  // ties go to the lower expert index
  }
  std::sort(rem.rbegin(), rem.rend());
  for (int64_t i = 0; i < slots - given; ++i) n[-rem[i].second]++;
  // A token goes to distinct experts, so no expert gets more than `tokens`.
  for (auto& x : n) x = std::min(x, tokens);
  return n;
}

std::string check_parallelism(const ModelDesc& m, int64_t tp, int64_t pp) {
  auto n = [](int64_t v) { return std::to_string(v); };
  if (m.heads % tp != 0)
    return "tensor parallelism " + n(tp) + " does not divide the " + n(m.heads) + " heads of " +
           m.name;
  if (m.kv_heads % tp != 0 && tp % m.kv_heads != 0)
    return "tensor parallelism " + n(tp) + " neither divides nor is a multiple of the " +
           n(m.kv_heads) + " KV heads of " + m.name;
  if (m.ffn % tp != 0)
    return "tensor parallelism " + n(tp) + " does not divide the FFN width " + n(m.ffn) + " of " +
           m.name;
  if (m.layers % pp != 0)
    return "pipeline parallelism " + n(pp) + " does not divide the " + n(m.layers) + " layers of " +
           m.name;
  return "";
}

Trace generate_trace(const ModelDesc& m, const QuantRecipe& q, const WorkloadSpec& w) {
  check_quant(q, m);
  if (!w.expert_load.empty()) {
    if (!m.is_moe())
      fail_input(SourceLoc{"<command line>", 0, 0}, "--expert-load", m.name + " has no experts",
                 "");
    if (static_cast<int64_t>(w.expert_load.size()) != m.experts)
      fail_input(SourceLoc{"<command line>", 0, 0}, "--expert-load",
                 "expected " + std::to_string(m.experts) + " shares, got " +
                     std::to_string(w.expert_load.size()),
                 "");
    double s = std::accumulate(w.expert_load.begin(), w.expert_load.end(), 0.0);
    // nan and inf compare false: ask for what is valid, not for what is not.
    if (!(std::fabs(s - 1) <= 1e-6) ||
        !std::all_of(w.expert_load.begin(), w.expert_load.end(),
                     [](double x) { return x >= 0 && std::isfinite(x); }))
      fail_input(SourceLoc{"<command line>", 0, 0}, "--expert-load",
                 "shares must be >= 0 and add up to 1", "");
  }
  Trace t;
  const bool decode = w.phase == "decode";
  const int64_t seq = decode ? 1 : w.seq;
  const int64_t tokens = w.batch * seq;
  const int64_t kv_len = decode ? w.context : w.context + seq;
  // One tensor-parallel rank's share: its query heads, its KV heads (replicated
  // when there are more ranks than KV heads), its slice of the FFN and vocabulary.
  const int64_t tp = std::max<int64_t>(1, w.tp);
  const int64_t heads = m.heads / tp, kv_heads = std::max<int64_t>(1, m.kv_heads / tp);
  const int64_t ffn = m.ffn / tp, vocab = (m.vocab + tp - 1) / tp;
  const int first = w.first_layer,
            last = w.last_layer < 0 ? static_cast<int>(m.layers) : w.last_layer;
  const int64_t q_dim = heads * m.head_dim, kv_dim = kv_heads * m.head_dim;
  // A gated MLP multiplies the activated gate by the up projection (SwiGLU,
  // GeGLU, ReLU^2-GLU); a plain one activates its one projection.
  const std::string norm_fn = m.norm,
                    act_fn = m.gated_mlp
                                 ? (m.activation == "silu" ? "silu_mul" : m.activation + "_mul")
                                 : m.activation;

  auto add = [&](Op op) {
    if (static_cast<int64_t>(t.ops.size()) >= limits::kMaxOps)
      fail_input(SourceLoc{"<command line>", 0, 0}, "--model",
                 "the trace of " + m.name + " would have more than " +
                     std::to_string(limits::kMaxOps) + " ops (the limit for a trace)",
                 "fewer layers or experts");
    op.id = static_cast<int>(t.ops.size());
    t.ops.push_back(std::move(op));
    return t.ops.back().id;
  };
  // A GEMM over a named weight tensor, in the formats the recipe gives it.
  auto gemm = [&](const std::string& name, const std::string& cls, int layer, int64_t mm, int64_t n,
                  int64_t k, bool out_residual, std::vector<int> deps) {
    ResolvedQuant r = resolve_quant(q, cls, layer, name);
    Op op;
    op.name = name;
    op.kind = OpKind::Gemm;
    op.layer = layer;
    op.m = mm, op.n = n, op.k = k;
    op.a = r.activations, op.w = r.weights, op.o = out_residual ? q.residual : r.activations;
    if (!r.parts.empty()) {
      // Output-feature blocks sized by their fractions, largest remainder last.
      int64_t given = 0;
      for (size_t i = 0; i < r.parts.size(); ++i) {
        int64_t cols =
            i + 1 == r.parts.size()
                ? n - given
                : static_cast<int64_t>(std::llround(r.parts[i].fraction * static_cast<double>(n)));
        given += cols;
        if (cols > 0) op.w_parts.push_back({cols, r.parts[i].fmt});
      }
    }
    if (!r.sparsity.pattern.empty())
      op.sparsity = r.sparsity.pattern, op.density = r.sparsity.density;
    op.deps = std::move(deps);
    return add(op);
  };
  auto elem = [&](const std::string& name, int layer, const std::string& fn, int64_t elements,
                  const TensorFormat& a, const TensorFormat& o, std::vector<int> deps) {
    Op op;
    op.name = name;
    op.kind = OpKind::Elementwise;
    op.layer = layer;
    op.fn = fn;
    op.elements = elements;
    op.a = a, op.o = o;
    op.deps = std::move(deps);
    return add(op);
  };
  auto deps_of = [](int prev) { return prev >= 0 ? std::vector<int>{prev} : std::vector<int>{}; };

  // After a row-parallel GEMM each rank holds a partial sum of the whole output.
  auto allreduce = [&](const std::string& name, int layer, int64_t elements, int dep) {
    if (tp == 1) return dep;
    Op c;
    c.name = name;
    c.kind = OpKind::Collective;
    c.layer = layer;
    c.fn = "allreduce";
    c.group = "tensor";
    c.elements = elements;
    c.a = c.o = q.residual;
    c.deps = {dep};
    return add(c);
  };

  int prev = -1;
  if (w.embedding && first == 0) {
    Op e;
    e.name = "embedding";
    e.kind = OpKind::Elementwise;
    e.fn = "embedding";
    e.elements =
        tokens * m.hidden * (m.max_positions > 0 ? 2 : 1);  // token (+ learned position) rows
    e.a = q.residual, e.o = q.residual;
    e.input_from_dram = true;
    prev = add(e);
  }
  for (int l = first; l < last; ++l) {
    const std::string L = "layers." + std::to_string(l) + ".";
    ResolvedQuant act = resolve_quant(q, "qkv", l, L + "attn.qkv");
    int residual = prev;
    int norm = elem(L + "attn_norm", l, norm_fn, tokens * m.hidden, q.residual, act.activations,
                    deps_of(prev));
    int qkv = gemm(L + "attn.qkv", "qkv", l, tokens, q_dim + 2 * kv_dim, m.hidden, false, {norm});
    int pre_attn = qkv;
    if (m.max_positions == 0)  // rotary position embedding on Q and K
      pre_attn = elem(L + "attn.rope", l, "rope", tokens * (q_dim + kv_dim), act.activations,
                      act.activations, {qkv});
    ResolvedQuant ar = resolve_quant(q, "attention", l, L + "attn.attention");
    Op at;
    at.name = L + "attn.attention";
    at.kind = OpKind::Attention;
    at.layer = l;
    at.a = ar.activations, at.w = ar.kv_cache, at.o = ar.activations;
    at.batch = w.batch, at.heads = heads, at.kv_heads = kv_heads, at.head_dim = m.head_dim;
    at.q_len = seq, at.kv_len = kv_len, at.causal = !decode, at.kv_append = seq;
    at.window = m.sliding_window;
    at.deps = {pre_attn};
    int attn = add(at);
    int o = gemm(L + "attn.o", "o", l, tokens, m.hidden, q_dim, true, {attn});
    o = allreduce(L + "attn.allreduce", l, tokens * m.hidden, o);
    std::vector<int> rd = {o};
    if (residual >= 0) rd.push_back(residual);
    int res1 = elem(L + "attn.residual", l, "add", tokens * m.hidden, q.residual, q.residual, rd);
    ResolvedQuant mlp_act = resolve_quant(q, "gate_up", l, L + "ffn.gate_up");
    int norm2 = elem(L + "ffn_norm", l, norm_fn, tokens * m.hidden, q.residual, mlp_act.activations,
                     {res1});
    const int64_t up = (m.gated_mlp ? 2 : 1) * ffn;
    int mlp_out;
    if (!m.is_moe()) {
      int gu = gemm(L + "ffn.gate_up", "gate_up", l, tokens, up, m.hidden, false, {norm2});
      int a = elem(L + "ffn.act", l, act_fn, tokens * ffn, mlp_act.activations, mlp_act.activations,
                   {gu});
      mlp_out = gemm(L + "ffn.down", "down", l, tokens, m.hidden, ffn, true, {a});
    } else {
      // Router logits, top-k selection, the experts that received tokens, and
      // the gate-weighted combine of their outputs.
      int router = gemm(L + "moe.router", "router", l, tokens, m.experts, m.hidden, false, {norm2});
      int topk =
          elem(L + "moe.topk", l, "topk", tokens * m.experts, q.residual, q.residual, {router});
      std::vector<int> downs;
      auto per_expert = tokens_per_expert(tokens, m, w.expert_load);
      for (int e = 0; e < m.experts; ++e) {
        if (per_expert[e] == 0) continue;  // an expert with no tokens reads no weights
        const std::string E = L + "moe.experts." + std::to_string(e) + ".";
        int gu = gemm(E + "gate_up", "gate_up", l, per_expert[e], up, m.hidden, false, {topk});
        int a = elem(E + "act", l, act_fn, per_expert[e] * ffn, mlp_act.activations,
                     mlp_act.activations, {gu});
        downs.push_back(gemm(E + "down", "down", l, per_expert[e], m.hidden, ffn, true, {a}));
      }
      mlp_out = elem(L + "moe.combine", l, "moe_combine", tokens * m.experts_per_token * m.hidden,
                     q.residual, q.residual, downs);
    }
    mlp_out = allreduce(L + "ffn.allreduce", l, tokens * m.hidden, mlp_out);
    prev = elem(L + "ffn.residual", l, "add", tokens * m.hidden, q.residual, q.residual,
                {mlp_out, res1});
  }
  if (w.lm_head && last == static_cast<int>(m.layers)) {
    // Only the last token of each sequence needs logits (prefill and decode alike).
    ResolvedQuant lr = resolve_quant(q, "lm_head", -1, "lm_head");
    int fn = elem("final_norm", -1, norm_fn, w.batch * m.hidden, q.residual, lr.activations,
                  deps_of(prev));
    int lm = gemm("lm_head", "lm_head", -1, w.batch, vocab, m.hidden, true, {fn});
    if (m.tie_embeddings) t.ops.back().w = lr.weights;  // the shared table, read as the LM head
    if (tp > 1) {  // every rank gathers the logits of the whole vocabulary
      Op c;
      c.name = "lm_head.allgather";
      c.kind = OpKind::Collective;
      c.fn = "allgather";
      c.group = "tensor";
      c.elements = w.batch * vocab * tp;
      c.a = c.o = q.residual;
      c.deps = {lm};
      prev = add(c);
    } else {
      prev = lm;
    }
  }
  if (w.send_next) {  // the activations move on to the same rank of the next stage
    Op c;
    c.name = "stage.send";
    c.kind = OpKind::Collective;
    c.fn = "send";
    c.group = "pipeline";
    c.elements = tokens * m.hidden;
    c.a = c.o = q.residual;
    c.deps = deps_of(prev);
    add(c);
  }

  // Totals of the weights this rank holds (all of them on one chip), every
  // expert included, in the recipe's formats: a stage's layers (embedding on
  // the first, LM head on the last), each tensor by the share one rank keeps.
  // Norm vectors are replicated; the QKV projection keeps its own heads and
  // its (possibly replicated) KV heads.
  double params = 0, wbytes = 0;
  const double qkv_share = static_cast<double>(q_dim + 2 * kv_dim) /
                           static_cast<double>((m.heads + 2 * m.kv_heads) * m.head_dim);
  for (const auto& wt : weight_tensors(m)) {
    const bool in_stage = wt.layer >= 0           ? wt.layer >= first && wt.layer < last
                          : wt.cls == "embedding" ? first == 0
                                                  : last == static_cast<int>(m.layers);
    if (!in_stage) continue;
    const double share = wt.cls == "norm"  ? 1.0
                         : wt.cls == "qkv" ? qkv_share
                                           : 1.0 / static_cast<double>(tp);
    params += wt.params() * share;
    wbytes += weight_bytes(q, wt) * share;
  }
  ResolvedQuant kvq = resolve_quant(q, "attention", 0, "layers.0.attn.attention");
  // KV cache of this rank: its stage's layers, its KV heads.
  const double kv_share = static_cast<double>(last - first) / static_cast<double>(m.layers) *
                          static_cast<double>(kv_heads) / static_cast<double>(m.kv_heads);
  t.totals = {{"parameters", params},
              {"active_parameters", active_param_count(m)},
              {"weight_bytes", wbytes},
              {"kv_bytes_per_token", kvq.kv_cache.bytes(kv_elements_per_token(m) * kv_share)},
              {"kv_cache_bytes", kvq.kv_cache.bytes(kv_elements_per_token(m) * kv_share *
                                                    static_cast<double>(w.batch * kv_len))}};
  t.model = model_to_json(m);
  t.workload = {{"phase", w.phase},
                {"batch", w.batch},
                {"context", w.context},
                {"seq", seq},
                {"quant", q.name},
                {"weights", q.base.weights ? q.base.weights->fmt.str() : ""},
                {"activations", q.base.activations ? q.base.activations->fmt.str() : ""},
                {"kv_cache", q.base.kv_cache ? q.base.kv_cache->fmt.str() : ""}};
  if (tp > 1 || first > 0 || last < static_cast<int>(m.layers))
    t.workload["shard"] = {{"tensor_ranks", tp}, {"layers", {first, last}}};
  return t;
}

}  // namespace bc
