"""`bitcycle plot` and `bitcycle table` through the launcher: figures in each
format, SQLite stores, and bad input (exit 2, one clear message, no file)."""

import csv
import os
import sqlite3

import pytest

from conftest import fixture

PNG = b"\x89PNG\r\n\x1a\n"


def leftovers(d):
    return [f for f in os.listdir(d) if f.endswith(".tmp")]


@pytest.mark.parametrize("args", [
    ["pareto", fixture("sweep.csv")],
    ["pareto", fixture("sweep.csv"), "--x", "area_mm2", "--y", "tokens_per_s", "--logy"],
    ["breakdown", fixture("run_a.json"), fixture("run_b.json"), "--by", "layer"],
    ["area", fixture("run_a.json"), fixture("run_b.json")],
    ["roofline", fixture("run_a.json")],
    ["heatmap", fixture("sweep.csv"), "--x", "core.sram.size", "--y", "noc.mesh.x",
     "--metric", "latency_s", "--where", "batch=1"],
    ["scaling", fixture("sweep.csv"), "--x", "batch", "--metric", "latency_s",
     "--where", "core.sram.size=4 MiB"],
    ["validation", fixture("validate.csv")],
])
def test_every_kind_writes_a_png(cli, tmp_path, args):
    out = tmp_path / "fig.png"
    r = cli("plot", *args, "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(PNG)
    assert leftovers(tmp_path) == []


def test_pdf_and_svg(cli, tmp_path):
    for ext, magic in (("pdf", b"%PDF"), ("svg", b"<?xml")):
        out = tmp_path / ("fig." + ext)
        r = cli("plot", "pareto", fixture("sweep.csv"), "-o", out)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes().startswith(magic)


def test_scaling_from_run_reports(cli, tmp_path):
    # Run reports are rows too: hw, workload fields and metrics.
    out = tmp_path / "s.png"
    r = cli("plot", "scaling", fixture("run_a.json"), fixture("run_a_b4.json"),
            "--x", "batch", "--metric", "token_latency_s", "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.exists()


def test_sqlite_results_table(cli, tmp_path):
    db = tmp_path / "store.sqlite"
    with open(fixture("sweep.csv")) as f:
        rows = list(csv.reader(f))
    con = sqlite3.connect(db)
    cols = ", ".join('"%s"' % c for c in rows[0])
    con.execute("CREATE TABLE results (%s)" % cols)
    con.executemany("INSERT INTO results VALUES (%s)" % ",".join("?" * len(rows[0])), rows[1:])
    con.commit()
    con.close()
    out = tmp_path / "p.png"
    r = cli("plot", "pareto", db, "-o", out)
    assert r.returncode == 0, r.stderr
    r = cli("table", db, "--format", "csv", "--columns", "hw,batch,latency_s",
            "--sort", "latency_s:asc")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "hw,batch,latency_s"
    assert len(lines) == 19
    lat = [float(x.split(",")[2]) for x in lines[1:]]
    assert lat == sorted(lat)


def bad(cli, tmp_path, *args, out_name="fig.png"):
    out = tmp_path / out_name
    r = cli(*args, "-o", out)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert not out.exists()
    assert leftovers(tmp_path) == []
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # one clear line, no traceback
    return lines[0]


def test_missing_column_names_it_and_the_available_ones(cli, tmp_path):
    msg = bad(cli, tmp_path, "plot", "pareto", fixture("sweep.csv"), "--y", "joules_per_lama")
    assert msg.startswith("bitcycle plot: error: ")
    assert '"joules_per_lama"' in msg and "available: point, hw, noc.mesh.x" in msg


def test_missing_heatmap_parameter(cli, tmp_path):
    msg = bad(cli, tmp_path, "plot", "heatmap", fixture("sweep.csv"), "--x", "core.sram.size",
              "--y", "dram", "--metric", "latency_s")
    assert '"dram"' in msg and "core.sram.size" in msg


def test_empty_sweep(cli, tmp_path):
    msg = bad(cli, tmp_path, "plot", "pareto", fixture("empty_sweep.csv"))
    assert "no result rows" in msg and "latency_s" in msg


def test_where_that_matches_nothing_says_so(cli, tmp_path):
    # It had said "no result rows (an empty sweep?)" of a sweep that has rows.
    msg = bad(cli, tmp_path, "plot", "scaling", fixture("sweep.csv"), "--where", "batch=3")
    assert '--where: batch=3: no row has batch = "3"; its values: 1, 8' in msg


def test_unknown_kind(cli, tmp_path):
    msg = bad(cli, tmp_path, "plot", "piechart", fixture("sweep.csv"))
    assert 'unknown plot kind "piechart"' in msg
    assert "pareto, breakdown, area, roofline, heatmap, scaling, validation" in msg


def test_unknown_figure_format(cli, tmp_path):
    msg = bad(cli, tmp_path, "plot", "pareto", fixture("sweep.csv"), out_name="fig.bmp")
    assert 'unknown figure format "bmp"' in msg and "png, pdf, svg" in msg


def test_missing_file_and_wrong_file_kind(cli, tmp_path):
    msg = bad(cli, tmp_path, "plot", "roofline", tmp_path / "nope.json")
    assert "nope.json: no such file" in msg
    msg = bad(cli, tmp_path, "plot", "breakdown", fixture("sweep.csv"))
    assert "not valid JSON" in msg or "not a run report" in msg
    msg = bad(cli, tmp_path, "plot", "area", fixture("validate.csv"))
    assert "validate.csv" in msg


def test_existing_figure_is_kept_when_the_new_one_fails(cli, tmp_path):
    out = tmp_path / "fig.png"
    out.write_bytes(b"old")
    r = cli("plot", "pareto", fixture("sweep.csv"), "--x", "nope", "-o", out)
    assert r.returncode == 2
    assert out.read_bytes() == b"old"


def test_missing_output_option(cli):
    r = cli("plot", "pareto", fixture("sweep.csv"))
    assert r.returncode == 2
    assert "-o/--output" in r.stderr


def test_sqlite_without_results_table(cli, tmp_path):
    db = tmp_path / "x.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE points (a)")
    con.commit()
    con.close()
    msg = bad(cli, tmp_path, "plot", "pareto", db)
    assert 'no table "results"; tables: points' in msg


def test_table_bad_input(cli, tmp_path):
    r = cli("table", fixture("sweep.csv"), "--columns", "hw,speed")
    assert r.returncode == 2
    assert '"speed"' in r.stderr and "available:" in r.stderr
    r = cli("table", fixture("empty_sweep.csv"))
    assert r.returncode == 2 and "no result rows" in r.stderr
    out = tmp_path / "t.md"
    r = cli("table", fixture("sweep.csv"), "--sort", "nope", "-o", out)
    assert r.returncode == 2 and not out.exists()


def test_non_utf8_csv_non_list_ops_and_a_fifo_are_one_line_each(cli, tmp_path):
    # Each gave a Python traceback and exit 1; the FIFO hung.
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"name,latency_s\nr\xe9sum\xe9,1\n")
    msg = bad(cli, tmp_path, "plot", "pareto", latin1)
    assert msg == ("bitcycle plot: error: %s: not UTF-8 text (byte 0xE9 at offset 16); re-save "
                   "the file as UTF-8" % latin1)
    report = tmp_path / "ops.json"
    report.write_text('{"schema": "bitcycle-report", "ops": "none"}')
    for args in (["plot", "breakdown", report], ["plot", "roofline", report],
                 ["table", report, "--ops"]):
        msg = bad(cli, tmp_path, *args)
        assert msg.endswith('%s: "ops" is not a list of ops (expected the JSON of `bitcycle run '
                            '--json`)' % report), msg
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    msg = bad(cli, tmp_path, "table", fifo)
    assert msg == ("bitcycle table: error: %s: not a regular file (a FIFO or a device), expected "
                   "a results file" % fifo)


def test_a_byte_order_mark_is_not_part_of_the_header(cli, tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfname,latency_s\na,1\n")
    r = cli("table", bom, "--format", "csv", "--columns", "name")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["name", "a"]


def test_table_ops_of_run_reports(cli):
    r = cli("table", fixture("run_a.json"), "--ops", "--format", "csv",
            "--columns", "name,latency_s,compute_s", "--sort=-latency_s")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "name,latency_s,compute_s"
    lat = [float(x.split(",")[1]) for x in lines[1:]]
    assert lat == sorted(lat, reverse=True) and len(lat) > 5


def test_sweep_results_db_in_wal_mode(cli, tmp_path):
    # A store laid out like `bitcycle sweep`'s results.db: write-ahead log,
    # tables results, meta and pareto.
    db = tmp_path / "results.db"
    with open(fixture("sweep_store.csv")) as f:
        rows = list(csv.reader(f))
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("CREATE TABLE pareto (fidelity TEXT, objectives TEXT, result_id INTEGER)")
    con.execute("CREATE TABLE results (%s)" % ", ".join('"%s"' % c for c in rows[0]))
    con.executemany("INSERT INTO results VALUES (%s)" % ",".join("?" * len(rows[0])),
                    [[None if v == "" else v for v in r] for r in rows[1:]])
    con.commit()
    con.close()
    out = tmp_path / "h.png"
    r = cli("plot", "heatmap", db, "--x", "memory.dram.bandwidth", "--y", "core.sram.size",
            "--metric", "energy_per_token_j", "--where", "batch=1", "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(PNG)
    r = cli("table", db, "--columns", "memory.dram.bandwidth,core.sram.size,batch,status",
            "--where", "status=skipped", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:] == ["6400000000000,4194304,16,skipped"]
    r = cli("table", db, "--columns", "memory.dram.bandwidth,core.sram.size",
            "--where", "status=skipped")
    assert r.stdout.splitlines()[2] == "|               6.4e+12 |        4194304 |"
