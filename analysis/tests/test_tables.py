"""`bitcycle table` rendering: exact Markdown, LaTeX and CSV for a small table,
column choice, sorting (numbers and quantities by value), grouping and
aggregation."""

import pytest

import tables
from results_io import AnalysisError, Table

ROWS = [
    {"hw": "b", "sram": "16 MiB", "batch": 8, "latency_s": 0.002, "note": "x_y"},
    {"hw": "a", "sram": "2 MiB", "batch": 1, "latency_s": 0.0015, "note": "50%"},
    {"hw": "b", "sram": "2 MiB", "batch": 1, "latency_s": 0.001, "note": ""},
    {"hw": "a", "sram": "16 MiB", "batch": 8, "latency_s": 0.0031, "note": "a|b"},
]


def t():
    return Table(["hw", "sram", "batch", "latency_s", "note"], [dict(r) for r in ROWS], "t.csv")


def test_csv_columns_and_sort():
    out = tables.render(t(), "csv", columns=["hw", "latency_s"], sort=["-latency_s"])
    assert out == "hw,latency_s\na,0.0031\nb,0.002\na,0.0015\nb,0.001\n"


def test_quantities_sort_by_value_not_text():
    out = tables.render(t(), "csv", columns=["sram", "hw"], sort=["sram", "hw"])
    assert out.splitlines()[1:] == ["2 MiB,a", "2 MiB,b", "16 MiB,a", "16 MiB,b"]


def test_markdown_exact():
    out = tables.render(t(), "markdown", columns=["hw", "batch", "latency_s", "note"],
                        sort=["hw", "batch"])
    assert out == (
        "| hw | batch | latency_s | note |\n"
        "|----|------:|----------:|------|\n"
        "| a  |     1 |    0.0015 | 50%  |\n"
        "| a  |     8 |    0.0031 | a\\|b |\n"
        "| b  |     1 |     0.001 |      |\n"
        "| b  |     8 |     0.002 | x_y  |\n")


def test_markdown_group_prints_each_group_once():
    out = tables.render(t(), "markdown", columns=["batch", "latency_s"], group="hw",
                        sort=["batch"])
    lines = out.splitlines()
    assert lines[0] == "| hw    | batch | latency_s |"
    assert [ln.split("|")[1].strip() for ln in lines[2:]] == ["**a**", "", "**b**", ""]


def test_group_with_aggregate():
    out = tables.render(t(), "csv", columns=["latency_s", "batch"], group="hw", agg="mean")
    assert out == "hw,latency_s,batch,rows\nb,0.0015,4.5,2\na,0.0023,4.5,2\n"


def test_latex_escapes_and_rules():
    out = tables.render(t(), "latex", columns=["hw", "note", "latency_s"], sort=["latency_s"],
                        group="hw", caption="Decode latency")
    assert "\\begin{tabular}{llr}" in out
    assert "hw & note & latency\\_s \\\\" in out
    assert "x\\_y" in out and "50\\%" in out
    body = out.split("\\midrule\n", 1)[1]
    # Groups in the order of their first row after sorting (b has the fastest
    # row), a rule between groups, each group's name once.
    assert body.startswith("b &  & 0.001 \\\\\n & x\\_y & 0.002 \\\\\n\\midrule\na & 50\\% &")
    assert "\\caption{Decode latency}" in out and out.rstrip().endswith("\\end{table}")


def test_bad_format_and_agg_without_group():
    with pytest.raises(AnalysisError):
        tables.render(t(), "html")
    with pytest.raises(AnalysisError) as e:
        tables.render(t(), "csv", agg="mean")
    assert "--group" in str(e.value)


def test_run_report_rows_carry_density_columns():
    # A run report's derived.density becomes the same columns a sweep's results have.
    from results_io import report_row
    e = {"peak_ops_per_s_per_mm2": 7.5e12, "peak_ops_per_s_per_w": 1.2e13}
    rep = {"hw": {"name": "x"}, "latency_s": 1.0,
           "derived": {"density": {"units": {"mac.int8": e}, "chip": {"int8": e}}}}
    row = report_row(rep, "x.json")
    assert row["peak_ops_per_s_per_mm2.mac.int8"] == 7.5e12
    assert row["peak_ops_per_s_per_w.mac.int8"] == 1.2e13
    assert row["peak_ops_per_s_per_mm2.chip.int8"] == 7.5e12
