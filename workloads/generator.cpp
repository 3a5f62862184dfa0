#include "workloads/generator.h"

#include <algorithm>
#include <filesystem>

#include "sim/hw_config.h"
#include "sim/params.h"

namespace bc {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> list_dir(const std::string& sub) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(project_root() + "/workloads/" + sub, ec))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string resolve(const std::string& name, const std::string& sub, const char* what,
                    const char* option) {
  if (name.find('/') != std::string::npos || fs::path(name).extension() == ".yaml") return name;
  std::string p = project_root() + "/workloads/" + sub + "/" + name + ".yaml";
  if (fs::exists(p)) return p;
  auto known = list_dir(sub);
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  std::string near = nearest(name, known);
  fail_input(SourceLoc{"<command line>", 0, 0}, option,
             std::string("unknown ") + what + " \"" + name + "\"",
             (near.empty() ? "" : "did you mean \"" + near + "\"? ") + "known: " + list);
}

TensorFormat format_param(Params& p, const std::string& key, std::optional<std::string> def,
                          const std::string& help) {
  std::string s = p.text(key, def, help);
  std::string err;
  auto f = parse_tensor_format(s, &err);
  if (!f) {
    if (p.has(key)) p.error(key, err);
    return TensorFormat{};
  }
  return *f;
}

}  // namespace

std::vector<std::string> known_models() { return list_dir("models"); }
std::vector<std::string> known_quants() { return list_dir("quant"); }

ModelDesc load_model(const std::string& name_or_path) {
  std::string path = resolve(name_or_path, "models", "model", "--model");
  CNode root = load_config_file(path);
  DiagnosticSink sink;
  ModelDesc m;
  {
    Params p(&root, "", &sink);
    m.name = p.text("name", fs::path(path).stem().string(), "model name");
    m.family = p.choice("family", "llama", {"llama", "mistral"}, "architecture family");
    m.hidden = p.integer("hidden", std::nullopt, "hidden size");
    m.ffn = p.integer("ffn", std::nullopt, "FFN intermediate size");
    m.layers = p.integer("layers", std::nullopt, "decoder layers");
    m.heads = p.integer("heads", std::nullopt, "attention heads");
    m.kv_heads = p.integer("kv_heads", m.heads, "KV heads (grouped-query attention)");
    m.head_dim = p.integer("head_dim", m.heads ? m.hidden / std::max<int64_t>(1, m.heads) : 1,
                           "head dimension");
    m.vocab = p.integer("vocab", std::nullopt, "vocabulary size");
    m.tie_embeddings = p.boolean("tie_embeddings", false, "LM head shares the embedding table");
    m.source = p.text("source", "", "where the dimensions come from");
    if (m.kv_heads > 0 && m.heads % m.kv_heads != 0)
      p.error("kv_heads", "heads (" + std::to_string(m.heads) +
                              ") must be a multiple of kv_heads (" + std::to_string(m.kv_heads) +
                              ")");
  }
  sink.throw_if_any();
  return m;
}

QuantRecipe load_quant(const std::string& name_or_path) {
  std::string path = resolve(name_or_path, "quant", "quantization recipe", "--quant");
  CNode root = load_config_file(path);
  DiagnosticSink sink;
  QuantRecipe q;
  {
    Params p(&root, "", &sink);
    q.name = p.text("name", fs::path(path).stem().string(), "recipe name");
    p.text("description", "", "free text");
    q.weights = format_param(p, "weights", std::nullopt, "weight format, e.g. int4/g128/fp16");
    q.activations = format_param(p, "activations", std::nullopt, "GEMM input activation format");
    q.kv_cache = format_param(p, "kv_cache", q.activations.str(), "KV cache format");
    q.residual = format_param(p, "residual", "bf16", "residual stream and norm input format");
    q.lm_head = format_param(p, "lm_head", q.weights.str(), "LM head weight format");
  }
  sink.throw_if_any();
  return q;
}

Trace generate_trace(const ModelDesc& m, const QuantRecipe& q, const WorkloadSpec& w) {
  Trace t;
  const bool decode = w.phase == "decode";
  const int64_t seq = decode ? 1 : w.seq;
  const int64_t tokens = w.batch * seq;
  const int64_t kv_len = decode ? w.context : w.context + seq;
  const int64_t q_dim = m.heads * m.head_dim, kv_dim = m.kv_heads * m.head_dim;

  auto add = [&](Op op) {
    op.id = static_cast<int>(t.ops.size());
    t.ops.push_back(std::move(op));
    return t.ops.back().id;
  };
  auto gemm = [&](const std::string& name, int layer, int64_t mm, int64_t n, int64_t k,
                  const TensorFormat& wf, const TensorFormat& of, std::vector<int> deps) {
    Op op;
    op.name = name;
    op.kind = OpKind::Gemm;
    op.layer = layer;
    op.m = mm, op.n = n, op.k = k;
    op.a = q.activations, op.w = wf, op.o = of;
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

  int prev = -1;
  if (w.embedding) {
    Op e;
    e.name = "embedding";
    e.kind = OpKind::Elementwise;
    e.fn = "embedding";
    e.elements = tokens * m.hidden;
    e.a = q.residual, e.o = q.residual;
    e.input_from_dram = true;
    prev = add(e);
  }
  for (int l = 0; l < m.layers; ++l) {
    std::string L = "layers." + std::to_string(l) + ".";
    std::vector<int> d0 = prev >= 0 ? std::vector<int>{prev} : std::vector<int>{};
    int residual = prev;
    int norm =
        elem(L + "attn_norm", l, "rmsnorm", tokens * m.hidden, q.residual, q.activations, d0);
    int qkv = gemm(L + "attn.qkv", l, tokens, q_dim + 2 * kv_dim, m.hidden, q.weights,
                   q.activations, {norm});
    int rope = elem(L + "attn.rope", l, "rope", tokens * (q_dim + kv_dim), q.activations,
                    q.activations, {qkv});
    Op at;
    at.name = L + "attn.attention";
    at.kind = OpKind::Attention;
    at.layer = l;
    at.a = q.activations, at.w = q.kv_cache, at.o = q.activations;
    at.batch = w.batch, at.heads = m.heads, at.kv_heads = m.kv_heads, at.head_dim = m.head_dim;
    at.q_len = seq, at.kv_len = kv_len, at.causal = !decode, at.kv_append = seq;
    at.deps = {rope};
    int attn = add(at);
    int o = gemm(L + "attn.o", l, tokens, m.hidden, q_dim, q.weights, q.residual, {attn});
    std::vector<int> rd = {o};
    if (residual >= 0) rd.push_back(residual);
    int res1 = elem(L + "attn.residual", l, "add", tokens * m.hidden, q.residual, q.residual, rd);
    int norm2 =
        elem(L + "ffn_norm", l, "rmsnorm", tokens * m.hidden, q.residual, q.activations, {res1});
    int gu =
        gemm(L + "ffn.gate_up", l, tokens, 2 * m.ffn, m.hidden, q.weights, q.activations, {norm2});
    int act =
        elem(L + "ffn.silu_mul", l, "silu_mul", tokens * m.ffn, q.activations, q.activations, {gu});
    int down = gemm(L + "ffn.down", l, tokens, m.hidden, m.ffn, q.weights, q.residual, {act});
    prev =
        elem(L + "ffn.residual", l, "add", tokens * m.hidden, q.residual, q.residual, {down, res1});
  }
  if (w.lm_head) {
    // Only the last token of each sequence needs logits (prefill and decode alike).
    std::vector<int> d0 = prev >= 0 ? std::vector<int>{prev} : std::vector<int>{};
    int fn = elem("final_norm", -1, "rmsnorm", w.batch * m.hidden, q.residual, q.activations, d0);
    gemm("lm_head", -1, w.batch, m.vocab, m.hidden, q.lm_head, q.residual, {fn});
  }
  t.model = {{"name", m.name},         {"family", m.family},
             {"hidden", m.hidden},     {"ffn", m.ffn},
             {"layers", m.layers},     {"heads", m.heads},
             {"kv_heads", m.kv_heads}, {"head_dim", m.head_dim},
             {"vocab", m.vocab},       {"tie_embeddings", m.tie_embeddings}};
  t.workload = {{"phase", w.phase},
                {"batch", w.batch},
                {"context", w.context},
                {"seq", seq},
                {"quant", q.name},
                {"weights", q.weights.str()},
                {"activations", q.activations.str()},
                {"kv_cache", q.kv_cache.str()}};
  return t;
}

}  // namespace bc
