// Physical quantities written with units in configs ("1.2 GHz", "512 KiB",
// "3.35 TB/s", "0.9 pJ", "28 nm"). Values are held in SI base units: Hz, bytes,
// bytes/s, joules, watts, square metres, metres, seconds.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace bc {

enum class Dim { Frequency, Bytes, Bandwidth, Energy, Power, Area, Length, Time, Cycles };

const char* dim_name(Dim d);
// Example text for error messages, e.g. "512 KiB".
const char* dim_example(Dim d);
// The unit symbols accepted for a dimension.
std::vector<std::string> dim_units(Dim d);

struct ParsedQuantity {
  double value = 0;   // SI
  std::string error;  // empty when ok
  std::string hint;   // e.g. nearest unit
};

// A decimal number at the start of `s`, as strtod reads it but for hexadecimal
// ("0x1p0"): inputs write numbers in decimal. *end is past it, or s if none.
double read_decimal(const char* s, char** end);

// Parses "<number> <unit>" (space optional). A bare number is accepted only for
// Cycles, where the unit is implied.
ParsedQuantity parse_quantity(const std::string& text, Dim dim);

// Human-readable form with an engineering prefix, e.g. 1.6e12 B/s -> "1.6 TB/s".
std::string format_quantity(double value, Dim dim, int precision = 4);

}  // namespace bc
