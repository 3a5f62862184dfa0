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
  double rate(const std::string& cls) const { return rates_.at(cls); }
  int index(const std::string& cls) const;  // position in classes(), the action index
  const std::map<std::string, double>& rates() const { return rates_; }
  std::vector<std::string> classes() const;

 private:
  std::string pick_uncached(const Format& a, const Format& w, std::string* why) const;
  std::map<std::string, double> rates_;
  // The mapper's tiling search asks for the same pairs millions of times.
  mutable std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>>
      picked_;
};

}  // namespace bc
