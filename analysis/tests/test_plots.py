"""Each plot kind renders from a small fixture; the figure object is read back:
axis labels with units, the number of series, their labels, and the values
the figure was built from."""

import math

import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from matplotlib.image import AxesImage

import plots
from conftest import fixture
from results_io import AnalysisError, load_results, read_report, read_csv


def sweep():
    return load_results([fixture("sweep.csv")])


def reports(*names):
    return [(fixture(n), read_report(fixture(n))) for n in names]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def legend_labels(ax):
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


def bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def no_overlap(fig, artists):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(r) for a in artists]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if boxes[i].overlaps(boxes[j]):
                return False
    return True


# --- pareto -------------------------------------------------------------------

def brute_front(xs, ys):
    """Non-dominated points by the definition (minimise both)."""
    out = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        dominated = any((a <= x and b <= y) and (a < x or b < y) for a, b in zip(xs, ys))
        if not dominated:
            out.append(i)
    return sorted(out)


def test_pareto_front_matches_definition():
    t = sweep()
    xs, ys = t.numeric("latency_s"), t.numeric("energy_per_token_j")
    fig = plots.pareto_figure(t, "latency_s", "energy_per_token_j")
    assert sorted(fig.bitcycle["front"]) == brute_front(xs, ys)
    assert 1 < len(fig.bitcycle["front"]) < len(xs)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "latency (ms)"
    assert ax.get_ylabel() == "energy per token (mJ)"
    # Two point series (dominated, front) and the front's line.
    cols = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(cols) == 2
    assert len(cols[1].get_offsets()) == len(fig.bitcycle["front"])
    assert len(cols[0].get_offsets()) + len(cols[1].get_offsets()) == len(xs)
    assert len(ax.get_lines()) == 1
    assert legend_labels(ax) == ["dominated design points", "Pareto front"]
    # Values scaled to the axis unit (ms, mJ).
    fx = sorted(p[0] for p in cols[1].get_offsets())
    assert fx[0] == pytest.approx(min(xs[i] for i in fig.bitcycle["front"]) * 1e3)


def test_pareto_labels_name_the_varied_parameters_without_overlap():
    fig = plots.pareto_figure(sweep(), "latency_s", "energy_per_token_j")
    ax = fig.axes[0]
    # Varied parameters of the fixture; constant ones (quant) and metrics are left out.
    assert fig.bitcycle["params"] == ["hw", "noc.mesh.x", "core.sram.size", "batch"]
    # The legend's title names the parameters, each label gives their values.
    assert ax.get_legend().get_title().get_text() == "labels: hw, mesh.x, sram.size, batch"
    labels = texts(ax)
    assert labels, "no point labels"
    t = sweep()
    want = {", ".join(str(r[p]) for p in fig.bitcycle["params"]) for r in t.rows}
    for s in labels:
        assert s in want and "w4a8" not in s
    # Every front point is labelled (they are placed first), and nothing
    # overlaps: labels, the legend.
    assert len(labels) >= len(fig.bitcycle["front"])
    assert no_overlap(fig, ax.texts + [ax.get_legend()])


def test_pareto_maximised_metric_flips_the_front():
    t = sweep()
    fig = plots.pareto_figure(t, "area_mm2", "tokens_per_s")  # tokens/s: higher is better
    xs, ys = t.numeric("area_mm2"), t.numeric("tokens_per_s")
    assert sorted(fig.bitcycle["front"]) == brute_front(xs, [-y for y in ys])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "area (mm\u00b2)"
    assert ax.get_ylabel().startswith("throughput (") and "tokens/s" in ax.get_ylabel()


def test_pareto_missing_metric_names_it_and_the_columns():
    with pytest.raises(AnalysisError) as e:
        plots.pareto_figure(sweep(), "latency_s", "watts_per_cow")
    msg = str(e.value)
    assert '"watts_per_cow"' in msg and "available:" in msg and "energy_per_token_j" in msg


# --- breakdown ----------------------------------------------------------------

def test_breakdown_latency_and_energy_across_two_runs():
    reps = reports("run_a.json", "run_b.json")
    fig = plots.breakdown_figure(reps, by="op")
    lat, en = fig.axes[0], fig.axes[1]
    groups = fig.bitcycle["latency_groups"]
    # Three stacked parts per run: 2 runs x 3 containers, one bar per op group each.
    bc = bars(lat)
    assert len(bc) == 6
    assert all(len(c.patches) == len(groups) for c in bc)
    # Layers merged: op names without the layer prefix.
    assert "attn.qkv" in groups and not any(g.startswith("layers.") for g in groups)
    labels = legend_labels(lat)
    assert labels[:3] == ["compute", "memory stall", "dependency stall"]
    assert labels[3:] == fig.bitcycle["runs"]
    assert lat.get_ylabel().startswith("latency (") and lat.get_ylabel().endswith("s)")
    assert [t.get_text() for t in lat.get_xticklabels()] == groups
    # Heights: compute of attn.qkv summed over layers, in the axis unit.
    rep = reps[0][1]
    f = rep["technology"]["frequency_hz"]
    want = sum(o["compute_cycles"] for o in rep["ops"] if o["name"].endswith("attn.qkv")) / f
    scale = {"(s)": 1, "(ms)": 1e3, "(\u00b5s)": 1e6, "(ns)": 1e9}[lat.get_ylabel()[8:]]
    assert bc[0].patches[groups.index("attn.qkv")].get_height() == pytest.approx(want * scale)
    # Energy: one stacked bar per run, one series per component.
    eb = bars(en)
    assert len(eb) == len(fig.bitcycle["energy_parts"])
    assert all(len(c.patches) == 2 for c in eb)
    assert set(fig.bitcycle["energy_parts"]) <= set(rep["breakdown"]["energy_j"])
    assert [t.get_text() for t in en.get_xticklabels()] == fig.bitcycle["runs"]
    assert en.get_ylabel().startswith("energy (") and en.get_ylabel().endswith("J)")
    total = sum(c.patches[0].get_height() for c in eb)
    escale = {"J)": 1, "mJ)": 1e3, "\u00b5J)": 1e6, "nJ)": 1e9}[en.get_ylabel().split("(")[1]]
    assert total == pytest.approx(rep["energy_j"] * escale, rel=1e-6)


def test_breakdown_per_layer_and_per_action():
    reps = reports("run_a.json")
    fig = plots.breakdown_figure(reps, by="layer", energy_by="action")
    groups = fig.bitcycle["latency_groups"]
    assert "layer 0" in groups and "layer 1" in groups
    assert any("." in p for p in fig.bitcycle["energy_parts"])  # component.action
    assert len(legend_labels(fig.axes[0])) == 3  # one run: no run legend entries


# --- area ---------------------------------------------------------------------

def test_area_per_component_across_configs():
    reps = reports("run_a.json", "run_b.json")
    fig = plots.area_figure(reps)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "area (mm\u00b2)"
    assert [t.get_text() for t in ax.get_yticklabels()] == fig.bitcycle["configs"]
    assert len(bars(ax)) == len(fig.bitcycle["parts"])
    assert legend_labels(ax) == fig.bitcycle["parts"]
    for k, (_, rep) in enumerate(reps):
        total = sum(c.patches[k].get_width() for c in bars(ax))
        assert total == pytest.approx(rep["area_mm2"], rel=1e-9)
    assert no_overlap(fig, ax.texts)


# --- roofline -------------------------------------------------------------------

def test_roofline_one_roof_per_format_and_every_op():
    path, rep = reports("run_a.json")[0]
    fig = plots.roofline_figure(rep, path)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel().startswith("arithmetic intensity (ops/byte")
    assert ax.get_ylabel() == "performance (ops/s)"
    peaks = rep["derived"]["peak_ops_per_s"]
    # One roof per unit and format; formats of a unit with the same peak share one.
    roofs = fig.bitcycle["roofs"]
    covered = sorted(k for _, _, keys in roofs for k in keys)
    assert covered == sorted(peaks)
    for label, peak, keys in roofs:
        assert all(peaks[k] == peak for k in keys)
        assert len({k.split(".")[0] for k in keys}) == 1
    assert len(roofs) == len({(k.split(".")[0], v) for k, v in peaks.items()})
    assert len(ax.get_lines()) == len(roofs)
    # The fixture chip: int8 and fp8 share the DP-2 MAC array's roof.
    assert any("int8" in label and "fp8" in label for label, _, _ in roofs)
    for label, peak, _ in roofs:
        assert any(t.startswith(label + ": ") for t in texts(ax))
    # Roof heights: the flat part of each roof is its peak.
    assert sorted(max(line.get_ydata()) for line in ax.get_lines()) == pytest.approx(
        sorted(p for _, p, _ in roofs))
    ops = [o for o in rep["ops"] if o["flops"] > 0 and o["latency_s"] > 0]
    cols = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in cols) == len(ops)
    assert len(cols) == len({o["kind"] for o in ops})


# --- heatmap --------------------------------------------------------------------

def test_heatmap_cells_are_the_metric_over_two_parameters():
    t = sweep().where(["batch=8"])
    fig = plots.heatmap_figure(t, "core.sram.size", "noc.mesh.x", "latency_s")
    ax = fig.axes[0]
    img = [c for c in ax.get_children() if isinstance(c, AxesImage)]
    assert len(img) == 1
    grid = img[0].get_array()
    assert grid.shape == (3, 3)
    # Sorted by value with units: 1 MiB, 2 MiB, 4 MiB (not as text).
    assert [x.get_text() for x in ax.get_xticklabels()] == ["1 MiB", "2 MiB", "4 MiB"]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["2", "4", "8"]
    assert ax.get_xlabel() == "core.sram.size" and ax.get_ylabel() == "noc.mesh.x"
    row = next(r for r in t.rows if r["noc.mesh.x"] == 4 and r["core.sram.size"] == "2 MiB")
    assert grid[1, 1] == pytest.approx(row["latency_s"] * 1e3)
    cb = fig.axes[1]
    assert cb.get_ylabel() == "latency (ms)"
    assert len(texts(ax)) == 9


def test_heatmap_aggregates_repeated_cells_and_says_so():
    t = sweep()  # two batches per cell
    fig = plots.heatmap_figure(t, "core.sram.size", "noc.mesh.x", "energy_per_token_j",
                               agg="max")
    assert fig.bitcycle["rows_per_cell"] == 2
    assert "(max of 2 rows)" in fig.axes[1].get_ylabel()
    vals = [r["energy_per_token_j"] for r in t.rows
            if r["noc.mesh.x"] == 2 and r["core.sram.size"] == "1 MiB"]
    assert fig.bitcycle["grid"][0, 0] == pytest.approx(max(vals) * 1e3)


# --- scaling --------------------------------------------------------------------

def test_scaling_one_line_per_config():
    t = sweep().where(["core.sram.size=2 MiB"])
    fig = plots.scaling_figure(t, "batch", "tokens_per_s")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 3
    assert legend_labels(ax) == ["mesh2x2", "mesh4x4", "mesh8x8"]
    assert ax.get_legend().get_title().get_text() == "hw"
    assert ax.get_xlabel() == "batch (sequences)"
    assert "tokens/s" in ax.get_ylabel()
    assert list(lines[0].get_xdata()) == [1, 8]
    assert ax.get_xscale() == "log"  # batch spans 8x


def test_scaling_missing_x_column():
    with pytest.raises(AnalysisError) as e:
        plots.scaling_figure(sweep(), "context", "latency_s")
    assert '"context"' in str(e.value) and "batch" in str(e.value)


# --- validation ------------------------------------------------------------------

def test_validation_scatter_with_roofline_and_both_mapes():
    t = read_csv(fixture("validate.csv"))
    fig = plots.validation_figure(t)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "measured latency (s)"
    assert ax.get_ylabel() == "predicted latency (s)"
    # MAPEs by hand over the 4 rows that ran (the failed row is left out):
    # simulator |0.1|,|0.2|,|0.25|,|0.2| -> 18.75 %; roofline 0.5, 1/3, 0.5, 0.6 -> 48.3 %.
    assert fig.bitcycle["mape"] == pytest.approx(0.1875)
    assert fig.bitcycle["roofline_mape"] == pytest.approx((0.5 + 1 / 3 + 0.5 + 0.6) / 4)
    title = ax.get_title()
    assert "simulator MAPE %.1f %%" % (100 * fig.bitcycle["mape"]) in title
    assert "simulator MAPE 18." in title and "roofline MAPE 48.3 %" in title
    labels = legend_labels(ax)
    assert labels == ["BitCycle: attention", "BitCycle: gemm", "BitCycle: model",
                      "roofline baseline", "y = x"]
    cols = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in cols) == 8  # 4 simulated + 4 roofline
    yx = ax.get_lines()[0]
    assert list(yx.get_xdata()) == list(yx.get_ydata())


def test_validation_without_roofline_column():
    fig = plots.validation_figure(read_csv(fixture("validate_no_roofline.csv")))
    ax = fig.axes[0]
    assert "roofline" not in ax.get_title()
    assert "roofline baseline" not in legend_labels(ax)
    assert fig.bitcycle["mape"] == pytest.approx(0.15)


def test_validation_needs_its_columns():
    with pytest.raises(AnalysisError) as e:
        plots.validation_figure(sweep())
    assert '"simulated_latency_s", "measured_latency_s"' in str(e.value)


# --- units ------------------------------------------------------------------------

@pytest.mark.parametrize("name,values,label,factor", [
    ("latency_s", [2e-3, 4e-3], "latency (ms)", 1e3),
    ("latency_s", [2e-7], "latency (ns)", 1e9),
    ("energy_per_token_j", [0.5], "energy per token (mJ)", 1e3),
    ("area_mm2", [1234.0], "area (mm\u00b2)", 1),
    ("tokens_per_s", [15000.0], "throughput (ktokens/s)", 1e-3),
    ("batch", [1, 2], "batch", 1),
])
def test_axis_units(name, values, label, factor):
    f, lab = plots.scale_for(values, name)
    assert lab == label
    assert f == pytest.approx(factor)
    assert math.isfinite(f)


# --- a sweep's results store (`bitcycle sweep`'s results.csv columns) -------------

def store():
    return load_results([fixture("sweep_store.csv")])


def test_sweep_store_parameters_units_and_skipped_runs():
    t = store()
    fig = plots.pareto_figure(t)  # defaults: latency_s vs energy_per_token_j
    ax = fig.axes[0]
    # The swept parameters; not id, point, status, the config path beside its
    # name, breakdown columns (energy_j.mac), timing columns or outputs.
    assert fig.bitcycle["params"] == ["batch", "memory.dram.bandwidth", "core.sram.size"]
    assert ax.get_legend().get_title().get_text() == "labels: batch, dram.bandwidth, sram.size"
    # The skipped run (no metrics) is left out: 17 of 18 rows are drawn.
    cols = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in cols) == 17
    ok = [r for r in t.rows if r["status"] == "ok"]
    assert sorted(fig.bitcycle["front"]) == brute_front(
        [r["latency_s"] for r in ok], [r["energy_per_token_j"] for r in ok])
    # SI values shown with their units.
    labels = texts(ax)
    assert labels and all(("TB/s" in s and "MiB" in s) for s in labels)
    want = {"%d, %s, %s" % (r["batch"], plots.fmt_param("memory.dram.bandwidth",
                                                          r["memory.dram.bandwidth"]),
                            plots.fmt_param("core.sram.size", r["core.sram.size"])) for r in ok}
    assert set(labels) <= want
    assert "16, 6.4 TB/s, 2 MiB" in want and "1, 1.6 TB/s, 1 MiB" in want


def test_sweep_store_heatmap_ticks_and_the_skipped_cell():
    t = store().where(["batch=16"])
    fig = plots.heatmap_figure(t, "memory.dram.bandwidth", "core.sram.size", "latency_s")
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_xticklabels()] == ["1.6 TB/s", "3.35 TB/s", "6.4 TB/s"]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["1 MiB", "2 MiB", "4 MiB"]
    grid = fig.bitcycle["grid"]
    assert math.isnan(grid[2, 2])  # 6.4 TB/s with 4 MiB was skipped by a constraint
    assert "n/a" in texts(ax)
    assert sum(1 for v in grid.flatten() if not math.isnan(v)) == 8


def test_sweep_store_mixed_fidelities_and_nothing_ran():
    t = store()
    mixed = [dict(r, fidelity="analytical") for r in t.rows] + t.rows
    from results_io import Table
    with pytest.raises(AnalysisError) as e:
        plots.pareto_figure(Table(t.columns, mixed, "r.csv"))
    assert "fidelities analytical, cycle" in str(e.value)
    assert "--where fidelity=" in str(e.value)
    fig = plots.pareto_figure(Table(t.columns, mixed, "r.csv").where(["fidelity=cycle"]))
    assert len(fig.bitcycle["front"]) > 0
    skipped = [dict(r, status="skipped") for r in t.rows]
    with pytest.raises(AnalysisError) as e:
        plots.scaling_figure(Table(t.columns, skipped, "r.csv"), "batch", "latency_s")
    assert "no run with status ok (statuses: skipped)" in str(e.value)


def test_sweep_store_scaling_lines_by_config_name():
    t = store().where(["core.sram.size=2097152"])
    fig = plots.scaling_figure(t, "batch", "token_latency_s", line_by=["memory.dram.bandwidth"])
    ax = fig.axes[0]
    assert legend_labels(ax) == ["1.6 TB/s", "3.35 TB/s", "6.4 TB/s"]
    assert ax.get_legend().get_title().get_text() == "dram.bandwidth"
    fig = plots.scaling_figure(store().where(["core.sram.size=2097152",
                                              "memory.dram.bandwidth=1.6e+12"]),
                               "batch", "token_latency_s")
    assert legend_labels(fig.axes[0]) == ["bitcycle-ref"]  # hw_name, not the path
