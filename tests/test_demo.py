"""The bundled demo, run as a newcomer runs it: `pytest --org-profile demo` (in its own process,
shared with tests/test_report_browser.py); its phases and variants run in the test's process."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from demo_run import demo_run
from inprocess import run_pytest

REPO = Path(__file__).resolve().parents[1]


def run_demo(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    gate_file = tmp_path / "gate.json"
    proc = run_pytest(REPO, "--org-profile", "demo", "-p", "no:cacheprovider", "--gate-file", str(gate_file), *args)
    assert gate_file.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(gate_file.read_text())


def reasons(gate: dict, org: str) -> str:
    entry = gate["orgs"][org]
    return "\n".join(item["reason"] for item in entry["failed"] + entry["errors"])


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    proc, gate, _ = demo_run(tmp_path_factory)
    return proc, gate


def test_demo_is_a_no_go_with_the_planted_findings(full_run):
    proc, gate = full_run
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout + proc.stderr
    assert gate["decision"] == "no-go"
    assert sorted(gate["orgs"]) == ["dev", "packaging", "prod", "qa", "staging", "sub-globex", "sub-initech"]
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
    assert "drift: 1 item differs between dev, prod, qa, staging: " in landscape
    warnings = "\n".join(item["reason"] for item in gate["landscape"]["warnings"])
    assert "qa: Salesforce release: expected API 62.0 like production (prod), found preview API 63.0" in warnings


def test_demo_names_each_planted_fleet_problem(full_run):
    """The packaging org's fleet of 3,000: lag over budget, a failed push job with its error, a
    subscriber blocking push upgrades, and sub-initech disagreeing with its record."""
    _, gate = full_run
    fleet = reasons(gate, "packaging")
    assert "packaging: package acme_cpq: 122 of 3002 subscribers (4.1%) lag 2.5.0.1, more than the 2% allowed" in fleet
    assert ("1 push job failed: Vandelay Industries (00DmO85BMEeHNHgU2O) failed "
            "(ApexTestFailure: QuoteDiscountTest.testBulkDiscount: System.AssertException)") in fleet
    warnings = "\n".join(item["reason"] for item in gate["orgs"]["packaging"]["warnings"])
    assert "1 subscriber blocks push upgrades (HasRestrictionEnabled): Umbrella Corporation" in warnings
    landscape = "\n".join(item["reason"] for item in gate["landscape"]["failed"])
    assert ("sub-initech (00DPuqHSzgHyUEGMG3): package acme_cpq: packaging reports 2.5.0.1, "
            "the org itself runs 2.4.0.1") in landscape
    assert "sub-globex" not in next(line for line in landscape.splitlines() if "packaging reports" in line)
    assert gate["orgs"]["packaging"]["api_calls"] <= 5


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
    """The full catalog costs every org at most 5 API calls: queries five to a composite, the next
    page of a long answer riding with later queries, the smoke test with the last of them."""
    _, gate = full_run
    for name, entry in gate["orgs"].items():
        assert 0 < entry["api_calls"] <= 5, (name, entry["api_calls"])


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


@pytest.mark.parametrize("faults", [{"error_rate": 1.0}, {"request_limit_exceeded": True}])
def test_a_failing_org_is_left_out_of_cross_org_checks(tmp_path, faults):
    """qa answers every API call with an error: the cross-org checks still compare the other
    orgs (their findings must not hide behind qa's error); qa is no-go and named in the gate."""
    shutil.copy(REPO / "profiles" / "demo.yaml", tmp_path / "demo.yaml")
    shutil.copytree(REPO / "profiles" / "demo", tmp_path / "demo")
    qa = tmp_path / "demo" / "qa.yaml"
    qa.write_text(qa.read_text() + yaml.safe_dump({"faults": faults}))
    gate_file = tmp_path / "gate.json"
    proc = run_pytest(REPO, f"--org-profile={tmp_path / 'demo.yaml'}", "-p", "no:cacheprovider",
                      f"--gate-file={gate_file}", "-k", "test_no_drift_between_orgs or package_versions")
    assert gate_file.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    gate = json.loads(gate_file.read_text())
    assert "Traceback" not in proc.stdout + proc.stderr
    landscape = {item["check"].rsplit("::", 1)[-1]: item["reason"] for item in gate["landscape"]["failed"]}
    assert not gate["landscape"]["errors"], gate["landscape"]["errors"]
    assert "drift: 1 item differs between dev, prod, staging" in landscape["test_no_drift_between_orgs"]
    assert "package acme_cpq: 4 orgs on 2.5.0.1, but sub-initech on 2.4.0.1" in \
        landscape["test_same_package_versions_everywhere"]
    assert "qa:" not in "\n".join(landscape.values())
    code = "REQUEST_LIMIT_EXCEEDED" if faults.get("request_limit_exceeded") else "SERVER_UNAVAILABLE"
    assert gate["orgs"]["qa"]["decision"] == "no-go"
    assert reasons(gate, "qa").startswith(f"qa: {code}: ")
    assert gate["orgs"]["qa"]["reachable"] is True
    assert gate["landscape"]["left_out"]["qa"].startswith(f"qa: {code}: ")
    for name in ("dev", "prod", "staging", "sub-globex"):
        assert gate["orgs"][name]["decision"] == "go", name
