#include "sim/config/unit_desc.h"

#include <map>

namespace bc {

namespace {
// A function-local static: unit files register during static initialisation,
// in an order the linker chooses, possibly before this file's globals exist.
std::map<std::string, UnitChecker>& checkers() {
  static std::map<std::string, UnitChecker> c;
  return c;
}
}  // namespace

void UnitTypes::add(const std::string& type, UnitChecker check) {
  checkers()[type] = std::move(check);
}

const UnitChecker* UnitTypes::find(const std::string& type) {
  auto it = checkers().find(type);
  return it == checkers().end() ? nullptr : &it->second;
}

std::vector<std::string> UnitTypes::names() {
  std::vector<std::string> t;
  for (const auto& [k, v] : checkers()) t.push_back(k);
  return t;
}

}  // namespace bc
