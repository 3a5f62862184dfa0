#include "workloads/quant.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "sim/config/config_tree.h"
#include "sim/config/hw_config.h"
#include "sim/config/limits.h"
#include "sim/config/params.h"
#include "sim/trace/trace.h"

namespace bc {
namespace fs = std::filesystem;

double Sparsity::index_bits_per_nonzero() const {
  if (pattern == "2:4") return 2.0;
  if (pattern == "unstructured") return 1.0 / density;
  return 0;
}

const std::vector<std::string>& tensor_classes() {
  static const std::vector<std::string> c = {"qkv",    "o",       "gate_up",  "down",
                                             "router", "lm_head", "attention"};
  return c;
}

namespace {

std::optional<LocatedFormat> read_format(Params& p, const std::string& key,
                                         const std::string& help) {
  if (!p.has(key)) {
    p.text(key, "", help);  // documents and marks the key
    return std::nullopt;
  }
  std::string s = p.text(key, std::nullopt, help);
  std::string err;
  auto f = parse_tensor_format(s, &err);
  if (!f) {
    p.error(key, err);
    return std::nullopt;
  }
  return LocatedFormat{*f, p.loc_of(key)};
}

// `cls`: the tensor class the spec is for ("" for the recipe's or a layer
// range's defaults, which apply to every class). The attention class has no
// weights (its K and V are the kv_cache) and a GEMM class no KV cache: a key
// that means nothing for its class is an error, not silently unused.
TensorSpec read_spec(Params& p, const std::string& cls = "") {
  if (!cls.empty()) {
    const bool attention = cls == "attention";
    for (const char* k : {"weights", "output_features", "sparsity", "kv_cache"})
      if (p.has(k) && attention == (std::string(k) != "kv_cache"))
        p.error(k,
                attention ? std::string("the attention class has no weights (") + k +
                                " applies to a GEMM's weights; attention reads the kv_cache)"
                          : "the " + cls +
                                " class has no KV cache (kv_cache is read from the "
                                "recipe's defaults or the attention class)",
                attention ? "give activations or kv_cache here" : "move kv_cache to attention");
  }
  TensorSpec s;
  s.weights = read_format(p, "weights", "weight format, e.g. int4/g128/fp16");
  s.activations = read_format(p, "activations", "activation (GEMM input) format");
  s.kv_cache = read_format(p, "kv_cache", "KV-cache format");
  if (const CNode* of = p.raw("output_features")) {
    if (of->kind != CNode::Kind::Seq || of->seq.empty()) {
      p.error("output_features", "expected a list of {fraction, weights}");
    } else {
      double total = 0;
      for (size_t i = 0; i < of->seq.size(); ++i) {
        Params e(&of->seq[i], p.key_path("output_features") + "[" + std::to_string(i) + "]",
                 p.sink());
        FeaturePart part;
        part.fraction = e.number("fraction", std::nullopt, "share of output features", 0, 1);
        auto f = read_format(e, "weights", "format of these output features");
        if (f)
          part.fmt = f->fmt;
        else if (e.present() && !e.has("weights"))
          e.error("weights", "missing the format of this share");
        part.loc = of->seq[i].loc;
        total += part.fraction;
        s.output_features.push_back(part);
      }
      if (std::fabs(total - 1) > 1e-6)
        p.error("output_features", "fractions add up to " + std::to_string(total) + ", expected 1");
    }
  }
  if (p.raw("sparsity")) {  // (raw: a layer entry's unknown-key message lists it)
    Params sp = p.map("sparsity", "weight sparsity");
    Sparsity z;
    z.pattern = sp.choice("pattern", std::nullopt, {"2:4", "unstructured"}, "sparsity pattern");
    z.density = sp.number("density", z.pattern == "2:4" ? 0.5 : std::optional<double>{},
                          "kept fraction", 1e-6, 1);
    if (std::string e = sparsity_density_error(z.pattern, z.density); !e.empty())
      sp.error("density", e);
    z.loc = p.loc_of("sparsity");
    s.sparsity = z;
  }
  return s;
}

void merge(ResolvedQuant& r, const TensorSpec& s) {
  if (s.weights) r.weights = s.weights->fmt, r.weights_loc = s.weights->loc, r.parts.clear();
  if (s.activations) r.activations = s.activations->fmt, r.activations_loc = s.activations->loc;
  if (s.kv_cache) r.kv_cache = s.kv_cache->fmt, r.kv_loc = s.kv_cache->loc;
  if (!s.output_features.empty()) r.parts = s.output_features;
  if (s.sparsity) r.sparsity = *s.sparsity;
}

}  // namespace

std::vector<std::string> known_quants() { return workload_names("quant"); }

QuantRecipe load_quant(const std::string& name_or_path) {
  std::string path = workload_file(name_or_path, "quant", "quantization recipe", "--quant");
  CNode root = load_config_file(path);
  DiagnosticSink sink;
  QuantRecipe q;
  q.path = path;
  {
    Params p(&root, "", &sink);
    q.name = p.text("name", fs::path(path).stem().string(), "recipe name");
    q.description = p.text("description", "", "free text");
    q.source = p.text("source", "", "paper or scheme this recipe follows");
    q.base = read_spec(p);
    // Absent, not merely bad (a bad format is already reported at its value).
    if (!p.has("weights")) p.error("weights", "missing required key (the default weight format)");
    if (!p.has("activations"))
      p.error("activations", "missing required key (the default activation format)");
    if (!q.base.kv_cache && q.base.activations) q.base.kv_cache = q.base.activations;
    auto res = read_format(p, "residual", "residual stream and norm input format");
    q.residual.elem = format("bf16");  // the usual residual stream format
    if (res) q.residual = res->fmt;
    {
      Params cls = p.map(
          "classes", "formats per tensor class: qkv, o, gate_up, down, router, lm_head, attention");
      for (const auto& c : cls.entry_names()) {
        if (std::find(tensor_classes().begin(), tensor_classes().end(), c) ==
            tensor_classes().end()) {
          cls.error(c, "unknown tensor class \"" + c + "\"",
                    "classes: qkv, o, gate_up, down, router, lm_head, attention");
          continue;
        }
        Params cp = cls.map(c, "formats of this class", true, "<class>");
        q.classes[c] = read_spec(cp, c);
      }
    }
    {
      Params layers =
          p.map("layers", "per layer range (\"3\" or \"0-3\"): {weights, ..., CLASS: {...}}");
      for (const auto& range : layers.entry_names()) {
        LayerRule rule;
        rule.loc = layers.key_loc_of(range);
        try {
          // Each index read whole ("3x" is not layer 3), within the layer limit.
          auto index = [](const std::string& t) {
            size_t used = 0;
            const long long v = std::stoll(t, &used);
            if (used != t.size() || t.empty() || !std::isdigit(static_cast<unsigned char>(t[0])) ||
                v >= limits::kMaxLayers)
              throw std::invalid_argument("not an index");
            return v;
          };
          size_t dash = range.find('-');
          rule.first = index(range.substr(0, dash));
          rule.last = dash == std::string::npos ? rule.first : index(range.substr(dash + 1));
          if (rule.last < rule.first || rule.first < 0) throw std::invalid_argument("order");
        } catch (const std::exception&) {
          layers.error(range,
                       "expected a layer index or range like \"0-3\", got \"" + range + "\"");
          continue;
        }
        Params lp = layers.map(range, "formats for these layers", true, "<layers>");
        rule.all = read_spec(lp);
        for (const auto& c : tensor_classes())
          if (lp.raw(c)) {  // (raw: the entry's unknown-key message lists the classes)
            Params cp = lp.map(c, "formats of this class in these layers");
            rule.classes[c] = read_spec(cp, c);
          }
        q.layers.push_back(std::move(rule));
      }
    }
    {
      Params ts = p.map("tensors", "per tensor by name, e.g. layers.0.ffn.down: {weights: int8}");
      for (const auto& name : ts.entry_names()) {
        Params tp = ts.map(name, "formats of this tensor", true, "<tensor>");
        q.tensors[name] = {read_spec(tp), ts.key_loc_of(name)};
      }
    }
  }
  sink.throw_if_any();
  return q;
}

ResolvedQuant resolve_quant(const QuantRecipe& q, const std::string& cls, int layer,
                            const std::string& tensor) {
  ResolvedQuant r;
  merge(r, q.base);
  auto c = q.classes.find(cls);
  if (c != q.classes.end()) merge(r, c->second);
  for (const auto& rule : q.layers) {
    if (layer < rule.first || layer > rule.last) continue;
    merge(r, rule.all);
    auto rc = rule.classes.find(cls);
    if (rc != rule.classes.end()) merge(r, rc->second);
  }
  auto t = q.tensors.find(tensor);
  if (t != q.tensors.end()) merge(r, t->second.first);
  return r;
}

void check_quant(const QuantRecipe& q, const ModelDesc& m) {
  DiagnosticSink sink;
  auto tensors = weight_tensors(m);
  std::vector<std::string> names;
  for (const auto& t : tensors) names.push_back(t.name);
  for (const auto& [name, spec] : q.tensors) {
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    std::string near = nearest(name, names);
    sink.add({spec.second, "tensors." + name,
              "the recipe names tensor \"" + name + "\", which " + m.name + " does not have",
              near.empty() ? "tensor names look like layers.0.ffn.down"
                           : "did you mean \"" + near + "\"?"});
  }
  for (const auto& rule : q.layers)
    if (rule.last >= m.layers)
      sink.add({rule.loc, "layers",
                "layer range " + std::to_string(rule.first) + "-" + std::to_string(rule.last) +
                    " is outside " + m.name + " (layers 0-" + std::to_string(m.layers - 1) + ")",
                ""});
  // Group scales run along a GEMM's input features (K) for its weights and its
  // activations; KV groups along head_dim.
  struct Grouped {
    TensorFormat fmt;
    SourceLoc loc;
    const char* key;
  };
  for (const auto& t : tensors) {
    if (t.cls == "norm" || t.cls == "bias" || t.cls == "embedding") continue;
    ResolvedQuant r = resolve_quant(q, t.cls, t.layer, t.name);
    std::vector<Grouped> fmts = {{r.weights, r.weights_loc, "weights"}};
    for (const auto& part : r.parts) fmts.push_back({part.fmt, part.loc, "weights"});
    fmts.push_back({r.activations, r.activations_loc, "activations"});
    for (const auto& g : fmts) {
      std::string hint,
          err = group_size_error(
              g.fmt, t.k, "the " + std::to_string(t.k) + " input features of " + t.name, &hint);
      if (!err.empty()) {
        sink.add({g.loc, g.key, err, hint});
        sink.throw_if_any();  // one message per recipe entry is enough
      }
    }
  }
  ResolvedQuant kv = resolve_quant(q, "attention", 0, "");
  std::string hint, err = group_size_error(kv.kv_cache, m.head_dim,
                                           "head_dim " + std::to_string(m.head_dim), &hint);
  if (!err.empty()) sink.add({kv.kv_loc, "kv_cache", err, hint});
  sink.throw_if_any();
}

double weight_bytes(const QuantRecipe& q, const WeightTensor& t) {
  if (t.cls == "norm" || t.cls == "bias" || t.cls == "embedding") {
    // Embedding tables, norms and biases stay in the residual format.
    return q.residual.bytes(t.params());
  }
  ResolvedQuant r = resolve_quant(q, t.cls, t.layer, t.name);
  double bits = 0;
  if (r.parts.empty())
    bits = r.weights.bits_per_element();
  else
    for (const auto& p : r.parts) bits += p.fraction * p.fmt.bits_per_element();
  double d = r.sparsity.pattern.empty() ? 1.0 : r.sparsity.density;
  return t.params() * d * (bits + r.sparsity.index_bits_per_nonzero()) / 8.0;
}

}  // namespace bc
