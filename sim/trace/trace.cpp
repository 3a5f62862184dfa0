#include "sim/trace/trace.h"

#include <limits>
#include <map>

#include "sim/config/config_tree.h"
#include "sim/config/limits.h"
#include "sim/config/params.h"

namespace bc {

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::Gemm:
      return "gemm";
    case OpKind::Attention:
      return "attention";
    case OpKind::Elementwise:
      return "elementwise";
    case OpKind::Collective:
      return "collective";
  }
  return "?";
}

namespace {
// Special functions per element: softmax's exp; silu's exp and reciprocal
// (x / (1 + e^-x)); gelu's tanh. A norm's reciprocal square root is one per
// row, not per element, and RoPE reads its sines and cosines from a table.
const std::vector<ElementwiseFn> kFns = {
    {"rmsnorm", 4, 1},   {"layernorm", 7, 1}, {"silu_mul", 5, 2, 2}, {"gelu", 8, 1, 1},
    {"add", 1, 2},       {"rope", 3, 1},      {"softmax", 5, 1, 1},  {"quantize", 2, 1},
    {"embedding", 0, 1}, {"topk", 2, 1},      {"moe_combine", 2, 1}, {"gelu_mul", 9, 2, 1},
    {"relu2", 2, 1},     {"relu2_mul", 3, 2}, {"silu", 4, 1, 2}};
}  // namespace

const ElementwiseFn* find_elementwise_fn(const std::string& name) {
  for (const auto& f : kFns)
    if (name == f.name) return &f;
  return nullptr;
}

std::vector<std::string> elementwise_fn_names() {
  std::vector<std::string> n;
  for (const auto& f : kFns) n.push_back(f.name);
  return n;
}

double Op::flops() const {
  switch (kind) {
    case OpKind::Gemm:
      return 2.0 * m * n * k;
    case OpKind::Attention: {
      double keys = 0;
      for (int64_t i = 0; i < q_len; ++i) {
        auto [b, e] = key_range(i, 1);
        keys += static_cast<double>(e - b);
      }
      return 2.0 * 2.0 * batch * heads * keys * head_dim;  // QK^T and AV
    }
    case OpKind::Elementwise: {
      const ElementwiseFn* f = find_elementwise_fn(fn);
      return f ? f->ops_per_element * elements : 0;
    }
    case OpKind::Collective:
      return 0;  // the reduction adds of an all-reduce are not counted as model FLOPs
  }
  return 0;
}

double Op::collective_bytes() const {
  return kind == OpKind::Collective ? o.bytes(static_cast<double>(elements)) : 0;
}

std::vector<std::pair<int64_t, TensorFormat>> Op::weight_parts() const {
  if (!w_parts.empty()) return w_parts;
  return {{n, w}};
}

double Op::sparsity_index_bits() const {
  if (sparsity == "2:4") return 2.0;                     // 2-bit position per kept weight
  if (sparsity == "unstructured") return 1.0 / density;  // 1-bit-per-weight bitmap
  return 0;
}

std::string sparsity_density_error(const std::string& pattern, double density) {
  if (pattern == "2:4" && density != 0.5) return "2:4 sparsity keeps exactly half (0.5)";
  return "";
}

std::vector<Diagnostic> op_shape_errors(const Op& op) {
  std::vector<Diagnostic> out;
  auto error = [&](const std::string& key, const std::string& message,
                   const std::string& hint = "") {
    Diagnostic d;  // no position: the caller's
    d.key = key, d.message = message, d.hint = hint;
    out.push_back(std::move(d));
  };
  auto n = [](int64_t v) { return std::to_string(v); };
  // Group scales run along the dimension they group: k for W and A, head_dim for KV.
  auto groups = [&](const std::string& key, const TensorFormat& f, int64_t dim,
                    const std::string& dim_key) {
    std::string hint, err = group_size_error(f, dim, dim_key + " " + n(dim), &hint);
    if (!err.empty()) error(key, err, hint);
  };
  if (op.kind == OpKind::Gemm) {
    if (static_cast<double>(op.m) * static_cast<double>(op.n) * static_cast<double>(op.k) >
        limits::kMaxOpMacs)
      error("m", "m x n x k = " + n(op.m) + " x " + n(op.n) + " x " + n(op.k) +
                     " MACs, more than 1e24 (the limit)");
    if (std::string e = sparsity_density_error(op.sparsity, op.density); !e.empty())
      error("density", e);
    groups("w", op.w, op.k, "k");
    for (const auto& part : op.w_parts) groups("w_parts", part.second, op.k, "k");
    groups("a", op.a, op.k, "k");
  } else if (op.kind == OpKind::Attention) {
    if (op.batch * op.kv_len > limits::kMaxBatchTokens)
      error("batch", "batch x kv_len = " + n(op.batch * op.kv_len) + " keys, more than " +
                         n(limits::kMaxBatchTokens) + " (the limit)");
    if (op.kv_heads > 0 && op.heads % op.kv_heads != 0)
      error("kv_heads", "heads (" + n(op.heads) + ") must be a multiple of kv_heads");
    if (op.q_len > op.kv_len && op.kv_len > 0)
      error("q_len",
            n(op.q_len) + " queries outnumber the " + n(op.kv_len) +
                " keys: each query attends itself, so there are at least as many keys",
            "give at least as many keys as queries");
    if (op.kv_append > op.kv_len)
      error("kv_append",
            n(op.kv_append) + " tokens appended to a cache of " + n(op.kv_len) +
                " keys: the appended tokens are among the keys attended",
            "give kv_append <= kv_len");
    groups("kv", op.w, op.head_dim, "head_dim");
    groups("a", op.a, op.head_dim, "head_dim");  // Q is grouped along head_dim, as K and V
  }
  return out;
}

double Op::weight_bytes() const {
  if (kind != OpKind::Gemm) return 0;
  double bytes = 0;
  for (const auto& [cols, f] : weight_parts())
    bytes += static_cast<double>(k) * static_cast<double>(cols) * density *
             (f.bits_per_element() + sparsity_index_bits()) / 8.0;
  return bytes;
}

std::pair<int64_t, int64_t> Op::key_range(int64_t q_first, int64_t q_count) const {
  // The queries are the last q_len positions of a kv_len-long sequence.
  int64_t first_pos = kv_len - q_len + q_first, last_pos = first_pos + q_count - 1;
  int64_t end = causal ? last_pos + 1 : kv_len;
  int64_t begin = 0;
  if (window > 0) begin = std::max<int64_t>(0, (causal ? first_pos : kv_len - 1) - window + 1);
  return {begin, end};
}

double Op::kv_bytes_read() const {
  if (kind != OpKind::Attention) return 0;
  auto [b, e] = key_range(0, q_len);
  return w.bytes(2.0 * static_cast<double>(batch * kv_heads) * static_cast<double>(e - b) *
                 static_cast<double>(head_dim));
}

namespace {

TensorFormat read_format(Params& p, const std::string& key, const std::string& help) {
  std::string s = p.text(key, "int8", help);
  std::string err;
  auto f = parse_tensor_format(s, &err);
  if (!f) {
    p.error(key, err);
    return TensorFormat{};
  }
  return *f;
}

// An informational section (model, workload, totals) as JSON, so a trace run
// reports the same workload as the model run that wrote the trace (the batch,
// phase and seq set its token count). The located tree keeps scalars as text: a
// scalar that reads as a JSON number, true, false or null becomes one.
nlohmann::json section_json(const CNode& n) {
  switch (n.kind) {
    case CNode::Kind::Null:
      return nullptr;
    case CNode::Kind::Scalar: {
      nlohmann::json v = nlohmann::json::parse(n.scalar, nullptr, false);
      return v.is_number() || v.is_boolean() || v.is_null() ? v : nlohmann::json(n.scalar);
    }
    case CNode::Kind::Seq: {
      nlohmann::json a = nlohmann::json::array();
      for (const CNode& e : n.seq) a.push_back(section_json(e));
      return a;
    }
    case CNode::Kind::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [k, v] : n.map) o[k] = section_json(v);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

Trace read_trace(const std::string& path) {
  CNode root = load_config_file(path);
  DiagnosticSink sink;
  Trace t;
  {
    Params top(&root, "", &sink);
    std::string schema = top.text("schema", std::nullopt, "must be \"bitcycle-trace\"");
    if (schema != "bitcycle-trace" && top.has("schema"))
      top.error("schema", "expected \"bitcycle-trace\", got \"" + schema + "\"");
    t.version =
        static_cast<int>(top.integer("version", std::nullopt, "trace schema version", 1, 1));
    // What the trace was generated from, kept for the report. The workload's
    // phase, batch and seq set the report's tokens per step, so they are checked
    // like any value; the rest is informational.
    if (const CNode* m = top.raw("model")) t.model = section_json(*m);
    if (const CNode* w = top.raw("workload")) {
      Params wp(w, "workload", &sink);
      if (w->is_map()) {
        for (const auto& [k, v] : w->map)
          if (k != "phase" && k != "batch" && k != "seq") wp.raw(k);
        wp.choice("phase", "decode", {"decode", "prefill"}, "decode | prefill");
        wp.integer("batch", 1, "sequences (tokens per decode step)", 1, limits::kMaxBatch);
        wp.integer("seq", 1, "prefill: prompt tokens per sequence", 1, limits::kMaxTokens);
      }
      t.workload = section_json(*w);
    }
    if (const CNode* x = top.raw("totals"); x && x->is_map()) t.totals = section_json(*x);
    const CNode* ops = top.raw("ops");
    if (!ops || ops->kind != CNode::Kind::Seq || ops->seq.empty()) {
      sink.add({ops ? ops->loc : root.loc, "ops", "expected a non-empty list of ops", ""});
    } else if (static_cast<int64_t>(ops->seq.size()) > limits::kMaxOps) {
      sink.add({ops->loc, "ops",
                std::to_string(ops->seq.size()) + " ops, more than " +
                    std::to_string(limits::kMaxOps) + " (the limit for a trace)",
                "split the trace"});
    } else {
      std::map<int, size_t> ids;
      for (size_t i = 0; i < ops->seq.size(); ++i) {
        std::string path_i = "ops[" + std::to_string(i) + "]";
        Params p(&ops->seq[i], path_i, &sink);
        const size_t errors_before = sink.size();
        constexpr int64_t kDim = limits::kMaxOpDim;
        Op op;
        op.id = static_cast<int>(p.integer("id", static_cast<int64_t>(i), "unique op id", 0,
                                           std::numeric_limits<int32_t>::max()));
        op.name = p.text("name", "op" + std::to_string(op.id), "op name");
        std::string kind = p.choice("kind", std::nullopt,
                                    {"gemm", "attention", "elementwise", "collective"}, "op kind");
        op.layer = static_cast<int>(
            p.integer("layer", -1, "decoder layer, -1 if none", -1, limits::kMaxLayers - 1));
        op.a = read_format(p, "a", "activation format");
        op.o = read_format(p, "o", "output format");
        if (const CNode* d = p.raw("deps")) {
          if (d->kind != CNode::Kind::Seq) {
            sink.add({d->loc, path_i + ".deps", "expected a list of op ids", ""});
          } else {
            for (const auto& e : d->seq) {
              try {
                // The whole scalar: "17e9" is not op 17, nor "0.9" op 0.
                size_t used = 0;
                const long long v = e.is_scalar() ? std::stoll(e.scalar, &used) : -1;
                if (!e.is_scalar() || used != e.scalar.size() || v < 0 ||
                    v > std::numeric_limits<int32_t>::max())
                  throw std::invalid_argument("not an id");
                const int dep = static_cast<int>(v);
                if (!ids.count(dep))
                  sink.add({e.loc, path_i + ".deps",
                            "dependency " + e.scalar + " is not an earlier op's id",
                            "ops must be listed in dependency order"});
                op.deps.push_back(dep);
              } catch (const std::exception&) {
                sink.add(
                    {e.loc, path_i + ".deps", "expected an op id, got \"" + e.scalar + "\"", ""});
              }
            }
          }
        }
        if (kind == "gemm") {
          op.kind = OpKind::Gemm;
          op.w = read_format(p, "w", "weight format");
          op.m = p.integer("m", std::nullopt, "rows of A and C (tokens)", 1, kDim);
          op.n = p.integer("n", std::nullopt, "columns of W and C", 1, kDim);
          op.k = p.integer("k", std::nullopt, "reduction dimension", 1, kDim);
          if (const CNode* parts = p.raw("w_parts")) {
            int64_t total = 0;
            if (parts->kind != CNode::Kind::Seq) {
              sink.add({parts->loc, path_i + ".w_parts", "expected a list of {n, w}", ""});
            } else {
              for (size_t j = 0; j < parts->seq.size(); ++j) {
                Params pp(&parts->seq[j], path_i + ".w_parts[" + std::to_string(j) + "]", &sink);
                int64_t cols =
                    pp.integer("n", std::nullopt, "output features in this format", 1, kDim);
                op.w_parts.push_back({cols, read_format(pp, "w", "their weight format")});
                total += cols;
              }
              if (total != op.n)
                sink.add({parts->loc, path_i + ".w_parts",
                          "part sizes add up to " + std::to_string(total) +
                              ", expected n = " + std::to_string(op.n),
                          ""});
            }
          }
          op.sparsity =
              p.choice("sparsity", "", {"", "2:4", "unstructured"}, "weight sparsity pattern");
          op.density = p.number("density", op.sparsity == "2:4" ? 0.5 : 1.0,
                                "kept fraction of weights", 1e-6, 1);
          // A density without a pattern changed the weight bytes silently.
          if (op.sparsity.empty() && p.has("density"))
            p.error("density", "a density is only read with a sparsity pattern",
                    "add sparsity: 2:4 or unstructured, or remove density");
        } else if (kind == "attention") {
          op.kind = OpKind::Attention;
          op.w = read_format(p, "kv", "KV cache format");
          op.batch = p.integer("batch", std::nullopt, "sequences", 1, limits::kMaxBatch);
          op.heads = p.integer("heads", std::nullopt, "query heads", 1, limits::kMaxHeads);
          op.kv_heads = p.integer("kv_heads", op.heads, "KV heads (GQA)", 1, limits::kMaxHeads);
          op.head_dim = p.integer("head_dim", std::nullopt, "head dimension", 1, limits::kMaxDim);
          op.q_len =
              p.integer("q_len", std::nullopt, "query tokens per sequence", 1, limits::kMaxTokens);
          op.kv_len = p.integer("kv_len", std::nullopt, "keys attended per sequence", 1,
                                limits::kMaxTokens);
          op.causal = p.boolean("causal", false, "causal mask within the query block");
          op.window = p.integer("window", 0, "sliding window (keys per query), 0 = none", 0,
                                limits::kMaxTokens);
          op.kv_append =
              p.integer("kv_append", 0, "tokens appended to the KV cache", 0, limits::kMaxTokens);
        } else if (kind == "collective") {
          op.kind = OpKind::Collective;
          op.fn = p.choice("fn", std::nullopt, {"allreduce", "allgather", "send"},
                           "chip-to-chip collective");
          op.elements = p.integer("elements", std::nullopt,
                                  "elements of the tensor each rank holds after it (sends)", 1,
                                  limits::kMaxElements);
          op.group = p.choice("group", op.fn == "send" ? "pipeline" : "tensor",
                              {"tensor", "pipeline"}, "the ranks it runs over");
        } else {
          op.kind = OpKind::Elementwise;
          op.fn = p.choice("fn", std::nullopt, elementwise_fn_names(), "element-wise function");
          op.elements =
              p.integer("elements", std::nullopt, "output elements", 1, limits::kMaxElements);
          op.input_from_dram =
              p.boolean("input_from_dram", false, "input is a table in DRAM (embedding)");
        }
        // The checks across keys, only on keys that were read without error
        // (a bad k read as 1 is not also a group size that does not divide it).
        if (sink.size() == errors_before)
          for (const Diagnostic& d : op_shape_errors(op)) p.error(d.key, d.message, d.hint);
        if (ids.count(op.id)) p.error("id", "duplicate op id " + std::to_string(op.id));
        ids[op.id] = i;
        t.ops.push_back(std::move(op));
      }
    }
  }
  sink.throw_if_any();
  return t;
}

nlohmann::json trace_to_json(const Trace& t) {
  nlohmann::json j;
  j["schema"] = "bitcycle-trace";
  j["version"] = t.version;
  j["model"] = t.model;
  j["workload"] = t.workload;
  j["totals"] = t.totals;
  j["totals"].update(trace_totals(t));
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& op : t.ops) {
    nlohmann::json o;
    o["id"] = op.id;
    o["name"] = op.name;
    o["kind"] = op_kind_name(op.kind);
    if (op.layer >= 0) o["layer"] = op.layer;
    o["a"] = op.a.str();
    if (op.kind == OpKind::Gemm) {
      o["w"] = op.w.str();
      o["m"] = op.m;
      o["n"] = op.n;
      o["k"] = op.k;
      if (!op.w_parts.empty()) {
        o["w_parts"] = nlohmann::json::array();
        for (const auto& [cols, f] : op.w_parts)
          o["w_parts"].push_back({{"n", cols}, {"w", f.str()}});
      }
      if (!op.sparsity.empty()) o["sparsity"] = op.sparsity, o["density"] = op.density;
    } else if (op.kind == OpKind::Attention) {
      o["kv"] = op.w.str();
      o["batch"] = op.batch;
      o["heads"] = op.heads;
      o["kv_heads"] = op.kv_heads;
      o["head_dim"] = op.head_dim;
      o["q_len"] = op.q_len;
      o["kv_len"] = op.kv_len;
      o["causal"] = op.causal;
      if (op.window > 0) o["window"] = op.window;
      o["kv_append"] = op.kv_append;
    } else if (op.kind == OpKind::Collective) {
      o["fn"] = op.fn;
      o["elements"] = op.elements;
      o["group"] = op.group;
    } else {
      o["fn"] = op.fn;
      o["elements"] = op.elements;
      if (op.input_from_dram) o["input_from_dram"] = true;
    }
    o["o"] = op.o.str();
    o["deps"] = op.deps;
    ops.push_back(o);
  }
  j["ops"] = ops;
  return j;
}

nlohmann::json trace_totals(const Trace& t) {
  nlohmann::json flops = nlohmann::json::object();
  double weight_bytes = 0, kv_bytes = 0, total = 0, comm_bytes = 0;
  for (const auto& op : t.ops) {
    if (op.kind == OpKind::Gemm) {
      // FLOPs per format pair, split over the weight's column blocks.
      for (const auto& [cols, f] : op.weight_parts()) {
        std::string cls = format_class(f.elem) + "w/" + format_class(op.a.elem) + "a";
        flops[cls] = flops.value(cls, 0.0) +
                     op.flops() * static_cast<double>(cols) / static_cast<double>(op.n);
      }
    } else if (op.kind == OpKind::Collective) {
      comm_bytes += op.collective_bytes();
      continue;
    } else {
      std::string cls =
          op.kind == OpKind::Attention ? "attention/" + format_class(op.w.elem) + "kv" : "vector";
      flops[cls] = flops.value(cls, 0.0) + op.flops();
    }
    weight_bytes += op.weight_bytes();
    kv_bytes += op.kv_bytes_read();
    total += op.flops();
  }
  return {{"ops", t.ops.size()},       {"flops", total},
          {"flops_by_format", flops},  {"weight_bytes_read", weight_bytes},
          {"kv_bytes_read", kv_bytes}, {"collective_bytes", comm_bytes}};
}

}  // namespace bc
