"""BitCycle's figures. Each *_figure function takes already-loaded results and
returns a matplotlib Figure (tests read the axes, series and labels back from
it); cli.py loads the files and saves the figure.

Figures are sized for a paper column or page (inches), with labelled axes and
units, legends outside the data where they would hide it, and labels placed so
they do not overlap (a label that fits nowhere is left out, its point stays).
"""

import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from results_io import (AnalysisError, Table, cell_error, config_name, is_number,  # noqa: E402
                        int_text, report_error, sort_key)

KINDS = ("pareto", "breakdown", "area", "roofline", "heatmap", "scaling", "validation")

plt.rcParams.update({
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    # Names, labels and titles come from the user's files and options: drawn as
    # written ("chip $x$"), never parsed as mathtext (a "$\badcmd$" raised).
    "text.parse_math": False,
})

# Colour-blind safe palette (Okabe and Ito) and a longer one for many series.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000"]


def palette(n):
    if n <= len(OKABE_ITO):
        return OKABE_ITO[:n]
    cmap = plt.get_cmap("tab20")
    return [cmap(i % 20) for i in range(n)]


def new_figure(w=6.0, h=4.0):
    fig = Figure(figsize=(w, h), layout="constrained")
    FigureCanvasAgg(fig)  # a renderer, to measure text when placing labels
    return fig


# --- units -----------------------------------------------------------------

_PREFIX = [(1e-12, "p"), (1e-9, "n"), (1e-6, "\u00b5"), (1e-3, "m"), (1.0, ""), (1e3, "k"),
           (1e6, "M"), (1e9, "G"), (1e12, "T"), (1e15, "P")]

# metric-name suffix -> (unit, SI-prefix scaling allowed)
_UNITS = [
    ("tokens_per_s_per_user", "tokens/s", True),
    ("tokens_per_s", "tokens/s", True),
    ("ops_per_s", "ops/s", True),
    ("_bps", "B/s", True),
    ("_per_s", "1/s", True),
    ("_mm2", "mm\u00b2", False),
    ("_m2", "m\u00b2", False),
    ("_hz", "Hz", True),
    ("_bytes", "B", True),
    ("_j", "J", True),
    ("_w", "W", True),
    ("_s", "s", True),
    ("_cycles", "cycles", True),
    ("_share", "fraction", False),
    ("utilization", "fraction", False),
    ("mape", "fraction", False),
    ("error", "fraction", False),
]


def unit_of(name):
    low = name.lower()
    for suffix, unit, scalable in _UNITS:
        if low.endswith(suffix) or (not suffix.startswith("_") and suffix in low):
            stem = name[: len(name) - len(suffix)] if low.endswith(suffix) else name
            if suffix in ("tokens_per_s", "tokens_per_s_per_user"):
                stem = "throughput" + (" per user" if "user" in suffix else "")
            return stem, unit, scalable
    return name, "", False


def pretty(name):
    """'energy_per_token_j' -> 'energy per token'; 'memory.dram.bandwidth' -> same."""
    return name.replace("_", " ").strip() or name


def scale_for(values, name):
    """(factor, axis label) so that the values print in a readable SI unit."""
    stem, unit, scalable = unit_of(name)
    label = pretty(stem)
    if not unit:
        return 1.0, label
    finite = [abs(v) for v in values if is_number(v) and v != 0 and math.isfinite(v)]
    factor, prefix = 1.0, ""
    if scalable and finite and unit != "cycles":
        ref = max(finite)
        for f, p in _PREFIX:
            if ref >= f * 0.9999:
                factor, prefix = f, p
    if unit == "cycles" and finite and max(finite) >= 1e4:
        factor, prefix = (1e6, "M") if max(finite) >= 1e7 else (1e3, "k")
    return 1.0 / factor, "%s (%s%s)" % (label, prefix, unit)


def fmt_value(v):
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v == int(v) and abs(v) < 1e6:
            return str(int(v))
        return "%.3g" % v
    if isinstance(v, int) and not isinstance(v, bool):
        return int_text(v)
    return str(v)


GENERIC = {"bandwidth", "size", "channels", "latency", "banks", "rows", "cols", "lanes", "x",
           "y", "type", "ports"}


def short(col):
    """A parameter's name for point labels: its last dotted part without the unit
    suffix, with the part before it when the last is generic (dram.bandwidth)."""
    parts = col.split(".")
    last = unit_of(parts[-1])[0].rstrip("_ ") if unit_of(parts[-1])[1] else parts[-1]
    if last in GENERIC and len(parts) > 1:
        return parts[-2] + "." + last
    return last


def param_unit(col):
    """The unit of a config parameter's SI value when its name has no unit suffix
    (a sweep's `memory.dram.bandwidth` column holds B/s): bytes, B/s, Hz, s or m;
    None if unknown."""
    parts = col.split(".")
    last = parts[-1]
    if last in ("bandwidth", "link_bandwidth"):
        return "B/s"
    if last in ("size", "capacity", "bank_width"):
        return "bytes"
    if last == "frequency":
        return "Hz"
    if last == "latency" and parts[0] == "memory":
        return "s"
    if last == "node":
        return "m"
    return None


def param_name(col):
    """A parameter column's name for an axis, without the unit suffix its values
    carry when formatted (memory.dram.bandwidth_Bps -> memory.dram.bandwidth)."""
    stem, unit, _ = unit_of(col)
    return stem.rstrip("_") if unit and stem.rstrip("_") else col


def fmt_param(col, v):
    """A parameter value for a label: SI values of config paths with their unit
    (memory.dram.bandwidth_Bps 3.35e12 -> 3.35 TB/s, size_bytes -> MiB)."""
    if not is_number(v):
        return fmt_value(v)
    low = col.lower()
    inferred = None if unit_of(col)[1] else param_unit(col)
    if inferred == "bytes":
        low = low + "_bytes"
    elif inferred in ("B/s", "Hz", "s"):
        f, lab = scale_for([v], {"B/s": "x_bps", "Hz": "x_hz", "s": "x_s"}[inferred])
        return "%.3g %s" % (v * f, lab.rsplit("(", 1)[1].rstrip(")"))
    elif inferred == "m":
        return "%.3g nm" % (v * 1e9)
    if low.endswith("_bytes"):
        for f, p in ((2 ** 30, "GiB"), (2 ** 20, "MiB"), (2 ** 10, "KiB")):
            if abs(v) >= f:
                return "%.3g %s" % (v / f, p)
        return "%g B" % v
    stem, unit, scalable = unit_of(col)
    if unit and scalable and unit not in ("cycles", "1/s"):
        f, lab = scale_for([v], col)
        return "%.3g %s" % (v * f, lab.rsplit("(", 1)[1].rstrip(")"))
    return fmt_value(v)


# --- label placement ---------------------------------------------------------

_OFFSETS = [(6, 6), (6, -10), (-6, 6), (-6, -10), (10, 0), (-10, 0), (0, 10), (0, -12),
            (14, 14), (-14, -16), (14, -18), (-14, 14)]


def place_labels(fig, ax, points, texts, fontsize=7, avoid=()):
    """Annotates each (x, y) with its text, trying several offsets and keeping a
    label only where it stays inside the axes and overlaps neither a label
    already placed, nor the legend, nor any of the points in `avoid` (data
    coordinates; the labelled points are always avoided). Returns the placed
    annotations."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(renderer)
    from matplotlib.transforms import Bbox
    boxes = []
    leg = ax.get_legend()
    if leg is not None:
        boxes.append(leg.get_window_extent(renderer))
    r = 3.5  # marker radius in pixels, about
    for x, y in list(points) + list(avoid):
        px, py = ax.transData.transform((x, y))
        boxes.append(Bbox([[px - r, py - r], [px + r, py + r]]))
    placed = []
    for (x, y), text in zip(points, texts):
        for dx, dy in _OFFSETS:
            ha = "left" if dx >= 0 else "right"
            va = "bottom" if dy >= 0 else "top"
            a = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                            fontsize=fontsize, ha=ha, va=va, color="#333333")
            bb = a.get_window_extent(renderer).expanded(1.04, 1.08)
            inside = (bb.x0 >= axbox.x0 and bb.x1 <= axbox.x1 and bb.y0 >= axbox.y0 and
                      bb.y1 <= axbox.y1)
            if inside and not any(bb.overlaps(b) for b in boxes):
                boxes.append(bb)
                placed.append(a)
                break
            a.remove()
    return placed


# --- pareto ------------------------------------------------------------------

def maximized(metric):
    low = metric.lower()
    return "per_s" in low or "throughput" in low or "utilization" in low or low.endswith(
        "tops") or "efficiency" in low


def pareto_front(xs, ys, max_x=False, max_y=False):
    """Indices of the non-dominated points (minimising both unless told)."""
    sx = -1 if max_x else 1
    sy = -1 if max_y else 1
    pts = [(sx * x, sy * y, i) for i, (x, y) in enumerate(zip(xs, ys))]
    pts.sort()
    front, best = [], math.inf
    for x, y, i in pts:
        if y < best:
            front.append(i)
            best = y
    return front


DEFAULT_METRICS_X = ("latency_s", "token_latency_s", "step_period_s")
DEFAULT_METRICS_Y = ("energy_per_token_j", "energy_j", "area_mm2")
NOT_PARAMS = {"file", "id", "point", "point_id", "run_id", "status", "error", "workload_id",
              "design_point", "design_id", "wall_s", "seed", "schema", "tokens", "fidelity",
              "weights_placement"}
METRIC_PREFIXES = ("utilization.", "sim.", "breakdown.", "derived.", "execution.")


def param_columns(table, metrics):
    """The swept parameters: columns that vary and are neither metrics nor bookkeeping.
    A column counts as a metric if its name carries a unit suffix or it is numeric
    with (almost) every value distinct while other columns repeat."""
    out = []
    exclude = set(metrics) | NOT_PARAMS
    if "hw_name" in table.columns:  # a sweep's config path and name vary together
        exclude.add("hw")
    for c in table.varying(exclude=exclude):
        if c.startswith(METRIC_PREFIXES):
            continue
        if "." in c and unit_of(c.split(".")[0])[1]:  # energy_j.mac, time_s.gemm
            continue
        if "." not in c and unit_of(c)[1]:  # a top-level name with a unit: a metric
            continue
        out.append(c)
    return out


def require_positive(table, col, values, option):
    """A log axis shows values above 0 only: an error at the first other cell
    (it would be dropped from the figure, silently)."""
    for r, v in zip(table.rows, values):
        if v <= 0:
            raise cell_error(r, col, "%s cannot be shown on a log axis (drop %s)" % (
                fmt_value(v), option), table.source)


def pick(table, wanted, candidates, role):
    if wanted:
        table.require(wanted)
        return wanted
    for c in candidates:
        if c in table.columns:
            return c
    raise AnalysisError("%s: no %s metric given and none of %s present; available: %s" % (
        table.source, role, ", ".join(candidates), ", ".join(table.columns)))


def pareto_figure(table, x=None, y=None, maximize=(), label_by=None, logx=False, logy=False,
                  title=None):
    table = table.nonempty().runs_that_ran()
    x = pick(table, x, DEFAULT_METRICS_X, "x")
    y = pick(table, y, DEFAULT_METRICS_Y, "y")
    table.require(x, y)
    xs, ys = table.numeric(x), table.numeric(y)
    if logx:
        require_positive(table, x, xs, "--logx")
    if logy:
        require_positive(table, y, ys, "--logy")
    max_x = x in maximize or maximized(x)
    max_y = y in maximize or maximized(y)
    front = pareto_front(xs, ys, max_x, max_y)
    params = list(label_by) if label_by else param_columns(table, [x, y])
    table.require(*params)
    fx, xl = scale_for(xs, x)
    fy, yl = scale_for(ys, y)
    X = [v * fx for v in xs]
    Y = [v * fy for v in ys]
    fig = new_figure(6.0, 4.2)
    ax = fig.add_subplot()
    on = set(front)
    others = [i for i in range(len(X)) if i not in on]
    ax.scatter([X[i] for i in others], [Y[i] for i in others], s=22, color="#9a9a9a",
               label="dominated design points", zorder=2)
    order = sorted(front, key=lambda i: X[i])
    ax.plot([X[i] for i in order], [Y[i] for i in order], "-", color=OKABE_ITO[3], lw=1.2,
            zorder=3)
    ax.scatter([X[i] for i in order], [Y[i] for i in order], s=36, color=OKABE_ITO[3],
               edgecolor="black", linewidth=0.5, label="Pareto front", zorder=4)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xl + (" \u2192 higher is better" if max_x else ""))
    ax.set_ylabel(yl + (" \u2192 higher is better" if max_y else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", frameon=True)
    ax.set_title(title or "%s vs %s (%d points, %d on the front)" % (
        pretty(unit_of(y)[0]), pretty(unit_of(x)[0]), len(X), len(front)))
    if params:
        # Labels carry the parameters' values; the legend's title names them.
        ax.legend(loc="best", frameon=True,
                  title="labels: " + ", ".join(short(p) for p in params),
                  title_fontsize=7)
        # Front points first so they win the space; the others if room remains.
        idx = order + others
        texts = [", ".join(fmt_param(p, table.rows[i].get(p)) for p in params) for i in idx]
        place_labels(fig, ax, [(X[i], Y[i]) for i in idx], texts)
    fig.bitcycle = {"front": front, "params": params, "x": x, "y": y}
    return fig


# --- breakdown ---------------------------------------------------------------

LAYER_RE = re.compile(r"^layers\.(\d+)\.")
EXPERT_RE = re.compile(r"experts\.\d+\.")


def op_group(name, by):
    if by == "op":
        return EXPERT_RE.sub("experts.*.", LAYER_RE.sub("", name))
    if by == "layer":
        m = LAYER_RE.match(name)
        return "layer %s" % m.group(1) if m else name
    raise AnalysisError('--by "%s": expected op or layer' % by)


LATENCY_PARTS = [("compute_cycles", "compute", OKABE_ITO[0]),
                 ("memory_stall_cycles", "memory stall", OKABE_ITO[1]),
                 ("dependency_stall_cycles", "dependency stall", OKABE_ITO[2])]
HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo", "--"]


def latency_groups(rep, by):
    """{group: [compute_s, memory_stall_s, dependency_stall_s]} in first-seen order."""
    f = (rep.get("technology") or {}).get("frequency_hz")
    if not f:
        raise report_error(rep, "technology.frequency_hz", "missing (the latency breakdown "
                           "needs the clock; use a report of `bitcycle run --json`)")
    groups = {}
    for op in rep.get("ops", []):
        g = groups.setdefault(op_group(op["name"], by), [0.0, 0.0, 0.0])
        for k, (field, _, _) in enumerate(LATENCY_PARTS):
            g[k] += float(op.get(field, 0.0)) / f
    return groups


def energy_parts(rep, by):
    """{part: joules}: per component, or per component.action (dynamic) plus leakage."""
    if by == "component":
        return dict((rep.get("breakdown") or {}).get("energy_j") or {})
    if by == "action":
        parts = {}
        for a in rep.get("actions", []):
            if a.get("energy_j", 0) > 0:
                k = "%s.%s" % (a["component"], a["action"])
                parts[k] = parts.get(k, 0.0) + a["energy_j"]
        leak = sum(((rep.get("breakdown") or {}).get("leakage_energy_j") or {}).values())
        if leak > 0:
            parts["leakage"] = leak
        return parts
    raise AnalysisError('--energy-by "%s": expected component or action' % by)


def _top(parts_list, top):
    """The `top` largest parts over all runs; the rest merged into 'other'."""
    total = {}
    for p in parts_list:
        for k, v in p.items():
            total[k] = total.get(k, 0.0) + v
    keys = sorted(total, key=lambda k: -total[k])
    keep = [k for k in keys[:top] if total[k] > 0]
    rest = [k for k in keys[top:] if total[k] > 0]
    return keep, rest


def breakdown_figure(reports, by="op", what="both", energy_by="component", top_groups=12,
                     top_parts=8):
    """reports: [(path, report)]. Latency: per op (layers merged) or per layer,
    stacked compute / memory stall / dependency stall, one bar per run side by
    side; energy: one stacked bar per run, per component or action."""
    if not reports:
        raise AnalysisError("breakdown: no run reports given")
    if what not in ("both", "latency", "energy"):
        raise AnalysisError('--what "%s": expected latency, energy or both' % what)
    names = [config_name(r, p) for p, r in reports]
    if len(set(names)) < len(names):  # same config twice: tell them apart by file
        names = ["%s (%s)" % (n, p.rsplit("/", 1)[-1]) for n, (p, _) in zip(names, reports)]
    panels = ["latency", "energy"] if what == "both" else [what]
    fig = new_figure(7.0 if what == "both" else 6.0, 4.2)
    axes = fig.subplots(1, len(panels), squeeze=False,
                        width_ratios=[2.2, 1] if len(panels) == 2 else None)[0]
    fig.bitcycle = {"runs": names}
    for ax, panel in zip(axes, panels):
        if panel == "latency":
            per_run = [latency_groups(r, by) for _, r in reports]
            order = []
            for g in per_run:
                for k in g:
                    if k not in order:
                        order.append(k)
            if len(order) > top_groups:  # the slowest groups over all runs, then the rest
                tot = {k: sum(sum(g.get(k, [0, 0, 0])) for g in per_run) for k in order}
                keep = sorted(order, key=lambda k: -tot[k])[:top_groups - 1]
                keep_set = set(keep)
                order = [k for k in order if k in keep_set] + ["other"]
                merged = []
                for g in per_run:
                    m = {k: g.get(k, [0.0, 0.0, 0.0]) for k in keep}
                    rest = [0.0, 0.0, 0.0]
                    for k, v in g.items():
                        if k not in keep_set:
                            rest = [a + b for a, b in zip(rest, v)]
                    m["other"] = rest
                    merged.append(m)
                per_run = merged
            allv = [sum(g.get(k, [0, 0, 0])) for g in per_run for k in order]
            factor, ylabel = scale_for(allv, "latency_s")
            n = len(per_run)
            width = 0.8 / n
            for j, g in enumerate(per_run):
                xs = [i - 0.4 + width * (j + 0.5) for i in range(len(order))]
                bottom = [0.0] * len(order)
                for k, (_, label, color) in enumerate(LATENCY_PARTS):
                    vals = [g.get(o, [0, 0, 0])[k] * factor for o in order]
                    ax.bar(xs, vals, width * 0.92, bottom=bottom, color=color,
                           hatch=HATCHES[j % len(HATCHES)], edgecolor="white" if n == 1 else
                           "#333333", linewidth=0.4,
                           label=label if j == 0 else None)
                    bottom = [b + v for b, v in zip(bottom, vals)]
            ax.set_xticks(range(len(order)))
            ax.set_xticklabels(order, rotation=45, ha="right")
            ax.set_xlabel("op (summed over layers)" if by == "op" else "layer")
            ax.set_ylabel(ylabel)
            ax.set_title("latency per %s (critical core)" % by)
            handles, labels = ax.get_legend_handles_labels()
            if n > 1:
                from matplotlib.patches import Patch
                for j, nm in enumerate(names):
                    handles.append(Patch(facecolor="white", edgecolor="#333333",
                                         hatch=HATCHES[j % len(HATCHES)]))
                    labels.append(nm)
            ax.legend(handles, labels, loc="upper right")
            ax.grid(True, axis="y", alpha=0.3)
            fig.bitcycle["latency_groups"] = order
        else:
            parts_list = [energy_parts(r, energy_by) for _, r in reports]
            keep, rest = _top(parts_list, top_parts)
            cols = keep + (["other"] if rest else [])
            allv = [sum(p.values()) for p in parts_list]
            factor, ylabel = scale_for(allv, "energy_j")
            colors = palette(len(cols))
            bottom = [0.0] * len(reports)
            for k, c in enumerate(cols):
                vals = [(sum(p.get(r, 0.0) for r in rest) if c == "other" else p.get(c, 0.0))
                        * factor for p in parts_list]
                ax.bar(range(len(reports)), vals, 0.6, bottom=bottom, color=colors[k], label=c,
                       edgecolor="white", linewidth=0.4)
                bottom = [b + v for b, v in zip(bottom, vals)]
            ax.set_ylim(0, max(bottom) * 1.06 if max(bottom) > 0 else 1)
            ax.set_xticks(range(len(reports)))
            ax.set_xticklabels(names, rotation=30 if len(reports) > 1 else 0,
                               ha="right" if len(reports) > 1 else "center")
            ax.set_xlabel("config")
            ax.set_ylabel(ylabel)
            ax.set_title("energy per run, by %s" % energy_by)
            # Legend top-down in stacking order (largest at the bottom of the bar).
            h, lab = ax.get_legend_handles_labels()
            ax.legend(h[::-1], lab[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0),
                      frameon=False)
            ax.grid(True, axis="y", alpha=0.3)
            fig.bitcycle["energy_parts"] = cols
    return fig


# --- area --------------------------------------------------------------------

def area_figure(reports, top_parts=10):
    if not reports:
        raise AnalysisError("area: no run reports given")
    names = [config_name(r, p) for p, r in reports]
    parts_list = []
    for p, r in reports:
        a = (r.get("breakdown") or {}).get("area_mm2")
        if not a:
            raise report_error(r, "breakdown.area_mm2", "missing or empty (use a report of "
                               "`bitcycle run --json`)")
        parts_list.append(a)
    keep, rest = _top(parts_list, top_parts)
    cols = keep + (["other"] if rest else [])
    colors = palette(len(cols))
    fig = new_figure(6.0, 0.9 + 0.45 * max(3, len(reports)))
    ax = fig.add_subplot()
    left = [0.0] * len(reports)
    ys = list(range(len(reports)))
    for k, c in enumerate(cols):
        vals = [sum(p.get(r, 0.0) for r in rest) if c == "other" else p.get(c, 0.0)
                for p in parts_list]
        ax.barh(ys, vals, 0.6, left=left, color=colors[k], label=c, edgecolor="white",
                linewidth=0.4)
        left = [a + b for a, b in zip(left, vals)]
    for y, tot in zip(ys, left):
        ax.annotate("%.3g mm\u00b2" % tot, (tot, y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7)
    ax.set_yticks(ys)
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlim(0, max(left) * 1.15)
    ax.set_xlabel("area (mm\u00b2)")
    ax.set_ylabel("config")
    ax.set_title("chip area by component")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.grid(True, axis="x", alpha=0.3)
    fig.bitcycle = {"configs": names, "parts": cols}
    return fig


# --- roofline ------------------------------------------------------------------

def roofs(rep):
    """The roofs: [(label, peak ops/s, [unit.format keys])], one per unit and
    format, formats of a unit with the same peak sharing a roof (int8 and fp8
    on a DP-2 MAC array), highest first; and the memory bandwidth (B/s) under
    them, from the report's derived values."""
    d = rep.get("derived") or {}
    peaks = d.get("peak_ops_per_s") or {}
    if not peaks:
        raise report_error(rep, "derived.peak_ops_per_s", "missing (use a report of "
                           "`bitcycle run --json`)")
    groups = {}
    for key, v in peaks.items():
        if v <= 0:
            continue
        unit, _, cls = key.partition(".")
        groups.setdefault((unit, v), []).append(key)
    out = []
    for (unit, v), keys in groups.items():
        fmts = ", ".join(k.partition(".")[2] or k for k in keys)
        out.append(("%s %s" % (unit, fmts), v, keys))
    if not out:
        raise report_error(rep, "derived.peak_ops_per_s", "no unit has a peak above 0 (no roof "
                           "to draw)")
    out.sort(key=lambda r: -r[1])
    bw = d.get("dram_bandwidth_Bps") or 0
    mem = "DRAM"
    if not bw:
        cfg = ((rep.get("config") or {}).get("memory") or {}).get("shared_sram") or {}
        bw = cfg.get("bandwidth_Bps") if is_number(cfg.get("bandwidth_Bps")) else 0
        mem = "shared SRAM"
    if not bw or bw <= 0 or not math.isfinite(bw):
        raise report_error(rep, "derived.dram_bandwidth_Bps", "missing or 0, and no "
                           "config.memory.shared_sram.bandwidth_Bps above 0: no bandwidth for "
                           "the roof")
    return out, bw, mem


def roofline_figure(rep, path="report"):
    roof_list, bw, mem = roofs(rep)
    pts = []
    for op in rep.get("ops", []):
        fl, by, lat = op.get("flops", 0), op.get("global_memory_bytes", 0), op.get("latency_s", 0)
        if fl > 0 and lat > 0:
            pts.append((op["name"], op.get("kind", "?"), fl, by, fl / lat))
    if not pts:
        raise AnalysisError("%s: no op with FLOPs and a latency to place on the roofline" % path)
    finite = [fl / by for _, _, fl, by, _ in pts if by > 0]
    peak_max = roof_list[0][1]
    lo = min(finite + [peak_max / bw]) / 4 if finite else peak_max / bw / 100
    hi_data = max(finite) if finite else peak_max / bw
    hi = max(hi_data, peak_max / bw) * 8
    # Ops with no global-memory traffic (inputs resident in SRAM) have infinite
    # intensity: they are drawn at the right edge, marked as such.
    edge = hi / 1.5
    fig = new_figure(6.4, 4.4)
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    import numpy as np
    xs = np.logspace(math.log10(lo), math.log10(hi), 200)
    styles = ["-", "--", "-.", ":"]
    for k, (label, peak, _) in enumerate(roof_list):
        ax.plot(xs, np.minimum(peak, xs * bw), styles[k % 4], color="#555555", lw=1.0)
        ax.annotate("%s: %.3g Tops/s" % (label, peak / 1e12), (hi, peak), xytext=(-4, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=7,
                    color="#333333")
    kinds = sorted({k for _, k, _, _, _ in pts})
    colors = dict(zip(kinds, palette(len(kinds))))
    markers = dict(zip(kinds, ["o", "s", "^", "D", "v", "P"]))
    for kind in kinds:
        sel = [p for p in pts if p[1] == kind]
        x = [fl / by if by > 0 else edge for _, _, fl, by, _ in sel]
        y = [perf for *_, perf in sel]
        ax.scatter(x, y, s=16, color=colors[kind], marker=markers.get(kind, "o"),
                   edgecolor="black", linewidth=0.3, label="%s (%d ops)" % (kind, len(sel)),
                   alpha=0.85, zorder=3)
    if any(by <= 0 for _, _, _, by, _ in pts):
        ax.axvline(edge, color="#bbbbbb", lw=0.8, ls=":")
        ax.annotate("no global-memory\ntraffic", (edge, ax.get_ylim()[0]), xytext=(-3, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=7,
                    color="#666666")
    ymin = min(min(p[4] for p in pts), peak_max) / 10
    ax.set_ylim(ymin, peak_max * 3)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("arithmetic intensity (ops/byte of %s traffic)" % mem)
    ax.set_ylabel("performance (ops/s)")
    ax.set_title("%s: roofline, %s %.3g TB/s" % (config_name(rep, path), mem, bw / 1e12))
    ax.legend(loc="lower right", title="op kind")
    ax.grid(True, which="major", alpha=0.3)
    fig.bitcycle = {"roofs": roof_list, "kinds": kinds, "points": len(pts)}
    return fig


# --- heatmap -----------------------------------------------------------------

def _sorted_values(vals):
    uniq = []
    for v in vals:
        if v not in uniq:
            uniq.append(v)
    return sorted(uniq, key=sort_key)


AGGS = {
    "mean": lambda v: sum(v) / len(v),
    "min": min,
    "max": max,
    "sum": sum,
}


def heatmap_figure(table, x, y, metric, agg="mean", cmap="viridis"):
    table = table.nonempty().runs_that_ran()
    table.require(x, y, metric)
    if agg not in AGGS:
        raise AnalysisError('--agg "%s": expected one of %s' % (agg, ", ".join(AGGS)))
    vals = table.numeric(metric)
    xv = _sorted_values([r.get(x) for r in table.rows])
    yv = _sorted_values([r.get(y) for r in table.rows])
    cells = {}
    for r, v in zip(table.rows, vals):
        cells.setdefault((r.get(x), r.get(y)), []).append(v)
    multi = max(len(c) for c in cells.values())
    factor, clabel = scale_for(vals, metric)
    import numpy as np
    grid = np.full((len(yv), len(xv)), np.nan)
    for (a, b), v in cells.items():
        grid[yv.index(b), xv.index(a)] = AGGS[agg](v) * factor
    fig = new_figure(max(4.5, 1.0 + 0.75 * len(xv)), max(3.2, 1.2 + 0.45 * len(yv)))
    ax = fig.add_subplot()
    masked = np.ma.masked_invalid(grid)
    cm = plt.get_cmap(cmap).copy()
    cm.set_bad("#dddddd")
    im = ax.imshow(masked, cmap=cm, aspect="auto", origin="lower")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(clabel + (" (%s of %d rows)" % (agg, multi) if multi > 1 else ""))
    lo, hi = np.nanmin(grid), np.nanmax(grid)
    for i in range(len(yv)):
        for j in range(len(xv)):
            v = grid[i, j]
            if np.isnan(v):
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=7, color="#555555")
                continue
            dark = (v - lo) / (hi - lo) < 0.5 if hi > lo else True
            ax.text(j, i, "%.3g" % v, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    ax.set_xticks(range(len(xv)))
    ax.set_xticklabels([fmt_param(x, v) for v in xv])
    ax.set_yticks(range(len(yv)))
    ax.set_yticklabels([fmt_param(y, v) for v in yv])
    ax.set_xlabel(param_name(x))
    ax.set_ylabel(param_name(y))
    ax.set_title("%s over %s and %s" % (pretty(unit_of(metric)[0]), param_name(x),
                                        param_name(y)))
    fig.bitcycle = {"x": xv, "y": yv, "grid": grid, "rows_per_cell": multi}
    return fig


# --- scaling -------------------------------------------------------------------

SCALING_X = ("batch", "context", "weight_bits", "seq")


def scaling_figure(table, x, metric, line_by=None, logx=None, logy=False):
    table = table.nonempty().runs_that_ran()
    table.require(x, metric)
    if line_by is None:
        line_by = ["hw_name"] if "hw_name" in table.columns else ["hw"] if "hw" in table.columns else [
            c for c in param_columns(table, [metric]) if c != x][:2]
    table.require(*line_by)
    xs = table.numeric(x)
    ys = table.numeric(metric)
    if logy:
        require_positive(table, metric, ys, "--logy")
    factor, ylabel = scale_for(ys, metric)
    lines = {}
    for r, a, b in zip(table.rows, xs, ys):
        key = ", ".join(fmt_param(c, r.get(c)) for c in line_by) if line_by else "all"
        lines.setdefault(key, []).append((a, b * factor))
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    colors = palette(len(lines))
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    for k, (key, pts) in enumerate(lines.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=markers[k % len(markers)],
                color=colors[k], label=key, lw=1.3, ms=4)
    positive = all(v > 0 for v in xs)
    if logx is None:
        logx = positive and max(xs) / min(xs) >= 8
    if logx:
        ax.set_xscale("log", base=2)
        ticks = sorted(set(xs))
        ax.set_xticks(ticks)
        ax.set_xticklabels([fmt_param(x, t) for t in ticks])
        ax.minorticks_off()
    if logy:
        ax.set_yscale("log")
    xstem, xunit, _ = unit_of(x)
    xlabel = {"batch": "batch (sequences)", "context": "context (tokens)",
              "seq": "prompt length (tokens)", "weight_bits": "weight bits"}.get(
                  x, param_name(x) if "." in x else pretty(xstem) + (" (%s)" % xunit if xunit else ""))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("%s vs %s" % (pretty(unit_of(metric)[0]), xlabel.split(" (")[0]))
    ax.grid(True, alpha=0.3)
    ax.legend(title=", ".join(short(c) for c in line_by) if line_by else None, loc="best")
    fig.bitcycle = {"lines": list(lines)}
    return fig


# --- validation ----------------------------------------------------------------

def mape(pred, meas):
    pairs = [(p, m) for p, m in zip(pred, meas) if is_number(p) and is_number(m) and m > 0]
    if not pairs:
        return None
    return sum(abs(p - m) / m for p, m in pairs) / len(pairs)


def validation_figure(table):
    table.nonempty()
    table.require("simulated_latency_s", "measured_latency_s")
    rows = [r for r in table.rows if is_number(r.get("simulated_latency_s")) and
            is_number(r.get("measured_latency_s")) and r.get("status", "ok") == "ok"]
    if not rows:
        raise AnalysisError("%s: no row has both a simulated and a measured latency "
                            "(every row failed?)" % table.source)
    # Log-log axes and relative errors: every latency drawn must be above 0.
    for r in rows:
        for col in ("measured_latency_s", "simulated_latency_s", "roofline_latency_s"):
            v = r.get(col)
            if is_number(v) and not (v > 0 and math.isfinite(v)):
                raise cell_error(r, col, "%s is not a latency above 0 (it cannot be shown on "
                                 "the log-log axes, nor be part of a MAPE)" % fmt_value(v),
                                 table.source)
    has_roof = "roofline_latency_s" in table.columns and any(
        is_number(r.get("roofline_latency_s")) for r in rows)
    sim = [r["simulated_latency_s"] for r in rows]
    meas = [r["measured_latency_s"] for r in rows]
    sim_mape = mape(sim, meas)
    fig = new_figure(5.2, 4.6)
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    kinds = _sorted_values([r.get("kind", "?") for r in rows])
    colors = dict(zip(kinds, palette(len(kinds))))
    allv = sim + meas
    for kind in kinds:
        sel = [r for r in rows if r.get("kind", "?") == kind]
        ax.scatter([r["measured_latency_s"] for r in sel],
                   [r["simulated_latency_s"] for r in sel], s=26, color=colors[kind],
                   edgecolor="black", linewidth=0.4, label="BitCycle: %s" % kind, zorder=3)
    title = "simulator MAPE %.1f %%" % (100 * sim_mape)
    roof_mape = None
    if has_roof:
        rr = [r for r in rows if is_number(r.get("roofline_latency_s"))]
        roof = [r["roofline_latency_s"] for r in rr]
        roof_mape = mape(roof, [r["measured_latency_s"] for r in rr])
        ax.scatter([r["measured_latency_s"] for r in rr], roof, s=22, marker="x",
                   color="#777777", linewidth=0.9, label="roofline baseline", zorder=2)
        allv += roof
        title += ", roofline MAPE %.1f %%" % (100 * roof_mape)
    lo = min(v for v in allv if v > 0) / 2
    hi = max(allv) * 2
    ax.plot([lo, hi], [lo, hi], "--", color="black", lw=0.8, label="y = x")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("measured latency (s)")
    ax.set_ylabel("predicted latency (s)")
    ax.set_title(title + "\n(%d rows)" % len(rows))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize=7)
    fig.bitcycle = {"mape": sim_mape, "roofline_mape": roof_mape, "kinds": kinds}
    return fig


__all__ = ["KINDS", "Table", "AnalysisError", "pareto_figure", "breakdown_figure",
           "area_figure", "roofline_figure", "heatmap_figure", "scaling_figure",
           "validation_figure", "pareto_front"]
