// Moving bytes between memory levels (bitcycle move), and the levels' names.

#include <cmath>

#include "sim/mapping/mapper.h"

namespace bc {

Program map_move(const HwConfig& hw, double bytes, Level from, Level to) {
  Program p;
  p.cores.resize(static_cast<size_t>(hw.cores()));
  OpPlan plan;
  plan.name = std::string("move ") + level_name(from) + " -> " + level_name(to);
  plan.kind = OpKind::Elementwise;
  plan.units = "dma";
  // Every core moves an equal share, in chunks of half its SRAM (double-buffered):
  // each chunk is loaded from `from` and stored to `to`.
  const double share = bytes / static_cast<double>(hw.cores());
  const double chunk = std::min(share, hw.sram.size_bytes / 2);
  const auto chunks = static_cast<uint32_t>(std::ceil(share / chunk));
  plan.mapping = std::to_string(hw.cores()) + " cores x " + std::to_string(chunks) + " chunks of " +
                 format_quantity(chunk, Dim::Bytes);
  p.ops.push_back(plan);
  // Whole chunks, then the remainder: the cores move exactly `bytes`.
  const double last = share - chunk * static_cast<double>(chunks - 1);
  for (auto& core : p.cores) {
    CoreOp co;
    for (auto [b, n] : {std::pair{chunk, chunks - 1}, std::pair{last, 1u}}) {
      Tile t;
      t.load_bytes[from] = b;
      t.store_bytes[to] = b;
      t.repeat = n;
      if (n > 0) co.push(t);
    }
    core.push_back(co);
  }
  return p;
}

}  // namespace bc
