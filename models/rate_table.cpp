#include "models/rate_table.h"

#include <algorithm>

#include "sim/config/limits.h"

namespace bc {

namespace {
const std::vector<std::string> kClasses = {"int1", "int2", "int3",  "int4",  "int5", "int6",
                                           "int7", "int8", "int16", "int32", "fp4",  "fp6",
                                           "fp8",  "fp16", "bf16",  "fp32"};
}

void RateTable::read(Params& p, const std::string& key, const std::string& help) {
  Params m = p.map(key, help, true, "", false);  // classes are documented in the help
  for (const auto& cls : m.entry_names()) {
    if (std::find(kClasses.begin(), kClasses.end(), cls) == kClasses.end()) {
      std::string near = nearest(cls, kClasses);
      std::string list;
      for (const auto& c : kClasses) list += (list.empty() ? "" : ", ") + c;
      m.error(cls, "unknown datapath class \"" + cls + "\"",
              (near.empty() ? "" : "did you mean \"" + near + "\"? ") + "classes: " + list);
      continue;
    }
    rates_[cls] = m.number(cls, std::nullopt, "operations per lane per cycle in this class", 1e-9,
                           limits::kMaxRate);
  }
  if (m.present() && rates_.empty()) p.error(key, "needs at least one class, e.g. {int8: 1}");
}

int RateTable::index(const std::string& cls) const {
  int i = 0;
  for (const auto& [k, v] : rates_) {
    if (k == cls) return i;
    ++i;
  }
  return -1;
}

std::vector<std::string> RateTable::classes() const {
  std::vector<std::string> c;
  for (const auto& [k, v] : rates_) c.push_back(k);
  return c;
}

const RateTable::Choice& RateTable::choose(const Format& a, const Format& w) const {
  const Picked::value_type* last = last_.entry;
  if (last && last->first.first == a.name && last->first.second == w.name) return last->second;
  auto key = std::make_pair(a.name, w.name);
  auto it = picked_.find(key);
  if (it == picked_.end()) {
    Choice c;
    c.cls = pick_uncached(a, w, &c.why);
    if (!c.cls.empty()) c.rate = rate(c.cls), c.index = index(c.cls);
    it = picked_.emplace(key, std::move(c)).first;
  }
  last_.entry = &*it;
  return it->second;
}

std::string RateTable::pick(const Format& a, const Format& w, std::string* why) const {
  const Choice& c = choose(a, w);
  if (c.cls.empty() && why) *why = c.why;
  return c.cls;
}

std::string RateTable::pick_uncached(const Format& a, const Format& w, std::string* why) const {
  Format ca = format(format_class(a));
  Format cw = format(format_class(w));
  Family fam;
  int bits;
  if (ca.family == cw.family) {
    fam = ca.family;
    bits = std::max(ca.value_bits, cw.value_bits);
  } else {
    const Format& fl = ca.family == Family::Float ? ca : cw;
    fam = Family::Float;
    bits = fl.value_bits;
  }
  std::string best;
  int best_bits = 1 << 30;
  for (const auto& [cls, r] : rates_) {
    const Format& f = format(cls);
    if (f.family != fam || f.value_bits < bits) continue;
    if (f.value_bits < best_bits || (f.value_bits == best_bits && r > rates_.at(best))) {
      best = cls;
      best_bits = f.value_bits;
    }
  }
  if (best.empty() && why) {
    std::string list;
    for (const auto& [cls, r] : rates_) list += (list.empty() ? "" : ", ") + cls;
    *why = "no datapath class for " + a.name + " x " + w.name + " (needs a " +
           (fam == Family::Int ? "int" : "float") + " class of at least " + std::to_string(bits) +
           " bits; the unit has " + list + ")";
  }
  return best;
}

}  // namespace bc
