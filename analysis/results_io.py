"""Reading BitCycle result files into rows (lists of dicts).

Accepted inputs:
  * a CSV file: a sweep's results.csv (one row per design point and workload),
    `bitcycle validate --csv` output, `bitcycle run --csv` output;
  * a SQLite file (.sqlite, .sqlite3, .db): the `results` table of a sweep store;
  * one or more run JSON reports (`bitcycle run --json`): one row per report,
    its scalar metrics plus the workload's fields (workload.batch, ...) and the
    config name (hw), or, for tables with --ops, one row per op.

Every problem is an AnalysisError whose message names what is missing and what
is available; the command line turns it into one line on stderr and exit 2.
"""

import csv
import io
import json
import math
import os
import re
import sqlite3


class AnalysisError(Exception):
    """Bad input: the message says what is wrong and what is available.

    `where` is the position the problem is at, when there is one: "FILE:LINE:COLUMN"
    (a CSV cell), "FILE" (a JSON key path, a SQLite cell) or "<command line>" (an
    option); the message then starts with the key (a column, key path or option).
    The command line prints `WHERE: error: MESSAGE`, or `bitcycle plot: error:
    MESSAGE` for an error with no position."""

    def __init__(self, message, where=None):
        super().__init__(message)
        self.where = where


def option_error(option, what):
    """A bad option value: `<command line>: error: --opt: what`."""
    return AnalysisError("%s: %s" % (option, what), "<command line>")


SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def _number(v):
    """'3.5' -> 3.5, '7' -> 7, '' -> None, other text unchanged."""
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return v
    s = str(v).strip()
    if s == "":
        return None
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z\u00b5/0-9]*)\s*$")
_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40}
_DECIMAL = {"p": 1e-12, "n": 1e-9, "u": 1e-6, "\u00b5": 1e-6, "m": 1e-3, "k": 1e3, "K": 1e3,
            "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}


def quantity_value(v):
    """A value with units as a number in base units ('2 MiB' -> 2097152,
    '1.6 TB/s' -> 1.6e12, '28 nm' -> 2.8e-8); None if it is not one."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if not isinstance(v, str):
        return None
    m = _QUANTITY.match(v)
    if not m:
        return None
    x, unit = float(m.group(1)), m.group(2)
    if unit[:2] in _BINARY:
        return x * _BINARY[unit[:2]]
    if len(unit) >= 2 and unit[0] in _DECIMAL and unit[1] != "/":
        return x * _DECIMAL[unit[0]]  # a prefix before the unit (values of one column compare)
    return x


def sort_key(v):
    """Numbers and quantities by value, then text; blanks last."""
    if v is None or v == "":
        return (2, 0.0, "")
    q = quantity_value(v)
    if q is not None:
        return (0, q, str(v))
    return (1, 0.0, str(v))


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (
        isinstance(v, float) and math.isnan(v))


class Table:
    """Rows with a known column order. `source` names the file(s) for messages."""

    def __init__(self, columns, rows, source):
        self.columns = list(columns)
        self.rows = rows
        self.source = source

    def require(self, *names, what="column"):
        """Raises AnalysisError naming every missing column and the available ones."""
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise AnalysisError(
                "%s: no %s %s; available: %s" % (
                    self.source, what + ("s" if len(missing) > 1 else ""),
                    ", ".join('"%s"' % m for m in missing), ", ".join(self.columns) or "(none)"))

    def nonempty(self):
        if not self.rows:
            raise AnalysisError("%s: no result rows (an empty sweep?); columns: %s" % (
                self.source, ", ".join(self.columns) or "(none)"))
        return self

    def numeric(self, name):
        """Values of a column as floats; AnalysisError if a row has none."""
        self.require(name)
        out = []
        for i, r in enumerate(self.rows):
            v = r.get(name)
            if not is_number(v):
                raise AnalysisError('%s: column "%s" row %d is %r, not a number' % (
                    self.source, name, i + 1, v))
            out.append(float(v))
        return out

    def numeric_columns(self):
        return [c for c in self.columns
                if self.rows and all(is_number(r.get(c)) for r in self.rows)]

    def varying(self, exclude=()):
        """Columns whose value differs between rows (the swept parameters, usually)."""
        out = []
        for c in self.columns:
            if c in exclude:
                continue
            vals = {repr(r.get(c)) for r in self.rows}
            if len(vals) > 1:
                out.append(c)
        return out

    def runs_that_ran(self):
        """The rows a sweep ran: with a `status` column (a sweep's results), those
        whose status is ok (skipped and failed runs have no metrics). Rows of
        both fidelities (a sweep with --refine) are not comparable: an error
        asks for one."""
        rows = self.rows
        if "status" in self.columns:
            rows = [r for r in rows if r.get("status") in ("ok", None)]
            if self.rows and not rows:
                seen = sorted({str(r.get("status")) for r in self.rows})
                raise AnalysisError("%s: no run with status ok (statuses: %s)" % (
                    self.source, ", ".join(seen)))
        if "fidelity" in self.columns:
            fids = sorted({str(r.get("fidelity")) for r in rows})
            if len(fids) > 1:
                raise AnalysisError(
                    "%s: rows of fidelities %s; choose one with --where fidelity=%s" % (
                        self.source, ", ".join(fids), fids[-1]))
        return Table(self.columns, rows, self.source)

    def where(self, conds):
        """Keeps the rows matching every COL=VALUE condition (values compared as text
        or as numbers)."""
        rows = self.rows
        for cond in conds or []:
            if "=" not in cond:
                raise AnalysisError('--where "%s": expected COLUMN=VALUE' % cond)
            col, val = cond.split("=", 1)
            self.require(col)
            want = _number(val)
            rows = [r for r in rows if r.get(col) == want or str(r.get(col)) == val]
        return Table(self.columns, rows, self.source)


def _check_file(path):
    if not os.path.exists(path):
        raise AnalysisError("%s: no such file" % path)
    if os.path.isdir(path):
        raise AnalysisError("%s: is a directory, expected a results file" % path)
    if not os.path.isfile(path):  # a FIFO or a device would block or never end
        raise AnalysisError("%s: not a regular file (a FIFO or a device), expected a results file"
                            % path)


def read_csv(path):
    _check_file(path)
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AnalysisError("%s: not UTF-8 text (byte 0x%02X at offset %d); re-save the file as "
                            "UTF-8" % (path, data[e.start], e.start))
    # A byte order mark (spreadsheets write one) is not part of the header.
    text = text[1:] if text.startswith("\ufeff") else text
    lines = [ln for ln in io.StringIO(text, newline="") if not ln.startswith("#")]
    if not lines or not lines[0].strip():
        raise AnalysisError("%s: empty file, expected a CSV header line" % path)
    reader = csv.DictReader(lines)
    columns = list(reader.fieldnames or [])
    rows = [{k: _number(v) for k, v in r.items() if k is not None} for r in reader]
    return Table(columns, rows, path)


def read_sqlite(path, table="results"):
    _check_file(path)
    try:
        try:
            con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A write-ahead-log store (a sweep's results.db) whose -shm file is
            # missing cannot be opened read-only; reading it normally is safe.
            con = sqlite3.connect(path)
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
            if table not in tables:
                raise AnalysisError('%s: no table "%s"; tables: %s' % (
                    path, table, ", ".join(tables) or "(none)"))
            cur = con.execute('SELECT * FROM "%s"' % table)
            columns = [d[0] for d in cur.description]
            rows = [{c: _number(v) for c, v in zip(columns, r)} for r in cur.fetchall()]
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise AnalysisError("%s: not a readable SQLite file (%s)" % (path, e))
    return Table(columns, rows, path)


def read_report(path):
    """A run JSON report, checked to be one."""
    _check_file(path)
    try:
        with open(path) as f:
            rep = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AnalysisError("%s: not valid JSON (%s)" % (path, e))
    if not isinstance(rep, dict) or rep.get("schema") != "bitcycle-report":
        raise AnalysisError(
            '%s: not a run report (expected the JSON of `bitcycle run --json`, with '
            '"schema": "bitcycle-report")' % path)
    ops = rep.get("ops", [])
    if not isinstance(ops, list) or not all(isinstance(o, dict) for o in ops):
        raise AnalysisError(
            '%s: "ops" is not a list of ops (expected the JSON of `bitcycle run --json`)' % path)
    return rep


def config_name(rep, path=None):
    name = (rep.get("hw") or {}).get("name")
    return name or (os.path.splitext(os.path.basename(path))[0] if path else "?")


_QUANT_BITS = re.compile(r"^w(\d+(?:\.\d+)?)")


def weight_bits(quant):
    """Weight bits of a recipe name: w4a8 -> 4, w1.58a8 -> 1.58; None if unknown."""
    if not isinstance(quant, str):
        return None
    m = _QUANT_BITS.match(quant)
    if m:
        return _number(m.group(1))
    return {"fp6": 6, "mxfp4": 4}.get(quant)


def format_bits(fmt):
    """Bits per element of a format name: int4/g128/fp16 -> 4, fp8_e4m3 -> 8,
    ternary -> 1.58; None if unknown."""
    if not isinstance(fmt, str):
        return None
    if fmt.startswith("ternary"):
        return 1.58
    m = re.match(r"^[a-z]*?(\d+)", fmt)
    return int(m.group(1)) if m else None


def report_row(rep, path):
    """One row of a run report: config name, workload fields, scalar metrics."""
    row = {"hw": config_name(rep, path), "file": os.path.basename(path)}
    wl = rep.get("workload") or {}
    for k, v in wl.items():
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            row[k] = v
    if "weight_bits" not in row:
        wb = format_bits(wl.get("weights")) or weight_bits(wl.get("quant"))
        if wb is not None:
            row["weight_bits"] = wb
    for k, v in rep.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "version":
            row[k] = v
    for k, v in (rep.get("utilization") or {}).items():
        row["utilization." + k] = v
    # Peak density and efficiency per unit.format and for the chip per format,
    # the same columns a sweep's results have.
    density = (rep.get("derived") or {}).get("density") or {}
    for part, prefix in (("units", ""), ("chip", "chip.")):
        for k, e in (density.get(part) or {}).items():
            for m in ("peak_ops_per_s_per_mm2", "peak_ops_per_s_per_w"):
                if m in e:
                    row["%s.%s%s" % (m, prefix, k)] = e[m]
    return row


def _ordered_columns(rows):
    cols = []
    seen = set()
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                cols.append(k)
    return cols


def flatten(tree, prefix=""):
    """{'a': {'b': 1}} -> {'a.b': 1}; lists and maps of scalars become text."""
    out = {}
    for k, v in tree.items():
        key = prefix + k
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


CONFIG_NOT_PARAMS = {"file", "library", "name", "description"}


def read_reports(paths):
    """One row per report. The resolved config values that differ between the
    reports (the design parameters a study varied) become columns named by
    their config path, e.g. memory.dram.bandwidth_Bps (SI units, as in the
    report's config section)."""
    reps = [read_report(p) for p in paths]
    rows = [report_row(r, p) for r, p in zip(reps, paths)]
    flat = [flatten(r.get("config") or {}) for r in reps]
    keys = []
    for f in flat:
        for k in f:
            if k not in keys and k not in CONFIG_NOT_PARAMS:
                keys.append(k)
    varied = [k for k in keys if len({json.dumps(f.get(k)) for f in flat}) > 1]
    for row, f in zip(rows, flat):
        for k in varied:
            row[k] = f.get(k)
    return Table(_ordered_columns(rows), rows, ", ".join(paths))


def report_ops(paths):
    """One row per op of each report, with the config name in column hw."""
    rows = []
    for p in paths:
        rep = read_report(p)
        f = (rep.get("technology") or {}).get("frequency_hz") or 1.0
        for op in rep.get("ops", []):
            r = {"hw": config_name(rep, p)}
            for k, v in op.items():
                if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                    r[k] = v
            for c in ("compute", "memory_stall", "dependency_stall"):
                if c + "_cycles" in op:
                    r[c + "_s"] = op[c + "_cycles"] / f
            rows.append(r)
    return Table(_ordered_columns(rows), rows, ", ".join(paths))


def load_results(paths):
    """Rows of a sweep CSV, a SQLite store, or one or more run reports."""
    if not paths:
        raise AnalysisError("no results file given")
    first = paths[0]
    lower = first.lower()
    if lower.endswith(".json"):
        bad = [p for p in paths if not p.lower().endswith(".json")]
        if bad:
            raise AnalysisError("cannot mix run reports (.json) with %s" % ", ".join(bad))
        return read_reports(paths)
    if len(paths) > 1:
        raise AnalysisError("give one results file (CSV or SQLite), or several run .json "
                            "reports; got %s" % ", ".join(paths))
    if lower.endswith(SQLITE_SUFFIXES):
        return read_sqlite(first)
    if lower.endswith(".csv"):
        return read_csv(first)
    _check_file(first)
    with open(first, "rb") as f:
        head = f.read(16)
    if head.startswith(b"SQLite format 3"):
        return read_sqlite(first)
    return read_csv(first)
