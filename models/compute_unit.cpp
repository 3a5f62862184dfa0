#include "models/compute_unit.h"

#include <stdexcept>

namespace bc {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void check_component(const ComponentLibrary& lib, Params& p, const std::string& key,
                     const std::string& component, const std::vector<std::string>& actions,
                     const std::string& actions_key) {
  if (!lib.has(component)) {
    std::string near = nearest(component, lib.names());
    p.error(key, "component \"" + component + "\" is not in the library " + lib.path(),
            near.empty() ? "" : "did you mean \"" + near + "\"?");
    return;
  }
  for (const auto& a : actions)
    if (!lib.get(component).actions.count(a))
      p.error(actions_key,
              "library component \"" + component + "\" has no energy for action \"" + a + "\"",
              "add it to " + lib.path() + " or drop the class");
}

bool ComputeUnit::can_matmul(const Format&, const Format&, std::string* why) const {
  if (why) *why = "a " + type() + " unit does not execute matrix multiplications";
  return false;
}

bool ComputeUnit::can_vector(const Format&, std::string* why) const {
  if (why) *why = "a " + type() + " unit does not execute element-wise work";
  return false;
}

TileCost ComputeUnit::matmul(const MatmulTile&) const {
  throw std::logic_error(type() + " has no matmul");
}

TileCost ComputeUnit::vector(const VectorTile&) const {
  throw std::logic_error(type() + " has no vector path");
}

TileAlign ComputeUnit::align(const Format&, const Format&) const { return {}; }
VectorTile ComputeUnit::precompute_work(int64_t, int64_t, const Format&) const { return {}; }
TileCost ComputeUnit::precompute_cost(int64_t, int64_t, const Format&) const { return {}; }
double ComputeUnit::table_bytes_per_activation(const Format& a) const { return a.storage_bits / 8; }
double ComputeUnit::area_m2(const ComponentLibrary& lib, double node_m) const {
  Instances i = instances();
  return i.count * lib.area(lib.get(i.component), node_m);
}

double ComputeUnit::leakage_w(const ComponentLibrary& lib, double node_m) const {
  Instances i = instances();
  return i.count * lib.leakage(lib.get(i.component), node_m);
}

double ComputeUnit::peak_macs_per_cycle(const Format&, const Format&) const { return 0; }
double ComputeUnit::peak_vector_ops_per_cycle(const Format&) const { return 0; }

namespace {
std::map<std::string, UnitFactory>& registry() {
  static std::map<std::string, UnitFactory> r;
  return r;
}
}  // namespace

bool UnitRegistry::add(const std::string& type, UnitFactory f) {
  registry()[type] = std::move(f);
  return true;
}

std::unique_ptr<ComputeUnit> UnitRegistry::create(const std::string& type, const std::string& name,
                                                  Params& p) {
  auto it = registry().find(type);
  if (it == registry().end()) return nullptr;
  auto u = it->second(p);
  u->name_ = name;
  return u;
}

std::vector<std::string> UnitRegistry::types() {
  std::vector<std::string> t;
  for (const auto& [k, v] : registry()) t.push_back(k);
  return t;
}

}  // namespace bc
