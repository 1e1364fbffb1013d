"""The bundled demo, run as a newcomer runs it: `pytest --org-profile demo`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_demo(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    gate_file = tmp_path / "gate.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--org-profile", "demo", "-p", "no:cacheprovider",
         "--gate-file", str(gate_file), *args],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert gate_file.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(gate_file.read_text())


def reasons(gate: dict, org: str) -> str:
    entry = gate["orgs"][org]
    return "\n".join(item["reason"] for item in entry["failed"] + entry["errors"])


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo"))


def test_demo_is_a_no_go_with_the_planted_findings(full_run):
    proc, gate = full_run
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout + proc.stderr
    assert gate["decision"] == "no-go"
    assert sorted(gate["orgs"]) == ["dev", "prod", "qa", "staging", "sub-globex", "sub-initech"]
    assert gate["orgs"]["dev"]["decision"] == "go"
    assert "flow Case_Triage: expected active, found inactive" in reasons(gate, "prod")
    assert "named credential ERP: expected the sandbox endpoint https://erp-test.acme.example, " \
           "found the production endpoint https://erp.acme.example/api" in reasons(gate, "staging")
    assert "daily API requests" in reasons(gate, "qa")
    assert "package install" in reasons(gate, "sub-globex")
    assert "permission set Sales_Ops: system permission ModifyAllData: expected only on System Administrator, " \
           "found granted" in reasons(gate, "staging")
    assert "process Case triage: Case.Status of a new record: expected 'Working', found 'New'" in reasons(gate, "qa")
    landscape = "\n".join(item["reason"] for item in gate["landscape"]["failed"])
    assert "package acme_cpq: 5 orgs on 2.5.0.1, but sub-initech on 2.4.0.1" in landscape
    assert "drift: 1 item differs between dev, prod, qa, staging" in landscape
    warnings = "\n".join(item["reason"] for item in gate["landscape"]["warnings"])
    assert "qa: Salesforce release: expected API 62.0 like production (prod), found preview API 63.0" in warnings


def test_demo_production_is_never_written_to(full_run):
    _, gate = full_run
    prod = gate["orgs"]["prod"]
    automation = [item for item in prod["skipped"] if item["check"].endswith("::test_record_automation")]
    assert [item["reason"] for item in automation] == [
        "no record automation smoke tests: declare expect.record_automation (object, create, expect)"]
    assert "writes refused" not in reasons(gate, "prod")


def test_demo_terminal_shows_one_row_per_org_and_the_decision(full_run):
    proc, gate = full_run
    for org in gate["orgs"]:
        assert org in proc.stdout
    assert "NO-GO" in proc.stdout
    assert "test_sandboxes_not_ahead_of_production (warning, does not block): qa: Salesforce release" in proc.stdout


def test_demo_counts_api_calls_per_org(full_run):
    _, gate = full_run
    for name, entry in gate["orgs"].items():
        assert entry["api_calls"] > 0, name


def test_demo_readiness_and_verification_differ(tmp_path):
    _, readiness = run_demo(tmp_path / "r", "-m", "readiness")
    _, verification = run_demo(tmp_path / "v", "-m", "verification")
    assert readiness["phase"] == "readiness"
    assert verification["phase"] == "verification"
    assert "package install" in reasons(readiness, "sub-globex")
    assert reasons(verification, "sub-globex") == ""
    assert "flow Case_Triage" in reasons(verification, "prod")
    assert "flow Case_Triage" not in reasons(readiness, "prod")


def test_demo_under_xdist_gives_the_same_decisions(full_run, tmp_path):
    _, serial = full_run
    _, parallel = run_demo(tmp_path, "-n", "2")
    assert {n: o["decision"] for n, o in parallel["orgs"].items()} == {
        n: o["decision"] for n, o in serial["orgs"].items()
    }
    assert parallel["counts"] == serial["counts"]
