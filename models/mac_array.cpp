// MAC array: a systolic (or tensor-core style) R x C array of MAC PEs.
//
// Timing follows SCALE-Sim (Samajdar et al., ISPASS 2020): a GEMM is cut into
// folds of at most R stationary rows x C columns; per fold the array needs
// 2*R + C + T - 2 cycles (fill, stream T values, drain), R and C the whole array's
// even when the fold maps fewer rows or columns. Mapping per dataflow
// (M x K by K x N):  output-stationary S_R=M, S_C=N, T=K;  weight-stationary
// S_R=K, S_C=N, T=M;  input-stationary S_R=K, S_C=M, T=N.
// A PE with rate r for a format is an r-wide dot product (DP-r), so the reduction
// dimension K shrinks to ceil(K/r) in every mapping.
// With fold_pipelining (default), stationary operands are double-buffered in the
// PEs (as in the TPU's weight FIFOs): the next fold's stationary values load while
// the current one streams, so a fold costs max(T, S_R) and the fill/drain of
// 2*S_R + S_C - 2 is exposed once per output tile: K steps of the same output
// tile stream back to back (MatmulTile::k_last), as a tensor core keeps
// accumulating in its registers. Without it the cost is SCALE-Sim's exactly.
#include <algorithm>
#include <cmath>

#include "models/compute_unit.h"
#include "models/rate_table.h"

namespace bc {
namespace {

class MacArray : public ComputeUnit {
 public:
  explicit MacArray(Params& p) {
    rows_ = p.integer("rows", std::nullopt, "PE rows (R)", 1, 1 << 16);
    cols_ = p.integer("cols", std::nullopt, "PE columns (C)", 1, 1 << 16);
    dataflow_ = p.choice("dataflow", "output_stationary",
                         {"output_stationary", "weight_stationary", "input_stationary"},
                         "which operand stays in the PEs");
    kind_ = dataflow_ == "output_stationary"   ? Dataflow::Output
            : dataflow_ == "weight_stationary" ? Dataflow::Weight
                                               : Dataflow::Input;
    pipelined_ = p.boolean("fold_pipelining", true,
                           "overlap a fold's stationary load with the previous fold's stream");
    rates_.read(p, "rates",
                "MACs per PE per cycle for each datapath class, e.g. {bf16: 1, int8: 2}");
    pe_ = p.text("pe", "mac_pe_fp16", "library component of one PE (area, leakage, MAC energy)");
    acc_bytes_ = p.integer("accumulator_bytes", 4, "bytes of a partial sum (int32/fp32)", 1, 8);
    fallback_ =
        p.text("fallback", "", "vector unit that converts unsupported formats (\"\" = none)");
    sparse_2_4_ =
        p.boolean("sparse_2_4", false,
                  "skip the zeros of 2:4-sparse weights (sparse tensor core): half the K steps");
    exact_ = p.boolean("exact_formats", false,
                       "the array takes only its classes' formats: an operand narrower than the "
                       "class it runs as, or of the other family, is widened by the fallback "
                       "unit each tile (a GPU's tensor cores); false: taken as it is");
    if (exact_ && fallback_.empty())
      p.error("exact_formats", "an array that takes only its classes' formats needs a fallback",
              "name the vector unit that widens the other operands in fallback, or set "
              "exact_formats: false");
  }

  bool exact_formats() const override { return exact_; }
  std::string matmul_class(const Format& a, const Format& w) const override {
    return rates_.pick(a, w, nullptr);
  }

  std::string type() const override { return "mac_array"; }

  bool can_matmul(const Format& a, const Format& w, std::string* why) const override {
    return !rates_.pick(a, w, why).empty();
  }

  TileCost matmul(const MatmulTile& t) const override {
    const RateTable::Choice& ch = rates_.choose(t.a, t.w);
    const double r = ch.cls.empty() ? rates_.rate(ch.cls) : ch.rate;  // none: throws as before
    // A sparse tensor core skips the zero half of 2:4 weights: K steps halve.
    const bool skip = sparse_2_4_ && t.w_2_4;
    int64_t k_eff = static_cast<int64_t>(std::ceil(static_cast<double>(t.k) / (skip ? 2 * r : r)));
    int64_t sr, sc, tt;
    if (kind_ == Dataflow::Output)
      sr = t.m, sc = t.n, tt = k_eff;
    else if (kind_ == Dataflow::Weight)
      sr = k_eff, sc = t.n, tt = t.m;
    else
      sr = k_eff, sc = t.m, tt = t.n;
    int64_t nr = ceil_div(sr, rows_), nc = ceil_div(sc, cols_);
    TileCost c;
    if (pipelined_) {
      c.cycles = pipelined_cycles(sr, nc, std::min(sc, cols_), std::max<int64_t>(tt, 1), t.k_last);
    } else {
      // SCALE-Sim charges every fold the whole array's fill and drain: a
      // partial fold (K or N not a multiple of the array) still loads its
      // stationary operand over all R rows and its partial sums still leave
      // through all R + C - 1 skewed stages, so the PEs it leaves idle cost
      // time too.
      c.cycles = nr * nc * (2 * rows_ + cols_ + tt - 2);
    }
    double macs = static_cast<double>(t.m) * t.n * t.k * (skip ? 0.5 : 1.0);
    c.actions.push_back({ch.index, macs});
    double ba = t.a.storage_bits / 8, bw = t.w.storage_bits / 8;
    double m = t.m, n = t.n, k = t.k, acc = static_cast<double>(acc_bytes_);
    // Operand traffic between SRAM and the array, per the dataflow's reuse:
    // the stationary operand is read once, the streamed one once per fold of the
    // other dimension; partial sums are read-modify-written per stationary fold.
    if (t.acc_in_registers) {
      // Partial sums live in the register file, which also holds the operand
      // fragments the array's folds share (as a GPU's MMA instructions reuse
      // register fragments): SRAM is read once per operand of the K step and
      // written once, with the finished tile.
      c.sram_read_bytes = (t.a_in_registers ? 0 : m * k * ba) + k * n * bw;
      c.sram_write_bytes = t.k_last && !t.out_in_registers ? m * n * acc : 0;
    } else if (kind_ == Dataflow::Output) {
      c.sram_read_bytes = nc * m * k * ba + nr * k * n * bw + m * n * acc;
      c.sram_write_bytes = m * n * acc;
    } else if (kind_ == Dataflow::Weight) {
      c.sram_read_bytes = k * n * bw + nc * m * k * ba + nr * m * n * acc;
      c.sram_write_bytes = nr * m * n * acc;
    } else {
      c.sram_read_bytes = m * k * ba + nc * k * n * bw + nr * m * n * acc;
      c.sram_write_bytes = nr * m * n * acc;
    }
    return c;
  }

  bool register_operands() const override { return true; }

  // Pipelined folds of one column block: the sr stationary rows go in n folds
  // of balanced heights (at most R each); a fold of height h streams for
  // max(T, h) cycles (its T values, or the next fold's h-row stationary load,
  // whichever is longer), and the tile's last fold exposes the fill and drain
  // of its own height, 2h + C0 - 2, where its partial sums leave the array.
  // Fewer, taller folds stream no longer (while every fold is at least T tall
  // they stream sr cycles together) but expose a longer fill and drain, so the
  // unit takes the best fold count rather than the array's full height: a
  // taller array can still run the folds of a shorter one, and is never slower
  // (the Groq-like MXM at 640 rows had been 9.9 % slower than at 320 on
  // 16-row decode tiles, its fill and drain through 512 rows instead of 320).
  int64_t pipelined_cycles(int64_t sr, int64_t nc, int64_t c0, int64_t tt, bool k_last) const {
    auto stream = [&](int64_t n) {
      const int64_t q = sr / n, r = sr % n;
      return nc * (r * std::max(tt, q + 1) + (n - r) * std::max(tt, q));
    };
    if (sr <= 0) return k_last ? std::max<int64_t>(0, c0 - 2) : 0;  // nothing stationary
    const int64_t n_min = ceil_div(sr, rows_);
    // Balanced folds stream no longer than full ones and a remainder (max(T, h)
    // is convex in h), and more folds never stream for less.
    if (!k_last) return stream(n_min);
    auto total = [&](int64_t n) { return stream(n) + 2 * ceil_div(sr, n) + c0 - 2; };
    // Up to sr / T folds every fold is at least T tall: the stream is sr per
    // column block and the fill shrinks with n, so the best of those is the
    // most; beyond it each fold streams at least T, which bounds the search.
    const int64_t n0 = std::min(sr, std::max(n_min, sr / tt));
    int64_t best = total(n0);
    for (int64_t n = n0 + 1; n <= sr && nc * n * tt + c0 < best; ++n)
      best = std::min(best, total(n));
    return best;
  }

  TileAlign align(const Format& a, const Format& w) const override {
    std::string cls = rates_.pick(a, w, nullptr);
    int64_t r = cls.empty() ? 1 : std::max<int64_t>(1, static_cast<int64_t>(rates_.rate(cls)));
    if (kind_ == Dataflow::Output) return {rows_, cols_, r};
    if (kind_ == Dataflow::Weight) return {1, cols_, rows_ * r};
    return {cols_, 1, rows_ * r};
  }

  double peak_macs_per_cycle(const Format& a, const Format& w) const override {
    std::string cls = rates_.pick(a, w, nullptr);
    return cls.empty() ? 0 : static_cast<double>(rows_) * cols_ * rates_.rate(cls);
  }

  std::vector<std::string> formats() const override { return rates_.classes(); }
  // Converted operands go to the unit's widest class (the least lossy).
  std::vector<Format> fallback_formats() const override {
    std::string widest = rates_.classes().front();
    for (const auto& c : rates_.classes())
      if (format(c).value_bits > format(widest).value_bits) widest = c;
    return {format(widest), format(widest)};
  }

  std::vector<std::string> actions() const override {
    std::vector<std::string> a;
    for (const auto& c : rates_.classes()) a.push_back("mac_" + c);
    return a;
  }
  ActionSource action_source(int i) const override { return {pe_, actions()[i], 1}; }

  Instances instances() const override {
    return {pe_, static_cast<double>(rows_) * static_cast<double>(cols_)};
  }
  void check_library(const ComponentLibrary& lib, Params& p) const override {
    check_component(lib, p, "pe", pe_, actions(), "rates");
  }

  nlohmann::json resolved() const override {
    return {{"type", type()},
            {"rows", rows_},
            {"cols", cols_},
            {"dataflow", dataflow_},
            {"fold_pipelining", pipelined_},
            {"rates", rates_.rates()},
            {"sparse_2_4", sparse_2_4_},
            {"fallback", fallback_},
            {"exact_formats", exact_},
            {"pe", pe_},
            {"accumulator_bytes", acc_bytes_}};
  }
  double accumulator_bytes() const override { return static_cast<double>(acc_bytes_); }

 private:
  int64_t rows_ = 1, cols_ = 1, acc_bytes_ = 4;
  std::string dataflow_, pe_;
  enum class Dataflow { Output, Weight, Input } kind_;  // dataflow_, compared once
  bool pipelined_ = true;
  bool exact_ = false;
  bool sparse_2_4_ = false;
  RateTable rates_;
};

}  // namespace
BC_REGISTER_UNIT("mac_array", MacArray)
}  // namespace bc
