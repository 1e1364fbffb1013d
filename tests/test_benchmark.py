"""The benchmark harness runs: the full catalog and the naive suite, at the smallest org counts and
latencies that still give every kind of row (two counts for memory per org, two latencies for what
latency adds)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "catalog.py"
HEADER = ("orgs | latency ms | way | wall s | API calls/org | peak RSS MB | CPU s | CPU ms/org | naive/lockstep wall"
          " | naive/lockstep calls")


def test_the_catalog_benchmark_prints_one_row_per_way_and_org_count() -> None:
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(SCRIPT), "--orgs", "1,2", "--latency-ms", "0", "--naive-up-to", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("full catalog, emulator in its own process")
    assert lines[1] == HEADER
    rows = [line.split(" | ") for line in lines[2:5]]
    assert [(row[0], row[1], row[2]) for row in rows] == [("1", "0", "lockstep"), ("1", "0", "naive"),
                                                          ("2", "0", "lockstep")]
    for row in rows:
        assert len(row) == len(HEADER.split(" | "))
        assert all(float(cell) > 0 for cell in row[3:8]), row
    naive_wall, naive_calls = rows[1][8:]
    assert naive_wall.endswith("x") and float(naive_calls.rstrip("x")) > 1  # the naive suite spends more calls
    assert rows[0][8:] == rows[2][8:] == ["-", "-"]  # no naive run above --naive-up-to
    assert lines[5].startswith("memory at 0 ms: ") and lines[5].endswith(" at 2)")
    assert time.monotonic() - started < 60


def test_two_latencies_give_the_time_latency_adds_at_each_org_count() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--orgs", "1,2", "--latency-ms", "0,1", "--naive-up-to",
                             "0"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [tuple(line.split(" | ")[:3]) for line in lines[2:6]] == [
        ("1", "0", "lockstep"), ("2", "0", "lockstep"), ("1", "1", "lockstep"), ("2", "1", "lockstep")]
    added = [line for line in lines if line.startswith("latency paid at ")]
    assert [line.split(":")[0] for line in added] == ["latency paid at 1 orgs", "latency paid at 2 orgs"]
    # at a few orgs the difference is noise: the ratio is given only when the base is positive
    assert re.fullmatch(r"latency paid at 2 orgs: 1 ms per request adds -?\d+\.\d s"
                        r"(, -?\d+\.\dx what it adds at 1 orgs)?", added[1]), added


def test_a_fleet_adds_rows_with_the_packaging_org() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--orgs", "1", "--latency-ms", "0", "--fleet", "0,50",
                             "--naive-up-to", "0"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ") for line in result.stdout.splitlines()[2:4]]
    assert [row[0] for row in rows] == ["1", "1 + fleet of 50"]
    assert all(float(row[4]) > 0 for row in rows), rows


def test_a_bad_org_count_is_one_line() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--orgs", "1,x"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith("--orgs: expected org counts such as 1,40,400, got '1,x'")


def test_a_bad_latency_is_one_line() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--latency-ms", "0,-1"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith("--latency-ms: expected milliseconds such as 0,100, got '0,-1'")
