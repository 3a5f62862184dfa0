// Attention: flash-attention style, K/V blocks streamed per (sequence, KV head,
// query block), the context split across cores when there are fewer work
// units than cores.

#include <algorithm>
#include <bit>
#include <cmath>
#include <sstream>

#include "sim/mapping/mapper_internal.h"

namespace bc::mapping {

namespace {

// Context splits to try for `units` work units on P cores.
std::vector<int64_t> kv_splits(const Op& op, int64_t units, int64_t P) {
  // Fewer work units than cores: split the context (flash-decoding).
  // Candidates: enough splits to give every core an item, fewer so the items
  // divide the cores evenly, and powers of two below (the cost model picks).
  const int64_t kv_max =
      units >= P ? 1 : std::min(ceil_div(P, units), std::max<int64_t>(1, op.kv_len / 64));
  std::vector<int64_t> splits = {kv_max};
  if (units < P && P / units >= 1 && P / units < kv_max) splits.push_back(P / units);
  for (int64_t v = std::bit_floor(static_cast<uint64_t>(kv_max)); v >= 1; v /= 2)
    if (std::find(splits.begin(), splits.end(), v) == splits.end()) splits.push_back(v);
  // Decode with at least as many work units as cores, in a few rounds with a
  // thin last one (512 items on 165 cores: 3 full rounds and 17 items): a few
  // context splits even the rounds out, as decode attention kernels choose
  // their KV splits from the SM count (flash-decoding; TensorRT-LLM's
  // multi-block mode); the cost model picks, 1 included. Without them a chip
  // with more cores could decode slower (h100 at batch 64 with 165 cores:
  // +6 %). A prompt's query blocks are not split once they fill the cores,
  // as FlashAttention-2's heuristic does not (num_splits_heuristic: one split
  // from 80 % of the SMs).
  if (op.q_len == 1 && units >= P && units % P != 0 && units < 8 * P)
    for (int64_t v = 2; v <= 8 && v <= op.kv_len / 64; ++v) splits.push_back(v);
  return splits;
}

// A work item: a query block (of q_rows rows, starting at token row row0 =
// b x q_len + query index) over one chunk of its keys.
struct AttentionItem {
  int64_t keys_begin, keys_end, q_rows;
  bool first_chunk, last_chunk;
  int64_t row0;
};
// The work items of an attention op in query blocks of bq and `split` context
// chunks, each item's core, and the core's frontier after it.
struct AttentionItems {
  std::vector<AttentionItem> items;
  std::vector<int64_t> core_of, next_row;
};
AttentionItems attention_items(const Op& op, int64_t bq, int64_t split, int64_t P, bool stream) {
  AttentionItems w;
  const int64_t q_blocks = ceil_div(op.q_len, bq);
  std::vector<AttentionItem>& items = w.items;
  // Streaming walks query rows in order (heads innermost), so output rows
  // complete as a prefix.
  for (int64_t b = 0; b < op.batch; ++b)
    for (int64_t x = 0; x < op.kv_heads * q_blocks; ++x) {
      const int64_t qb = stream ? x / op.kv_heads : x % q_blocks;
      int64_t q_rows = std::min(bq, op.q_len - qb * bq);
      // The keys this query block attends (causal mask, sliding window).
      auto [k_begin, k_end] = op.key_range(qb * bq, q_rows);
      int64_t keys = k_end - k_begin;
      int64_t per = ceil_div(keys, split);
      for (int64_t s = 0; s * per < keys; ++s)
        items.push_back({k_begin + s * per, k_begin + std::min(keys, (s + 1) * per), q_rows, s == 0,
                         (s + 1) * per >= keys, b * op.q_len + qb * bq});
    }
  std::vector<double> load(P, 0);
  w.core_of.assign(items.size(), 0);
  std::vector<int64_t>& core_of = w.core_of;
  for (size_t i = 0; i < items.size(); ++i) {
    int64_t c = std::min_element(load.begin(), load.end()) - load.begin();
    load[c] += static_cast<double>(items[i].keys_end - items[i].keys_begin) * items[i].q_rows;
    core_of[i] = c;
  }
  // A core's frontier after an item: the first row of its next item.
  w.next_row.assign(items.size(), op.batch * op.q_len);
  std::vector<int64_t>& next_row = w.next_row;
  std::vector<int64_t> last_of(P, -1);
  for (size_t i = items.size(); i-- > 0;) {
    int64_t& l = last_of[core_of[i]];
    if (l >= 0) next_row[i] = items[l].row0;
    l = static_cast<int64_t>(i);
  }
  return w;
}

}  // namespace

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
  const ElementwiseFn& softmax = *find_elementwise_fn("softmax");
  const double quantize_ops = find_elementwise_fn("quantize")->ops_per_element;
  const int64_t G = op.heads / op.kv_heads, d = op.head_dim;
  double ba = op.a.bits_per_element() / 8, bkv = op.w.bits_per_element() / 8,
         bo = op.o.bits_per_element() / 8;
  // Query block: enough query rows (G heads x bq tokens) to fill the array's
  // rows, then taller (up to the 128-row query tiles of FlashAttention-2/3, Dao
  // 2023) while every core still gets a work item: each query block reads all
  // of its head's K and V, so taller blocks read them fewer times. A prompt
  // too short for the array-filling block to give every core one is also
  // tried in shorter blocks (the array partly filled), halving until it does,
  // as GEMM slices are cut (gemm.cpp), and the cost model picks: a taller
  // array never leaves cores idle that a shorter one would use.
  const auto blocks_of = [&](int64_t b) { return op.batch * op.kv_heads * ceil_div(op.q_len, b); };
  int64_t bq_fill = std::min(op.q_len, std::max<int64_t>(1, ceil_div(al.m, G)));
  std::vector<int64_t> bq_candidates;
  for (int64_t b = bq_fill; !ctx.stream && b > 1 && blocks_of(b) < P;) {
    b = ceil_div(b, 2);
    bq_candidates.push_back(b);
  }
  while (2 * bq_fill * G <= 128 && 2 * bq_fill <= op.q_len && blocks_of(2 * bq_fill) >= P)
    bq_fill *= 2;
  bq_candidates.insert(bq_candidates.begin(), bq_fill);
  check_tiles(op, static_cast<double>(blocks_of(bq_fill)));  // each work unit is a tile at least
  // The search runs once per attention shape (a model repeats its layers);
  // later layers emit the cached choice only.
  std::ostringstream shape;
  shape << op.batch << '/' << op.q_len << '/' << op.kv_len << '/' << op.heads << '/' << op.kv_heads
        << '/' << op.head_dim << '/' << op.causal << '/' << op.window << '/' << op.kv_append << '/'
        << op.a.str() << '/' << op.w.str() << '/' << op.o.str() << '/' << static_cast<int>(in)
        << '/' << static_cast<int>(out) << '/' << ctx.stream << '/' << ctx.base << '/' << ctx.cores;
  auto cached = attention_cache_.find(shape.str());
  std::vector<CoreOp> per_core;
  Estimate best;
  int64_t kv_split = 1, bk = 16, best_bq = bq_candidates.front(), best_stages = 0;
  bool best_alias = false;
  size_t n_items = 0;
  double min_need = INFINITY;
  const std::vector<int64_t> stage_list = stage_choices();
  for (const int64_t bq : bq_candidates) {
    if (cached != attention_cache_.end() && bq != cached->second[0]) continue;
    const int64_t q_blocks = ceil_div(op.q_len, bq);
    int64_t units = op.batch * op.kv_heads * q_blocks;
    // KV block: the largest power of two whose double-buffered K and V blocks,
    // scores and output accumulator fit SRAM.
    int64_t rows = G * bq;
    // The output accumulator O stays in the core's register file (core.registers)
    // across the KV blocks when it fits, as FlashAttention keeps it; else in SRAM.
    const bool o_regs =
        hw_.registers_bytes > 0 && static_cast<double>(rows * d) * acc <= hw_.registers_bytes;
    // The scores S and probabilities P of a KV block stay there too when they fit
    // beside O, as FlashAttention-2/3 keep them (Dao 2023; Shah et al. 2024): S is
    // accumulated, softmaxed into P and fed to P V without reaching shared
    // memory. A LUT unit builds P's tables from SRAM, so it keeps them there; so
    // does a unit that cannot take an operand from the register file.
    auto sp_regs = [&](int64_t bk) {
      return o_regs && pre < 0 && unit.register_operands() &&
             static_cast<double>(rows) * (d * acc + bk * (acc + ba)) <= hw_.registers_bytes;
    };
    // With O in the registers, the finished O can be staged for its store in
    // the V buffers, as FlashAttention-3 does (its shared memory for O is a
    // union with V's; hopper/flash_fwd_kernel_sm90.h): the SRAM a separate
    // output buffer takes goes to larger KV blocks. The price: the next work
    // item's first V load waits until the O store has read the buffer out (the
    // producer's barrier_O wait before its V loads,
    // hopper/mainloop_fwd_sm90_tma_gmma_ws.hpp). Both layouts are candidates;
    // the cost model picks. A LUT unit's tables and a streamed (dataflow) op
    // keep their own buffers.
    const bool can_alias = o_regs && pre < 0 && unit.register_operands() && !ctx.stream;
    // SRAM for `stages` K and V blocks of bk keys in flight, Q, and S and O
    // where the registers do not hold them.
    auto need = [&](int64_t bk, int64_t stages = 0, bool o_in_v = false) {
      if (stages == 0) stages = stage_list.back();                   // the fewest the op may use
      const double kv = static_cast<double>(stages) * bk * d * bkv;  // K's, or V's, buffers
      return kv + (o_in_v ? std::max(kv, static_cast<double>(rows * d) * bo) : kv + rows * d * bo) +
             rows * d * ba + (sp_regs(bk) ? 0 : rows * bk * acc) + (o_regs ? 0 : rows * d * acc);
    };
    if (need(16) > sram_avail(ctx)) {  // a shorter query block may fit
      min_need = std::min(min_need, need(16));
      continue;
    }
    const std::vector<int64_t> splits = cached != attention_cache_.end()
                                            ? std::vector<int64_t>{cached->second[1]}
                                            : kv_splits(op, units, P);
    for (const int64_t split : splits)
      for (const bool o_in_v : {false, true}) {
        if (o_in_v && !can_alias) continue;
        if (cached != attention_cache_.end() && o_in_v != (cached->second[3] != 0)) continue;
        int64_t chunk = ceil_div(op.kv_len, split);
        int64_t max_bk = 16;  // the largest power of two whose buffers fit SRAM
        while (max_bk * 2 <= std::min<int64_t>(chunk, 4096) &&
               need(max_bk * 2, 0, o_in_v) <= sram_avail(ctx))
          max_bk *= 2;

        const AttentionItems work = attention_items(op, bq, split, P, ctx.stream);
        const std::vector<AttentionItem>& items = work.items;
        const std::vector<int64_t>&core_of = work.core_of, &next_row = work.next_row;
        auto emit = [&](int64_t bk) {
          double tiles = 0;
          for (const AttentionItem& it : items)
            tiles += std::ceil(double(it.keys_end - it.keys_begin) / bk);
          check_tiles(op, tiles);
          std::vector<CoreOp> per_core(P);
          for (auto& c : per_core) c.op = static_cast<uint32_t>(idx);
          for (size_t i = 0; i < items.size(); ++i) {
            const AttentionItem& it = items[i];
            const int64_t c = core_of[i];
            int64_t r = G * it.q_rows;
            for (int64_t k0 = it.keys_begin; k0 < it.keys_end; k0 += bk) {
              const int64_t kb = std::min(bk, it.keys_end - k0);
              const bool first = k0 == it.keys_begin;
              const bool last = k0 + bk >= it.keys_end;
              // O staged in the V buffers (o_in_v): an item after this core's
              // first loads its first K block and Q, and computes S and P, in one
              // tile, and its first V block, fenced behind the last item's O store
              // two tiles back, in the next.
              const bool fenced = o_in_v && first && !per_core[c].tiles.empty();
              const double kv_bytes = static_cast<double>(kb * d) * bkv;  // a K or a V block
              const double readers = static_cast<double>(std::min<int64_t>(q_blocks, P));
              // The fallback's conversion of `elements` from `from` to the
              // class `to` the matrix unit runs (K and V blocks, Q).
              auto convert = [&](Tile& t, int64_t elements, const Format& from, const Format& to) {
                t.add_step({static_cast<uint16_t>(uc.convert_unit),
                            cache_.vector(uc.convert_unit, elements, quantize_ops,
                                          from.storage_bits / 8, to.storage_bits / 8),
                            kStepConvert});
              };
              auto convert_kv = [&](Tile& t, int64_t blocks) {
                if (uc.convert_w) convert(t, blocks * kb * d, op.w.elem, uc.w);
              };
              Tile t;
              // K and V blocks; the query blocks of one head on other cores read the
              // same blocks, which a shared level (L2) filters.
              load_shared_panel(t, home_, (fenced ? 1 : 2) * kv_bytes, readers);
              if (first) t.load_bytes[in] += r * d * ba;  // Q, once
              // With O in the V buffers Q has one buffer, as the SRAM budget
              // counts it: the next item's Q loads once the last item's last
              // tile has retired (FlashAttention-3's producer waits on its
              // QueryEmpty barrier before the Q load).
              if (fenced) t.after_retire = 1;
              convert_kv(t, fenced ? 1 : 2);
              if (uc.convert_a && first) convert(t, r * d, op.a.elem, uc.a);
              GemmShape q_shape;  // for the table precompute of Q and of P
              q_shape.uc = uc;
              q_shape.pre_unit = pre;
              if (pre >= 0 && first)
                t.add_step(
                    {static_cast<uint16_t>(pre), precompute(q_shape, r, d), kStepPrecompute});
              const bool in_regs = sp_regs(bk);
              MatmulTile qk{r, kb, d, uc.a, uc.w};  // S = Q K^T
              qk.acc_in_registers = qk.out_in_registers = in_regs;
              t.add_step({static_cast<uint16_t>(mu), cache_.mm(mu, qk)});
              t.add_step({static_cast<uint16_t>(vu),
                          cache_.vector(vu, r * kb, softmax.ops_per_element, in_regs ? 0 : acc,
                                        in_regs ? 0 : ba, softmax.special_per_element)});
              if (fenced) {
                per_core[c].push(t);
                t = Tile{};
                load_shared_panel(t, home_, kv_bytes, readers);
                t.after_store = 2;
                convert_kv(t, 1);
              }
              if (pre >= 0)
                t.add_step(
                    {static_cast<uint16_t>(pre), precompute(q_shape, r, kb), kStepPrecompute});
              // O += P V: the KV blocks are K steps of one output tile, O.
              MatmulTile pv{r, d, kb, uc.a, uc.w};
              pv.acc_in_registers = o_regs;
              pv.a_in_registers = in_regs;
              pv.k_last = !o_regs || last;
              t.add_step({static_cast<uint16_t>(mu), cache_.mm(mu, pv)});
              if (ctx.stream) {
                t.rows_need = static_cast<uint32_t>(it.row0 + it.q_rows);
                t.rows_done = static_cast<uint32_t>(last ? next_row[i] : it.row0);
              }
              if (last) {
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
        // more SRAM can only add choices. Powers of two, and the largest multiple
        // of 16 keys that fits, as FlashAttention-3 sizes its blocks to the shared
        // memory (80 keys at head dimension 256: hopper/tile_size.h).
        std::vector<int64_t> blocks;
        int64_t widest = max_bk;
        while (widest + 16 <= std::min<int64_t>(chunk, 4096) &&
               need(widest + 16, 0, o_in_v) <= sram_avail(ctx))
          widest += 16;
        if (widest != max_bk) blocks.push_back(widest);
        for (int64_t b = max_bk; b >= 16; b /= 2) blocks.push_back(b);
        for (const int64_t b : blocks) {
          if (cached != attention_cache_.end() && b != cached->second[2]) continue;
          std::vector<CoreOp> pc = emit(b);
          std::vector<const CoreOp*> used;
          for (const CoreOp& c : pc)
            if (!c.tiles.empty()) used.push_back(&c);
          // As many loads in flight as fit beside this block (more never slow
          // the estimate; the fewest always fit, by max_bk).
          int64_t stages = stage_list.back();
          for (const int64_t s : stage_list)
            if (need(b, s, o_in_v) <= sram_avail(ctx)) {
              stages = s;
              break;
            }
          const Estimate e = estimate_cores(ctx, used, -1, stages);
          if (per_core.empty() || e.cycles < best.cycles * 0.999) {
            per_core = std::move(pc);
            best = e;
            bk = b;
            best_stages = stages;
            kv_split = split;
            n_items = items.size();
            best_bq = bq;
            best_alias = o_in_v;
          }
        }
      }
  }
  if (per_core.empty())
    fail(op, "core.sram.size",
         "no tile fits the core's SRAM: a 16-key block needs " +
             format_quantity(min_need, Dim::Bytes) + ", core.sram.size is " +
             format_quantity(sram_avail(ctx), Dim::Bytes),
         "raise core.sram.size");
  const int64_t bq = best_bq, q_blocks = ceil_div(op.q_len, bq);
  if (ctx.stream) tile_rows_[ctx.index] = bq;
  attention_cache_[shape.str()] = {bq, kv_split, bk, best_alias ? 1 : 0};
  prog_.ops[idx].stages = best_stages;
  for (int64_t c = 0; c < P; ++c)
    if (!per_core[c].tiles.empty()) prog_.cores[ctx.base + c].push_back(std::move(per_core[c]));
  std::ostringstream m;
  m << n_items << " work items (batch x kv_heads x " << q_blocks << " query blocks x " << kv_split
    << " context splits), " << G * bq << " query rows, KV block " << bk
    << (best_stages < hw_.load_stages ? ", " + std::to_string(best_stages) + " loads in flight"
                                      : "")
    << (best_alias ? ", O staged in the V buffers" : "");
  prog_.ops[idx].units = unit.name() + "+" + units_[vu]->name();
  prog_.ops[idx].mapping = m.str();
}

}  // namespace bc::mapping
