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
import urllib.parse


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
FLOAT_MAX = 1.7976931348623157e308


class Row(dict):
    """A result row (column -> value) that knows where its cells came from:
    `path`, and `cells` {column: (line, column)} for a CSV row, `keys`
    {column: key path} for a run report's row, `index` (1-based) for a SQLite
    row. Rows built in code have none of them."""

    path = None
    cells = None
    keys = None
    index = None


def cell_error(row, col, what, source=None, number=None):
    """An AnalysisError at a cell: `FILE:LINE:COLUMN: error: COL: what` for a CSV
    cell, `FILE: error: KEY.PATH: what` for a run report's value, `FILE: error:
    COL: row N of table "results": what` for a SQLite cell; for a row built in
    code, `SOURCE: COL: row N: what` (number: the row's 1-based index)."""
    path = getattr(row, "path", None)
    if path is not None and row.cells and col in row.cells:
        line, column = row.cells[col]
        return AnalysisError("%s: %s" % (col, what), "%s:%d:%d" % (path, line, column))
    if path is not None and row.keys is not None:  # a run report's row
        return AnalysisError("%s: %s" % (row.keys.get(col, col), what), path)
    if path is not None and row.index is not None:
        return AnalysisError('%s: row %d of table "results": %s' % (col, row.index, what), path)
    if path is not None and row.cells is not None:  # a CSV row without that cell
        return AnalysisError("%s: %s" % (col, what), "%s:%d:1" % (path, row.line))
    return AnalysisError('%s: column "%s"%s: %s' % (
        source or "results", col, " row %d" % number if number else "", what))


def int_text(v, precision=None):
    """An integer's text: all its digits, or with `precision` (or when it has too
    many digits for Python to print) `precision` significant digits in e notation."""
    if precision is None:
        try:
            return str(v)
        except ValueError:  # more than 4300 digits
            precision = 17
    if v == 0:
        return "0"
    e = int(math.log10(abs(v)))
    m = abs(v) // 10 ** max(e - precision + 1, 0)
    while m >= 10 ** precision:  # log10 rounded up at a power of ten
        m, e = m // 10, e + 1
    digits = str(m).ljust(precision, "0")
    return "%s%s%s%se+%02d" % ("-" if v < 0 else "", digits[0], "." if precision > 1 else "",
                               digits[1:], e)


def _shown(text, limit=24):
    """A cell's text for a message: quoted, a long one cut (with its length)."""
    text = str(text)
    if len(text) <= limit:
        return '"%s"' % text
    return '"%s..." (%d characters)' % (text[:limit], len(text))


def _not_finite(text):
    """Why a number's text is no finite number, or None if it is one (or is text)."""
    s = text.strip().lower().lstrip("+-")
    if s in ("nan", "inf", "infinity"):
        return "expected a finite number, got %s" % _shown(text)
    return None


def _cell_number(text):
    """A CSV or SQLite text cell as a value (see _number); ValueError with the
    reason for a number that is not finite or too large for a float."""
    v = _number(text)
    text = text if isinstance(text, str) else repr(text)
    if isinstance(v, float) and not math.isfinite(v):
        why = _not_finite(text) or "expected a finite number, got %s, too large for a float " \
            "(the largest is 1.8e308)" % _shown(text.strip())
        raise ValueError(why)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > FLOAT_MAX:
        raise ValueError("expected a finite number, got %s, too large for a float (the largest "
                         "is 1.8e308)" % _shown(text.strip()))
    return v


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
        """Values of a column as floats; AnalysisError at the first cell that is no
        finite number (its file line and column, for a CSV)."""
        self.require(name)
        out = []
        for i, r in enumerate(self.rows):
            v = r.get(name)
            if v is None or v == "":
                raise cell_error(r, name, "no value, expected a number", self.source, i + 1)
            if not is_number(v) or not math.isfinite(float(v)):
                raise cell_error(r, name, "expected a finite number, got %s" % _shown(v),
                                 self.source, i + 1)
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
            kept = [r for r in rows if r.get(col) == want or str(r.get(col)) == val]
            # A filter that keeps nothing is said as such, not as an empty sweep.
            if rows and not kept:
                values = sorted({str(r.get(col)) for r in rows})
                raise option_error("--where", '%s: no row has %s = "%s"; its values: %s' % (
                    cond, col, val, ", ".join(values[:20]) + (" ..." if len(values) > 20 else "")))
            rows = kept
        return Table(self.columns, rows, self.source)


def _check_file(path):
    if not os.path.exists(path):
        raise AnalysisError("%s: no such file" % path)
    if os.path.isdir(path):
        raise AnalysisError("%s: is a directory, expected a results file" % path)
    if not os.path.isfile(path):  # a FIFO or a device would block or never end
        raise AnalysisError("%s: not a regular file (a FIFO or a device), expected a results file"
                            % path)


CSV_FIELD_LIMIT = 131072  # characters in one field (the csv module's limit)


def _csv_records(text, path):
    """The records of a CSV text (RFC 4180: fields separated by commas, a field
    in double quotes may hold commas, line breaks and doubled quotes) as lists
    of (value, line, column), line and column 1-based. A line starting with '#'
    outside a quoted field is a comment, an empty line is skipped. A quoted
    field left open, text after a closing quote or a NUL byte is an
    AnalysisError at its position."""
    records, fields = [], []
    i, n, line, bol = 0, len(text), 1, 0  # bol: offset where the current line begins

    def at(off, ln, b):
        return "%s:%d:%d" % (path, ln, off - b + 1)

    while i < n:
        if not fields and (text[i] == "#" or text[i] in "\r\n") and i == bol:
            j = i
            while j < n and text[j] not in "\r\n":
                j += 1
            if text[i] == "#" and "\0" in text[i:j]:
                i = text.index("\0", i)
                raise AnalysisError("NUL byte in the input: input text must not hold NUL "
                                    "bytes (re-save the file as text)", at(i, line, bol))
            i = j + (2 if text.startswith("\r\n", j) else 1)
            line, bol = line + 1, i
            continue
        start, sline, sbol = i, line, bol
        if text[i] == '"':
            buf = []
            i += 1
            while True:
                j = i
                while j < n and text[j] not in '"\r\n\0':
                    j += 1
                buf.append(text[i:j])
                if j >= n:
                    raise AnalysisError("quoted field left open: its closing quote is missing "
                                        "(the rest of the file would be the field) (close the "
                                        'quote, or double a quote inside a field: "")',
                                        at(start, sline, sbol))
                c = text[j]
                if c == "\0":
                    raise AnalysisError("NUL byte in the input: input text must not hold NUL "
                                        "bytes (re-save the file as text)", at(j, line, bol))
                if c in "\r\n":
                    k = j + (2 if text.startswith("\r\n", j) else 1)
                    buf.append(text[j:k])
                    i, line, bol = k, line + 1, k
                    continue
                if text.startswith('""', j):
                    buf.append('"')
                    i = j + 2
                    continue
                i = j + 1  # the closing quote
                break
            if i < n and text[i] not in ",\r\n":
                raise AnalysisError("text after the closing quote of a field (quote the "
                                    'whole field and double a quote inside it: "")',
                                    at(i, line, bol))
            value = "".join(buf)
        else:
            j = i
            while j < n and text[j] not in ",\r\n\0":
                j += 1
            if j < n and text[j] == "\0":
                raise AnalysisError("NUL byte in the input: input text must not hold NUL bytes "
                                    "(re-save the file as text)", at(j, line, bol))
            value, i = text[i:j], j
        fields.append((value, sline, start - sbol + 1))
        if i < n and text[i] == ",":
            i += 1
            if i >= n or text[i] in "\r\n":  # a trailing comma: an empty last field
                fields.append(("", line, i - bol + 1))
            else:
                continue
        if i < n:  # a line break ends the record
            i += 2 if text.startswith("\r\n", i) else 1
            line, bol = line + 1, i
        records.append(fields)
        fields = []
    return records


def read_csv(path):
    """A CSV results file: one Row per record, each cell a number (finite) or
    text, with its line and column kept for messages."""
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
    records = _csv_records(text, path)
    if not records or all(not v.strip() for v, _, _ in records[0]):
        raise AnalysisError("%s: empty file, expected a CSV header line" % path)
    for rec in records:
        for k, (v, line, col) in enumerate(rec):
            if len(v) > CSV_FIELD_LIMIT:
                key = records[0][k][0] + ": " if k < len(records[0]) and rec is not records[0] \
                    else ""
                raise AnalysisError("%sa field of %d characters, longer than %d (the limit)" % (
                    key, len(v), CSV_FIELD_LIMIT), "%s:%d:%d" % (path, line, col))
    header = records[0]
    columns = [v for v, _, _ in header]
    seen = {}
    for k, (name, line, col) in enumerate(header):
        if name in seen:
            raise AnalysisError('%s: column "%s" appears twice in the header (also field %d) '
                                "(remove one of them)" % (name, name, seen[name] + 1),
                                "%s:%d:%d" % (path, line, col))
        seen[name] = k
    rows = []
    for rec in records[1:]:
        line = rec[0][1]
        if len(rec) != len(columns):
            if len(rec) > len(columns):
                _, l2, c2 = rec[len(columns)]
                what = "%d fields, the header has %d (remove the extra fields, or quote a " \
                    "field that holds a comma)" % (len(rec), len(columns))
            else:
                _, l2, c2 = rec[-1]
                c2 += len(rec[-1][0])
                what = "%d field%s, the header has %d: %s missing (leave a value empty " \
                    "between commas, not out)" % (len(rec), "" if len(rec) == 1 else "s",
                                                  len(columns), ", ".join(
                                                      '"%s"' % c for c in columns[len(rec):]))
            raise AnalysisError("the row has " + what, "%s:%d:%d" % (path, l2, c2))
        r = Row()
        r.path, r.line, r.cells = path, line, {}
        for name, (v, ln, col) in zip(columns, rec):
            try:
                r[name] = _cell_number(v)
            except ValueError as e:
                raise AnalysisError("%s: %s" % (name, e), "%s:%d:%d" % (path, ln, col))
            r.cells[name] = (ln, col)
        rows.append(r)
    return Table(columns, rows, path)


def read_sqlite(path, table="results"):
    _check_file(path)
    # The path as a file: URI, percent-encoded: "a#b.db" or "q?x.db" name that
    # file, not "a" or "q" with a fragment or query (mode=rw: never created).
    uri = "file:%s?mode=" % urllib.parse.quote(os.path.abspath(path))
    try:
        try:
            con = sqlite3.connect(uri + "ro", uri=True)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A write-ahead-log store (a sweep's results.db) whose -shm file is
            # missing cannot be opened read-only; reading it normally is safe.
            con = sqlite3.connect(uri + "rw", uri=True)
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
            if table not in tables:
                raise AnalysisError('%s: no table "%s"; tables: %s' % (
                    path, table, ", ".join(tables) or "(none)"))
            cur = con.execute('SELECT * FROM "%s"' % table)
            columns = [d[0] for d in cur.description]
            rows = []
            for r in cur.fetchall():
                row = Row()
                row.path, row.index = path, len(rows) + 1
                for c, v in zip(columns, r):
                    try:
                        row[c] = _cell_number(v)
                    except ValueError as e:
                        raise cell_error(row, c, str(e))
                rows.append(row)
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise AnalysisError("%s: not a readable SQLite file (%s)" % (path, e))
    return Table(columns, rows, path)


class Report(dict):
    """A run report (the JSON of `bitcycle run --json`); `path` names its file."""

    path = None


def report_error(rep, key, what):
    """An AnalysisError at a key path of a run report: `FILE: error: KEY: what`."""
    return AnalysisError("%s: %s" % (key, what), getattr(rep, "path", None) or "report")


class _Bad:
    """A JSON value no result can hold (NaN, Infinity, a number beyond a float),
    kept by the parser so that the check after it can name its key path."""

    def __init__(self, text):
        self.text = text


def _json_float(text):
    v = float(text)
    return v if math.isfinite(v) else _Bad(text)


def _json_int(text):
    # Python refuses to convert more than 4300 digits (a ValueError, not a
    # JSON error); any integer beyond a float is refused below anyway.
    return int(text) if len(text) <= 400 else _Bad(text)


JSON_DEPTH_LIMIT = 64  # maps and lists nested deeper than this (the simulator's limit)

_KINDS = {dict: "a map", list: "a list", str: "text", bool: "true or false",
          type(None): "null"}


def _kind(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "the number %r" % v
    if isinstance(v, str):
        return "the text %s" % _shown(v)
    return _KINDS.get(type(v), type(v).__name__)


# Key paths of a run report the plots and tables read, and what each must be
# where present: "*" is any key of a map, "[]" any element of a list.
# "name!" is required in every element of its list.
_REPORT_FIELDS = [
    ("hw", dict), ("hw.name", str),
    ("workload", dict), ("utilization", dict), ("utilization.*", "number"),
    ("technology", dict), ("technology.frequency_hz", "positive"),
    ("config", dict),
    ("derived", dict), ("derived.peak_ops_per_s", dict),
    ("derived.peak_ops_per_s.*", "non-negative"),
    ("derived.dram_bandwidth_Bps", "non-negative"),
    ("derived.density", dict), ("derived.density.*", dict), ("derived.density.*.*", dict),
    ("derived.density.*.*.peak_ops_per_s_per_mm2", "number"),
    ("derived.density.*.*.peak_ops_per_s_per_w", "number"),
    ("breakdown", dict),
    ("breakdown.area_mm2", dict), ("breakdown.area_mm2.*", "non-negative"),
    ("breakdown.energy_j", dict), ("breakdown.energy_j.*", "non-negative"),
    ("breakdown.leakage_energy_j", dict), ("breakdown.leakage_energy_j.*", "non-negative"),
    ("actions", list), ("actions[]", dict), ("actions[].component!", str),
    ("actions[].action!", str), ("actions[].energy_j", "number"),
    ("ops[].name!", str), ("ops[].kind", str),
    ("ops[].flops", "non-negative"), ("ops[].global_memory_bytes", "non-negative"),
    ("ops[].latency_s", "non-negative"), ("ops[].compute_cycles", "non-negative"),
    ("ops[].memory_stall_cycles", "non-negative"),
    ("ops[].dependency_stall_cycles", "non-negative"),
]


def _places(tree, pattern):
    """(key path, value) of every place in tree matching pattern; for a required
    key ("name!") that is missing, (key path, _MISSING)."""
    out = [("", tree)]
    for part in re.findall(r"\[\]|[^.\[\]]+", pattern):
        required = part.endswith("!")
        part = part.rstrip("!")
        nxt = []
        for p, v in out:
            if part == "[]":
                if isinstance(v, list):
                    nxt += [("%s[%d]" % (p, i), x) for i, x in enumerate(v)]
            elif isinstance(v, dict):
                if part == "*":
                    nxt += [((p + "." if p else "") + k, x) for k, x in v.items()]
                elif part in v:
                    nxt.append(((p + "." if p else "") + part, v[part]))
                elif required:
                    nxt.append(((p + "." if p else "") + part, _MISSING))
        out = nxt
    return out


_MISSING = object()


def _check_report(rep):
    """The values a run report holds: finite numbers, nesting within
    JSON_DEPTH_LIMIT, and the types of _REPORT_FIELDS; every problem found is
    one line of the AnalysisError."""
    problems = []
    stack = [("", rep, 0)]
    while stack:
        key, v, depth = stack.pop()
        if depth > JSON_DEPTH_LIMIT:
            raise report_error(rep, key, "maps and lists nested deeper than %d levels (the "
                                         "limit)" % JSON_DEPTH_LIMIT)
        if isinstance(v, dict):
            stack += [((key + "." if key else "") + k, x, depth + 1) for k, x in v.items()]
        elif isinstance(v, list):
            stack += [("%s[%d]" % (key, i), x, depth + 1) for i, x in enumerate(v)]
        elif isinstance(v, _Bad) or (isinstance(v, int) and abs(v) > FLOAT_MAX):
            text = v.text if isinstance(v, _Bad) else str(v)
            why = "" if _not_finite(text) else ", too large for a float (the largest is 1.8e308)"
            problems.append((key, "expected a finite number, got %s%s" % (_shown(text), why)))
    if problems:
        raise _report_problems(rep, sorted(problems))
    for pattern, want in _REPORT_FIELDS:
        for key, v in _places(rep, pattern):
            if v is _MISSING:
                problems.append((key, "missing (every element of %s has one in a run report)"
                                 % key.rsplit("[", 1)[0]))
            elif isinstance(want, type):
                if not isinstance(v, want):
                    problems.append((key, "expected %s, got %s" % (_KINDS[want], _kind(v))))
            elif not is_number(v):
                problems.append((key, "expected a number, got %s" % _kind(v)))
            elif want == "positive" and v <= 0:
                problems.append((key, "expected a number above 0, got %r" % v))
            elif want == "non-negative" and v < 0:
                problems.append((key, "expected a number >= 0, got %r" % v))
    if problems:
        raise _report_problems(rep, problems)


def _report_problems(rep, problems):
    """One AnalysisError for the problems of a report, one line each."""
    e = report_error(rep, *problems[0])
    e.more = [report_error(rep, k, w) for k, w in problems[1:]]
    return e


def read_report(path):
    """A run JSON report, checked to be one: a Report (a dict with `path`)."""
    _check_file(path)
    try:
        with open(path) as f:
            rep = json.load(f, parse_constant=_Bad, parse_float=_json_float,
                            parse_int=_json_int)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AnalysisError("%s: not valid JSON (%s)" % (path, e))
    except RecursionError:
        raise AnalysisError("maps and lists nested deeper than %d levels (the limit)"
                            % JSON_DEPTH_LIMIT, path)
    if not isinstance(rep, dict) or rep.get("schema") != "bitcycle-report":
        raise AnalysisError(
            '%s: not a run report (expected the JSON of `bitcycle run --json`, with '
            '"schema": "bitcycle-report")' % path)
    rep = Report(rep)
    rep.path = path
    ops = rep.get("ops", [])
    if not isinstance(ops, list) or not all(isinstance(o, dict) for o in ops):
        raise AnalysisError(
            '%s: "ops" is not a list of ops (expected the JSON of `bitcycle run --json`)' % path)
    _check_report(rep)
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
    row = Row(hw=config_name(rep, path), file=os.path.basename(path))
    row.path, row.keys = path, {"hw": "hw.name"}
    wl = rep.get("workload") or {}
    for k, v in wl.items():
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            row[k] = v
            row.keys[k] = "workload." + k
    if "weight_bits" not in row:
        wb = format_bits(wl.get("weights")) or weight_bits(wl.get("quant"))
        if wb is not None:
            row["weight_bits"] = wb
            row.keys["weight_bits"] = "workload.weights" if format_bits(
                wl.get("weights")) else "workload.quant"
    for k, v in rep.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "version":
            row[k] = v
            row.keys[k] = k
    for k, v in (rep.get("utilization") or {}).items():
        row["utilization." + k] = v
        row.keys["utilization." + k] = "utilization." + k
    # Peak density and efficiency per unit.format and for the chip per format,
    # the same columns a sweep's results have.
    density = (rep.get("derived") or {}).get("density") or {}
    for part, prefix in (("units", ""), ("chip", "chip.")):
        for k, e in (density.get(part) or {}).items():
            for m in ("peak_ops_per_s_per_mm2", "peak_ops_per_s_per_w"):
                if m in e:
                    row["%s.%s%s" % (m, prefix, k)] = e[m]
                    row.keys["%s.%s%s" % (m, prefix, k)] = "derived.density.%s.%s.%s" % (
                        part, k, m)
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
            row.keys[k] = "config." + k
    return Table(_ordered_columns(rows), rows, ", ".join(paths))


def report_ops(paths):
    """One row per op of each report, with the config name in column hw."""
    rows = []
    for p in paths:
        rep = read_report(p)
        # Cycles as seconds only with the clock (checked positive when present).
        f = (rep.get("technology") or {}).get("frequency_hz")
        for op in rep.get("ops", []):
            r = {"hw": config_name(rep, p)}
            for k, v in op.items():
                if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                    r[k] = v
            for c in ("compute", "memory_stall", "dependency_stall"):
                if c + "_cycles" in op and f:
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
