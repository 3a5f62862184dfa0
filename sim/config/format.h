// Numeric formats: the one type shared by compute units, traces and reports.
// A tensor's bytes follow from its format (and group scales), never from a
// hard-coded width.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bc {

enum class Family { Int, Float };

struct Format {
  std::string name = "int8";  // canonical name, e.g. "int4", "fp8_e4m3", "mxfp4"
  Family family = Family::Int;
  double storage_bits = 8;  // bits per element in memory, including the block's
                            // shared scale for block formats (MXFP4: 4 + 8/32)
  int value_bits = 8;       // bits a datapath must consume per element (sign included);
                            // ternary: 2, fp8: 8, MXFP4: 4 (the element), NF4: 4 (an index)
  bool is_signed = true;
  int exp_bits = 0;          // floats only
  int man_bits = 0;          // floats only (stored mantissa bits)
  int block_size = 0;        // block formats: elements sharing one scale
  int block_scale_bits = 0;  // block formats: bits of the shared scale
  bool lookup = false;       // value is an index into a codebook (NF4)

  bool operator==(const Format& o) const { return name == o.name; }
  bool is_block() const { return block_size > 0; }
};

// The known formats, by canonical name; aliases ("fp8" = fp8_e4m3, "fp6" = fp6_e3m2,
// "fp4" = fp4_e2m1) resolve to the canonical entry.
std::optional<Format> find_format(const std::string& name);
const Format& format(const std::string& name);  // throws std::invalid_argument if unknown
std::vector<std::string> format_names();        // canonical names, for messages

// A tensor's format: elements plus optional group-wise scales and zero points.
// Storage of a W4 g128 fp16-scale matrix: 4 + 16/128 = 4.125 bits per weight.
struct TensorFormat {
  Format elem;             // int8 unless set
  int64_t group_size = 0;  // 0 = no group scales (per-tensor / per-channel, negligible)
  std::optional<Format> scale;
  bool zero_point = false;  // zero point stored per group, in the element format's width
  int64_t type_set =
      0;  // each group picks its data type from this many (BitMoD-style): log2 bits per group

  double bits_per_element() const;
  // Bytes to hold `elements` values with their scales.
  double bytes(double elements) const { return elements * bits_per_element() / 8.0; }
  std::string str() const;  // "int4/g128/fp16" or "int8"
};

// Parses "int8", "int4/g128/fp16", "int4/g128/fp16/zp", "fp4/g128/fp16/t4" (after
// the group: a scale format, "zp" and "tN" in any order); error text on failure.
std::optional<TensorFormat> parse_tensor_format(const std::string& text, std::string* error);

// Group scales run along one dimension of a tensor (a GEMM's input features K
// for weights and activations, head_dim for the KV cache): the group size must
// divide it. "" when it does or the format has no groups; else the message, and
// the suggestion in *hint. `what` names the dimension: "head_dim 128".
std::string group_size_error(const TensorFormat& f, int64_t dim, const std::string& what,
                             std::string* hint);

}  // namespace bc

namespace bc {
// The datapath class a format executes as, naming rate-table keys and energy
// actions: int1..int8 -> "intN", ternary -> "int2", fp8_* -> "fp8", fp6_* ->
// "fp6", fp4_e2m1 -> "fp4", MX formats -> their element's class, bfp8 -> "int8"
// (mantissas are integers), nf4 -> "fp16" (a codebook index dequantized to fp16).
std::string format_class(const Format& f);
}  // namespace bc
