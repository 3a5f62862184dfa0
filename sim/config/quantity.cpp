#include "sim/config/quantity.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "sim/config/error.h"

namespace bc {
namespace {

struct Unit {
  const char* sym;
  double factor;  // multiply to get SI
};

// Decimal prefixes are powers of 1000 and binary ones (KiB, MiB) powers of 1024,
// as in IEC 80000-13; "KB" is accepted as 1000 bytes.
const std::vector<Unit>& units(Dim d) {
  static const std::vector<Unit> freq = {
      {"Hz", 1}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}, {"THz", 1e12}};
  static const std::vector<Unit> bytes = {{"B", 1},
                                          {"KB", 1e3},
                                          {"kB", 1e3},
                                          {"MB", 1e6},
                                          {"GB", 1e9},
                                          {"TB", 1e12},
                                          {"PB", 1e15},
                                          {"KiB", 1024.0},
                                          {"MiB", 1048576.0},
                                          {"GiB", 1073741824.0},
                                          {"TiB", 1099511627776.0},
                                          {"bit", 0.125},
                                          {"Kibit", 128.0},
                                          {"Mibit", 131072.0}};
  static const std::vector<Unit> bw = {
      {"B/s", 1},           {"KB/s", 1e3},           {"MB/s", 1e6},
      {"GB/s", 1e9},        {"TB/s", 1e12},          {"KiB/s", 1024.0},
      {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0}, {"TiB/s", 1099511627776.0},
      {"Gb/s", 1.25e8},     {"Tb/s", 1.25e11},       {"PB/s", 1e15},
      {"EB/s", 1e18}};
  static const std::vector<Unit> energy = {{"fJ", 1e-15}, {"pJ", 1e-12}, {"nJ", 1e-9},
                                           {"uJ", 1e-6},  {"mJ", 1e-3},  {"J", 1}};
  static const std::vector<Unit> power = {{"nW", 1e-9}, {"uW", 1e-6}, {"mW", 1e-3},
                                          {"W", 1},     {"kW", 1e3},  {"MW", 1e6}};
  static const std::vector<Unit> area = {{"um2", 1e-12}, {"mm2", 1e-6}, {"cm2", 1e-4}, {"m2", 1}};
  static const std::vector<Unit> length = {{"nm", 1e-9}, {"um", 1e-6}, {"mm", 1e-3}};
  static const std::vector<Unit> time = {
      {"ps", 1e-12}, {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}};
  static const std::vector<Unit> cycles = {{"cycles", 1}, {"cycle", 1}};
  switch (d) {
    case Dim::Frequency:
      return freq;
    case Dim::Bytes:
      return bytes;
    case Dim::Bandwidth:
      return bw;
    case Dim::Energy:
      return energy;
    case Dim::Power:
      return power;
    case Dim::Area:
      return area;
    case Dim::Length:
      return length;
    case Dim::Time:
      return time;
    case Dim::Cycles:
      return cycles;
  }
  return cycles;
}

}  // namespace

const char* dim_name(Dim d) {
  switch (d) {
    case Dim::Frequency:
      return "frequency";
    case Dim::Bytes:
      return "size";
    case Dim::Bandwidth:
      return "bandwidth";
    case Dim::Energy:
      return "energy";
    case Dim::Power:
      return "power";
    case Dim::Area:
      return "area";
    case Dim::Length:
      return "length";
    case Dim::Time:
      return "time";
    case Dim::Cycles:
      return "cycle count";
  }
  return "?";
}

const char* dim_example(Dim d) {
  switch (d) {
    case Dim::Frequency:
      return "1.2 GHz";
    case Dim::Bytes:
      return "512 KiB";
    case Dim::Bandwidth:
      return "3.35 TB/s";
    case Dim::Energy:
      return "0.9 pJ";
    case Dim::Power:
      return "5.5 mW";
    case Dim::Area:
      return "0.056 mm2";
    case Dim::Length:
      return "28 nm";
    case Dim::Time:
      return "100 ns";
    case Dim::Cycles:
      return "4 cycles";
  }
  return "";
}

std::vector<std::string> dim_units(Dim d) {
  std::vector<std::string> out;
  for (const auto& u : units(d)) out.push_back(u.sym);
  return out;
}

double read_decimal(const char* s, char** end) {
  const char* p = s;
  while (std::isspace(static_cast<unsigned char>(*p))) ++p;
  if (*p == '+' || *p == '-') ++p;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    *end = const_cast<char*>(s);
    return 0;
  }
  return std::strtod(s, end);
}

ParsedQuantity parse_quantity(const std::string& text, Dim dim) {
  ParsedQuantity r;
  const char* s = text.c_str();
  char* end = nullptr;
  double v = read_decimal(s, &end);
  if (end == s || !std::isfinite(v)) {
    r.error = "expected a " + std::string(dim_name(dim)) + " with a unit, e.g. \"" +
              dim_example(dim) + "\", got \"" + text + "\"";
    return r;
  }
  std::string unit(end);
  size_t b = unit.find_first_not_of(" \t");
  unit = b == std::string::npos ? "" : unit.substr(b);
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
  if (unit.empty()) {
    if (dim == Dim::Cycles) {
      r.value = v;
      return r;
    }
    r.error = "\"" + text + "\" has no unit; expected a " + dim_name(dim) + " such as \"" +
              dim_example(dim) + "\"";
    return r;
  }
  for (const auto& u : units(dim)) {
    if (unit == u.sym) {
      r.value = v * u.factor;
      if (!std::isfinite(r.value)) {  // 1e300 GHz is not infinity
        r.error = "\"" + text + "\" is out of range of a number";
        r.value = 0;
      }
      return r;
    }
  }
  r.error = "unknown " + std::string(dim_name(dim)) + " unit \"" + unit + "\" in \"" + text + "\"";
  std::string near = nearest(unit, dim_units(dim));
  std::string list;
  for (const auto& u : units(dim)) list += (list.empty() ? "" : ", ") + std::string(u.sym);
  r.hint = (near.empty() ? "" : "did you mean \"" + near + "\"? ") + "units: " + list;
  return r;
}

std::string format_quantity(double v, Dim dim, int precision) {
  // Pick the largest decimal unit whose value is >= 1 (binary units are for input only).
  const auto& us = units(dim);
  const Unit* best = &us.front();
  for (const auto& u : us) {
    std::string sym = u.sym;
    if (sym.find('i') != std::string::npos && dim != Dim::Cycles) continue;  // skip KiB etc.
    if (sym == "bit" || sym == "Gb/s" || sym == "Tb/s" || sym == "kB") continue;
    // Accepted as input, so that the limits can be written as the README
    // gives them (1 PB, 1 EB/s, 1000 GHz = 1 THz, 1 m2); outputs keep the
    // units they have always printed.
    if (sym == "PB" || sym == "PB/s" || sym == "EB/s" || sym == "THz" || sym == "m2") continue;
    if (std::fabs(v) >= u.factor * 0.9999 && u.factor >= best->factor) best = &u;
  }
  std::ostringstream os;
  os.precision(precision);
  os << v / best->factor << ' ' << best->sym;
  return os.str();
}

}  // namespace bc
