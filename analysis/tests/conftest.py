"""Shared set-up for the analysis tests: the analysis/ modules on the path, the
fixture folder, and a runner for the command line (through the launcher, so
`bitcycle plot` / `bitcycle table` dispatch is tested too)."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.dirname(HERE)
ROOT = os.path.dirname(ANALYSIS)
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, ANALYSIS)


def fixture(name):
    return os.path.join(FIXTURES, name)


@pytest.fixture
def fx():
    return fixture


def run_cli(*args, cwd=None):
    """Runs `./bitcycle ARGS` without set-up or build; returns CompletedProcess."""
    env = dict(os.environ, BITCYCLE_NO_BUILD="1", MPLBACKEND="Agg")
    return subprocess.run([os.path.join(ROOT, "bitcycle")] + [str(a) for a in args],
                          capture_output=True, text=True, env=env, cwd=cwd or ROOT)


@pytest.fixture
def cli():
    return run_cli
