#include "models/compute_unit.h"

#include <sstream>
#include <stdexcept>

#include "models/action_ids.h"

namespace bc {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

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

std::string ComputeUnit::area_how(const ComponentLibrary&) const {
  Instances i = instances();
  std::ostringstream os;
  os << i.count << " x " << i.component;
  return os.str();
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
  // The config loader reads a unit through this: the unit object is built, asked
  // what the config's cross-checks need, and dropped once the library is checked.
  UnitTypes::add(type, [f](const std::string& name, Params& p) {
    std::shared_ptr<ComputeUnit> u = f(p);
    u->name_ = name;
    UnitCheck c;
    c.resolved = u->resolved();
    c.vector = u->can_vector(fp32(), nullptr);
    c.fallback = u->fallback_unit();
    if (u->has_precompute()) c.precompute = u->precompute_unit();
    c.check_library = [u](const ComponentLibrary& lib, Params& at) { u->check_library(lib, at); };
    return c;
  });
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

std::vector<int> unit_action_bases(const Units& units, int* total) {
  std::vector<int> bases;
  int n = kFixedActions;
  for (const auto& u : units) {
    bases.push_back(n);
    n += static_cast<int>(u->actions().size());
  }
  *total = n;
  return bases;
}

Units build_units(const std::vector<UnitDesc>& descs) {
  Units units;
  for (const auto& d : descs) {
    DiagnosticSink sink;
    std::unique_ptr<ComputeUnit> u;
    {
      Params p(d.node.get(), d.path, &sink);
      p.raw("type");  // read by the loader, which picked the type by it
      u = UnitRegistry::create(d.type, d.name, p);
    }  // p reports keys nobody read: none, the loader read the same node
    // The loader checked this node, so a problem here is a bug, reported as the
    // input error it would have been.
    sink.throw_if_any();
    if (!u) throw std::logic_error("unit type \"" + d.type + "\" is not registered");
    units.push_back(std::move(u));
  }
  return units;
}

std::vector<std::string> UnitRegistry::types() {
  std::vector<std::string> t;
  for (const auto& [k, v] : registry()) t.push_back(k);
  return t;
}

}  // namespace bc
