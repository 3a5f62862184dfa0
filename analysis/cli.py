#!/usr/bin/env python3
"""Command line of BitCycle's analysis: `bitcycle plot` and `bitcycle table`
(the launcher runs `python3 analysis/cli.py plot|table ...`).

Bad input (a missing file or column, an empty sweep, an unknown kind or
option) prints one line `bitcycle plot: error: ...` naming what is missing and
what is available, exits 2 and leaves no output file: figures and tables are
written to a temporary file next to the target and renamed when complete.
"""

import argparse
import errno
import io
import os
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import plots  # noqa: E402
import tables  # noqa: E402
from results_io import (AnalysisError, load_results, option_error, read_report,  # noqa: E402
                        report_ops)

FIG_FORMATS = ("png", "pdf", "svg")

PLOT_HELP = {
    "pareto": "two metrics of a sweep's results, the Pareto front highlighted, points "
              "labelled by their varied parameters",
    "breakdown": "stacked latency (compute / memory stall / dependency stall) per op or "
                 "layer and energy per component or action, across run reports",
    "area": "area per component across configs (run reports)",
    "roofline": "each op of a run on the chip's roofline, one roof per unit and format",
    "heatmap": "a metric over two swept parameters",
    "scaling": "a metric versus batch, context or weight bits, one line per config",
    "validation": "simulated vs measured latency from `bitcycle validate --csv`",
}


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as AnalysisError (one line, exit 2)."""

    def error(self, message):
        raise AnalysisError(message + " (see %s --help)" % self.prog)


def csv_list(s):
    return [x.strip() for x in s.split(",") if x.strip()]


class Output:
    """An output file (-o), checked before any work as the simulator checks its
    outputs: an empty name, a directory, a block device, a FIFO nobody reads or a
    folder where no file can be created is an error now, not after the work. A
    character device or a FIFO (/dev/null, /dev/stdout, a pipe) is written
    through, not replaced; a symbolic link names where the output goes (the file
    it points to is replaced, not the link). A regular file is written to a
    temporary file beside it and renamed into place when complete, so a failed
    run leaves neither a partial output nor a temporary file."""

    def __init__(self, path, option="-o"):
        self.path, self.option, self.fd = path, option, None
        if path == "":
            raise option_error(option, "empty value (name an output file)")
        if os.path.isdir(path):
            self.fail("it is a directory")
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            if stat.S_ISBLK(st.st_mode):
                self.fail("it is a block device")
            # Non-blocking: a FIFO nobody reads is an error now, not a hang.
            try:
                self.fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    self.fail("nothing reads from it")
                self.fail("cannot open it", e)
            os.set_blocking(self.fd, True)
            return
        # Followed by hand: the link may point nowhere yet.
        for depth in range(41):
            if not os.path.islink(self.path):
                break
            if depth == 40:
                self.fail("too many levels of symbolic links")
            try:
                to = os.readlink(self.path)
            except OSError as e:
                self.fail("cannot read the symbolic link", e)
            self.path = os.path.join(os.path.dirname(self.path), to)
        if os.path.isdir(self.path):
            self.fail("it is a directory")
        self.dir = os.path.dirname(os.path.abspath(self.path))
        tmp = self._temporary()  # a file can be created there: checked, then removed
        os.remove(tmp)

    def fail(self, what, err=None):
        raise option_error(self.option, 'cannot write "%s": %s%s (give a file in a directory '
                           'that exists and is writable)' % (
                               self.path, what, ": " + err.strerror if err else ""))

    def _temporary(self):
        try:
            fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp",
                                       prefix="." + os.path.basename(self.path) + ".")
        except OSError as e:
            self.fail("cannot create a file in its directory", e)
        os.close(fd)
        return tmp

    def write(self, write):
        """Calls write(file object, binary) and puts the result in place."""
        if self.fd is not None:  # a device or a FIFO: written through
            buf = io.BytesIO()
            write(buf)
            data, fd, self.fd = buf.getvalue(), self.fd, None
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            except OSError as e:
                self.fail("write failed", e)
            finally:
                os.close(fd)
            return
        tmp = self._temporary()
        try:
            try:
                with open(tmp, "wb") as f:
                    write(f)
            except OSError as e:
                self.fail("write failed", e)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; an output is not
            try:
                os.replace(tmp, self.path)
            except OSError as e:
                self.fail("cannot replace it", e)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise


def plot_parser(kind):
    p = Parser(prog="bitcycle plot %s" % kind, description=PLOT_HELP[kind])
    multi = kind in ("pareto", "heatmap", "scaling", "breakdown", "area")
    p.add_argument("results", nargs="+" if multi else 1, metavar="RESULTS",
                   help={"breakdown": "run reports (bitcycle run --json)",
                         "area": "run reports (bitcycle run --json)",
                         "roofline": "one run report (bitcycle run --json)",
                         "validation": "the CSV of bitcycle validate --csv"}.get(
                       kind, "a sweep's results.csv or results store (.sqlite/.db), or "
                             "several run reports (.json)"))
    p.add_argument("-o", "--output", required=True, metavar="FIG.png|.pdf|.svg")
    if kind in ("pareto", "heatmap", "scaling"):
        p.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                       help="keep only rows where COL equals VALUE (repeatable)")
    if kind == "pareto":
        p.add_argument("--x", help="metric on the x axis (default latency_s)")
        p.add_argument("--y", help="metric on the y axis (default energy_per_token_j)")
        p.add_argument("--maximize", type=csv_list, default=[], metavar="COLS",
                       help="metrics where higher is better (default: names with per_s, "
                            "throughput, utilization or efficiency)")
        p.add_argument("--label-by", type=csv_list, metavar="COLS",
                       help="columns in the point labels (default: the varied parameters)")
        p.add_argument("--logx", action="store_true")
        p.add_argument("--logy", action="store_true")
        p.add_argument("--title")
    if kind == "breakdown":
        p.add_argument("--by", choices=("op", "layer"), default="op",
                       help="latency per op (summed over layers) or per layer")
        p.add_argument("--what", choices=("both", "latency", "energy"), default="both")
        p.add_argument("--energy-by", choices=("component", "action"), default="component")
        p.add_argument("--top", type=int, default=12,
                       help="latency groups shown, the rest merged into 'other'")
    if kind == "heatmap":
        p.add_argument("--x", required=True, help="swept parameter on the x axis")
        p.add_argument("--y", required=True, help="swept parameter on the y axis")
        p.add_argument("--metric", required=True)
        p.add_argument("--agg", default="mean", choices=sorted(plots.AGGS),
                       help="how rows sharing a cell combine")
    if kind == "scaling":
        p.add_argument("--x", default="batch",
                       help="batch, context, weight_bits (or another numeric column)")
        p.add_argument("--metric", default="token_latency_s")
        p.add_argument("--line-by", type=csv_list, metavar="COLS",
                       help="one line per value of these columns (default hw)")
        p.add_argument("--logy", action="store_true")
    return p


def make_figure(kind, a):
    if kind == "breakdown" and a.top < 1:
        raise option_error("--top", "expected at least 1 group, got %d" % a.top)
    if kind in ("pareto", "heatmap", "scaling"):
        t = load_results(a.results).where(a.where)
        if kind == "pareto":
            t.require(*a.maximize, what="--maximize column")
            return plots.pareto_figure(t, a.x, a.y, a.maximize, a.label_by, a.logx, a.logy,
                                       a.title)
        if kind == "heatmap":
            return plots.heatmap_figure(t, a.x, a.y, a.metric, a.agg)
        return plots.scaling_figure(t, a.x, a.metric, a.line_by, logy=a.logy)
    if kind == "validation":
        return plots.validation_figure(load_results(a.results))
    reports = [(p, read_report(p)) for p in a.results]
    if kind == "breakdown":
        return plots.breakdown_figure(reports, a.by, a.what, a.energy_by, a.top)
    if kind == "area":
        return plots.area_figure(reports)
    return plots.roofline_figure(reports[0][1], reports[0][0])


def cmd_plot(argv):
    if not argv or argv[0] in ("-h", "--help"):
        out = sys.stdout if argv else sys.stderr  # no kind: usage as the error
        print("usage: bitcycle plot KIND RESULTS... -o FIG.png|.pdf|.svg [options]\n\nkinds:",
              file=out)
        for k in plots.KINDS:
            print("  %-11s %s" % (k, PLOT_HELP[k]), file=out)
        print("\n`bitcycle plot KIND --help` lists a kind's options.", file=out)
        return 0 if argv else 2
    kind = argv[0]
    if kind not in plots.KINDS:
        raise AnalysisError('unknown plot kind "%s"; kinds: %s' % (kind, ", ".join(plots.KINDS)))
    a = plot_parser(kind).parse_args(argv[1:])
    if a.output == "":
        raise option_error("-o", "empty value (name an output file)")
    ext = os.path.splitext(a.output)[1].lstrip(".").lower()
    if ext not in FIG_FORMATS:
        raise option_error("-o", '"%s": unknown figure format "%s" (formats: %s)' % (
            a.output, ext, ", ".join(FIG_FORMATS)))
    out = Output(a.output)
    fig = make_figure(kind, a)
    out.write(lambda f: fig.savefig(f, format=ext))
    print("wrote %s" % a.output, file=sys.stderr)
    return 0


def cmd_table(argv):
    p = Parser(prog="bitcycle table",
               description="result rows as a Markdown, LaTeX or CSV table")
    p.add_argument("results", nargs="+", metavar="RESULTS",
                   help="a sweep's results.csv or store (.sqlite/.db), a validate or run CSV, "
                        "or run reports (.json: one row per report, or per op with --ops)")
    p.add_argument("--format", default="markdown", choices=tables.FORMATS)
    p.add_argument("--columns", type=csv_list, metavar="A,B,...", help="columns, in order")
    p.add_argument("--sort", type=csv_list, metavar="A,B:desc",
                   help="sort keys; B:desc (or --sort=-B) for descending")
    p.add_argument("--group", metavar="COL", help="group rows by this column (shown first)")
    p.add_argument("--agg", metavar="mean|min|max|sum",
                   help="with --group: one row per group, numbers reduced")
    p.add_argument("--where", action="append", default=[], metavar="COL=VALUE")
    p.add_argument("--ops", action="store_true", help="run reports: one row per op")
    p.add_argument("--precision", type=int, default=4, help="significant digits")
    p.add_argument("--caption", help="LaTeX caption")
    p.add_argument("-o", "--output", help="write to a file instead of stdout")
    a = p.parse_args(argv)
    if a.precision < 1:
        raise option_error("--precision", "expected at least 1 significant digit, got %d"
                           % a.precision)
    out = Output(a.output) if a.output is not None else None
    if a.ops:
        if not all(r.lower().endswith(".json") for r in a.results):
            raise AnalysisError("--ops needs run reports (.json)")
        t = report_ops(a.results)
    else:
        t = load_results(a.results)
    t = t.where(a.where).nonempty()
    text = tables.render(t, a.format, a.columns, a.sort, a.group, a.agg, a.precision, a.caption)
    if out:
        out.write(lambda f: f.write(text.encode("utf-8")))
    else:
        sys.stdout.write(text)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else ""
    try:
        if cmd == "plot":
            return cmd_plot(argv[1:])
        if cmd == "table":
            return cmd_table(argv[1:])
        raise AnalysisError('unknown command "%s"; commands: plot, table' % cmd)
    except AnalysisError as e:
        for err in [e] + getattr(e, "more", []):  # one line per problem
            print("%s: error: %s" % (err.where or "bitcycle " + (cmd or "analysis"), err),
                  file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
