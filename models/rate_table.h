// Rates per datapath class ("int8: 2" = 2 MACs per PE per cycle), shared by the
// units that have one, and the rule that picks the class an operand pair runs as.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/config/format.h"
#include "sim/config/params.h"

namespace bc {

class RateTable {
 public:
  // Reads `key` (a map class -> rate); checks each class name.
  void read(Params& p, const std::string& key, const std::string& help);
  // The class an (a, w) pair executes as, or "" with `why` filled.
  // Same family: the narrowest listed class at least as wide as both operands.
  // Mixed int/float: the narrower operand is converted to the float one's family
  // (e.g. W4A16 runs as bf16), so the float operand's width decides.
  std::string pick(const Format& a, const Format& w, std::string* why) const;
  std::string pick(const Format& f, std::string* why) const { return pick(f, f, why); }
  // pick()'s class with its rate and index (rate 0, index -1 when there is
  // none, `why` then saying why), for the units' per-tile costs: the mapper's
  // tiling search asks for the same pair millions of times in a row, so the
  // last pair's answer is kept beside the cache of all pairs.
  struct Choice {
    std::string cls, why;
    double rate = 0;
    int index = -1;
  };
  const Choice& choose(const Format& a, const Format& w) const;
  const Choice& choose(const Format& f) const { return choose(f, f); }
  double rate(const std::string& cls) const { return rates_.at(cls); }
  int index(const std::string& cls) const;  // position in classes(), the action index
  const std::map<std::string, double>& rates() const { return rates_; }
  std::vector<std::string> classes() const;

 private:
  std::string pick_uncached(const Format& a, const Format& w, std::string* why) const;
  std::map<std::string, double> rates_;
  // The mapper's tiling search asks for the same pairs millions of times.
  using Picked = std::map<std::pair<std::string, std::string>, Choice>;
  mutable Picked picked_;
  // The entry asked for last; a copy of the table starts without one (it would
  // point into the other table's cache).
  struct Last {
    const Picked::value_type* entry = nullptr;
    Last() = default;
    Last(const Last&) {}
    Last& operator=(const Last&) {
      entry = nullptr;
      return *this;
    }
  };
  mutable Last last_;
};

}  // namespace bc
