#include "models/noc_mesh.h"

namespace bc {

NocMesh::NocMesh(int64_t x, int64_t y, double link_bandwidth, Tick hop_ticks, bool crossbar)
    : x_(x),
      y_(y),
      crossbar_(crossbar),
      bw_(link_bandwidth),
      hop_(hop_ticks),
      until_(static_cast<size_t>(x * y * 4), 0),
      total_(static_cast<size_t>(x * y * 4), 0) {}

std::vector<uint32_t> NocMesh::route(int64_t from, int64_t to) const {
  std::vector<uint32_t> r;
  for_each_link(from, to, [&](uint32_t l) { r.push_back(l); });
  return r;
}

std::vector<int64_t> NocMesh::perimeter() const {
  std::vector<int64_t> p;
  if (x_ == 1 || y_ == 1) {
    for (int64_t i = 0; i < x_ * y_; ++i) p.push_back(i);
    return p;
  }
  for (int64_t i = 0; i < x_; ++i) p.push_back(node(i, 0));
  for (int64_t j = 1; j < y_; ++j) p.push_back(node(x_ - 1, j));
  for (int64_t i = x_ - 2; i >= 0; --i) p.push_back(node(i, y_ - 1));
  for (int64_t j = y_ - 2; j >= 1; --j) p.push_back(node(0, j));
  return p;
}

double NocMesh::link_busy_max_s() const {
  settle();
  Tick m = 0;
  for (Tick t : total_) m = std::max(m, t);
  return ticks_to_seconds(m);
}

}  // namespace bc
