"""What a release manager reads: one line per finding, an org in trouble on one line, the gate readable by others."""

from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path

from inprocess import run_pytest

REPO = Path(__file__).resolve().parents[2]


def demo_copy(tmp_path: Path, qa_faults: str) -> Path:
    shutil.copytree(REPO / "profiles" / "demo", tmp_path / "demo")
    shutil.copy(REPO / "profiles" / "demo.yaml", tmp_path / "demo.yaml")
    qa = tmp_path / "demo" / "qa.yaml"
    qa.write_text(qa.read_text(encoding="utf-8") + f"faults: {qa_faults}\n", encoding="utf-8")
    return tmp_path / "demo.yaml"


def run(tmp_path: Path, profile: Path, *args: str) -> tuple[str, dict]:
    gate = tmp_path / "gate.json"
    proc = run_pytest(REPO, f"--org-profile={profile}", f"--gate-file={gate}", "-p", "no:cacheprovider", "-q",
                      "--rootdir", str(REPO), *args)
    return proc.stdout, json.loads(gate.read_text())


def test_an_org_that_is_down_takes_one_line_and_the_findings_stay_visible(tmp_path: Path) -> None:
    out, gate = run(tmp_path, demo_copy(tmp_path, "{down: true}"))
    qa_lines = [line for line in out.splitlines() if line.startswith("qa  ") and ": qa: " in line]
    assert len(qa_lines) == 1, qa_lines
    assert re.match(r"qa  \d+ checks \(error\): qa: unreachable: CONNECTION_FAILED", qa_lines[0]), qa_lines[0]
    assert "prod  test_flows_in_expected_state: prod: flow Case_Triage: expected active, found inactive" in out
    assert gate["orgs"]["qa"]["decision"] == "no-go" and gate["orgs"]["qa"]["reachable"] is False


def test_the_gate_file_is_readable_by_a_later_stage_running_as_another_user(tmp_path: Path) -> None:
    _, _ = run(tmp_path, REPO / "profiles" / "demo.yaml", "--orgs", "dev")
    mode = stat.S_IMODE((tmp_path / "gate.json").stat().st_mode)
    assert mode & stat.S_IROTH and mode & stat.S_IRGRP


def test_a_stopped_run_is_not_a_complete_one(tmp_path: Path) -> None:
    out, gate = run(tmp_path, REPO / "profiles" / "demo.yaml", "-x")
    assert gate["complete"] is False
    assert "from a partial run (interrupted)" in out
