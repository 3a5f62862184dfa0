// Which unit of the core runs an op: the first that takes its formats, else a
// unit whose fallback vector unit converts the operands it cannot take.

#include <iomanip>
#include <sstream>

#include "sim/config/limits.h"
#include "sim/mapping/mapper_internal.h"

namespace bc::mapping {

void fail(const Op& op, const std::string& config_key, const std::string& msg,
          const std::string& hint) {
  // map_trace() puts the error at config_key's line in the config.
  fail_input(SourceLoc{kMapperLoc, 0, 0}, config_key,
             "op " + op.name + " (" + op_kind_name(op.kind) + "): " + msg, hint);
}

void check_tiles(const Op& op, double tiles) {
  if (tiles <= limits::kMaxTiles) return;
  std::ostringstream os;
  os << std::fixed << std::setprecision(0) << "needs " << tiles << " tiles, more than "
     << limits::kMaxTiles << " (the limit of one op on one chip)";
  fail(op, "core.sram.size", os.str(), "split the op, or give the cores more SRAM");
}

int unit_index(const Units& units, const std::string& name) {
  for (size_t i = 0; i < units.size(); ++i)
    if (units[i]->name() == name) return static_cast<int>(i);
  return -1;
}

UnitChoice pick_matmul_unit(const Units& units, const Op& op, const Format& a, const Format& w) {
  std::string reasons;
  for (size_t i = 0; i < units.size(); ++i) {
    std::string why;
    if (units[i]->can_matmul(a, w, &why)) {
      // A unit that takes only its classes' formats runs a narrower operand,
      // or one of the other family, after its fallback widens it.
      const ComputeUnit& u = *units[i];
      const int v = u.exact_formats() ? unit_index(units, u.fallback_unit()) : -1;
      if (v >= 0) {
        const Format& c = format(u.matmul_class(a, w));
        auto widen = [&](const Format& f) {
          return f.family != c.family || f.value_bits < c.value_bits;
        };
        if (widen(a) || widen(w))
          return {static_cast<int>(i), widen(a) ? c : a, widen(w) ? c : w, v, widen(a), widen(w)};
      }
      return {static_cast<int>(i), a, w};
    }
    reasons += (reasons.empty() ? "" : "; ") + units[i]->name() + ": " + why;
  }
  // A unit with a fallback: its vector unit converts the operand(s) it cannot take.
  for (size_t i = 0; i < units.size(); ++i) {
    const ComputeUnit& u = *units[i];
    if (u.fallback_unit().empty()) continue;
    auto ff = u.fallback_formats();  // {activation target, weight target}
    int v = unit_index(units, u.fallback_unit());
    for (auto [ca, cw] : {std::pair{false, true}, std::pair{true, false}, std::pair{true, true}}) {
      Format a2 = ca ? ff[0] : a, w2 = cw ? ff[1] : w;
      if (u.can_matmul(a2, w2, nullptr)) return {static_cast<int>(i), a2, w2, v, ca, cw};
    }
  }
  fail(op, "core.units",
       "no unit of the core executes " + a.name + " x " + w.name + " matrix products (" + reasons +
           ")",
       "add a rate for this class to a unit, name a fallback vector unit, or use another --quant "
       "recipe");
}

int pick_vector_unit(const Units& units, const Op& op) {
  std::string reasons;
  for (size_t i = 0; i < units.size(); ++i) {
    std::string why;
    if (units[i]->can_vector(fp32(), &why)) return static_cast<int>(i);
    reasons += (reasons.empty() ? "" : "; ") + units[i]->name() + ": " + why;
  }
  fail(op, "core.units", "no unit of the core executes fp32 element-wise work (" + reasons + ")",
       "add a vector_unit to core.units");
}

}  // namespace bc::mapping
