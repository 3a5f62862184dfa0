#include "workloads/model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "sim/config/config_tree.h"
#include "sim/config/hw_config.h"
#include "sim/config/limits.h"
#include "sim/config/params.h"

namespace bc {
namespace fs = std::filesystem;

std::vector<WeightTensor> weight_tensors(const ModelDesc& m) {
  std::vector<WeightTensor> w;
  const int64_t q = m.heads * m.head_dim, kv = m.kv_heads * m.head_dim;
  const bool ln = m.norm == "layernorm";
  auto add = [&](std::string name, std::string cls, int layer, int64_t k, int64_t n,
                 int expert = -1) {
    w.push_back({std::move(name), std::move(cls), layer, k, n, expert});
  };
  add("embedding", "embedding", -1, m.vocab, m.hidden);
  if (m.max_positions > 0) add("position_embedding", "embedding", -1, m.max_positions, m.hidden);
  for (int l = 0; l < m.layers; ++l) {
    std::string L = "layers." + std::to_string(l) + ".";
    add(L + "attn_norm", "norm", l, 1, m.hidden * (ln ? 2 : 1));
    add(L + "attn.qkv", "qkv", l, m.hidden, q + 2 * kv);
    if (m.attention_bias) add(L + "attn.qkv_bias", "bias", l, 1, q + 2 * kv);
    add(L + "attn.o", "o", l, q, m.hidden);
    if (m.attention_bias && m.family == "gpt") add(L + "attn.o_bias", "bias", l, 1, m.hidden);
    add(L + "ffn_norm", "norm", l, 1, m.hidden * (ln ? 2 : 1));
    const int64_t up = (m.gated_mlp ? 2 : 1) * m.ffn;
    if (m.is_moe()) {
      add(L + "moe.router", "router", l, m.hidden, m.experts);
      for (int e = 0; e < m.experts; ++e) {
        std::string E = L + "moe.experts." + std::to_string(e) + ".";
        add(E + "gate_up", "gate_up", l, m.hidden, up, e);
        add(E + "down", "down", l, m.ffn, m.hidden, e);
      }
    } else {
      add(L + "ffn.gate_up", "gate_up", l, m.hidden, up);
      if (m.mlp_bias) add(L + "ffn.gate_up_bias", "bias", l, 1, up);
      add(L + "ffn.down", "down", l, m.ffn, m.hidden);
      if (m.mlp_bias) add(L + "ffn.down_bias", "bias", l, 1, m.hidden);
    }
  }
  add("final_norm", "norm", -1, 1, m.hidden * (ln ? 2 : 1));
  if (!m.tie_embeddings) add("lm_head", "lm_head", -1, m.hidden, m.vocab);
  return w;
}

double param_count(const ModelDesc& m) {
  double p = 0;
  for (const auto& t : weight_tensors(m)) p += t.params();
  return p;
}

double active_param_count(const ModelDesc& m) {
  double p = 0;
  for (const auto& t : weight_tensors(m))
    if (t.expert < 0 || t.expert < m.experts_per_token) p += t.params();
  return p;
}

double kv_elements_per_token(const ModelDesc& m) {
  return 2.0 * static_cast<double>(m.layers) * static_cast<double>(m.kv_heads) *
         static_cast<double>(m.head_dim);
}

namespace {

const std::vector<std::string> kFamilies = {"llama", "mistral", "mixtral",
                                            "qwen2", "gpt",     "bitnet"};

// The cross-key checks of a model, reported through `error(field, message,
// hint)` at the key (model .yaml) or config.json key that gave the field.
// Without head_dim given, it is hidden / heads, which must be whole.
template <typename Report>
void check_model(const ModelDesc& m, bool head_dim_given, Report error) {
  auto n = [](int64_t v) { return std::to_string(v); };
  if (m.heads > 0 && m.head_dim < 1)
    error("head_dim",
          "the head dimension is hidden / heads = " + n(m.hidden) + " / " + n(m.heads) +
              " = 0: more heads than hidden features",
          "");
  else if (!head_dim_given && m.heads > 0 && m.hidden % m.heads != 0)
    error("head_dim",
          "the head dimension is hidden / heads = " + n(m.hidden) + " / " + n(m.heads) +
              ", not a whole number",
          "give head_dim, or a number of heads that divides " + n(m.hidden));
  if (m.kv_heads > m.heads && m.heads > 0)
    error("kv_heads", "kv_heads (" + n(m.kv_heads) + ") cannot exceed heads (" + n(m.heads) + ")",
          "");
  else if (m.kv_heads > 0 && m.heads % m.kv_heads != 0)
    error("kv_heads",
          "heads (" + n(m.heads) + ") must be a multiple of kv_heads (" + n(m.kv_heads) + ")", "");
  if ((m.heads + 2 * m.kv_heads) * m.head_dim > limits::kMaxQkvDim)
    error("head_dim",
          "(heads + 2 kv_heads) x head_dim = " + n((m.heads + 2 * m.kv_heads) * m.head_dim) +
              ", more than " + n(limits::kMaxQkvDim) + " (the limit)",
          "");
  if (m.is_moe() && (m.experts_per_token < 1 || m.experts_per_token > m.experts))
    error("experts_per_token", "must be between 1 and experts (" + n(m.experts) + ")", "");
  else if (!m.is_moe() && m.experts_per_token > 0)
    error("experts_per_token", "is " + n(m.experts_per_token) + " but the model has no experts",
          "give the number of experts too, or remove this key for a dense model");
}

ModelDesc read_model_yaml(const std::string& path) {
  CNode root = load_config_file(path);
  DiagnosticSink sink;
  ModelDesc m;
  {
    Params p(&root, "", &sink);
    m.name = p.text("name", fs::path(path).stem().string(), "model name");
    m.family = p.choice("family", "llama", kFamilies, "architecture family");
    using namespace limits;
    m.hidden = p.integer("hidden", std::nullopt, "hidden size", 1, kMaxDim);
    m.ffn =
        p.integer("ffn", std::nullopt, "FFN intermediate size (per expert for MoE)", 1, kMaxDim);
    m.layers = p.integer("layers", std::nullopt, "decoder layers", 1, kMaxLayers);
    m.heads = p.integer("heads", std::nullopt, "attention heads", 1, kMaxHeads);
    m.kv_heads = p.integer("kv_heads", m.heads, "KV heads (grouped-query attention)", 1, kMaxHeads);
    m.head_dim = p.integer("head_dim", m.heads ? m.hidden / std::max<int64_t>(1, m.heads) : 1,
                           "head dimension", 1, kMaxDim);
    m.vocab = p.integer("vocab", std::nullopt, "vocabulary size", 1, kMaxVocab);
    m.tie_embeddings = p.boolean("tie_embeddings", false, "LM head shares the embedding table");
    m.sliding_window =
        p.integer("sliding_window", 0, "attention window in tokens, 0 = full", 0, kMaxTokens);
    m.experts = p.integer("experts", 0, "MoE experts per layer, 0 = dense", 0, kMaxExperts);
    m.experts_per_token = p.integer("experts_per_token", m.experts ? 2 : 0,
                                    "experts each token is routed to", 0, kMaxExperts);
    bool gpt = m.family == "gpt";
    m.gated_mlp = p.boolean("gated_mlp", !gpt, "SwiGLU MLP (gate, up, down) vs plain (up, down)");
    m.norm =
        p.choice("norm", gpt ? "layernorm" : "rmsnorm", {"rmsnorm", "layernorm"}, "normalisation");
    m.activation =
        p.choice("activation", gpt ? "gelu" : "silu", {"silu", "gelu", "relu2"}, "MLP activation");
    m.attention_bias =
        p.boolean("attention_bias", gpt || m.family == "qwen2", "biases on attention projections");
    m.mlp_bias = p.boolean("mlp_bias", gpt, "biases on MLP projections");
    m.max_positions = p.integer("max_positions", 0, "learned position embeddings (gpt), 0 = rotary",
                                0, kMaxTokens);
    m.source = p.text("source", "", "where the dimensions come from");
    if (sink.empty())  // the cross-key checks need every key read
      check_model(m, p.has("head_dim"),
                  [&](const std::string& key, const std::string& msg, const std::string& hint) {
                    // A default that failed (head_dim from hidden / heads) is reported at heads.
                    p.error(key == "head_dim" && !p.has(key) ? "heads" : key, msg, hint);
                  });
  }
  sink.throw_if_any();
  return m;
}

}  // namespace

std::vector<std::string> yaml_names(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> workload_names(const std::string& sub) {
  return yaml_names(project_root() + "/workloads/" + sub);
}

std::string workload_file(const std::string& name_or_path, const std::string& sub,
                          const std::string& what, const std::string& option,
                          const std::string& extra_hint) {
  if (name_or_path.find('/') != std::string::npos ||
      fs::path(name_or_path).extension() == ".yaml") {
    // A path that names no file: at the option (or the cell that gave it), not
    // at a file position that does not exist.
    std::error_code ec;
    if (!fs::is_regular_file(name_or_path, ec))
      fail_input(SourceLoc{"<command line>", 0, 0}, option,
                 "no " + what + " file \"" + name_or_path + "\"",
                 "give a .yaml " + what + " file or the name of a shipped one");
    return name_or_path;
  }
  std::string file = project_root() + "/workloads/" + sub + "/" + name_or_path + ".yaml";
  // A name too long for the file system is an unknown name, not a crash.
  std::error_code ec;
  if (fs::exists(file, ec)) return file;
  auto known = workload_names(sub);
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  std::string near = nearest(name_or_path, known);
  fail_input(
      SourceLoc{"<command line>", 0, 0}, option, "unknown " + what + " \"" + name_or_path + "\"",
      (near.empty() ? "" : "did you mean \"" + near + "\"? ") + "known: " + list + extra_hint);
}

std::vector<std::string> known_models() { return workload_names("models"); }

ModelDesc load_model(const std::string& name_or_path) {
  if (fs::path(name_or_path).extension() == ".json") return read_hf_config(name_or_path);
  return read_model_yaml(
      workload_file(name_or_path, "models", "model", "--model",
                    "; or give a .yaml model file or a Hugging Face config.json"));
}

// Hugging Face config.json. JSON is YAML, so it goes through the located parser
// and every error has file:line:column. Keys that describe the architecture are
// mapped; the rest (token ids, rope and training settings) are listed.
ModelDesc read_hf_config(const std::string& path) {
  CNode root = load_config_file(path);
  DiagnosticSink sink;
  ModelDesc m;
  m.name = fs::path(path).parent_path().filename().string();
  if (m.name.empty() || m.name == ".") m.name = fs::path(path).stem().string();
  m.source = "Hugging Face config.json " + path;
  std::set<std::string> used;
  auto get = [&](const std::string& key) -> const CNode* {
    const CNode* n = root.get(key);
    if (n) used.insert(key);
    return n;
  };
  // Where each ModelDesc field came from, so the cross-key checks point at a line.
  std::map<std::string, const CNode*> source_of;
  // A count: an integer in [min, max]. Absent or null: `def` when optional, an
  // error when required (a null head count would be 0, a division by zero).
  auto integer = [&](const char* field, std::initializer_list<const char*> keys, bool required,
                     int64_t def, int64_t min, int64_t max) -> int64_t {
    for (const char* k : keys) {
      const CNode* n = get(k);
      if (!n) continue;
      source_of[field] = n;
      if (n->kind == CNode::Kind::Null) {
        if (required) sink.add({n->loc, k, "is null: expected an integer", ""});
        return def;
      }
      long long v = 0;
      try {
        size_t used_chars = 0;
        v = n->is_scalar() ? std::stoll(n->scalar, &used_chars) : 0;
        if (!n->is_scalar() || used_chars != n->scalar.size()) throw std::invalid_argument("x");
      } catch (const std::exception&) {
        sink.add({n->loc, k,
                  "expected an integer, got " +
                      (n->is_scalar() ? "\"" + n->scalar + "\"" : std::string(n->kind_name())),
                  ""});
        return def;
      }
      if (v < min || v > max) {
        sink.add({n->loc, k,
                  "value " + n->scalar + " out of range: must be >= " + std::to_string(min) +
                      " and <= " + std::to_string(max),
                  ""});
        return def;
      }
      return v;
    }
    if (required)
      sink.add({root.loc, *keys.begin(),
                "missing key in config.json (needed to describe the model)", ""});
    return def;
  };
  auto boolean = [&](const char* key, bool def) {
    const CNode* n = get(key);
    if (!n || n->kind == CNode::Kind::Null) return def;
    if (n->is_scalar() && (n->scalar == "true" || n->scalar == "false")) return n->scalar == "true";
    sink.add({n->loc, key,
              "expected true or false, got " +
                  (n->is_scalar() ? "\"" + n->scalar + "\"" : std::string(n->kind_name())),
              ""});
    return def;
  };
  const CNode* mt = get("model_type");
  get("architectures");
  std::string type = mt && mt->is_scalar() ? mt->scalar : "";
  static const std::map<std::string, std::string> kTypes = {
      {"llama", "llama"}, {"mistral", "mistral"}, {"mixtral", "mixtral"}, {"qwen2", "qwen2"},
      {"gpt2", "gpt"},    {"gpt", "gpt"},         {"openai-gpt", "gpt"},  {"bitnet", "bitnet"}};
  auto fam = kTypes.find(type);
  if (fam == kTypes.end()) {
    std::string list;
    for (const auto& [k, v] : kTypes) list += (list.empty() ? "" : ", ") + k;
    fail_input(mt ? mt->loc : root.loc, "model_type",
               mt ? "unknown model family \"" + type + "\"" : "no model_type in config.json",
               "supported model_type values: " + list);
  }
  m.family = fam->second;
  using namespace limits;
  if (m.family == "gpt") {
    m.hidden = integer("hidden", {"n_embd", "hidden_size"}, true, 0, 1, kMaxDim);
    m.layers = integer("layers", {"n_layer", "num_hidden_layers"}, true, 0, 1, kMaxLayers);
    m.heads = integer("heads", {"n_head", "num_attention_heads"}, true, 0, 1, kMaxHeads);
    m.ffn = integer("ffn", {"n_inner", "intermediate_size"}, false, 0, 1, kMaxDim);
    if (m.ffn == 0) m.ffn = 4 * m.hidden;  // GPT-2/3 convention when n_inner is null
    m.kv_heads = m.heads;
    m.max_positions = integer("max_positions", {"n_positions", "max_position_embeddings"}, false, 0,
                              0, kMaxTokens);
    m.gated_mlp = false, m.norm = "layernorm", m.activation = "gelu";
    m.attention_bias = m.mlp_bias = true;
    m.tie_embeddings = boolean("tie_word_embeddings", true);
  } else {
    m.hidden = integer("hidden", {"hidden_size"}, true, 0, 1, kMaxDim);
    m.ffn = integer("ffn", {"intermediate_size"}, true, 0, 1, kMaxDim);
    m.layers = integer("layers", {"num_hidden_layers"}, true, 0, 1, kMaxLayers);
    m.heads = integer("heads", {"num_attention_heads"}, true, 0, 1, kMaxHeads);
    m.kv_heads = integer("kv_heads", {"num_key_value_heads"}, false, m.heads, 1, kMaxHeads);
    m.tie_embeddings = boolean("tie_word_embeddings", false);
    m.attention_bias = boolean("attention_bias", m.family == "qwen2");
    m.mlp_bias = boolean("mlp_bias", false);
    bool sliding = boolean("use_sliding_window", m.family != "qwen2");
    int64_t window = integer("sliding_window", {"sliding_window"}, false, 0, 0, kMaxTokens);
    m.sliding_window = sliding ? window : 0;
    m.experts = integer("experts", {"num_local_experts", "num_experts"}, false, 0, 0, kMaxExperts);
    m.experts_per_token = integer("experts_per_token", {"num_experts_per_tok"}, false,
                                  m.experts ? 2 : 0, 0, kMaxExperts);
    if (m.experts > 0 && m.family != "qwen2") m.family = "mixtral";
  }
  m.vocab = integer("vocab", {"vocab_size"}, true, 0, 1, kMaxVocab);
  // Absent or null (0 here): hidden / heads.
  int64_t hd = integer("head_dim", {"head_dim"}, false, 0, 1, kMaxDim);
  m.head_dim = hd > 0 ? hd : (m.heads ? m.hidden / m.heads : 0);
  if (hd == 0) source_of["head_dim"] = source_of["heads"];  // hidden / heads
  // The MLP activation: Transformers' names of the three the simulator models
  // (relu2: squared ReLU, Transformers' ReLUSquaredActivation, BitNet b1.58 2B4T's).
  static const std::map<std::string, std::string> kActs = {{"silu", "silu"},
                                                           {"swish", "silu"},
                                                           {"gelu", "gelu"},
                                                           {"relu2", "relu2"},
                                                           {"gelu_new", "gelu"},
                                                           {"gelu_fast", "gelu"},
                                                           {"gelu_pytorch_tanh", "gelu"},
                                                           {"gelu_python", "gelu"},
                                                           {"gelu_accurate", "gelu"},
                                                           {"quick_gelu", "gelu"}};
  for (const char* k : {"hidden_act", "activation_function"})
    if (const CNode* n = get(k); n && n->kind != CNode::Kind::Null) {
      auto a = n->is_scalar() ? kActs.find(n->scalar) : kActs.end();
      if (a != kActs.end()) {
        m.activation = a->second;
        continue;
      }
      std::string list;
      for (const auto& [name, act] : kActs) list += (list.empty() ? "" : ", ") + name;
      sink.add({n->loc, k,
                "unknown activation " +
                    (n->is_scalar() ? "\"" + n->scalar + "\"" : std::string(n->kind_name())),
                "accepted: " + list});
    }
  // The epsilon keys say which norm the model uses; their value must still be
  // a number (a string or a list there is a broken file, not a norm).
  auto epsilon = [&](const char* k) {
    const CNode* n = get(k);
    if (!n || n->kind == CNode::Kind::Null) return n != nullptr;
    char* end = nullptr;
    const double v = n->is_scalar() ? std::strtod(n->scalar.c_str(), &end) : 0;
    if (!n->is_scalar() || end == n->scalar.c_str() || *end != '\0' || !std::isfinite(v) ||
        v <= 0 || v >= 1)
      sink.add({n->loc, k,
                "expected a small positive number (the norm's epsilon, e.g. 1e-5), got " +
                    (n->is_scalar() ? "\"" + n->scalar + "\"" : std::string(n->kind_name())),
                ""});
    return true;
  };
  if (epsilon("rms_norm_eps")) m.norm = "rmsnorm";
  if (epsilon("layer_norm_epsilon") || epsilon("layer_norm_eps")) m.norm = "layernorm";
  for (const auto& [k, v] : root.map)
    if (!used.count(k)) m.unmapped_keys.push_back(k);
  if (sink.empty())  // the cross-key checks need every key read
    check_model(m, hd > 0,
                [&](const std::string& field, const std::string& msg, const std::string& hint) {
                  const CNode* n = source_of.count(field) ? source_of[field] : nullptr;
                  std::string key = field;
                  for (const auto& [k, v] : root.map)
                    if (&v == n) key = k;
                  sink.add({n ? n->loc : root.loc, key, msg, hint});
                });
  sink.throw_if_any();
  return m;
}

nlohmann::json to_hf_config(const ModelDesc& m) {
  nlohmann::json j;
  if (m.family == "gpt") {
    j = {{"model_type", "gpt2"},
         {"n_embd", m.hidden},
         {"n_layer", m.layers},
         {"n_head", m.heads},
         {"n_inner", m.ffn},
         {"n_positions", m.max_positions},
         {"vocab_size", m.vocab},
         {"tie_word_embeddings", m.tie_embeddings},
         {"activation_function", "gelu_new"},
         {"layer_norm_epsilon", 1e-5}};
    return j;
  }
  j = {{"model_type", m.family == "bitnet" ? "bitnet" : m.family},
       {"hidden_size", m.hidden},
       {"intermediate_size", m.ffn},
       {"num_hidden_layers", m.layers},
       {"num_attention_heads", m.heads},
       {"num_key_value_heads", m.kv_heads},
       {"head_dim", m.head_dim},
       {"vocab_size", m.vocab},
       {"tie_word_embeddings", m.tie_embeddings},
       {"hidden_act", m.activation},
       {"rms_norm_eps", 1e-5}};
  if (m.attention_bias) j["attention_bias"] = true;
  if (m.sliding_window > 0) j["sliding_window"] = m.sliding_window;
  if (m.family == "qwen2") j["use_sliding_window"] = m.sliding_window > 0;
  if (m.is_moe())
    j["num_local_experts"] = m.experts, j["num_experts_per_tok"] = m.experts_per_token;
  return j;
}

nlohmann::json model_to_json(const ModelDesc& m) {
  return {{"name", m.name},
          {"family", m.family},
          {"hidden", m.hidden},
          {"ffn", m.ffn},
          {"layers", m.layers},
          {"heads", m.heads},
          {"kv_heads", m.kv_heads},
          {"head_dim", m.head_dim},
          {"vocab", m.vocab},
          {"tie_embeddings", m.tie_embeddings},
          {"sliding_window", m.sliding_window},
          {"experts", m.experts},
          {"experts_per_token", m.experts_per_token},
          {"gated_mlp", m.gated_mlp},
          {"norm", m.norm},
          {"activation", m.activation},
          {"attention_bias", m.attention_bias},
          {"mlp_bias", m.mlp_bias},
          {"max_positions", m.max_positions},
          {"source", m.source}};
}

}  // namespace bc
