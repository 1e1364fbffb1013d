"""The benchmark harness runs: the full catalog and the naive suite, at tiny org counts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "catalog.py"
HEADER = ("orgs | way | wall s | API calls/org | peak RSS MB | CPU s | CPU ms/org | naive/lockstep wall"
          " | naive/lockstep calls")


def test_the_catalog_benchmark_prints_one_row_per_way_and_org_count() -> None:
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(SCRIPT), "--orgs", "1,3", "--latency-ms", "0", "--naive-up-to", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("full catalog, 0 ms per request, emulator in its own process")
    assert lines[1] == HEADER
    rows = [line.split(" | ") for line in lines[2:]]
    assert [(row[0], row[1]) for row in rows] == [("1", "lockstep"), ("1", "naive"), ("3", "lockstep")]
    for row in rows:
        assert len(row) == len(HEADER.split(" | "))
        assert all(float(cell) > 0 for cell in row[2:7]), row
    naive_wall, naive_calls = rows[1][7:]
    assert naive_wall.endswith("x") and float(naive_calls.rstrip("x")) > 1  # the naive suite spends more calls
    assert rows[0][7:] == rows[2][7:] == ["-", "-"]  # no naive run above --naive-up-to
    assert time.monotonic() - started < 60


def test_a_bad_org_count_is_one_line() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--orgs", "1,x"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith("--orgs: expected org counts such as 1,40,400, got '1,x'")
