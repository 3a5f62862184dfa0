#include "models/noc_router.h"

#include <cmath>

namespace bc {

double crossbar_coefficient(const RouterModel& m) {
  if (!m.has_anchor) return 0;  // stream registers: no crossbar
  const double p = m.anchor_ports.value, w = m.anchor_width_bits.value, d = m.anchor_depth.value;
  const double buffers = m.buffer_bit_area.value * p * d * w;
  return std::max(0.0, m.anchor_area.value - buffers) / ((p * w) * (p * w));
}

RouterArea router_area(const ComponentLibrary& lib, const LibComponent& c, const RouterShape& s,
                       double node_m) {
  const double scale = c.scales ? lib.area_factor(c.node_m, node_m) : 1.0;
  RouterArea a;
  if (!c.router.present) {  // a fixed area per router
    a.crossbar_m2 = lib.area(c, node_m);
    return a;
  }
  const double pw = static_cast<double>(s.ports) * s.width_bits;
  a.crossbar_m2 = crossbar_coefficient(c.router) * pw * pw * scale;
  a.buffers_m2 = c.router.buffer_bit_area.value * static_cast<double>(s.ports) *
                 static_cast<double>(s.depth) * s.width_bits * scale;
  return a;
}

double link_width_bits(double bandwidth, double freq) {
  return 8.0 * std::ceil(bandwidth / freq - 1e-9);
}

int64_t mesh_router_ports(int64_t x, int64_t y, int64_t mesh_x, int64_t mesh_y) {
  int64_t p = 1;  // the core's own port
  if (x > 0) ++p;
  if (x + 1 < mesh_x) ++p;
  if (y > 0) ++p;
  if (y + 1 < mesh_y) ++p;
  return p;
}

}  // namespace bc
