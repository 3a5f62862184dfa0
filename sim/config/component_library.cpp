#include "sim/config/component_library.h"

#include <algorithm>
#include <cmath>

#include "sim/config/limits.h"

namespace bc {

ComponentLibrary ComponentLibrary::load(const std::string& path) {
  CNode root = load_config_file(path);
  DiagnosticSink sink;
  ComponentLibrary lib;
  lib.path_ = path;
  {
    Params top(&root, "", &sink);
    {
      Params sc = top.map("scaling", "technology scaling table", true);
      lib.scaling_source_ = sc.text("source", std::nullopt, "where the scaling factors come from");
      Params pts = sc.map("points", "one entry per node: {energy, area} factors", true);
      for (const auto& name : pts.entry_names()) {
        ParsedQuantity q = parse_quantity(name, Dim::Length);
        Params p = pts.map(name, "scaling factors at this node", true, "<node>");
        double e = p.number("energy", std::nullopt, "dynamic-energy factor", 1e-6,
                            limits::kMaxScaleFactor);
        double a = p.number("area", std::nullopt, "area factor", 1e-6, limits::kMaxScaleFactor);
        if (!q.error.empty()) {
          pts.error(name, "scaling point names must be nodes like \"28 nm\": " + q.error);
          continue;
        }
        if (q.value < limits::kMinNodeM || q.value > limits::kMaxNodeM) {
          pts.error(name,
                    "scaling point " + name + " is not a technology node: must be " +
                        format_quantity(limits::kMinNodeM, Dim::Length) + " to " +
                        format_quantity(limits::kMaxNodeM, Dim::Length),
                    "name the node the factors are for, e.g. \"28 nm\"");
          continue;
        }
        lib.points_.push_back({q.value, e, a});
      }
      std::sort(lib.points_.begin(), lib.points_.end(),
                [](auto& x, auto& y) { return x.node_m < y.node_m; });
      // A missing or null table is already one error (at the section); an empty
      // one is reported here, at its key.
      if (lib.points_.empty() && pts.present() && pts.entry_names().empty())
        sc.error("points", "the scaling table needs at least one node");
    }
    Params comps = top.map("components", "named components", true);
    for (const auto& name : comps.entry_names()) {
      Params c = comps.map(name, "a component", true, "<component>");
      LibComponent lc;
      lc.name = name;
      lc.description = c.text("description", "", "what the component is");
      lc.node_m = c.quantity("node", Dim::Length, std::nullopt, "node of the figures below");
      lc.scales = c.boolean("scales", true, "false for off-chip parts (DRAM energy per bit)");
      // Figures stated at a node the table does not cover cannot be carried to
      // another node (factor() would clamp them silently to the table's end).
      if (lc.scales && !lib.points_.empty() && lc.node_m > 0 &&
          (lc.node_m < lib.min_node() * 0.999 || lc.node_m > lib.max_node() * 1.001))
        c.error("node",
                "node " + format_quantity(lc.node_m, Dim::Length) +
                    " is outside the scaling table (" +
                    format_quantity(lib.min_node(), Dim::Length) + " to " +
                    format_quantity(lib.max_node(), Dim::Length) + ")",
                "add a scaling point for it, or set scales: false");
      lc.area_m2 = c.sourced("area", Dim::Area, 0.0, "area per instance", 0, false);
      lc.capacity_bytes =
          c.quantity("capacity", Dim::Bytes, 0.0, "storage per instance (SRAM macros)", 0, false);
      lc.leakage_w = c.sourced("leakage", Dim::Power, 0.0, "leakage power per instance", 0, false);
      {
        Params f = c.map("area_per_format",
                         "datapath area of one instance per format class (vector lanes)");
        for (const auto& fn : f.entry_names())
          lc.area_per_format[fn] =
              f.sourced(fn, Dim::Area, std::nullopt, "datapath area for this format", 0, true);
      }
      {
        Params r =
            c.map("router", "router area model: ports x width crossbar and flip-flop buffers");
        if (r.present()) {
          lc.router.present = true;
          lc.router.buffer_bit_area = r.sourced("buffer_bit_area", Dim::Area, std::nullopt,
                                                "area of one buffered bit", 0, true);
          Params a = r.map("anchor", "published router the crossbar coefficient comes from");
          if (a.present()) {
            lc.router.has_anchor = true;
            lc.router.anchor_area = a.sourced("area", Dim::Area, std::nullopt, "its area", 0, true);
            lc.router.anchor_ports = a.sourced_number("ports", "its ports", 1);
            lc.router.anchor_width_bits = a.sourced_number("width_bits", "its flit width", 1);
            lc.router.anchor_depth = a.sourced_number("depth", "its buffer depth, flits", 0);
          }
        }
      }
      Params acts = c.map("actions", "energy per action: {value, source}");
      for (const auto& an : acts.entry_names()) {
        Sourced s = acts.sourced(an, Dim::Energy, std::nullopt, "energy per action", 0, false);
        lc.actions[an] = {s.value, s.source};
      }
      lib.comps_[name] = std::move(lc);
    }
  }
  sink.throw_if_any();
  return lib;
}

const LibComponent& ComponentLibrary::get(const std::string& name) const { return comps_.at(name); }

std::vector<std::string> ComponentLibrary::names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : comps_) n.push_back(k);
  return n;
}

double ComponentLibrary::factor(double node_m, bool energy) const {
  auto val = [&](const ScalePoint& p) { return energy ? p.energy : p.area; };
  if (points_.size() == 1) return val(points_[0]);
  // Clamp outside the table; the hardware config rejects nodes outside it.
  if (node_m <= points_.front().node_m) return val(points_.front());
  if (node_m >= points_.back().node_m) return val(points_.back());
  for (size_t i = 1; i < points_.size(); ++i) {
    const auto& a = points_[i - 1];
    const auto& b = points_[i];
    if (node_m <= b.node_m) {
      double t = std::log(node_m / a.node_m) / std::log(b.node_m / a.node_m);
      return std::exp(std::log(val(a)) + t * (std::log(val(b)) - std::log(val(a))));
    }
  }
  return val(points_.back());
}

double ComponentLibrary::energy_factor(double from_m, double to_m) const {
  return factor(to_m, true) / factor(from_m, true);
}

double ComponentLibrary::area_factor(double from_m, double to_m) const {
  return factor(to_m, false) / factor(from_m, false);
}

double ComponentLibrary::action_energy(const LibComponent& c, const std::string& action,
                                       double node_m) const {
  double e = c.actions.at(action).energy_j;
  return c.scales ? e * energy_factor(c.node_m, node_m) : e;
}

double ComponentLibrary::area(const LibComponent& c, double node_m) const {
  return c.scales ? c.area_m2.value * area_factor(c.node_m, node_m) : c.area_m2.value;
}

// Leakage follows the energy factor: the scaling table gives only dynamic energy
// and area, and leakage per device tracks supply voltage and capacitance like
// dynamic energy does. This is an estimate, stated in the README.
double ComponentLibrary::leakage(const LibComponent& c, double node_m) const {
  return c.scales ? c.leakage_w.value * energy_factor(c.node_m, node_m) : c.leakage_w.value;
}

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

}  // namespace bc
