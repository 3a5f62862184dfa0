"""`bitcycle table`: result rows as Markdown, LaTeX or CSV, with chosen columns,
sorted and grouped."""

import csv
import io
import math

from results_io import AnalysisError, Table, int_text, is_number, sort_key

FORMATS = ("markdown", "latex", "csv")


def fmt_cell(v, precision=4, exact=False):
    """A cell's text: `precision` significant digits (integers below 1e9 in
    full), or with `exact` (CSV) the shortest text that reads back the same."""
    if v is None:
        return ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)  # nan, inf, -inf (the readers refuse them; a table built in code)
        if v == 0:
            return "0"
        if v == int(v) and abs(v) < (1e15 if exact else 1e9):
            return str(int(v))
        return repr(v) if exact else "%.*g" % (precision, v)
    if isinstance(v, int) and not isinstance(v, bool) and not exact and abs(v) >= 1e9:
        if abs(v) > 1.7976931348623157e308:  # beyond a float
            return int_text(v, precision)
        return "%.*g" % (precision, v)
    if isinstance(v, int) and not isinstance(v, bool):
        return int_text(v)
    return str(v)


def _sort_spec(s):
    """'-col' or 'col:desc' -> (col, True); 'col' or 'col:asc' -> (col, False)."""
    if s.endswith(":desc"):
        return s[:-5], True
    if s.endswith(":asc"):
        return s[:-4], False
    return (s[1:], True) if s.startswith("-") else (s, False)


def select(table, columns=None, sort=None, group=None, agg=None):
    """(columns, rows, group column) after choosing, sorting and grouping.
    sort: column names, a leading '-' or a ':desc' suffix for descending. agg (with group): one row
    per group, numeric columns reduced with mean|min|max|sum, others kept when
    equal within the group."""
    cols = list(columns) if columns else list(table.columns)
    table.require(*cols)
    sort = [_sort_spec(s) for s in (sort or [])]
    table.require(*[name for name, _ in sort])
    if group:
        table.require(group)
        if group not in cols:
            cols.insert(0, group)
    rows = list(table.rows)
    for name, desc in reversed(sort):  # stable sorts, last key first
        rows.sort(key=lambda r: sort_key(r.get(name)), reverse=desc)
    if group:
        order = []
        for r in rows:
            if r.get(group) not in order:
                order.append(r.get(group))
        # Groups appear in the order of their first row after sorting.
        rows.sort(key=lambda r: order.index(r.get(group)))
        if agg:
            fns = {"mean": lambda v: sum(v) / len(v), "min": min, "max": max, "sum": sum}
            if agg not in fns:
                raise AnalysisError('--agg "%s": expected one of %s' % (agg, ", ".join(fns)))
            out = []
            for g in order:
                members = [r for r in rows if r.get(group) == g]
                row = {group: g}
                for c in cols:
                    if c == group:
                        continue
                    vals = [m.get(c) for m in members]
                    if all(is_number(v) for v in vals):
                        row[c] = fns[agg](vals)
                    elif len({str(v) for v in vals}) == 1:
                        row[c] = vals[0]
                    else:
                        row[c] = "(%d values)" % len({str(v) for v in vals})
                row["rows"] = len(members)
                out.append(row)
            rows = out
            cols = cols + ["rows"]
    elif agg:
        raise AnalysisError("--agg needs --group COLUMN")
    return cols, rows, group


def render(table, fmt="markdown", columns=None, sort=None, group=None, agg=None, precision=4,
           caption=None):
    if fmt not in FORMATS:
        raise AnalysisError('--format "%s": expected one of %s' % (fmt, ", ".join(FORMATS)))
    cols, rows, group = select(table, columns, sort, group, agg)
    cells = [[fmt_cell(r.get(c), precision, exact=fmt == "csv") for c in cols] for r in rows]
    numeric = [all(is_number(r.get(c)) or r.get(c) is None for r in rows) and rows != []
               for c in cols]
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(cols)
        w.writerows(cells)
        return out.getvalue()
    if fmt == "markdown":
        return _markdown(cols, cells, numeric, rows, group if not agg else None)
    return _latex(cols, cells, numeric, rows, group if not agg else None, caption)


def _markdown(cols, cells, numeric, rows, group):
    def esc(s):
        return s.replace("|", "\\|")
    gi = cols.index(group) if group else None
    shown = []
    prev = object()
    for r, cell in zip(rows, cells):
        cell = [esc(v) for v in cell]
        if gi is not None:
            # A group's value is printed, in bold, on its first row only.
            if r.get(group) == prev:
                cell[gi] = ""
            elif cell[gi]:
                cell[gi] = "**%s**" % cell[gi]
            prev = r.get(group)
        shown.append(cell)
    widths = [max([len(c)] + [len(r[i]) for r in shown]) for i, c in enumerate(cols)]
    head = "| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths)) + " |"
    rule = "|" + "|".join(("-" * (w + 1) + ":") if n else ("-" * (w + 2))
                          for w, n in zip(widths, numeric)) + "|"
    lines = [head, rule]
    for cell in shown:
        lines.append("| " + " | ".join(v.rjust(w) if n else v.ljust(w)
                                       for v, w, n in zip(cell, widths, numeric)) + " |")
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                  "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\\": r"\textbackslash{}"}


def latex_escape(s):
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in s)


def _latex(cols, cells, numeric, rows, group, caption):
    spec = "".join("r" if n else "l" for n in numeric)
    out = ["\\begin{table}[t]", "\\centering", "\\small",
           "\\begin{tabular}{%s}" % spec, "\\toprule",
           " & ".join(latex_escape(c) for c in cols) + " \\\\", "\\midrule"]
    gi = cols.index(group) if group else None
    prev = object()
    first = True
    for r, cell in zip(rows, cells):
        cell = [latex_escape(v) for v in cell]
        if gi is not None:
            if r.get(group) == prev:
                cell[gi] = ""
            else:
                if not first:
                    out.append("\\midrule")
                prev = r.get(group)
        first = False
        out.append(" & ".join(cell) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}"]
    if caption:
        out.append("\\caption{%s}" % latex_escape(caption))
    out.append("\\end{table}")
    return "\n".join(out) + "\n"


__all__ = ["render", "select", "FORMATS", "Table"]
