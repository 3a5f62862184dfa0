// Mesh router area from what the router is: its ports, its flit width (the
// bytes a link moves per cycle) and its input-buffer depth, at the chip's node.
// The library component gives the model's constants (component_library.h,
// RouterModel): crossbar ~ (ports x width)^2 as ORION 2.0/3.0's matrix crossbar
// (wire tracks of every input bit cross those of every output bit), buffers ~
// ports x depth x width flip-flops, the crossbar's coefficient anchored to a
// published router. A component without a router model has a fixed area per
// router (e.g. the A100-derived crossbar slice of the GPU configs).
#pragma once

#include <cstdint>
#include <string>

#include "sim/config/component_library.h"

namespace bc {

struct RouterShape {
  int64_t ports = 5;        // input (= output) ports, the local port included
  double width_bits = 512;  // flit width: link bytes per cycle x 8
  int64_t depth = 2;        // input-buffer depth, flits
};

struct RouterArea {
  double crossbar_m2 = 0;
  double buffers_m2 = 0;
  double total() const { return crossbar_m2 + buffers_m2; }
};

// Crossbar coefficient of a router model (m2 per (port x bit)^2 at the
// component's node): the anchor's area less its buffers over (ports x width)^2.
double crossbar_coefficient(const RouterModel& m);
// Area of one router of this shape at node_m (scaled by the library's table).
RouterArea router_area(const ComponentLibrary& lib, const LibComponent& c, const RouterShape& s,
                       double node_m);
// Flit width of a link moving `bandwidth` bytes/s at `freq` Hz: whole bytes per cycle x 8.
double link_width_bits(double bandwidth, double freq);
// Ports of the router at (x, y) of an X x Y mesh: its neighbours plus the local port.
int64_t mesh_router_ports(int64_t x, int64_t y, int64_t mesh_x, int64_t mesh_y);

}  // namespace bc
