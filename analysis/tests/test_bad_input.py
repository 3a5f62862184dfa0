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
