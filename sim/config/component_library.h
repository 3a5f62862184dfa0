// The component library (configs/components/*.yaml): energy per action, area and
// leakage per instance, each at a reference technology node and each with its
// source, plus the technology-scaling table that carries them to the config's node.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/config/params.h"

namespace bc {

struct LibAction {
  double energy_j = 0;  // per action, at the component's node
  std::string source;
};

// A router sized by its ports, flit width and buffer depth (ORION 2.0/3.0's
// matrix crossbar, area ~ (ports x width)^2, and flip-flop input buffers, area ~
// ports x depth x width). The crossbar's coefficient comes from a published
// router (the anchor): its area less its buffers, over (ports x width)^2.
// Without an anchor the part has no crossbar (stream registers).
struct RouterModel {
  bool present = false;
  Sourced buffer_bit_area;  // m2 per buffered bit
  bool has_anchor = false;
  Sourced anchor_area, anchor_ports, anchor_width_bits, anchor_depth;
};

struct LibComponent {
  std::string name;
  std::string description;
  double node_m = 45e-9;      // node the figures were measured or synthesized at
  bool scales = true;         // off-chip parts (DRAM) do not scale with the logic node
  Sourced area_m2;            // per instance
  Sourced leakage_w;          // per instance
  double capacity_bytes = 0;  // storage per instance (SRAM macros)
  std::map<std::string, LibAction> actions;
  // Datapath area of one instance per format class (vector lanes): a lane with
  // rates {fmt: r} is sized by the format needing the most, r x area[fmt].
  std::map<std::string, Sourced> area_per_format;
  RouterModel router;  // routers: area from ports, width and depth
};

struct ScalePoint {
  double node_m;
  double energy;  // relative to the reference node
  double area;
};

class ComponentLibrary {
 public:
  // Parses and validates; throws InputError with every problem found.
  static ComponentLibrary load(const std::string& path);

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const { return comps_.count(name) > 0; }
  const LibComponent& get(const std::string& name) const;  // precondition: has(name)
  std::vector<std::string> names() const;
  const std::string& scaling_source() const { return scaling_source_; }

  // Multipliers from `from` to `to` node, interpolated log-log between table points.
  double energy_factor(double from_m, double to_m) const;
  double area_factor(double from_m, double to_m) const;
  double min_node() const { return points_.front().node_m; }
  double max_node() const { return points_.back().node_m; }

  // Values of a component carried to `node_m`.
  double action_energy(const LibComponent& c, const std::string& action, double node_m) const;
  double area(const LibComponent& c, double node_m) const;
  double leakage(const LibComponent& c, double node_m) const;

 private:
  double factor(double node_m, bool energy) const;
  std::string path_;
  std::string scaling_source_;
  std::vector<ScalePoint> points_;  // ascending node
  std::map<std::string, LibComponent> comps_;
};

// Reports, against config key `key`, a library component that is missing or
// lacks one of `actions`.
void check_component(const ComponentLibrary& lib, Params& p, const std::string& key,
                     const std::string& component, const std::vector<std::string>& actions,
                     const std::string& actions_key);

}  // namespace bc
