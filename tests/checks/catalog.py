"""Run catalog check files against planted emulator states, and read what each check decided.

Each theme's test module writes (or points at) a profile whose orgs are planted to pass and to
fail, runs the real check file through pytest (in the test's process), and asserts on the outcome and
message of every (check, org) pair, read from the JUnit XML, and on the gate file.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from inprocess import run_pytest

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"
STATES = Path(__file__).resolve().parent / "states"


@dataclass
class CatalogRun:
    returncode: int
    output: str
    gate: dict
    outcomes: dict[tuple[str, str], str]
    messages: dict[tuple[str, str], str]

    def outcome(self, test: str, org: str = "") -> str:
        """'passed' | 'failed' | 'error' | 'skipped' for `test[org]` (or `test` for cross-org checks)."""
        return self.outcomes[(test, org)]

    def message(self, test: str, org: str = "") -> str:
        return self.messages.get((test, org), "")


def run_catalog(tmp_path: Path, profile: Path, *check_files: str, args: tuple[str, ...] = ()) -> CatalogRun:
    """Run `checks/<file>` for each file against `profile`; return outcomes per (test, org)."""
    gate_file, junit = tmp_path / "gate.json", tmp_path / "junit.xml"
    proc = run_pytest(REPO, *(str(CHECKS / name) for name in check_files), "--org-profile", str(profile),
                      f"--gate-file={gate_file}", f"--junitxml={junit}", "-p", "no:cacheprovider", "-q",
                      "--rootdir", str(REPO), *args)
    output = proc.stdout + proc.stderr
    assert gate_file.exists(), output[-4000:]
    gate = json.loads(gate_file.read_text())
    assert gate["finished"], output[-4000:]  # not the gate written when the run started
    outcomes: dict[tuple[str, str], str] = {}
    messages: dict[tuple[str, str], str] = {}
    if junit.exists():
        for case in ET.parse(junit).getroot().iter("testcase"):
            name = case.get("name", "")
            test, _, org = name.partition("[")
            key = (test, org.rstrip("]"))
            outcome, message = "passed", ""
            for tag in ("failure", "error", "skipped"):
                element = case.find(tag)
                if element is not None:
                    outcome = "failed" if tag == "failure" else tag
                    message = (element.get("message") or "") + "\n" + (element.text or "")
                    break
            outcomes[key], messages[key] = outcome, message
    return CatalogRun(proc.returncode, output, gate, outcomes, messages)


def go_gate(**changes: object) -> dict:
    """A consistent "go" gate of a complete run of one org, as Lockstep writes it, with ``changes``."""
    from lockstep.gate.build import RunInfo, Tally, build_gate
    from lockstep.gate.model import Narrowing

    tally = Tally()
    tally.add("checks/test_a.py::test_a[stg]", "call", "passed", org="stg", phases=("verification",))
    gate = build_gate(tally.results, RunInfo(orgs={"stg": "staging"}, profile_name="staging", markexpr="verification",
                                             started="2026-11-26T09:50:00+00:00", finished="2026-11-26T10:00:00+00:00",
                                             run_id="run-1", narrowing=Narrowing(complete=True))).to_json()
    if "finished" in changes and "started" not in changes:
        finished = dt.datetime.fromisoformat(str(changes["finished"]))
        gate["started"] = (finished - dt.timedelta(minutes=10)).isoformat()
    gate.update(changes)
    return gate
