// The mapper: turns a trace into per-core tile tasks for a hardware config.
// GEMMs: the output is split over a grid of cores, each core's slice is tiled so
// double-buffered operand tiles and the accumulator fit its SRAM, and the tile
// sizes and loop order (which operand stays resident) are chosen by estimating
// each candidate with the unit's own cost function and the memory traffic it
// causes. Attention: flash-attention style, K/V blocks streamed per (sequence,
// KV head, query block), the context split across cores when there are fewer
// work units than cores. Element-wise ops: split evenly, tiled to SRAM.
#pragma once

#include "sim/hw_config.h"
#include "sim/program.h"
#include "sim/trace.h"

namespace bc {

// Throws InputError when an op cannot be mapped (no unit executes its formats,
// no tile fits SRAM).
Program map_trace(const Trace& t, const HwConfig& hw);

// Moving `bytes` (a model's weights) from one memory level to another: every core's
// DMA engine copies its share through its SRAM, over the NoC.
Program map_move(const HwConfig& hw, double bytes, Level from, Level to);

}  // namespace bc
