"""A run refused at start-up for one of Lockstep's own options leaves no older "go" behind; a run
id is one printable line; ``lockstep gate`` never blocks on, or reads, what is not a regular file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from plugin_helpers import read_gate, write_landscape

ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}]


def project_at(root: Path) -> Path:
    (root / "checks").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\ntestpaths = checks\n")
    (root / "checks" / "test_catalog.py").write_text("def test_reachable(org):\n    assert org.name\n")
    write_landscape(root, ORGS)
    return root


def pytest_in(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--org-profile=p", "-q", *args],
                          cwd=root, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def gate_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockstep.cli", "gate", *args], capture_output=True, text=True,
                          timeout=20)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(("args", "env", "error"), [
    (("--org-concurrency=0",), {}, "--org-concurrency: expected a positive integer (orgs at once), got '0'"),
    (("--org-concurrency=many",), {}, "--org-concurrency: expected a positive integer (orgs at once), got 'many'"),
    (("--run-id=build 7\nrerun",), {}, "--run-id: a run id is one line of printable text, got 'build 7\\nrerun'"),
    ((), {"GITHUB_RUN_ID": "42\x1b[2K"}, "$GITHUB_RUN_ID: a run id is one line of printable text, got '42\\x1b[2K'"),
], ids=["concurrency-zero", "concurrency-word", "run-id-newline", "ci-run-id-escape"])
def test_a_refused_option_replaces_an_older_go_with_its_error(tmp_path: Path, args: tuple[str, ...],
                                                              env: dict[str, str], error: str) -> None:
    root = project_at(tmp_path / "project")
    assert pytest_in(root).returncode == 0 and read_gate(root)["decision"] == "go"
    refused = pytest_in(root, *args, env=env)
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR
    assert error_lines(refused) == [f"ERROR: {error}"]
    gate = read_gate(root)
    assert gate["decision"] == "no-go" and gate["reasons"] == [error]
    assert gate_cli("check", str(root / "reports" / "gate.json")).returncode == 1


def test_gate_check_refuses_a_run_id_that_is_not_one_printable_line(tmp_path: Path) -> None:
    root = project_at(tmp_path / "project")
    assert pytest_in(root, "--run-id= build-7 ").returncode == 0
    assert read_gate(root)["run_id"] == "build-7"
    gate = str(root / "reports" / "gate.json")
    assert gate_cli("check", gate, "--run-id=build-7").returncode == 0
    refused = gate_cli("check", gate, "--run-id=build-7\nbuild-8")
    assert refused.returncode == 2
    assert error_lines(refused)[-1] == ("lockstep gate check: error: argument --run-id: expected one line of "
                                        "printable text, got 'build-7\\nbuild-8'")


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
@pytest.mark.parametrize("command", ["check", "show"])
def test_a_gate_path_that_is_not_a_regular_file_is_exit_2_at_once(tmp_path: Path, kind: str, command: str) -> None:
    """A FIFO blocked ``lockstep gate check`` for ever (a CI stage that never ends)."""
    path = tmp_path / "gate.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path = Path("/dev/zero")
    done = gate_cli(command, str(path))
    assert done.returncode == 2
    found = "a directory" if kind == "folder" else "not a regular file"
    assert error_lines(done) == [f"lockstep gate: {path}: not a gate file ({found})"]


def test_a_step_summary_that_is_a_fifo_never_blocks_the_end_of_the_run(tmp_path: Path) -> None:
    """``$GITHUB_STEP_SUMMARY`` naming a FIFO nobody reads held the finished run for ever."""
    root = project_at(tmp_path / "project")
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)
    done = pytest_in(root, "--run-id=summary", env={"GITHUB_STEP_SUMMARY": str(fifo)})
    assert done.returncode == 0
    assert "lockstep: cannot append to $GITHUB_STEP_SUMMARY: " in done.stdout
    assert gate_cli("check", str(root / "reports" / "gate.json"), "--run-id=summary").returncode == 0
