"""Where the gate lands: the file a later stage reads is the one replaced, and two runs that
share one gate file cannot leave either one's "go" standing for both."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inprocess import gate_cli
from plugin_helpers import write_landscape

ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}]
WAITING_CHECK = """
import os
import time


def test_waits_for_the_other_run(org):
    flag = os.environ.get("LS_WAIT_FOR")
    deadline = time.monotonic() + 60
    while flag and not os.path.exists(flag) and time.monotonic() < deadline:
        time.sleep(0.05)
"""


def project_at(root: Path) -> Path:
    (root / "checks").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\ntestpaths = checks\n")
    (root / "checks" / "test_catalog.py").write_text(WAITING_CHECK)
    write_landscape(root, ORGS)
    return root


def pytest_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--org-profile=p", "-q", *args]


def gate_check(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return gate_cli("check", str(path), *args)


def test_a_gate_file_that_is_a_symlink_replaces_the_file_it_points_at(tmp_path: Path) -> None:
    """CI links reports/gate.json to where the next stage reads it; replacing the link alone
    would leave that stage an older "go"."""
    root = project_at(tmp_path / "project")
    shared = tmp_path / "artifacts" / "gate.json"
    shared.parent.mkdir()
    link = tmp_path / "gate-link.json"
    link.symlink_to(shared)
    done = subprocess.run(pytest_args(f"--gate-file={link}", "--run-id=first"), cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout
    assert link.is_symlink() and gate_check(shared, "--run-id=first").returncode == 0
    (root / "checks" / "test_failing.py").write_text("def test_fails(org):\n    assert False, 'broken'\n")
    done = subprocess.run(pytest_args(f"--gate-file={link}", "--run-id=second"), cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert link.is_symlink()
    refused = gate_check(shared)
    assert refused.returncode == 1 and "decision is no-go" in refused.stderr
    assert gate_check(shared, "--run-id=second").returncode == 1
    assert not list(tmp_path.glob(".gate-link.json.*")) and not list(shared.parent.glob(".gate.json.*"))


@pytest.mark.parametrize("finishes_first", ["A", "B"])
def test_two_runs_sharing_one_gate_file_leave_a_no_go(tmp_path: Path, finishes_first: str) -> None:
    """Runs A and B overlap on one gate file, both passing. Without a check, whichever
    finished last left its "go" standing for both; now the run that finishes last finds the
    other's gate where it wrote its own and ends no-go, naming the other run."""
    root = project_at(tmp_path / "project")
    gate = root / "reports" / "gate.json"
    runs = {}
    for run_id in ("A", "B"):
        env = {**os.environ, "LS_WAIT_FOR": str(tmp_path / f"release-{run_id}")}
        runs[run_id] = subprocess.Popen(pytest_args(f"--run-id={run_id}"), cwd=root, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.monotonic() + 60
        while not (gate.exists() and f'"run_id": "{run_id}"' in gate.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
    finishes_last = "B" if finishes_first == "A" else "A"
    (tmp_path / f"release-{finishes_first}").touch()
    runs[finishes_first].communicate(timeout=120)
    (tmp_path / f"release-{finishes_last}").touch()
    out, _ = runs[finishes_last].communicate(timeout=120)
    assert runs[finishes_last].returncode == 1, out
    assert f"run {finishes_first} wrote {gate} while this run ran: one gate file for two runs" in out
    for run_id in ("A", "B"):
        assert gate_check(gate, f"--run-id={run_id}").returncode == 1
    refused = gate_check(gate)
    assert refused.returncode == 1 and "decision is no-go" in refused.stderr


def test_a_run_alone_keeps_its_go(tmp_path: Path) -> None:
    root = project_at(tmp_path / "project")
    done = subprocess.run(pytest_args("--run-id=alone"), cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout
    assert gate_check(root / "reports" / "gate.json", "--run-id=alone").returncode == 0
