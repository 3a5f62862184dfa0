"""Bad input to `bitcycle plot` and `bitcycle table`: each problem is one line on
stderr (`FILE:LINE:COLUMN: error: KEY: ...` at a CSV cell, `FILE: error: KEY: ...`
at a JSON key path, `<command line>: error: --opt: ...` for an option), exit 2,
no output file and nothing on stdout; outputs that are devices, FIFOs or
symbolic links are written as the simulator writes its outputs."""

import os
import stat
import threading

import pytest

from conftest import fixture

PNG = b"\x89PNG\r\n\x1a\n"
HINT = "(give a file in a directory that exists and is writable)"


def leftovers(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".tmp"))


def fails(cli, tmp_path, *args, out=None):
    """Runs a command that must fail; returns its one stderr line."""
    out = out if out is not None else tmp_path / "out.png"
    before = sorted(os.listdir(tmp_path))
    r = cli(*args, "-o", out)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert sorted(os.listdir(tmp_path)) == before  # no output, no temporary file
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # one clear line, no traceback
    return lines[0]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# --- outputs (-o) --------------------------------------------------------------

def test_a_symlink_output_replaces_the_file_it_points_to(cli, tmp_path):
    target = write(tmp_path, "real.md", "old\n")
    link = tmp_path / "link.md"
    link.symlink_to("real.md")
    r = cli("table", fixture("sweep.csv"), "--columns", "hw", "--format", "csv", "-o", link)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == "real.md"
    assert target.read_text().startswith("hw\n")
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to("new.md")
    r = cli("table", fixture("sweep.csv"), "--columns", "hw", "-o", dangling)
    assert r.returncode == 0, r.stderr
    assert dangling.is_symlink() and (tmp_path / "new.md").read_text().startswith("| hw")
    assert leftovers(tmp_path) == []


def test_a_character_device_is_written_through_not_replaced(cli, tmp_path):
    # Through a link to /dev/null (any user), and a device node of our own (root).
    link = tmp_path / "null.md"
    link.symlink_to("/dev/null")
    r = cli("table", fixture("sweep.csv"), "-o", link)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if os.geteuid() == 0:
        node = tmp_path / "devnull"
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        r = cli("table", fixture("sweep.csv"), "-o", node)
        assert r.returncode == 0, r.stderr
        assert stat.S_ISCHR(os.stat(node).st_mode)
    full = tmp_path / "full.md"  # a link: a regression replaces the link, not /dev/full
    full.symlink_to("/dev/full")
    r = cli("table", fixture("sweep.csv"), "-o", full)
    assert r.returncode == 2 and full.is_symlink()
    assert r.stderr == ('<command line>: error: -o: cannot write "%s": write failed: No '
                        'space left on device %s\n' % (full, HINT))


def test_a_fifo_is_written_through_and_one_nobody_reads_is_an_error(cli, tmp_path):
    fifo = tmp_path / "fig.png"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    r = cli("plot", "pareto", fixture("sweep.csv"), "-o", fifo)
    reader.join(30)
    assert r.returncode == 0, r.stderr
    assert got and got[0].startswith(PNG)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    msg = fails(cli, tmp_path, "plot", "pareto", fixture("sweep.csv"), out=fifo)
    assert msg == '<command line>: error: -o: cannot write "%s": nothing reads from it %s' % (
        fifo, HINT)


def test_an_output_that_cannot_be_written_fails_before_any_work(cli, tmp_path):
    (tmp_path / "fig.png").mkdir()
    for args in (["plot", "pareto", fixture("sweep.csv")], ["table", fixture("sweep.csv")]):
        msg = fails(cli, tmp_path, *args, out=tmp_path / "fig.png")
        assert msg == '<command line>: error: -o: cannot write "%s": it is a directory %s' % (
            tmp_path / "fig.png", HINT)
    msg = fails(cli, tmp_path, "table", fixture("sweep.csv"), out=tmp_path / "no" / "t.md")
    assert msg == ('<command line>: error: -o: cannot write "%s": cannot create a file in its '
                   'directory: No such file or directory %s' % (tmp_path / "no" / "t.md", HINT))
    # Checked first: a bad input after a bad output still reports the output.
    msg = fails(cli, tmp_path, "table", tmp_path / "nope.csv", out=tmp_path / "fig.png")
    assert "it is a directory" in msg


def test_an_empty_output_name_is_an_error(cli, tmp_path):
    # It had printed the table on stdout.
    for args in (["table", fixture("sweep.csv")], ["plot", "pareto", fixture("sweep.csv")]):
        msg = fails(cli, tmp_path, *args, out="")
        assert msg == "<command line>: error: -o: empty value (name an output file)"


# --- numbers that are not finite (CSV, SQLite, JSON) ------------------------------

@pytest.mark.parametrize("cell,col,got", [
    ("nan", 3, '"nan"'), ("inf", 3, '"inf"'), ("-inf", 3, '"-inf"'), ("Infinity", 3,
                                                                        '"Infinity"'),
    ("1e999", 3, '"1e999", too large for a float (the largest is 1.8e308)'),
    ("9" * 400, 3, '"999999999999999999999999..." (400 characters), too large for a float '
                   '(the largest is 1.8e308)'),
    ("9" * 5000, 3, '"999999999999999999999999..." (5000 characters), too large for a float '
                    '(the largest is 1.8e308)'),
], ids=["nan", "inf", "-inf", "Infinity", "1e999", "400-digits", "5000-digits"])
def test_a_cell_that_is_no_finite_number_is_an_error_at_the_cell(cli, tmp_path, cell, col, got):
    # They had crashed fmt_cell (int(nan)), or drawn nothing for the point, or
    # written "inf" in a heat map cell, with exit 0.
    csv_file = write(tmp_path, "r.csv", "# a comment\nhw,latency_s,energy_per_token_j\n"
                     "a,1,2\nb,%s,3\n" % cell)
    want = "%s:4:%d: error: latency_s: expected a finite number, got %s" % (csv_file, col, got)
    for args in (["table", csv_file], ["plot", "pareto", csv_file],
                 ["plot", "heatmap", csv_file, "--x", "hw", "--y", "hw", "--metric",
                  "latency_s"]):
        assert fails(cli, tmp_path, *args) == want
    assert fails(cli, tmp_path, "table", csv_file, "--group", "hw", "--agg", "mean",
                 out=tmp_path / "t.md") == want


def test_not_finite_values_in_a_results_store_and_a_run_report(cli, tmp_path):
    import sqlite3
    db = tmp_path / "s.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE results (hw TEXT, latency_s REAL, note TEXT)")
    con.execute("INSERT INTO results VALUES ('a', 1.0, 'x'), ('b', 2.0, 'inf')")
    con.commit()
    con.close()
    assert fails(cli, tmp_path, "table", db, out=tmp_path / "t.md") == (
        '%s: error: note: row 2 of table "results": expected a finite number, got "inf"' % db)
    report = write(tmp_path, "r.json", '{"schema": "bitcycle-report", "hw": {"name": "a"}, '
                   '"latency_s": NaN, "utilization": {"mac": Infinity}, "x": [1e999, %s]}'
                   % ("9" * 5000))
    r = cli("table", report)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [
        "%s: error: latency_s: expected a finite number, got \"NaN\"" % report,
        "%s: error: utilization.mac: expected a finite number, got \"Infinity\"" % report,
        "%s: error: x[0]: expected a finite number, got \"1e999\", too large for a float "
        "(the largest is 1.8e308)" % report,
        "%s: error: x[1]: expected a finite number, got \"999999999999999999999999...\" "
        "(5000 characters), too large for a float (the largest is 1.8e308)" % report]


def test_fmt_cell_and_fmt_value_print_any_number():
    import plots
    import tables
    for v, cell, value in ((float("nan"), "nan", "nan"), (float("-inf"), "-inf", "-inf"),
                           (10 ** 400, "1.000e+400", "1" + "0" * 400),
                           (-10 ** 5000, "-1.000e+5000", "-1.0000000000000000e+5000")):
        assert tables.fmt_cell(v) == cell
        assert plots.fmt_value(v) == value


# --- run reports: fields of the wrong type, missing, nested too deeply ---------------

@pytest.mark.parametrize("args,report,line", [
    (["plot", "breakdown"], '"technology": {"frequency_hz": 1e9}, "ops": [{"compute_cycles": 1}]',
     "ops[0].name: missing (every element of ops has one in a run report)"),
    (["plot", "breakdown"], '"hw": "chip", "technology": {"frequency_hz": 1e9}, "ops": []',
     'hw: expected a map, got the text "chip"'),
    (["plot", "area"], '"breakdown": {"area_mm2": [1, 2]}',
     "breakdown.area_mm2: expected a map, got a list"),
    (["plot", "roofline"], '"derived": {"peak_ops_per_s": {"mac.int8": 0}, '
     '"dram_bandwidth_Bps": 1e12}, "ops": [{"name": "g", "flops": 1e9, '
     '"global_memory_bytes": 1e6, "latency_s": 1e-3}]',
     "derived.peak_ops_per_s: no unit has a peak above 0 (no roof to draw)"),
    (["plot", "roofline"], '"derived": {"peak_ops_per_s": {"mac.int8": 1e14}, '
     '"dram_bandwidth_Bps": -1e12}, "ops": []',
     "derived.dram_bandwidth_Bps: expected a number >= 0, got -1000000000000.0"),
    (["table", "--ops"], '"technology": {"frequency_hz": "1 GHz"}, "ops": [{"name": "g"}]',
     'technology.frequency_hz: expected a number, got the text "1 GHz"'),
    (["table", "--ops"], '"technology": {"frequency_hz": 0}, "ops": [{"name": "g"}]',
     "technology.frequency_hz: expected a number above 0, got 0"),
    (["table"], '"x": ' + "[" * 70 + "]" * 70,
     "x" + "[0]" * 64 + ": maps and lists nested deeper than 64 levels (the limit)"),
    (["table"], '"x": ' + "[" * 100000 + "]" * 100000,
     "maps and lists nested deeper than 64 levels (the limit)"),
], ids=["op-without-name", "hw-text", "area-list", "peaks-zero", "bandwidth-negative",
        "frequency-text", "frequency-zero", "nested-70", "nested-100000"])
def test_a_run_report_with_a_bad_field_names_its_key_path(cli, tmp_path, args, report, line):
    # Each had been a KeyError, TypeError, IndexError, RecursionError or ValueError.
    path = write(tmp_path, "run.json", '{"schema": "bitcycle-report", %s}' % report)
    out = tmp_path / ("out.png" if args[0] == "plot" else "out.md")
    msg = fails(cli, tmp_path, args[0], *args[1:2], path, *args[2:], out=out)
    assert msg == "%s: error: %s" % (path, line)


# --- malformed CSV ---------------------------------------------------------------

@pytest.mark.parametrize("text,line", [
    ("hw,latency_s,latency_s\na,1,5\n",
     '1:14: error: latency_s: column "latency_s" appears twice in the header (also field 2) '
     "(remove one of them)"),
    ("hw,latency_s,energy_j\na,1,2,9,9\n",
     "2:7: error: the row has 5 fields, the header has 3 (remove the extra fields, or quote a "
     "field that holds a comma)"),
    ("hw,latency_s,energy_j\na,1,2\nb,2\n",
     '3:4: error: the row has 2 fields, the header has 3: "energy_j" missing (leave a value '
     "empty between commas, not out)"),
    ('hw,latency_s\n"a,1\nb,2\n',
     "2:1: error: quoted field left open: its closing quote is missing (the rest of the file "
     'would be the field) (close the quote, or double a quote inside a field: "")'),
    ('hw,latency_s\n"a"b,1\n',
     '2:4: error: text after the closing quote of a field (quote the whole field and double '
     'a quote inside it: "")'),
    ("hw,latency_s\na\0b,1\n",
     "2:2: error: NUL byte in the input: input text must not hold NUL bytes (re-save the file "
     "as text)"),
    ("hw,latency_s\n%s,1\n" % ("x" * 131073),
     "2:1: error: hw: a field of 131073 characters, longer than 131072 (the limit)"),
], ids=["duplicate-column", "extra-fields", "missing-field", "open-quote", "after-quote", "nul",
        "long-field"])
def test_a_malformed_csv_is_an_error_at_its_line_and_column(cli, tmp_path, text, line):
    # Each had been read silently (a column overwritten, fields dropped, the
    # rest of the file swallowed by an open quote, NUL copied out) or a traceback.
    path = write(tmp_path, "r.csv", text)
    for args in (["table", path], ["plot", "pareto", path]):
        out = tmp_path / ("t.md" if args[0] == "table" else "p.png")
        assert fails(cli, tmp_path, *args, out=out) == "%s:%s" % (path, line)


def test_a_comment_line_inside_a_quoted_field_is_part_of_the_field(cli, tmp_path):
    path = write(tmp_path, "r.csv", 'hw,latency_s\n"a\n# not a comment",1\r\nb,"2"\n')
    r = cli("table", path, "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'hw,latency_s\n"a\n# not a comment",1\nb,2\n'


# --- SQLite paths are file names, not URIs --------------------------------------------

@pytest.mark.parametrize("name", ["a#b.db", "q?x.db", "pct%41.db"])
def test_a_results_store_is_opened_by_its_exact_name(cli, tmp_path, name):
    # "a#b.db" had read the file "a"; "q?x.db" had created an empty file "q".
    import sqlite3
    for fname, hw in ((name, "right"), ("a", "wrong"), ("q", "wrong"), ("pctA.db", "wrong")):
        con = sqlite3.connect(str(tmp_path / fname))
        con.execute("CREATE TABLE results (hw TEXT)")
        con.execute("INSERT INTO results VALUES (?)", (hw,))
        con.commit()
        con.close()
    before = sorted(os.listdir(tmp_path))
    r = cli("table", tmp_path / name, "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hw\nright\n"
    assert sorted(os.listdir(tmp_path)) == before


# --- latencies of a validation, values on log axes ---------------------------------

VALIDATE_HEAD = ("name,hw,kind,simulated_latency_s,measured_latency_s,error,simulated_energy_j,"
                 "measured_energy_j,status,roofline_latency_s\n")


@pytest.mark.parametrize("row,where", [
    ("g1,a100,gemm,0.001,0,,,,ok,0.0009", "2:20: error: measured_latency_s: 0"),
    ("g1,a100,gemm,0.001,-0.001,,,,ok,0.0009", "2:20: error: measured_latency_s: -0.001"),
    ("g1,a100,gemm,-0.001,0.001,,,,ok,0.0009", "2:14: error: simulated_latency_s: -0.001"),
    ("g1,a100,gemm,0.001,0.001,,,,ok,-1", "2:32: error: roofline_latency_s: -1"),
], ids=["measured-zero", "measured-negative", "simulated-negative", "roofline-negative"])
def test_a_validation_latency_not_above_zero_is_an_error_at_its_cell(cli, tmp_path, row, where):
    # They had given a traceback (mape None) or a dropped point and a MAPE of 75100 %.
    path = write(tmp_path, "v.csv", VALIDATE_HEAD + row + "\ng2,a100,gemm,0.002,0.002,,,,ok,"
                 "0.002\n")
    assert fails(cli, tmp_path, "plot", "validation", path) == (
        "%s:%s is not a latency above 0 (it cannot be shown on the log-log axes, nor be part "
        "of a MAPE)" % (path, where))


@pytest.mark.parametrize("args,where", [
    (["pareto", "--logx", "--logy"], "3:5: error: latency_s: -0.001 cannot be shown on a log "
                                     "axis (drop --logx)"),
    (["pareto", "--logy"], "3:19: error: energy_per_token_j: -5 cannot be shown on a log axis "
                           "(drop --logy)"),
    (["scaling", "--metric", "latency_s", "--logy"],
     "3:5: error: latency_s: -0.001 cannot be shown on a log axis (drop --logy)"),
], ids=["pareto-logx", "pareto-logy", "scaling-logy"])
def test_a_value_not_above_zero_on_a_log_axis_is_an_error(cli, tmp_path, args, where):
    # The point had vanished (an empty figure, only a warning), the title still counting it.
    path = write(tmp_path, "r.csv", "hw,batch,latency_s,token_latency_s,energy_per_token_j\n"
                 "a,2,2,2,1\na,1,-0.001,-0.001,-5\na,4,3,3,0.5\n")
    assert fails(cli, tmp_path, "plot", args[0], path, *args[1:]) == "%s:%s" % (path, where)


# --- user text is drawn literally ----------------------------------------------------

def test_dollar_signs_in_names_and_titles_are_drawn_as_written(cli, tmp_path):
    # matplotlib had parsed them as mathtext: a ValueError traceback, exit 1.
    import json
    path = write(tmp_path, "m.csv", "hw_name,batch,token_latency_s,latency_s,energy_per_token_j\n"
                 "chip $\\x$,1,1,1,2\nchip $\\x$,8,2,2,1\n")
    for args in (["scaling", path], ["pareto", path, "--label-by", "hw_name"],
                 ["pareto", path, "--title", "$\\badcmd$"]):
        out = tmp_path / "fig.png"
        r = cli("plot", *args, "-o", out)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes().startswith(PNG)
    with open(fixture("run_a.json")) as f:
        rep = json.load(f)
    rep["hw"]["name"] = "chip $\\alpha_{x$"
    named = write(tmp_path, "named.json", json.dumps(rep))
    r = cli("plot", "area", named, "-o", tmp_path / "a.png")
    assert r.returncode == 0, r.stderr
    import plots
    from results_io import read_csv
    fig = plots.pareto_figure(read_csv(str(path)), title="$\\badcmd$")
    assert fig.axes[0].get_title() == "$\\badcmd$"
    fig.canvas.draw()  # renders: the text is not parsed


# --- option values ---------------------------------------------------------------

def test_option_values_out_of_range_are_errors(cli, tmp_path):
    line = fails(cli, tmp_path, "table", fixture("sweep.csv"), "--precision", "-3")
    assert line == ("<command line>: error: --precision: expected at least 1 significant "
                    "digit, got -3")
    line = fails(cli, tmp_path, "plot", "pareto", fixture("sweep.csv"), "--maximize", "no_such")
    assert '--maximize column "no_such"' in line, line
    line = fails(cli, tmp_path, "plot", "pareto", fixture("sweep.csv"), "--where", "hw=nowhere")
    assert line.startswith('<command line>: error: --where: hw=nowhere: no row has hw = '
                           '"nowhere"; its values: '), line
