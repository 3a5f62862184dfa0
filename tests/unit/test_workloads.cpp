// Workloads: the model zoo, quantization recipes, traces and Hugging Face configs.
#include <gtest/gtest.h>

#include <fstream>

#include "helpers.h"
#include "workloads/generator.h"

using namespace bc;
using namespace bc::test;

namespace {
Trace make(const std::string& model, const std::string& quant, const std::string& phase = "decode",
           int64_t batch = 1, int64_t context = 4096, int64_t seq = 1) {
  WorkloadSpec w;
  w.phase = phase, w.batch = batch, w.context = context, w.seq = seq;
  return generate_trace(load_model(model), load_quant(quant), w);
}
const Op& op_named(const Trace& t, const std::string& name) {
  for (const auto& o : t.ops)
    if (o.name == name) return o;
  throw std::runtime_error("no op " + name);
}
}  // namespace

TEST(Formats, ZeroPointsAndBlockScalesAreCounted) {
  std::string err;
  // 4 + 16/128 (fp16 scale) + 4/128 (int4 zero point) = 4.15625 bits.
  EXPECT_DOUBLE_EQ(parse_tensor_format("int4/g128/fp16/zp", &err)->bits_per_element(), 4.15625);
  EXPECT_DOUBLE_EQ(format("mxint8").storage_bits, 8.25);  // 8 + 8/32
  EXPECT_DOUBLE_EQ(format("bfp8").storage_bits, 8.5);     // 8 + 8/16
  EXPECT_DOUBLE_EQ(format("nf4").storage_bits, 4);
  EXPECT_DOUBLE_EQ(format("fp6_e2m3").storage_bits, 6);
  EXPECT_DOUBLE_EQ(format("uint3").storage_bits, 3);
  // A mixture of data types per group (BitMoD): each group of 128 picks one of 4
  // types, 2 selector bits: 4 + 16/128 + 2/128 = 4.140625 bits.
  auto mixed = parse_tensor_format("fp4/g128/fp16/t4", &err);
  ASSERT_TRUE(mixed) << err;
  EXPECT_DOUBLE_EQ(mixed->bits_per_element(), 4.140625);
  EXPECT_EQ(mixed->str(), "fp4_e2m1/g128/fp16/t4");
}

TEST(Zoo, ParameterCountsMatchPublishedFigures) {
  // Exact counts from the dimensions (embedding + layers + final norm + LM head),
  // which equal the Hugging Face totals for the Llama and Mixtral checkpoints.
  struct Case {
    const char* model;
    double exact;      // from the formula, computed independently
    double published;  // model card / paper
  } cases[] = {
      {"llama-3.1-8b", 8030261248.0, 8.03e9},
      {"llama-3.1-70b", 70553706496.0, 70.6e9},
      {"llama-3.1-405b", 405853388800.0, 405.9e9},
      {"llama-2-7b", 6738415616.0, 6.74e9},
      {"llama-2-70b", 68976648192.0, 69.0e9},
      {"mistral-7b", 7241732096.0, 7.24e9},
      {"mixtral-8x7b", 46702792704.0, 46.7e9},
      {"llama-3.1-minitron-4b-width", 4512746496.0, 4.51e9},
      {"bitnet-b1.58-3b", 3426486400.0, 3.43e9},
      {"gpt3-175b", 174604259328.0, 175.0e9},
  };
  for (const auto& c : cases) {
    double p = param_count(load_model(c.model));
    EXPECT_EQ(p, c.exact) << c.model;
    EXPECT_NEAR(p / c.published, 1.0, 0.005) << c.model;
  }
}

TEST(Zoo, MixtralActiveParameters) {
  ModelDesc m = load_model("mixtral-8x7b");
  // Attention, norms, router, embeddings and 2 of 8 experts: 12,879,925,248.
  EXPECT_EQ(active_param_count(m), 12879925248.0);
  EXPECT_NEAR(active_param_count(m) / 12.9e9, 1.0, 0.005);
  // Decode at batch 1: two experts receive the token; only they read weights.
  Trace t = make("mixtral-8x7b", "w16a16");
  int experts = 0;
  for (const auto& o : t.ops)
    if (o.layer == 0 && o.name.find("moe.experts.") != std::string::npos &&
        o.name.ends_with(".down"))
      ++experts;
  EXPECT_EQ(experts, 2);
}

TEST(Zoo, WeightBytesPerRecipeForEveryModel) {
  // Weight bytes = linear weights x their format's bits / 8 + embedding, norms
  // and biases in the residual format (bf16). Llama-3.1-8B under w4a16-g128:
  // 7,504,658,432 linear x 4.125/8 + 525,602,816 x 2 = 4,920,795,136 bytes.
  Trace t = make("llama-3.1-8b", "w4a16-g128");
  EXPECT_DOUBLE_EQ(t.totals["weight_bytes"].get<double>(), 4920795136.0);
  for (const auto& model : known_models()) {
    ModelDesc m = load_model(model);
    for (const auto& quant : known_quants()) {
      if (quant == "mixed" && m.layers < 32) continue;  // the example names layer 31
      QuantRecipe q = load_quant(quant);
      SCOPED_TRACE(model + " " + quant);
      double expect = 0;
      for (const auto& w : weight_tensors(m)) {
        if (w.cls == "norm" || w.cls == "bias" || w.cls == "embedding") {
          expect += w.params() * 2;
          continue;
        }
        ResolvedQuant r = resolve_quant(q, w.cls, w.layer, w.name);
        double bits = r.weights.bits_per_element();
        if (!r.parts.empty()) bits = 0.1 * 8 + 0.9 * 4.125;  // only `mixed` has parts
        double density = r.sparsity.pattern.empty() ? 1 : 0.5;
        expect += w.params() * density * (bits + (density < 1 ? 2 : 0)) / 8;
      }
      double got = 0;
      for (const auto& w : weight_tensors(m)) got += weight_bytes(q, w);
      EXPECT_NEAR(got, expect, expect * 1e-12);
    }
  }
}

TEST(Zoo, GqaKvBytesPerToken) {
  // 2 (K, V) x layers x kv_heads x head_dim x bytes.
  EXPECT_DOUBLE_EQ(make("llama-3.1-8b", "w8a8-int").totals["kv_bytes_per_token"].get<double>(),
                   2.0 * 32 * 8 * 128 * 1);  // 65,536 B
  EXPECT_DOUBLE_EQ(make("llama-2-7b", "w16a16").totals["kv_bytes_per_token"].get<double>(),
                   2.0 * 32 * 32 * 128 * 2);  // 524,288 B: no GQA
  EXPECT_DOUBLE_EQ(make("llama-3.1-8b", "w4a8kv4").totals["kv_bytes_per_token"].get<double>(),
                   2.0 * 32 * 8 * 128 * 4.15625 / 8);  // 34,048 B
  // A decode step reads batch x context tokens of KV per layer.
  Trace t = make("llama-3.1-8b", "w8a8-int", "decode", 4, 2048);
  EXPECT_DOUBLE_EQ(op_named(t, "layers.0.attn.attention").kv_bytes_read(),
                   4.0 * 2048 * 2 * 8 * 128);
}

TEST(Zoo, SlidingWindowCapsAttention) {
  // Mistral-7B attends at most 4096 keys; Llama-3.1-8B (same shape otherwise) all 16384.
  Trace mistral = make("mistral-7b", "w16a16", "decode", 1, 16384);
  Trace llama = make("llama-3.1-8b", "w16a16", "decode", 1, 16384);
  const Op& a = op_named(mistral, "layers.0.attn.attention");
  const Op& b = op_named(llama, "layers.0.attn.attention");
  EXPECT_DOUBLE_EQ(a.flops(), 2.0 * 2 * 32 * 4096 * 128);
  EXPECT_DOUBLE_EQ(b.flops(), 4.0 * a.flops());
  EXPECT_DOUBLE_EQ(a.kv_bytes_read(), 2.0 * 8 * 4096 * 128 * 2);
  // Prefill of 8192 tokens: query i attends min(i + 1, 4096) keys.
  Trace p = make("mistral-7b", "w16a16", "prefill", 1, 0, 8192);
  double keys = 4096.0 * 4097 / 2 + 4096.0 * 4096;
  EXPECT_DOUBLE_EQ(op_named(p, "layers.0.attn.attention").flops(), 4.0 * 32 * keys * 128);
}

TEST(Recipes, OverridesReachExactlyTheNamedLayersAndTensors) {
  Trace t = make("llama-3.1-8b", "mixed");
  for (const auto& o : t.ops) {
    if (o.kind != OpKind::Gemm || o.layer < 0) continue;
    bool int8_layer = o.layer <= 1 || o.layer == 31;
    SCOPED_TRACE(o.name);
    if (int8_layer) {
      EXPECT_EQ(o.w.str(), "int8");
      EXPECT_TRUE(o.w_parts.empty());
    } else if (o.name.ends_with("ffn.down")) {
      ASSERT_EQ(o.w_parts.size(), 2u);  // 10 % of 4096 output features = 410 in int8
      EXPECT_EQ(o.w_parts[0].first, 410);
      EXPECT_EQ(o.w_parts[0].second.str(), "int8");
      EXPECT_EQ(o.w_parts[1].first, 4096 - 410);
      EXPECT_EQ(o.w_parts[1].second.str(), "int4/g128/fp16");
    } else {
      EXPECT_EQ(o.w.str(), "int4/g128/fp16");
    }
  }
  EXPECT_EQ(op_named(t, "lm_head").w.str(), "int8");
  // A tensor named in `tensors:` changes that tensor only.
  std::string r = write_temp("r.yaml",
                             "weights: int4/g128/fp16\nactivations: int8\ntensors:\n"
                             "  layers.5.attn.o: {weights: int8}\n");
  WorkloadSpec w;
  Trace u = generate_trace(load_model("llama-3.1-8b"), load_quant(r), w);
  int changed = 0;
  for (const auto& o : u.ops)
    if (o.kind == OpKind::Gemm && o.w.str() == "int8") {
      ++changed;
      EXPECT_EQ(o.name, "layers.5.attn.o");
    }
  EXPECT_EQ(changed, 1);
}

TEST(Recipes, NamingAMissingTensorIsAnError) {
  std::string r = write_temp("r.yaml",
                             "weights: int8\nactivations: int8\ntensors:\n"
                             "  layers.40.attn.o: {weights: int4}\n");
  try {
    generate_trace(load_model("llama-3.1-8b"), load_quant(r), WorkloadSpec{});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              r + ":4:3: error: tensors.layers.40.attn.o: the recipe names tensor "
                  "\"layers.40.attn.o\", which llama-3.1-8b does not have (did you mean "
                  "\"layers.0.attn.o\"?)");
  }
}

TEST(Recipes, GroupSizeMustDivideTheDimension) {
  // Llama-3.1-8B's smallest input dimension is 4096 (and 14336 for down): 96 does not divide 4096.
  std::string r = write_temp("r.yaml", "weights: int4/g96/fp16\nactivations: int8\n");
  try {
    generate_trace(load_model("llama-3.1-8b"), load_quant(r), WorkloadSpec{});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              r + ":1:10: error: weights: group size 96 does not divide the 4096 input "
                  "features of layers.0.attn.qkv (use a group size that divides 4096)");
  }
}

TEST(Recipes, SparsityCountsIndexMetadata) {
  // 2:4: half the int8 weights kept, each with a 2-bit position: 0.5 x (8 + 2) = 5 bits per weight.
  Trace t = make("llama-3.1-8b", "w8a8-int-2of4");
  const Op& d = op_named(t, "layers.0.ffn.down");
  EXPECT_EQ(d.sparsity, "2:4");
  EXPECT_DOUBLE_EQ(d.weight_bytes(), 14336.0 * 4096 * 5 / 8);
  EXPECT_DOUBLE_EQ(op_named(t, "layers.0.attn.o").weight_bytes(), 4096.0 * 4096);  // dense
}

TEST(Moe, TokensPerExpertUniformOrGiven) {
  ModelDesc m = load_model("mixtral-8x7b");
  // 64 tokens x top-2 = 128 slots over 8 experts: 16 each.
  auto u = tokens_per_expert(64, m, {});
  for (auto n : u) EXPECT_EQ(n, 16);
  // Skewed: half the slots to expert 0 (capped at 64: a token picks distinct experts).
  auto s = tokens_per_expert(64, m,
                             {0.5, 0.5 / 7, 0.5 / 7, 0.5 / 7, 0.5 / 7, 0.5 / 7, 0.5 / 7, 0.5 / 7});
  EXPECT_EQ(s[0], 64);
  int64_t rest = 0;
  for (int e = 1; e < 8; ++e) rest += s[e];
  EXPECT_EQ(rest, 64);
}

TEST(HfConfig, RoundTripEveryZooModel) {
  for (const auto& name : known_models()) {
    ModelDesc m = load_model(name);
    std::string p = write_temp(name + ".config.json", to_hf_config(m).dump(1));
    ModelDesc r = read_hf_config(p);
    SCOPED_TRACE(name);
    EXPECT_EQ(r.hidden, m.hidden);
    EXPECT_EQ(r.ffn, m.ffn);
    EXPECT_EQ(r.layers, m.layers);
    EXPECT_EQ(r.heads, m.heads);
    EXPECT_EQ(r.kv_heads, m.kv_heads);
    EXPECT_EQ(r.head_dim, m.head_dim);
    EXPECT_EQ(r.vocab, m.vocab);
    EXPECT_EQ(r.experts, m.experts);
    EXPECT_EQ(r.experts_per_token, m.experts_per_token);
    EXPECT_EQ(r.sliding_window, m.sliding_window);
    EXPECT_EQ(r.tie_embeddings, m.tie_embeddings);
    EXPECT_EQ(r.gated_mlp, m.gated_mlp);
    EXPECT_EQ(param_count(r), param_count(m));
  }
}

TEST(HfConfig, ReadsARealConfigAndListsUnmappedKeys) {
  std::string p = write_temp("config.json", R"({
  "architectures": ["LlamaForCausalLM"],
  "bos_token_id": 128000,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "intermediate_size": 14336,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "vocab_size": 128256
})");
  ModelDesc m = read_hf_config(p);
  EXPECT_EQ(param_count(m), 8030261248.0);
  EXPECT_EQ(m.unmapped_keys, (std::vector<std::string>{"bos_token_id", "rope_theta"}));
}

TEST(HfConfig, SquaredReluIsModelled) {
  // BitNet b1.58 2B4T's MLP: ReLU^2 on the gate times the up projection. By
  // hand: max, square, multiply = 3 ops an element, no special function, on
  // tokens x ffn elements (16 x 6912 at a 16-token prefill); a plain MLP's
  // ReLU^2 is 2 (max, square). A GeGLU is the tanh GELU's 8 and a multiply.
  std::string p = write_temp("config.json", R"({"model_type": "bitnet", "hidden_act": "relu2",
    "hidden_size": 2560, "intermediate_size": 6912, "num_hidden_layers": 2,
    "num_attention_heads": 20, "num_key_value_heads": 5, "vocab_size": 128256,
    "rms_norm_eps": 1e-05})");
  ModelDesc m = read_hf_config(p);
  EXPECT_EQ(m.activation, "relu2");
  WorkloadSpec w;
  w.phase = "prefill", w.batch = 1, w.seq = 16, w.context = 0;
  const Trace t = generate_trace(m, load_quant("w16a16"), w);
  int acts = 0;
  for (const Op& op : t.ops)
    if (op.name.size() >= 7 && op.name.compare(op.name.size() - 7, 7, "ffn.act") == 0) {
      ++acts;
      EXPECT_EQ(op.fn, m.gated_mlp ? "relu2_mul" : "relu2") << op.name;
      EXPECT_EQ(op.elements, 16 * 6912) << op.name;
    }
  EXPECT_EQ(acts, 2);
  EXPECT_DOUBLE_EQ(find_elementwise_fn("relu2_mul")->ops_per_element, 3);
  EXPECT_DOUBLE_EQ(find_elementwise_fn("relu2_mul")->special_per_element, 0);
  EXPECT_DOUBLE_EQ(find_elementwise_fn("relu2")->ops_per_element, 2);
  EXPECT_DOUBLE_EQ(find_elementwise_fn("gelu_mul")->ops_per_element, 9);
  EXPECT_DOUBLE_EQ(find_elementwise_fn("gelu_mul")->special_per_element, 1);
  // A plain MLP activates its one projection: ReLU^2 or SiLU (x * sigmoid(x):
  // exp, add, divide, multiply = 4 ops, 2 special), one input, not the gated
  // form's two.
  for (const char* act : {"relu2", "silu"}) {
    ModelDesc plain = m;
    plain.gated_mlp = false;
    plain.activation = act;
    for (const Op& op : generate_trace(plain, load_quant("w16a16"), w).ops)
      if (op.name.size() >= 7 && op.name.compare(op.name.size() - 7, 7, "ffn.act") == 0)
        EXPECT_EQ(op.fn, act) << op.name;
  }
  EXPECT_DOUBLE_EQ(find_elementwise_fn("silu")->ops_per_element, 4);
  EXPECT_EQ(find_elementwise_fn("silu")->inputs, 1);
}

TEST(HfConfig, UnknownFamilyIsAnError) {
  std::string p =
      write_temp("config.json", "{\n  \"model_type\": \"mamba\",\n  \"hidden_size\": 4096\n}\n");
  try {
    read_hf_config(p);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), p + ":2:17: error: model_type: unknown model family \"mamba\" "
                                         "(supported model_type values: bitnet, "
                                         "gpt, gpt2, llama, mistral, mixtral, openai-gpt, qwen2)");
  }
}
