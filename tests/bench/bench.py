#!/usr/bin/env python3
"""Speed benchmark: wall time, simulated events per second and peak memory.

Runs each case in its own process (as sweeps do) and reads the child's peak
resident set size from wait4(). Then times the sweep speed specs of this folder
(analytical runs a minute, cycle-mode overhead per run, -j 1 against -j 2). Targets (2-core machine) from the foundation
issue: 8B decode <= 0.3 s, 70B decode <= 1 s, 8B prefill 2048 <= 5 s,
peak RSS <= 500 MB. Usage: ./bitcycle bench [--repeat N] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CASES = [
    ("llama-3.1-8b decode (batch 1, context 4096)", ["--model", "llama-3.1-8b"], 0.3),
    ("llama-3.1-70b decode (batch 1, context 4096)", ["--model", "llama-3.1-70b"], 1.0),
    ("llama-3.1-8b prefill 2048", ["--model", "llama-3.1-8b", "--phase", "prefill", "--seq", "2048"], 5.0),
    ("llama-2-70b decode on groq-tsp-x576 (576 chips)",
     ["--model", "llama-2-70b", "--quant", "w8a8-int", "configs/hw/groq-tsp-x576.yaml"], 10.0),
    # Timing-core issue targets: GPU-class prefill, the 1,040-core dataflow chip
    # with its kernel-by-kernel comparison, and memory linear in cores.
    ("llama-3.1-8b prefill 2048 on h100", ["--phase", "prefill", "--seq", "2048",
                                           "configs/hw/h100.yaml"], 5.0),
    ("llama-3.1-8b decode on sn40l (dataflow + kernel run)", ["configs/hw/sn40l.yaml"], 3.0),
    ("llama-3.1-8b decode on a 64x64 mesh (default chip)",
     ["--set", "noc.mesh.x=64", "--set", "noc.mesh.y=64"], 10.0),
]
RSS_LIMIT_MB = 500

# Sweep speed (the sweep issue's targets): specs beside this file, each run
# into a fresh output folder. "rate": runs per minute at least; "overhead":
# seconds per run at most (runs that simulate nothing); "scaling": wall time
# of the case before it over this one's, at least.
SWEEPS = [
    ("sweep analytical, 1 layer (400 runs)", "sweep-analytical-layer.yaml",
     ["--fidelity", "analytical", "-j", "2"], "rate", 10000),
    ("sweep analytical, 8B decode (100 runs)", "sweep-analytical-decode.yaml",
     ["--fidelity", "analytical", "-j", "2"], "rate", 1000),
    ("sweep cycle, per-run overhead (100 runs)", "sweep-overhead.yaml", ["-j", "1"], "overhead", 0.020),
    ("sweep cycle, 8B decode -j 1 (12 runs)", "sweep-cycle.yaml", ["-j", "1"], None, None),
    ("sweep cycle, 8B decode -j 2 (12 runs)", "sweep-cycle.yaml", ["-j", "2"], "scaling", 1.8),
]


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_case(binary, args):
    args = [os.path.join(ROOT, a) if a.startswith("configs/") else a for a in args]
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        start = time.perf_counter()
        proc = subprocess.Popen([binary, "run", "-q", "--json", out] + args)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: {' '.join(args)} failed")
        with open(out) as f:
            report = json.load(f)
    return wall, usage.ru_maxrss / 1024.0, report  # ru_maxrss is in KiB on Linux


def run_sweep(binary, spec, args):
    """Wall and CPU seconds of one sweep (its workers, reaped by it, included), and its runs."""
    import sqlite3
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out")
        start = time.perf_counter()
        proc = subprocess.Popen([binary, "sweep", os.path.join(ROOT, "tests", "bench", spec),
                                 "--out", out] + args,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: sweep {spec} failed")
        runs = sqlite3.connect(os.path.join(out, "results.db")).execute(
            "select count(*) from results").fetchone()[0]
    return wall, usage.ru_utime + usage.ru_stime, runs


def sweeps(binary, repeat):
    rows, prev_wall = [], None
    print(f"\n{'sweep':48} {'wall s':>8} {'cpu s':>7} {'runs':>6} {'runs/min':>10} {'s/run':>8}  target")
    for name, spec, args, kind, target in SWEEPS:
        wall, cpu, runs = min((run_sweep(binary, spec, args) for _ in range(repeat)), key=lambda r: r[0])
        rate, per = runs / wall * 60, wall / runs
        verdict = ""
        if kind == "rate":
            verdict = f">= {target} runs/min: " + ("ok" if rate >= target else "MISSED")
        elif kind == "overhead":
            verdict = f"<= {target * 1000:.0f} ms/run: " + ("ok" if per <= target else "MISSED")
        elif kind == "scaling":
            verdict = f"-j 1 / -j 2 = {prev_wall / wall:.2f}, >= {target}: " + (
                "ok" if prev_wall / wall >= target else "MISSED")
        print(f"{name:48} {wall:8.3f} {cpu:7.3f} {runs:6d} {rate:10.0f} {per:8.4f}  {verdict}")
        rows.append({"case": name, "wall_s": wall, "cpu_s": cpu, "runs": runs, "runs_per_min": rate})
        prev_wall = wall
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="path to the bitcycle binary")
    ap.add_argument("--repeat", type=int, default=3, help="runs per case; the fastest is reported")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--no-sweeps", action="store_true", help="leave out the sweep speed cases")
    a = ap.parse_args()
    rows = []
    print(f"{'case':48} {'wall s':>8} {'target':>7} {'events':>10} {'events/s':>11} {'peak MB':>8}")
    for name, args, target in CASES:
        best = None
        for _ in range(a.repeat):
            wall, rss, rep = run_case(a.bin, args)
            if best is None or wall < best[0]:
                best = (wall, rss, rep)
        wall, rss, rep = best
        ev = rep["sim"]["events"]
        row = {"case": name, "wall_s": wall, "target_s": target, "events": ev,
               "events_per_s": ev / wall, "peak_rss_mb": rss,
               "simulated_latency_s": rep["latency_s"], "tile_tasks": rep["sim"]["tile_tasks"]}
        rows.append(row)
        ok = "ok" if wall <= target and rss <= RSS_LIMIT_MB else "MISSED"
        print(f"{name:48} {wall:8.3f} {target:7.1f} {ev:10d} {ev / wall:11.0f} {rss:8.1f}  {ok}")
    if not a.no_sweeps:
        rows += sweeps(a.bin, a.repeat)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
