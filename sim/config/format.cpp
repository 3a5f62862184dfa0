#include "sim/config/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <stdexcept>

#include "sim/config/error.h"

namespace bc {
namespace {

Format int_fmt(int bits, bool is_signed) {
  Format f;
  f.name = (is_signed ? "int" : "uint") + std::to_string(bits);
  f.family = Family::Int;
  f.storage_bits = bits;
  f.value_bits = bits;
  f.is_signed = is_signed;
  return f;
}

Format fp_fmt(const std::string& name, int e, int m) {
  Format f;
  f.name = name;
  f.family = Family::Float;
  f.storage_bits = 1 + e + m;
  f.value_bits = 1 + e + m;
  f.exp_bits = e;
  f.man_bits = m;
  return f;
}

// Microscaling formats (OCP MX v1.0): 32 elements share one 8-bit E8M0 scale.
Format mx_fmt(const std::string& name, const Format& elem) {
  Format f = elem;
  f.name = name;
  f.block_size = 32;
  f.block_scale_bits = 8;
  f.storage_bits = elem.storage_bits + 8.0 / 32;
  return f;
}

struct Table {
  std::map<std::string, Format> by_name;
  std::map<std::string, std::string> alias;
  std::vector<std::string> names;
  void add(const Format& f) {
    by_name[f.name] = f;
    names.push_back(f.name);
  }
};

const Table& table() {
  static const Table t = [] {
    Table t;
    for (int b = 1; b <= 8; ++b) t.add(int_fmt(b, true));
    for (int b = 1; b <= 8; ++b) t.add(int_fmt(b, false));
    t.add(int_fmt(16, true));
    t.add(int_fmt(32, true));
    // Ternary {-1, 0, 1} (BitNet b1.58): log2(3) = 1.58 bits of information,
    // stored as 2 bits, the layout of BitNet's released kernels.
    Format tern = int_fmt(2, true);
    tern.name = "ternary";
    t.add(tern);
    t.add(fp_fmt("fp32", 8, 23));
    t.add(fp_fmt("fp16", 5, 10));
    t.add(fp_fmt("bf16", 8, 7));
    t.add(fp_fmt("fp8_e4m3", 4, 3));
    t.add(fp_fmt("fp8_e5m2", 5, 2));
    t.add(fp_fmt("fp6_e3m2", 3, 2));
    t.add(fp_fmt("fp6_e2m3", 2, 3));
    t.add(fp_fmt("fp4_e2m1", 2, 1));
    // NF4 (QLoRA): a 4-bit index into 16 normal-distribution quantiles.
    Format nf4 = fp_fmt("nf4", 0, 0);
    nf4.storage_bits = 4;
    nf4.value_bits = 4;
    nf4.lookup = true;
    t.add(nf4);
    t.add(mx_fmt("mxfp8", fp_fmt("fp8_e4m3", 4, 3)));
    t.add(mx_fmt("mxfp6", fp_fmt("fp6_e3m2", 3, 2)));
    t.add(mx_fmt("mxfp4", fp_fmt("fp4_e2m1", 2, 1)));
    t.add(mx_fmt("mxint8", int_fmt(8, true)));
    // Block floating point (MSFP-style): 16 mantissas share an 8-bit exponent.
    Format bfp = int_fmt(8, true);
    bfp.name = "bfp8";
    bfp.block_size = 16;
    bfp.block_scale_bits = 8;
    bfp.storage_bits = 8 + 8.0 / 16;
    t.add(bfp);
    t.alias["fp8"] = "fp8_e4m3";
    t.alias["e4m3"] = "fp8_e4m3";
    t.alias["e5m2"] = "fp8_e5m2";
    t.alias["fp6"] = "fp6_e3m2";
    t.alias["fp4"] = "fp4_e2m1";
    t.alias["binary"] = "int1";
    return t;
  }();
  return t;
}

}  // namespace

std::optional<Format> find_format(const std::string& name) {
  const Table& t = table();
  auto a = t.alias.find(name);
  const std::string& key = a == t.alias.end() ? name : a->second;
  auto it = t.by_name.find(key);
  if (it == t.by_name.end()) return std::nullopt;
  return it->second;
}

const Format& format(const std::string& name) {
  const Table& t = table();
  auto a = t.alias.find(name);
  auto it = t.by_name.find(a == t.alias.end() ? name : a->second);
  if (it == t.by_name.end()) throw std::invalid_argument("unknown format " + name);
  return it->second;
}

std::vector<std::string> format_names() { return table().names; }

double TensorFormat::bits_per_element() const {
  double bits = elem.storage_bits;
  if (group_size > 0) {
    if (scale) bits += scale->storage_bits / static_cast<double>(group_size);
    if (zero_point) bits += elem.storage_bits / static_cast<double>(group_size);
    if (type_set > 1)
      bits += std::ceil(std::log2(static_cast<double>(type_set))) / static_cast<double>(group_size);
  }
  return bits;
}

std::string TensorFormat::str() const {
  std::string s = elem.name;
  if (group_size > 0) {
    s += "/g" + std::to_string(group_size);
    if (scale) s += "/" + scale->name;
    if (zero_point) s += "/zp";
    if (type_set > 1) s += "/t" + std::to_string(type_set);
  }
  return s;
}

std::optional<TensorFormat> parse_tensor_format(const std::string& text, std::string* error) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t p = text.find('/', start);
    parts.push_back(text.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  auto unknown = [&](const std::string& n) {
    std::string near = nearest(n, format_names());
    *error =
        "unknown format \"" + n + "\"" + (near.empty() ? "" : "; did you mean \"" + near + "\"?");
    return std::nullopt;
  };
  auto elem = find_format(parts[0]);
  if (!elem) return unknown(parts[0]);
  TensorFormat tf;
  tf.elem = *elem;
  if (parts.size() == 1) return tf;
  if (tf.elem.is_block()) {
    // A block format carries its own shared scale per block of elements.
    *error = "\"" + parts[0] + "\" already shares one scale per " +
             std::to_string(tf.elem.block_size) + " elements: it takes no group scales (\"/" +
             parts[1] + "\"); write \"" + parts[0] + "\" alone";
    return std::nullopt;
  }
  if (parts[1].size() < 2 || parts[1][0] != 'g') {
    *error =
        "expected a group size like \"g128\" after \"" + parts[0] + "/\", got \"" + parts[1] + "\"";
    return std::nullopt;
  }
  try {
    size_t used = 0;
    long long g = std::stoll(parts[1].substr(1), &used);
    if (used != parts[1].size() - 1 || g <= 0) throw std::invalid_argument("bad");
    tf.group_size = g;
  } catch (const std::exception&) {
    *error = "group size must be a positive integer, got \"" + parts[1] + "\"";
    return std::nullopt;
  }
  tf.scale = format("fp16");      // the usual group scale format (GPTQ, AWQ)
  std::vector<std::string> seen;  // modifier kinds given: "scale", "zp", "type set"
  for (size_t i = 2; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    const std::string what =
        p == "zp" ? "zp"
        : p.size() > 1 && p[0] == 't' && std::isdigit(static_cast<unsigned char>(p[1]))
            ? "type set"
            : "scale format";
    if (std::find(seen.begin(), seen.end(), what) != seen.end()) {
      *error = "\"" + text + "\" gives a " + what + " twice (\"/" + p +
               "\"); give each of scale format, zp and type set at most once";
      return std::nullopt;
    }
    seen.push_back(what);
    if (p == "zp") {
      tf.zero_point = true;
    } else if (p.size() > 1 && p[0] == 't' && std::isdigit(static_cast<unsigned char>(p[1]))) {
      try {
        tf.type_set = std::stoll(p.substr(1));
      } catch (const std::exception&) {
        tf.type_set = 0;
      }
      if (tf.type_set < 2) {
        *error = "a type set \"" + p + "\" needs at least 2 types";
        return std::nullopt;
      }
    } else {
      auto s = find_format(p);
      if (!s) return unknown(p);
      tf.scale = *s;
    }
  }
  return tf;
}

std::string group_size_error(const TensorFormat& f, int64_t dim, const std::string& what,
                             std::string* hint) {
  if (f.group_size <= 0 || dim % f.group_size == 0) return "";
  *hint = "use a group size that divides " + std::to_string(dim);
  return "group size " + std::to_string(f.group_size) + " does not divide " + what;
}

}  // namespace bc

namespace bc {
std::string format_class(const Format& f) {
  if (f.lookup) return "fp16";
  if (f.name == "ternary") return "int2";
  if (f.family == Family::Int) return "int" + std::to_string(f.value_bits);
  if (f.name == "bf16" || f.name == "fp16" || f.name == "fp32") return f.name;
  return "fp" + std::to_string(f.value_bits);
}
}  // namespace bc
