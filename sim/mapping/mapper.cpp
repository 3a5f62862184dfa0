#include "sim/mapping/mapper_internal.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <sstream>

namespace bc::mapping {

void Mapper::map_attention(const OpContext& ctx, const Op& op, size_t idx, Level in) {
  const UnitChoice uc = pick_matmul_unit(units_, op, op.a.elem, op.w.elem);
  const int mu = uc.unit;
  int vu = pick_vector_unit(units_, op);
  const ComputeUnit& unit = *units_[mu];
  TileAlign al = unit.align(uc.a, uc.w);
  const double acc = unit.accumulator_bytes();  // scores and the output accumulator
  // A LUT unit needs tables of Q (once per work item) and of P (per KV block).
  const int pre = !unit.has_precompute()           ? -1
                  : unit.precompute_unit().empty() ? mu
                                                   : unit_index(units_, unit.precompute_unit());
  Level out = prog_.ops[idx].out_level;
  const int64_t P = ctx.cores;
  const int64_t G = op.heads / op.kv_heads, d = op.head_dim;
  double ba = op.a.bits_per_element() / 8, bkv = op.w.bits_per_element() / 8,
         bo = op.o.bits_per_element() / 8;
  // Query block: enough query rows (G heads x bq tokens) to fill the array's
  // rows, then taller (up to the 128-row query tiles of FlashAttention-2/3, Dao
  // 2023) while every core still gets a work item: each query block reads all
  // of its head's K and V, so taller blocks read them fewer times.
  int64_t bq = std::min(op.q_len, std::max<int64_t>(1, ceil_div(al.m, G)));
  while (2 * bq * G <= 128 && 2 * bq <= op.q_len &&
         op.batch * op.kv_heads * ceil_div(op.q_len, 2 * bq) >= P)
    bq *= 2;
  int64_t q_blocks = ceil_div(op.q_len, bq);
  int64_t units = op.batch * op.kv_heads * q_blocks;
  // Fewer work units than cores: split the context (flash-decoding).
  // Candidates: enough splits to give every core an item, fewer so the items
  // divide the cores evenly, and powers of two below (the cost model picks).
  const int64_t kv_max =
      units >= P ? 1 : std::min(ceil_div(P, units), std::max<int64_t>(1, op.kv_len / 64));
  std::vector<int64_t> splits = {kv_max};
  if (units < P && P / units >= 1 && P / units < kv_max) splits.push_back(P / units);
  for (int64_t v = std::bit_floor(static_cast<uint64_t>(kv_max)); v >= 1; v /= 2)
    if (std::find(splits.begin(), splits.end(), v) == splits.end()) splits.push_back(v);
  // KV block: the largest power of two whose double-buffered K and V blocks,
  // scores and output accumulator fit SRAM.
  int64_t rows = G * bq;
  auto need = [&](int64_t bk) {
    return static_cast<double>(kLoadBuffers) * (2 * bk * d * bkv) + rows * d * ba +
           rows * bk * acc + rows * d * (acc + bo);
  };
  int64_t bk = 16;
  if (need(bk) > sram_avail(ctx))
    fail(op,
         "no tile fits the core's SRAM: a 16-key block needs " +
             format_quantity(need(bk), Dim::Bytes) + ", core.sram.size is " +
             format_quantity(sram_avail(ctx), Dim::Bytes),
         "raise core.sram.size");
  std::vector<CoreOp> per_core;
  Estimate best;
  int64_t kv_split = 1;
  size_t n_items = 0;
  // The search runs once per attention shape (a model repeats its layers);
  // later layers emit the cached choice only.
  std::ostringstream shape;
  shape << op.batch << '/' << op.q_len << '/' << op.kv_len << '/' << op.heads << '/'
        << op.kv_heads << '/' << op.head_dim << '/' << op.causal << '/' << op.window << '/'
        << op.kv_append << '/' << op.a.str() << '/' << op.w.str() << '/' << op.o.str() << '/'
        << static_cast<int>(in) << '/' << static_cast<int>(out) << '/' << ctx.stream << '/'
        << ctx.base << '/' << ctx.cores;
  auto cached = attention_cache_.find(shape.str());
  if (cached != attention_cache_.end()) splits = {cached->second.first};
  for (const int64_t split : splits) {
    int64_t chunk = ceil_div(op.kv_len, split);
    int64_t max_bk = 16;  // the largest power of two whose buffers fit SRAM
    while (max_bk * 2 <= std::min<int64_t>(chunk, 4096) && need(max_bk * 2) <= sram_avail(ctx))
      max_bk *= 2;

    // Work items (unit x kv chunk), balanced greedily over cores by key count.
    struct Item {
      int64_t keys_begin, keys_end, q_rows;
      bool first_chunk, last_chunk;
      int64_t row0;  // first token row of its query block (b x q_len + query index)
    };
    std::vector<Item> items;
    // Streaming walks query rows in order (heads innermost), so output rows
    // complete as a prefix.
    for (int64_t b = 0; b < op.batch; ++b)
      for (int64_t x = 0; x < op.kv_heads * q_blocks; ++x) {
        const int64_t qb = ctx.stream ? x / op.kv_heads : x % q_blocks;
        int64_t q_rows = std::min(bq, op.q_len - qb * bq);
        // The keys this query block attends (causal mask, sliding window).
        auto [k_begin, k_end] = op.key_range(qb * bq, q_rows);
        int64_t keys = k_end - k_begin;
        int64_t per = ceil_div(keys, split);
        for (int64_t s = 0; s * per < keys; ++s)
          items.push_back({k_begin + s * per, k_begin + std::min(keys, (s + 1) * per), q_rows,
                           s == 0, (s + 1) * per >= keys, b * op.q_len + qb * bq});
      }
    std::vector<double> load(P, 0);
    std::vector<int64_t> core_of(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      int64_t c = std::min_element(load.begin(), load.end()) - load.begin();
      load[c] += static_cast<double>(items[i].keys_end - items[i].keys_begin) * items[i].q_rows;
      core_of[i] = c;
    }
    // A core's frontier after an item: the first row of its next item.
    std::vector<int64_t> next_row(items.size(), op.batch * op.q_len), last_of(P, -1);
    for (size_t i = items.size(); i-- > 0;) {
      int64_t& l = last_of[core_of[i]];
      if (l >= 0) next_row[i] = items[l].row0;
      l = static_cast<int64_t>(i);
    }
    if (ctx.stream) tile_rows_[ctx.index] = bq;
    auto emit = [&](int64_t bk) {
    std::vector<CoreOp> per_core(P);
    for (auto& c : per_core) c.op = static_cast<uint32_t>(idx);
    for (size_t i = 0; i < items.size(); ++i) {
      const Item& it = items[i];
      const int64_t c = core_of[i];
      int64_t r = G * it.q_rows;
      for (int64_t k0 = it.keys_begin; k0 < it.keys_end; k0 += bk) {
        int64_t kb = std::min(bk, it.keys_end - k0);
        Tile t;
        // K and V blocks; the query blocks of one head on other cores read the
        // same blocks, which a shared level (L2) filters.
        load_shared_panel(t, home_, static_cast<double>(2 * kb * d) * bkv,
                          static_cast<double>(std::min<int64_t>(q_blocks, P)));
        if (k0 == it.keys_begin) t.load_bytes[in] += r * d * ba;  // Q, once
        const bool first = k0 == it.keys_begin;
        if (uc.convert_w)  // the fallback converts the K and V blocks
          t.add_step({static_cast<uint16_t>(uc.convert_unit),
                      cache_.vector(uc.convert_unit, 2 * kb * d,
                                    find_elementwise_fn("quantize")->ops_per_element,
                                    op.w.elem.storage_bits / 8, uc.w.storage_bits / 8),
                      kStepConvert});
        if (uc.convert_a && first)
          t.add_step({static_cast<uint16_t>(uc.convert_unit),
                      cache_.vector(uc.convert_unit, r * d,
                                    find_elementwise_fn("quantize")->ops_per_element,
                                    op.a.elem.storage_bits / 8, uc.a.storage_bits / 8),
                      kStepConvert});
        GemmShape q_shape;  // for the table precompute of Q and of P
        q_shape.uc = uc;
        q_shape.pre_unit = pre;
        if (pre >= 0 && first)
          t.add_step({static_cast<uint16_t>(pre), precompute(q_shape, r, d), kStepPrecompute});
        t.add_step({static_cast<uint16_t>(mu),
                    cache_.mm(mu, MatmulTile{r, kb, d, uc.a, uc.w})});  // S = Q K^T
        t.add_step({static_cast<uint16_t>(vu),
                    cache_.vector(vu, r * kb, find_elementwise_fn("softmax")->ops_per_element,
                                  acc, ba)});
        if (pre >= 0)
          t.add_step({static_cast<uint16_t>(pre), precompute(q_shape, r, kb), kStepPrecompute});
        t.add_step({static_cast<uint16_t>(mu),
                    cache_.mm(mu, MatmulTile{r, d, kb, uc.a, uc.w})});  // O += P V
        if (ctx.stream) {
          t.rows_need = static_cast<uint32_t>(it.row0 + it.q_rows);
          t.rows_done = static_cast<uint32_t>(k0 + bk >= it.keys_end ? next_row[i] : it.row0);
        }
        if (k0 + bk >= it.keys_end) {
          t.store_bytes[out] += r * d * (it.last_chunk && it.first_chunk ? bo : acc);
          // The new tokens' K and V are appended to the cache once per (sequence, KV head).
          if (it.first_chunk && op.kv_append > 0)
            t.store_bytes[home_] += 2.0 * std::min(op.kv_append, it.q_rows) * d * bkv;
        }
        per_core[c].push(t);
      }
    }
    return per_core;
    };
    // The KV block by the cost model: larger blocks take fewer loads, smaller
    // ones keep more of them in flight; every block that fits is a candidate, so
    // more SRAM can only add choices.
    for (int64_t b = max_bk; b >= 16; b /= 2) {
      if (cached != attention_cache_.end() && b != cached->second.second) continue;
      std::vector<CoreOp> pc = emit(b);
      std::vector<const CoreOp*> used;
      for (const CoreOp& c : pc)
        if (!c.tiles.empty()) used.push_back(&c);
      const Estimate e = estimate_cores(ctx, used);
      if (per_core.empty() || e.cycles < best.cycles * 0.999) {
        per_core = std::move(pc);
        best = e;
        bk = b;
        kv_split = split;
        n_items = items.size();
      }
    }
  }
  attention_cache_[shape.str()] = {kv_split, bk};
  for (int64_t c = 0; c < P; ++c)
    if (!per_core[c].tiles.empty()) prog_.cores[ctx.base + c].push_back(std::move(per_core[c]));
  std::ostringstream m;
  m << n_items << " work items (batch x kv_heads x " << q_blocks << " query blocks x "
    << kv_split << " context splits), " << G * bq << " query rows, KV block " << bk;
  prog_.ops[idx].units = unit.name() + "+" + units_[vu]->name();
  prog_.ops[idx].mapping = m.str();
}

// The element-wise tile size by the cost model: every power-of-two multiple
// of 64 elements up to `te_max` (what fits SRAM) is a candidate, so more SRAM
// only adds choices; ties keep the larger tile.
int64_t Mapper::choose_elements_tile(const OpContext& ctx, int64_t elements, int64_t slice,
                                     int64_t te_max, const std::function<Tile(int64_t)>& make) {
  const int64_t used = ceil_div(elements, slice);
  int64_t best_te = te_max;
  Estimate best;
  // te_max, then the powers of two below it.
  auto next = [&](int64_t te) {
    return te == te_max && (te & (te - 1)) != 0
               ? static_cast<int64_t>(std::bit_floor(static_cast<uint64_t>(te)))
               : te / 2;
  };
  for (int64_t te = te_max; te >= 64; te = next(te)) {
    CoreOp co;
    if (slice / te > 0) {
      Tile t = make(te);
      t.repeat = static_cast<uint32_t>(slice / te);
      co.push(t);
    }
    if (slice % te) co.push(make(slice % te));
    const Estimate e = estimate_cores(ctx, {&co}, used);
    if (best.cycles <= 0 || e.cycles < best.cycles * 0.999) best = e, best_te = te;
  }
  return best_te;
}

namespace {
constexpr int64_t kStreamBlocks = 8;
}  // namespace

// Splits `elements` over the cores in slices of `slice`, each in tiles of at
// most `te`, with make(n) building the tile for n elements; returns the cores used.
// Streaming: blocks of whole token rows instead, dealt to the cores in turn,
// so all of them advance through the rows together.
int Mapper::split_elements(const OpContext& ctx, size_t idx, int64_t elements, int64_t slice,
                          int64_t te, const std::function<Tile(int64_t)>& make) {
  if (ctx.stream) {
    const int64_t rows = prog_.ops[idx].rows, width = elements / rows;
    // Row blocks of at most an eighth of the rows (what fits SRAM if less):
    // a consumer starts on the first block, so the block, not the SRAM size,
    // sets the pipeline's fill. A modelling choice, not a published figure;
    // fixed so that more SRAM does not coarsen the pipeline.
    const int64_t rb =
        std::max<int64_t>(1, std::min(te / width, ceil_div(rows, kStreamBlocks)));
    const int64_t blocks = ceil_div(rows, rb);
    tile_rows_[ctx.index] = rb;
    std::vector<CoreOp> per_core(static_cast<size_t>(std::min(ctx.cores, blocks)));
    for (int64_t j = 0; j < blocks; ++j) {
      const int64_t r0 = j * rb, r1 = std::min(rows, r0 + rb);
      Tile t = make((r1 - r0) * width);
      t.rows_need = static_cast<uint32_t>(r1);
      t.rows_done = static_cast<uint32_t>(std::min(rows, (j + ctx.cores) * rb));
      per_core[static_cast<size_t>(j % ctx.cores)].push(t);
    }
    for (size_t c = 0; c < per_core.size(); ++c) {
      per_core[c].op = static_cast<uint32_t>(idx);
      prog_.cores[static_cast<size_t>(ctx.base) + c].push_back(std::move(per_core[c]));
    }
    return static_cast<int>(per_core.size());
  }
  int core = 0;
  for (int64_t e0 = 0; e0 < elements; e0 += slice, ++core) {
    int64_t es = std::min(slice, elements - e0);
    CoreOp co;
    co.op = static_cast<uint32_t>(idx);
    for (int64_t t0 = 0; t0 < es; t0 += te) co.push(make(std::min(te, es - t0)));
    prog_.cores[static_cast<size_t>(ctx.base + core)].push_back(std::move(co));
  }
  return core;
}

void Mapper::map_elementwise(const OpContext& ctx, const Op& op, size_t idx, Level in) {
  int vu = pick_vector_unit(units_, op);
  const ElementwiseFn* fn = find_elementwise_fn(op.fn);
  Level out = prog_.ops[idx].out_level;
  const int64_t P = ctx.cores;
  double ba = op.a.bits_per_element() / 8, bo = op.o.bits_per_element() / 8;
  // Fused LUT precompute: this op also builds its consumer's tables, and writes
  // them instead of its plain output.
  auto fused = fused_producer_.find(ctx.index);
  const ComputeUnit* lut =
      fused == fused_producer_.end() ? nullptr : units_[fused->second.lut_unit].get();
  int builder = -1;
  if (lut) {
    bo = lut->table_bytes_per_activation(fused->second.a);
    builder = lut->precompute_unit().empty() ? fused->second.lut_unit
                                             : unit_index(units_, lut->precompute_unit());
  }
  double per_elem = fn->inputs * ba + bo;
  int64_t slice = round_up(ceil_div(op.elements, P), 64);
  int64_t te = static_cast<int64_t>(sram_avail(ctx) / (2 * per_elem));
  if (te < 64)
    fail(op,
         "no tile fits the core's SRAM: 64 elements need " +
             format_quantity(128 * per_elem, Dim::Bytes),
         "raise core.sram.size");
  te = std::min<int64_t>(std::min(te, slice), 1 << 20);
  GemmShape g;  // the consumer's table build, when fused
  if (lut) {
    g.uc.unit = fused->second.lut_unit;
    g.uc.a = fused->second.a;
    g.pre_unit = builder;
  }
  auto make = [&](int64_t n) {
    Tile t;
    t.load_bytes[op.input_from_dram ? home_ : in] += static_cast<double>(n) * fn->inputs * ba;
    t.store_bytes[out] += static_cast<double>(n) * bo;
    t.add_step({static_cast<uint16_t>(vu),
                cache_.vector(vu, n, fn->ops_per_element, fn->inputs * ba, bo)});
    if (lut) t.add_step({static_cast<uint16_t>(builder), precompute(g, 1, n), kStepPrecompute});
    return t;
  };
  if (!ctx.stream) te = choose_elements_tile(ctx, op.elements, slice, te, make);
  int core = split_elements(ctx, idx, op.elements, slice, te, make);
  prog_.ops[idx].units = units_[vu]->name();
  prog_.ops[idx].mapping =
      "split over " + std::to_string(core) + " cores, tile " + std::to_string(te) + " elements";
  if (lut) {
    if (units_[builder]->name() != prog_.ops[idx].units)
      prog_.ops[idx].units += "+" + units_[builder]->name();
    prog_.ops[idx].mapping += ", builds the LUT tables of its consumer (fused precompute)";
  }
}

Mapper::Mapper(const Trace& t, const HwConfig& hw)
    : t_(t),
      hw_(hw),
      units_(build_units(hw.units)),
      home_(hw.dram.present ? kDram : kShared),
      cache_(prog_, units_),
      model_(hw) {
  prog_.cores.resize(hw.cores());
  prog_.execution = hw.execution;
}

Program Mapper::run() {
  std::map<int, int> index_of;
  for (size_t i = 0; i < t_.ops.size(); ++i) index_of[t_.ops[i].id] = static_cast<int>(i);
  plan_table_fusion(index_of);
  place_weights();
  if (hw_.execution == "dataflow") plan_dataflow(index_of);
  std::vector<int> prog_of(t_.ops.size());  // trace op -> program op
  for (size_t i = 0; i < t_.ops.size(); ++i) {
    const Op& op = t_.ops[i];
    // The op being mapped: its core group, and whether its rows stream.
    OpContext ctx;
    ctx.index = i;
    auto g = group_.find(i);
    ctx.grouped = g != group_.end();
    ctx.base = ctx.grouped ? g->second.first : 0;
    ctx.cores = ctx.grouped ? g->second.second : hw_.cores();
    ctx.stream = streamable_.count(i) > 0;
    OpPlan plan;
    plan.name = op.name;
    plan.kind = op.kind;
    plan.flops = op.flops();
    for (int d : op.deps) plan.deps.push_back(prog_of[index_of.at(d)]);
    plan.out_level = streams_out(i) ? kStream : place_output(op);
    Level in = home_;
    if (!op.input_from_dram && !plan.deps.empty()) in = prog_.ops[plan.deps.front()].out_level;
    if (ctx.grouped) {
      plan.core_base = static_cast<int>(ctx.base);
      plan.core_count = static_cast<int>(ctx.cores);
      plan.rows = ctx.stream ? layer_rows_.at(op.layer) : 0;
    }
    if (ctx.stream) {
      // Row-level waits on the same layer's streamed producers; a producer
      // that keeps its output in SRAM is pulled from and back-pressured.
      for (int d : op.deps) {
        const size_t di = static_cast<size_t>(index_of.at(d));
        if (!streamable_.count(di) || t_.ops[di].layer != op.layer) continue;
        const int pd = prog_of[di];
        plan.stream_in.push_back(pd);
        if (prog_.ops[pd].out_level == kStream) {
          prog_.ops[pd].stream_out.push_back(static_cast<int>(prog_.ops.size()));
          if (plan.stream_src < 0) plan.stream_src = pd;
        }
      }
      if (plan.stream_src >= 0 && !op.input_from_dram) in = kStream;
      if (plan.out_level == kStream)  // the SRAM half left by tile buffers
        plan.buffer_rows = static_cast<int64_t>(static_cast<double>(ctx.cores) * sram_avail(ctx) /
                                                out_row_bytes(op, plan.rows));
    }
    // An unfused LUT GEMM gets its table precompute as an op of its own: it
    // reads the activations, builds the tables and writes them back, and the
    // GEMM reads tables (the paper's unfused case).
    if (op.kind == OpKind::Gemm && lut_gemm_.count(i) && !fused_gemm_.count(i)) {
      plan.deps = {map_table_precompute(ctx, op, plan.deps, in)};
      in = prog_.ops[plan.deps.front()].out_level;
    }
    prog_of[i] = static_cast<int>(prog_.ops.size());
    size_t idx = prog_.ops.size();
    prog_.ops.push_back(plan);
    switch (op.kind) {
      case OpKind::Gemm:
        map_gemm(ctx, op, idx, in);
        break;
      case OpKind::Attention:
        map_attention(ctx, op, idx, in);
        break;
      case OpKind::Elementwise:
        map_elementwise(ctx, op, idx, in);
        break;
      case OpKind::Collective:
        // Chip-to-chip traffic: no core tiles; the engine's link process runs it.
        prog_.ops[idx].collective = op.fn;
        prog_.ops[idx].group = op.group;
        prog_.ops[idx].collective_bytes = op.collective_bytes();
        prog_.ops[idx].units = "links";
        prog_.ops[idx].mapping =
            op.fn + " of " + format_quantity(op.collective_bytes(), Dim::Bytes);
        prog_.ops[idx].out_level = in;
        break;
    }
    estimate_emitted(ctx, idx);
  }
  // A stream buffer holds at least the rows that every op of the layer
  // consumes or produces in one tile, so no chain of waits can close on itself.
  std::map<int, int64_t> slack;
  for (const auto& [i, r] : tile_rows_) slack[t_.ops[i].layer] += r;
  for (size_t i = 0; i < t_.ops.size(); ++i)
    if (prog_.ops[prog_of[i]].out_level == kStream)
      prog_.ops[prog_of[i]].buffer_rows =
          std::max(prog_.ops[prog_of[i]].buffer_rows, slack[t_.ops[i].layer]);
  return std::move(prog_);
}

}  // namespace bc::mapping

namespace bc {

Program map_trace(const Trace& t, const HwConfig& hw) { return mapping::Mapper(t, hw).run(); }

Program map_move(const HwConfig& hw, double bytes, Level from, Level to) {
  Program p;
  p.cores.resize(static_cast<size_t>(hw.cores()));
  OpPlan plan;
  plan.name = std::string("move ") + level_name(from) + " -> " + level_name(to);
  plan.kind = OpKind::Elementwise;
  plan.units = "dma";
  // Every core moves an equal share, in chunks of half its SRAM (double-buffered):
  // each chunk is loaded from `from` and stored to `to`.
  const double share = bytes / static_cast<double>(hw.cores());
  const double chunk = std::min(share, hw.sram.size_bytes / 2);
  const auto chunks = static_cast<uint32_t>(std::ceil(share / chunk));
  plan.mapping = std::to_string(hw.cores()) + " cores x " + std::to_string(chunks) + " chunks of " +
                 format_quantity(chunk, Dim::Bytes);
  p.ops.push_back(plan);
  // Whole chunks, then the remainder: the cores move exactly `bytes`.
  const double last = share - chunk * static_cast<double>(chunks - 1);
  for (auto& core : p.cores) {
    CoreOp co;
    for (auto [b, n] : {std::pair{chunk, chunks - 1}, std::pair{last, 1u}}) {
      Tile t;
      t.load_bytes[from] = b;
      t.store_bytes[to] = b;
      t.repeat = n;
      if (n > 0) co.push(t);
    }
    core.push_back(co);
  }
  return p;
}

const char* level_name(Level l) {
  return l == kDram ? "dram" : l == kShared ? "shared_sram" : l == kDdr ? "ddr" : "stream";
}

}  // namespace bc
