#include "sim/cli/validate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "models/compute_unit.h"
#include "sim/cli/isolate.h"
#include "sim/cli/power_cap.h"
#include "sim/cli/progress.h"
#include "sim/config/config_tree.h"
#include "sim/config/error.h"
#include "sim/config/hw_config.h"
#include "sim/config/limits.h"
#include "sim/config/quantity.h"
#include "sim/engine/engine.h"
#include "sim/mapping/mapper.h"
#include "sim/mapping/system.h"
#include "sim/report/report.h"
#include "workloads/generator.h"

namespace bc {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kColumns = {"name",
                                           "hw",
                                           "kind",
                                           "m",
                                           "n",
                                           "k",
                                           "a_format",
                                           "w_format",
                                           "model",
                                           "quant",
                                           "phase",
                                           "batch",
                                           "context",
                                           "seq",
                                           "measured_latency_s",
                                           "measured_energy_j"};

struct RawRow {
  int line = 0;
  std::map<std::string, std::string> f;
  std::map<std::string, int> col;  // 1-based character column of each field
};

// One op (or a model) and the chip to run it on, from a row.
Trace row_trace(const RawRow& r, const std::string& file) {
  auto where = [&](const std::string& c) { return SourceLoc{file, r.line, r.col.at(c)}; };
  auto integer = [&](const std::string& c, int64_t limit = 0) -> int64_t {
    const std::string& s = r.f.at(c);
    long long v = 0;
    try {
      size_t used = 0;
      v = std::stoll(s, &used);
      if (used != s.size() || v <= 0) throw std::invalid_argument("x");
    } catch (const std::exception&) {
      fail_input(where(c), c, "expected a positive integer, got \"" + s + "\"");
    }
    // The documented limits of a workload and of a trace op (limits.h).
    const int64_t max = limit                          ? limit
                        : c == "batch"                 ? limits::kMaxBatch
                        : c == "context" || c == "seq" ? limits::kMaxTokens
                                                       : limits::kMaxOpDim;
    if (v > max)
      fail_input(
          where(c), c,
          "value " + s + " out of range: must be <= " + std::to_string(max) + " (the limit)");
    return v;
  };
  auto fmt = [&](const std::string& c) {
    std::string err;
    auto f = parse_tensor_format(r.f.at(c), &err);  // blank: refused by read_rows
    if (!f) fail_input(where(c), c, err);
    return *f;
  };
  auto elements = [&] {  // m rows of n: each below the limit, and so their product
    const int64_t m = integer("m"), n = integer("n");
    if (static_cast<double>(m) * static_cast<double>(n) > static_cast<double>(limits::kMaxElements))
      fail_input(where("n"), "n",
                 "m x n = " + std::to_string(m) + " x " + std::to_string(n) +
                     " elements, more than " + std::to_string(limits::kMaxElements) +
                     " (the limit)");
    return m * n;
  };
  const std::string& kind = r.f.at("kind");
  Trace t;
  if (kind == "model") {
    WorkloadSpec w;
    w.phase = r.f.at("phase").empty() ? "decode" : r.f.at("phase");
    if (w.phase != "decode" && w.phase != "prefill")
      fail_input(where("phase"), "phase", "expected decode or prefill, got \"" + w.phase + "\"");
    w.batch = integer("batch");
    const std::string& ctx = r.f.at("context");
    w.context = w.phase == "decode" ? integer("context")
                                    : (ctx.empty() || ctx == "0" ? 0 : integer("context"));
    w.seq = w.phase == "prefill" ? integer("seq") : 1;
    // The loaders report a bad name as the command line's --model or --quant:
    // here it is a cell of this file.
    auto at_cell = [&](const std::string& c, auto load) {
      try {
        return load();
      } catch (const InputError& e) {
        std::vector<Diagnostic> diags = e.diagnostics();
        for (Diagnostic& d : diags) {
          if (d.loc.file == "<command line>") d.loc = where(c), d.key = c;
          // A model or recipe file the cell names that cannot be read (no
          // position inside it): at the cell too, naming the file.
          if (d.loc.line == 0 && !r.f.at(c).empty() && d.loc.file == r.f.at(c))
            d.message = "\"" + d.loc.file + "\": " + d.message, d.loc = where(c), d.key = c;
        }
        throw InputError(diags);
      }
    };
    const ModelDesc m = at_cell("model", [&] { return load_model(r.f.at("model")); });
    const QuantRecipe q = at_cell(
        "quant", [&] { return load_quant(r.f.at("quant").empty() ? "w16a16" : r.f.at("quant")); });
    return at_cell("model", [&] { return generate_trace(m, q, w); });
  }
  if (kind == "allreduce") {  // m x n elements in a_format, over the system's tensor group
    Op c;
    c.name = r.f.at("name");
    c.kind = OpKind::Collective;
    c.fn = "allreduce";
    c.group = "tensor";
    c.elements = elements();
    c.a = c.o = fmt("a_format");
    t.ops.push_back(c);
    t.workload = {{"phase", "op"}, {"batch", 1}};
    return t;
  }
  Op op;
  op.name = r.f.at("name");
  op.a = fmt("a_format");
  op.o = op.a;
  if (kind == "gemm") {
    op.kind = OpKind::Gemm;
    op.m = integer("m"), op.n = integer("n"), op.k = integer("k");
    op.w = fmt("w_format");
  } else if (kind == "attention") {
    // m = heads, k = head_dim, seq = query tokens, context = keys; phase
    // "causal" applies a causal mask.
    op.kind = OpKind::Attention;
    op.heads = op.kv_heads = integer("m", limits::kMaxHeads);
    op.head_dim = integer("k", limits::kMaxDim);
    op.batch = integer("batch");
    op.q_len = integer("seq");
    op.kv_len = integer("context");
    const std::string& phase = r.f.at("phase");
    if (!phase.empty() && phase != "causal")
      fail_input(where("phase"), "phase", "unknown attention phase \"" + phase + "\"",
                 "\"causal\" applies a causal mask; leave it blank for none");
    op.causal = phase == "causal";
    op.w = fmt("w_format");
  } else {  // softmax, layernorm: m rows of n elements
    op.kind = OpKind::Elementwise;
    op.fn = kind;
    op.elements = elements();
  }
  // The checks a trace's op gets, at the cell of this file that gave the key.
  static const std::map<std::string, std::string> kColumnOf = {
      {"m", "m"},         {"w", "w_format"},       {"a", "a_format"},
      {"batch", "batch"}, {"q_len", "seq"},        {"kv", "w_format"},
      {"kv_heads", "m"},  {"density", "w_format"}, {"w_parts", "w_format"}};
  for (const Diagnostic& d : op_shape_errors(op)) {
    const std::string& c = kColumnOf.count(d.key) ? kColumnOf.at(d.key) : "kind";
    fail_input(where(c), c, d.message, d.hint);
  }
  t.ops.push_back(op);
  t.workload = {{"phase", "op"}, {"batch", 1}};
  return t;
}

// The columns a row of each kind reads besides name, hw, kind and the
// measurements, and the format columns it needs filled (no default: a blank
// format read as bf16 compared another op than the one measured). A value in
// a column the kind does not read would be ignored: it is an error.
struct KindColumns {
  std::vector<std::string> used, formats;
};
const std::map<std::string, KindColumns>& kind_columns() {
  static const std::map<std::string, KindColumns> k = {
      {"gemm", {{"m", "n", "k", "a_format", "w_format"}, {"a_format", "w_format"}}},
      {"attention",
       {{"m", "k", "a_format", "w_format", "phase", "batch", "context", "seq"},
        {"a_format", "w_format"}}},
      {"softmax", {{"m", "n", "a_format"}, {"a_format"}}},
      {"layernorm", {{"m", "n", "a_format"}, {"a_format"}}},
      {"allreduce", {{"m", "n", "a_format"}, {"a_format"}}},
      {"model", {{"model", "quant", "phase", "batch", "context", "seq"}, {}}}};
  return k;
}

// One line of the file split into fields as RFC 4180 has them (a field may
// be quoted, and "" inside quotes is one "), with each field's 1-based column.
// A field does not span lines: a quote still open at the end of the line is
// an error at the column it opened, named by the header's column there.
void split_line(const std::string& line, const std::string& path, int n,
                const std::vector<std::string>& header, std::vector<std::string>* fields,
                std::vector<int>* cols) {
  size_t i = 0;
  while (true) {
    const size_t start = i;
    const std::string key = fields->size() < header.size() ? header[fields->size()] : "";
    std::string f;
    if (i < line.size() && line[i] == '"') {
      for (++i;; ++i) {
        if (i >= line.size())
          fail_input(SourceLoc{path, n, static_cast<int>(start) + 1}, key,
                     "unterminated quoted field starting at column " + std::to_string(start + 1) +
                         ": the line ends before its closing quote",
                     "close the quote on this line: a field cannot hold a line break, and a "
                     "quote inside a quoted field is written \"\"");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            f += '"', ++i;
            continue;
          }
          ++i;
          break;
        }
        f += line[i];
      }
      if (i < line.size() && line[i] != ',')
        fail_input(SourceLoc{path, n, static_cast<int>(i) + 1}, key,
                   "text after the closing quote of the field starting at column " +
                       std::to_string(start + 1),
                   "quote the whole field, and write a quote inside it as \"\"");
    } else {
      const size_t comma = line.find(',', i);
      const size_t end = comma == std::string::npos ? line.size() : comma;
      f = line.substr(i, end - i);
      i = end;
    }
    fields->push_back(std::move(f));
    cols->push_back(static_cast<int>(start) + 1);
    if (i >= line.size()) return;
    ++i;  // the comma
  }
}

std::vector<RawRow> read_rows(const std::string& path) {
  std::string text = read_input_file(path);  // the size limit of every input
  check_utf8(text, path);                    // names and paths go into JSON, which must be UTF-8
  // A UTF-8 byte order mark (spreadsheets write one) is not part of the header.
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  std::istringstream in(text);
  std::vector<RawRow> rows;
  std::vector<std::string> header;
  std::string line;
  int n = 0, header_line = 0;
  std::string known;  // "name, hw, ...", for hints
  for (const auto& c : kColumns) known += (known.empty() ? "" : ", ") + c;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Blank lines, lines of spaces and tabs only, and comments hold no row.
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::vector<int> cols;
    split_line(line, path, n, header, &fields, &cols);
    if (header.empty()) {
      header = fields;
      header_line = n;
      for (size_t i = 0; i < header.size(); ++i) {
        const SourceLoc at{path, n, cols[i]};
        // A column the file names but nothing reads would be ignored, silently.
        if (std::find(kColumns.begin(), kColumns.end(), header[i]) == kColumns.end()) {
          const std::string near = nearest(header[i], kColumns);
          fail_input(
              at, header[i],
              header[i].empty() ? "an empty column name in the header (a trailing comma?)"
                                : "unknown column \"" + header[i] + "\"",
              (near.empty() ? "" : "did you mean \"" + near + "\"? ") + "known columns: " + known);
        }
        // A column given twice would be read from its last copy, silently.
        for (size_t j = 0; j < i; ++j)
          if (header[i] == header[j])
            fail_input(at, header[i],
                       "column \"" + header[i] + "\" appears twice in the header (also field " +
                           std::to_string(j + 1) + ")",
                       "remove one of them");
      }
      for (const auto& c : kColumns)
        if (std::find(header.begin(), header.end(), c) == header.end())
          fail_input(
              SourceLoc{path, n, 1}, c, "missing column \"" + c + "\" in the header",
              "columns: name,hw,kind,m,n,k,a_format,w_format,model,quant,phase,batch,context,seq,"
              "measured_latency_s,measured_energy_j");
      continue;
    }
    if (fields.size() > header.size())
      fail_input(SourceLoc{path, n, cols[header.size()]}, "",
                 "a row has " + std::to_string(fields.size()) + " fields, the header " +
                     std::to_string(header.size()),
                 "an unquoted comma inside a field? quote it");
    if (fields.size() < header.size())
      fail_input(SourceLoc{path, n, static_cast<int>(line.size()) + 1}, header[fields.size()],
                 "a row has " + std::to_string(fields.size()) + " fields, the header " +
                     std::to_string(header.size()),
                 "give every column, blank where the row's kind does not use it");
    RawRow r;
    r.line = n;
    for (size_t i = 0; i < header.size(); ++i)
      r.f[header[i]] = fields[i], r.col[header[i]] = cols[i];
    const std::string& kind = r.f["kind"];
    const auto k = kind_columns().find(kind);
    if (k == kind_columns().end())
      fail_input(SourceLoc{path, n, r.col["kind"]}, "kind", "unknown kind \"" + kind + "\"",
                 "kinds: gemm, attention, softmax, layernorm, allreduce, model");
    // Left to right: a value in a column the kind does not read, a format it
    // needs left blank.
    const std::string a_row = (kind[0] == 'a' ? "an " : "a ") + kind + " row";
    for (const std::string& c : header) {
      if (c == "name" || c == "hw" || c == "kind" || c.rfind("measured_", 0) == 0) continue;
      const std::string& v = r.f[c];
      const auto& used = k->second.used;
      if (!v.empty() && std::find(used.begin(), used.end(), c) == used.end())
        fail_input(SourceLoc{path, n, r.col[c]}, c, "not used by " + a_row + ", got \"" + v + "\"",
                   "leave it blank");
      // A decode step makes one token a sequence: a prompt length would be ignored.
      if (kind == "model" && c == "seq" && !v.empty() && r.f["phase"] != "prefill")
        fail_input(
            SourceLoc{path, n, r.col[c]}, c,
            "not used by a decode model row (it makes one token a sequence), got \"" + v + "\"",
            "leave it blank, or set phase to prefill");
      const auto& formats = k->second.formats;
      if (v.empty() && std::find(formats.begin(), formats.end(), c) != formats.end())
        fail_input(SourceLoc{path, n, r.col[c]}, c,
                   "is blank: " + a_row + " needs the format of its " +
                       (c == "a_format"       ? "activations"
                        : kind == "attention" ? "KV cache"
                                              : "weights"),
                   "give a format such as bf16, fp8, int8");
    }
    for (const char* c : {"measured_latency_s", "measured_energy_j"}) {
      const std::string& s = r.f[c];
      if (s.empty()) continue;
      // Decimal only (0x10 is not a measurement); inf and nan are not
      // measurements either (an inf made the MAPE nan).
      char* end = nullptr;
      const double v = read_decimal(s.c_str(), &end);
      if (end == s.c_str() || *end != '\0' || !(v > 0) || !std::isfinite(v))
        fail_input(SourceLoc{path, n, r.col[c]}, c,
                   "expected a positive, finite number, got \"" + s + "\"");
    }
    if (r.f["measured_latency_s"].empty())
      fail_input(SourceLoc{path, n, r.col["measured_latency_s"]}, "measured_latency_s",
                 "missing the measured latency");
    rows.push_back(std::move(r));
  }
  if (header.empty())
    fail_input(SourceLoc{path, 1, 1}, "",
               "no header line: the file is empty or holds only comments");
  // A header and nothing to compare: an input that validates nothing, not a
  // run whose MAPE is 0 (it printed an empty table and exited 1).
  if (rows.empty())
    fail_input(SourceLoc{path, header_line, 1}, "",
               "no data row follows the header: nothing to compare",
               "add one row per measurement: name,hw,kind,... and its measured_latency_s");
  return rows;
}

// The roofline baseline of a row: for each op, max(FLOPs / the chip's peak for
// the op's formats, bytes / memory bandwidth), summed over the ops (one op
// for an op row). Peaks and bandwidth are those `explain` derives: the best
// unit's peak for the format pair (any matrix class if none runs it natively),
// the DRAM bandwidth (shared SRAM on an SRAM-only chip); a system's active
// chips add up. Bytes: each operand read once and the output written once.
// Collectives have no roofline here: 0 when the row is only collectives.
double roofline_latency(const HwConfig& hw, const Trace& t) {
  const double scale = static_cast<double>(hw.cores()) * hw.freq_hz *
                       (hw.system.present ? static_cast<double>(hw.system.active()) : 1.0);
  const double bw = (hw.dram().present ? hw.dram().bandwidth : hw.shared_sram().bandwidth) *
                    (hw.system.present ? static_cast<double>(hw.system.active()) : 1.0);
  const Units units = build_units(hw.units);
  auto matmul_peak = [&](const Format& a, const Format& w) {
    double best = 0, any = 0;
    for (const auto& u : units) {
      best = std::max(best, 2 * u->peak_macs_per_cycle(a, w));
      for (const auto& cls : u->formats())
        any = std::max(any, 2 * u->peak_macs_per_cycle(format(cls), format(cls)));
    }
    return (best > 0 ? best : any) * scale;
  };
  auto vector_peak = [&](const Format& f) {
    double best = 0, any = 0;
    for (const auto& u : units) {
      best = std::max(best, u->peak_vector_ops_per_cycle(f));
      for (const auto& cls : u->formats())
        any = std::max(any, u->peak_vector_ops_per_cycle(format(cls)));
    }
    return (best > 0 ? best : any) * scale;
  };
  double total = 0;
  for (const Op& op : t.ops) {
    double peak = 0, bytes = 0;
    switch (op.kind) {
      case OpKind::Gemm:
        peak = matmul_peak(op.a.elem, op.w.elem);
        bytes = op.a.bytes(static_cast<double>(op.m * op.k)) + op.weight_bytes() +
                op.o.bytes(static_cast<double>(op.m * op.n));
        break;
      case OpKind::Attention: {
        peak = matmul_peak(op.a.elem, op.w.elem);
        const double q = static_cast<double>(op.batch) * static_cast<double>(op.heads) *
                         static_cast<double>(op.q_len) * static_cast<double>(op.head_dim);
        bytes = op.a.bytes(q) + op.kv_bytes_read() + op.o.bytes(q);
        break;
      }
      case OpKind::Elementwise: {
        const ElementwiseFn* f = find_elementwise_fn(op.fn);
        peak = vector_peak(op.a.elem);
        bytes = op.a.bytes(static_cast<double>(op.elements) * (f ? f->inputs : 1)) +
                op.o.bytes(static_cast<double>(op.elements));
        break;
      }
      case OpKind::Collective:
        continue;
    }
    const double flops = op.flops();
    total += std::max(peak > 0 ? flops / peak : 0.0, bw > 0 ? bytes / bw : 0.0);
  }
  return total;
}

}  // namespace

ValidationSummary run_validation(const std::string& csv_path) {
  std::vector<RawRow> raw = read_rows(csv_path);
  // Check every row's config and op before simulating anything (bad input: no partial output).
  std::vector<Trace> traces;
  std::vector<std::string> hw_paths;
  std::vector<double> roofline;
  for (const auto& r : raw) {
    std::string hw = r.f.at("hw");
    std::string path = fs::path(hw).is_absolute() ? hw : project_root() + "/" + hw;
    std::error_code ec;  // a name too long for the file system does not exist
    if (!fs::exists(path, ec))
      fail_input(SourceLoc{csv_path, r.line, r.col.at("hw")}, "hw", "no config \"" + hw + "\"",
                 "hw is a path relative to the repository root, e.g. configs/hw/a100.yaml");
    if (!fs::is_regular_file(path, ec))  // a folder or a device: at the cell, not at the path
      fail_input(SourceLoc{csv_path, r.line, r.col.at("hw")}, "hw",
                 "\"" + hw + "\" is not a regular file", "name a hardware config YAML file");
    HwConfig h = load_hw_config(path);
    if (r.f.at("kind") == "allreduce" && !h.system.present)
      fail_input(SourceLoc{csv_path, r.line, r.col.at("hw")}, "hw",
                 "an allreduce row needs a system config (with system:), got \"" + hw + "\"",
                 "e.g. configs/hw/a100-x4.yaml");
    traces.push_back(row_trace(r, csv_path));
    hw_paths.push_back(path);
    roofline.push_back(roofline_latency(h, traces.back()));
  }
  ValidationSummary s;
  // Rows can take seconds each (a whole model on a GPU config): say how far along.
  Progress progress(raw.size(), "rows", "validate");
  for (size_t i = 0; i < raw.size(); ++i) {
    const RawRow& r = raw[i];
    ValidationRow row;
    row.name = r.f.at("name");
    row.hw = r.f.at("hw");
    row.kind = r.f.at("kind");
    row.measured_latency_s = std::stod(r.f.at("measured_latency_s"));
    row.roofline_latency_s = roofline[i];
    if (!r.f.at("measured_energy_j").empty())
      row.measured_energy_j = std::stod(r.f.at("measured_energy_j"));
    nlohmann::json res = run_isolated([&] {
      // A model on a system is split over its chips; an op row runs as one rank's work.
      auto plan_for = [&](const HwConfig& h) {
        if (row.kind == "model" && h.system.present) {
          WorkloadSpec w;
          w.phase = traces[i].workload["phase"].get<std::string>();
          w.batch = traces[i].workload["batch"].get<int64_t>();
          w.context = traces[i].workload["context"].get<int64_t>();
          w.seq = traces[i].workload["seq"].get<int64_t>();
          return map_system(load_model(r.f.at("model")),
                            load_quant(r.f.at("quant").empty() ? "w16a16" : r.f.at("quant")), w, h);
        }
        return map_system_trace(traces[i], h);
      };
      SystemPlan plan;
      const HwConfig hw = apply_power_cap(load_hw_config(hw_paths[i]), plan_for, &plan);
      SimResult sim = simulate(hw, plan.prog);
      nlohmann::json rep = build_report(hw, plan.trace, plan.prog, sim);
      return nlohmann::json{{"latency_s", rep["latency_s"]}, {"energy_j", rep["energy_j"]}};
    });
    if (res.contains("error")) {
      row.status = "error: " + res["error"].get<std::string>();
    } else {
      row.status = "ok";
      row.simulated_latency_s = res["latency_s"].get<double>();
      row.simulated_energy_j = res["energy_j"].get<double>();
    }
    s.rows.push_back(row);
    progress.update(i + 1, i + 1 == raw.size());
  }
  // MAPE and Pearson r over the rows that ran.
  std::vector<double> x, y;
  double ape = 0;
  for (const auto& r : s.rows) {
    if (r.status != "ok") continue;
    x.push_back(r.simulated_latency_s);
    y.push_back(r.measured_latency_s);
    ape += std::fabs(r.simulated_latency_s - r.measured_latency_s) / r.measured_latency_s;
  }
  s.compared = static_cast<int>(x.size());
  s.mape = x.empty() ? 0 : ape / static_cast<double>(x.size());
  double roof = 0, sim_roof = 0, energy = 0;
  for (const auto& r : s.rows) {
    if (r.status != "ok") continue;
    if (r.roofline_latency_s > 0) {
      ++s.roofline_rows;
      roof += std::fabs(r.roofline_latency_s - r.measured_latency_s) / r.measured_latency_s;
      sim_roof += std::fabs(r.simulated_latency_s - r.measured_latency_s) / r.measured_latency_s;
    }
    if (r.measured_energy_j > 0) {
      ++s.energy_rows;
      energy += std::fabs(r.simulated_energy_j - r.measured_energy_j) / r.measured_energy_j;
    }
  }
  if (s.roofline_rows > 0) {
    s.roofline_mape = roof / s.roofline_rows;
    s.sim_mape_on_roofline_rows = sim_roof / s.roofline_rows;
  }
  if (s.energy_rows > 0) s.energy_mape = energy / s.energy_rows;
  s.pearson = std::nan("");
  if (x.size() >= 2) {
    double mx = 0, my = 0;
    for (size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
    mx /= static_cast<double>(x.size()), my /= static_cast<double>(x.size());
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < x.size(); ++i)
      sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx),
          syy += (y[i] - my) * (y[i] - my);
    if (sxx > 0 && syy > 0) s.pearson = sxy / std::sqrt(sxx * syy);
  }
  return s;
}

std::string validation_table(const ValidationSummary& s) {
  std::ostringstream os;
  os << std::left << std::setw(48) << "name" << std::right << std::setw(14) << "simulated s"
     << std::setw(14) << "measured s" << std::setw(10) << "error"
     << "\n";
  for (const auto& r : s.rows) {
    os << std::left << std::setw(48) << r.name.substr(0, 47) << std::right;
    if (r.status == "ok") {
      os << std::setw(14) << std::setprecision(5) << r.simulated_latency_s << std::setw(14)
         << r.measured_latency_s << std::setw(9) << std::fixed << std::setprecision(1)
         << 100 * (r.simulated_latency_s - r.measured_latency_s) / r.measured_latency_s << "%"
         << std::defaultfloat;
    } else {
      os << "  " << r.status;
    }
    os << "\n";
  }
  os << "rows compared: " << s.compared << " of " << s.rows.size() << ", MAPE " << std::fixed
     << std::setprecision(1) << 100 * s.mape << " %, Pearson r ";
  if (std::isnan(s.pearson))
    os << "n/a";
  else
    os << std::setprecision(3) << s.pearson;
  os << "\n";
  if (s.roofline_rows > 0)
    os << "roofline baseline (peak ops and DRAM bandwidth of the same config) on "
       << s.roofline_rows << " rows: MAPE " << std::setprecision(1) << 100 * s.roofline_mape
       << " %, the simulator's " << 100 * s.sim_mape_on_roofline_rows << " %\n";
  if (s.energy_rows > 0)
    os << "energy on " << s.energy_rows << " rows with a measured energy: MAPE "
       << std::setprecision(1) << 100 * s.energy_mape << " %\n";
  return os.str();
}

std::string validation_csv(const ValidationSummary& s) {
  std::ostringstream os;
  os << "name,hw,kind,simulated_latency_s,measured_latency_s,error,simulated_energy_j,measured_"
        "energy_j,status,roofline_latency_s\n";
  auto q = [](const std::string& v) {
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string o = "\"";
    for (char c : v) o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
  };
  os << std::setprecision(9);
  for (const auto& r : s.rows) {
    bool ok = r.status == "ok";
    os << q(r.name) << "," << q(r.hw) << "," << r.kind << ",";
    if (ok) os << r.simulated_latency_s;
    os << "," << r.measured_latency_s << ",";
    if (ok) os << (r.simulated_latency_s - r.measured_latency_s) / r.measured_latency_s;
    os << ",";
    if (ok) os << r.simulated_energy_j;
    os << ",";
    if (r.measured_energy_j > 0) os << r.measured_energy_j;
    os << "," << q(r.status) << ",";
    if (r.roofline_latency_s > 0) os << r.roofline_latency_s;
    os << "\n";
  }
  return os.str();
}

}  // namespace bc
