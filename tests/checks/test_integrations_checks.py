"""checks/test_integrations.py against planted orgs (tests/checks/states/catalog2/integrations)."""

from __future__ import annotations

import pytest
from catalog import STATES, run_catalog
from shared_run import from_json, once, to_json

PROFILE = STATES / "catalog2" / "integrations.yaml"
GOOD = ("int-good", "int-prod-good")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return from_json(once(tmp_path_factory, "catalog2-integrations", lambda: to_json(
        run_catalog(tmp_path_factory.mktemp("integrations"), PROFILE, "test_integrations.py"))))


CHECKS = (
    "test_named_credentials_point_at_own_environment",
    "test_remote_sites_point_at_own_environment",
    "test_no_unknown_endpoints",
    "test_external_endpoints_answer",
    "test_event_subscribers_running",
)


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_passes_on_the_good_orgs_and_skips_without_expectations(run, check):
    for org in GOOD:
        assert run.outcome(check, org) == "passed", run.message(check, org)
    assert run.outcome(check, "int-none") == "skipped"
    assert "declare expect." in run.message(check, "int-none")


def test_sandbox_pointing_at_production_is_a_blocker(run):
    message = run.message("test_named_credentials_point_at_own_environment", "int-sandbox-bad")
    assert run.outcome("test_named_credentials_point_at_own_environment", "int-sandbox-bad") == "failed"
    assert ("int-sandbox-bad: named credential ERP: expected the sandbox endpoint https://erp-test.acme.example, "
            "found the production endpoint https://erp.acme.example/api") in message
    assert ("int-sandbox-bad: named credential ERP_Backup: "
            "expected the sandbox endpoint https://erp-test.acme.example, "
            "found the production endpoint https://ERP.acme.example/v2") in message
    assert "Maps" not in message


def test_production_pointing_at_a_test_endpoint_is_a_blocker(run):
    assert run.outcome("test_named_credentials_point_at_own_environment", "int-prod-bad") == "failed"
    assert ("int-prod-bad: named credential ERP: expected the production endpoint https://erp.acme.example, "
            "found the sandbox endpoint https://erp-test.acme.example/api") in run.message(
        "test_named_credentials_point_at_own_environment", "int-prod-bad")


def test_remote_sites_of_another_environment_are_blockers_inactive_ones_are_not(run):
    bad = run.message("test_remote_sites_point_at_own_environment", "int-sandbox-bad")
    assert ("int-sandbox-bad: remote site ERP_Site: expected the sandbox endpoint https://erp-test.acme.example, "
            "found the production endpoint https://erp.acme.example") in bad
    assert "Old_ERP" not in bad
    assert ("int-prod-bad: remote site ERP_Site: expected the production endpoint https://erp.acme.example, "
            "found the sandbox endpoint https://erp-test.acme.example") in run.message(
        "test_remote_sites_point_at_own_environment", "int-prod-bad")


def test_unknown_endpoints_are_a_warning(run):
    assert run.outcome("test_no_unknown_endpoints", "int-sandbox-bad") == "failed"
    assert ("int-sandbox-bad: named credential Maps: expected an endpoint declared in expect.endpoints, "
            "found unknown endpoint https://maps.example.net") in run.message("test_no_unknown_endpoints",
                                                                              "int-sandbox-bad")
    warnings = run.gate["orgs"]["int-sandbox-bad"]["warnings"]
    assert [w["check"].split("::")[-1] for w in warnings] == ["test_no_unknown_endpoints"]
    assert run.gate["orgs"]["int-prod-good"]["decision"] == "go"


def test_probes_report_status_latency_certificate_and_json(run):
    message = run.message("test_external_endpoints_answer", "int-sandbox-bad")
    assert run.outcome("test_external_endpoints_answer", "int-sandbox-bad") == "failed"
    lines = [line.strip() for line in message.splitlines() if "int-sandbox-bad: endpoint" in line]
    assert any("int-sandbox-bad: endpoint Apex without session https://127.0.0.1:" in line
               and line.endswith("/services/apexrest/health: expected status 200, found 401") for line in lines)
    assert any("Apex without session" in line and "expected at most 0 ms, found" in line for line in lines)
    assert any("Emulator API" in line and "expected a TLS certificate valid 30+ more days, found it expires in"
               in line for line in lines)
    assert any("Emulator API" in line and "expected JSON 0.version = '99.0', found '31.0'" in line for line in lines)
    assert "${emulator.url}" not in message


def test_stopped_and_missing_event_subscribers(run):
    bad = run.message("test_event_subscribers_running", "int-sandbox-bad")
    assert ("int-sandbox-bad: event subscriber OrderEventTrigger on Order_Event__e: expected Running, "
            "found Suspended") in bad
    assert "int-sandbox-bad: event subscriber CaseSync on CaseChangeEvent: expected Running, found Error" in bad
    assert "int-prod-bad: event subscriber OrderEventTrigger: expected Running, found missing" in run.message(
        "test_event_subscribers_running", "int-prod-bad")


def test_gate_blocks_exactly_the_bad_orgs(run):
    decisions = {name: entry["decision"] for name, entry in run.gate["orgs"].items()}
    assert decisions == {"int-good": "go", "int-prod-good": "go", "int-sandbox-bad": "no-go",
                         "int-prod-bad": "no-go", "int-staging": "no-go", "int-none": "no-go"}
    assert "Traceback" not in run.output


def test_an_environment_of_its_own_still_may_not_reach_production(run):
    message = run.message("test_named_credentials_point_at_own_environment", "int-staging")
    assert ("int-staging: named credential ERP: expected an endpoint of the staging environment, "
            "found the production endpoint https://erp.acme.example/api") in message
    assert "Payments" not in message
    assert run.outcome("test_no_unknown_endpoints", "int-staging") == "passed"
