"""checks/test_critical_processes.py against planted orgs served by an emulator this module owns,
so that the emulator's write log can be read after the run."""

from __future__ import annotations

import pytest
import yaml
from catalog import STATES, run_catalog
from shared_run import from_json, once, to_json

from lockstep.emulator import Emulator
from lockstep.salesforce.client import CallCounter, new_session

BASE = STATES / "catalog2" / "processes.yaml"
ORGS = ("cp-good", "cp-bad", "cp-crash", "cp-prod")


def _profile(folder, emulator, base=BASE, **changes):
    profile = yaml.safe_load(base.read_text())
    profile.pop("emulator")
    profile.update(changes)
    for org in profile["orgs"]:
        org["auth"] = {"method": "emulator", "url": emulator.url, "ca_file": str(emulator.ca_cert)}
    path = folder / "processes.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """The catalog run, the emulator's write log per org afterwards, and a run without expectations."""

    def produce():
        folder = tmp_path_factory.mktemp("processes")
        with Emulator(STATES / "catalog2" / "processes", host="127.0.0.1", port=0) as emulator:
            run = run_catalog(folder, _profile(folder, emulator), "test_critical_processes.py")
            session = new_session(CallCounter(), emulator.ca_cert)
            try:
                writes = {org: session.get(f"{emulator.url}/__emulator__/orgs/{org}").json()["writes"] for org in ORGS}
            finally:
                session.close()
            bare = folder / "bare"
            bare.mkdir()
            empty = run_catalog(bare, _profile(bare, emulator, expect={}, orgs=[
                {"name": "cp-good", "kind": "sandbox"}, {"name": "cp-prod", "kind": "production"}]),
                "test_critical_processes.py")
        return {"run": to_json(run), "writes": writes, "empty": to_json(empty)}

    return once(tmp_path_factory, "catalog2-processes", produce)


@pytest.fixture(scope="module")
def run(outcome):
    return from_json(outcome["run"])


@pytest.fixture(scope="module")
def writes(outcome):
    return outcome["writes"]


def test_read_only_checks_pass_on_the_good_orgs(run):
    for check in ("test_recent_business_data", "test_apex_rest_health"):
        for org in ("cp-good", "cp-prod", "cp-crash"):
            assert run.outcome(check, org) == "passed", run.message(check, org)
    assert run.outcome("test_record_automation", "cp-good") == "passed", run.message("test_record_automation",
                                                                                     "cp-good")


def test_missing_recent_business_data_fails(run):
    assert run.outcome("test_recent_business_data", "cp-bad") == "failed"
    assert ("cp-bad: business data Cases arrive by email: expected at least 1 Case records in the last 7 days, "
            "found 0") in run.message("test_recent_business_data", "cp-bad")


def test_unhealthy_apex_rest_endpoints_fail(run):
    message = run.message("test_apex_rest_health", "cp-bad")
    assert run.outcome("test_apex_rest_health", "cp-bad") == "failed"
    assert ("cp-bad: Apex REST Order API GET /services/apexrest/health: expected status = 'ok', "
            "found 'degraded'") in message
    assert ("cp-bad: Apex REST Inventory API GET /services/apexrest/inventory/health: expected HTTP 200, "
            "found HTTP 404 NOT_FOUND: Could not find a match for URL /inventory/health") in message


def test_inactive_flow_fails_the_record_automation_smoke_test(run):
    assert run.outcome("test_record_automation", "cp-bad") == "failed"
    message = run.message("test_record_automation", "cp-bad")
    assert "cp-bad: process Case triage: Case.Priority of a new record: expected 'High', found None" in message
    assert "cp-bad: process Case triage: Case.Status of a new record: expected 'Working', found 'New'" in message


REFUSED = ("cp-prod: writes refused: allow_writes is false for this org; allow writes in the profile "
           "or remove this expectation for the org (null)")


def test_a_declared_write_check_on_an_org_refusing_writes_fails_and_the_org_is_no_go(run, writes):
    assert run.outcome("test_record_automation", "cp-prod") == "failed"
    assert REFUSED in run.message("test_record_automation", "cp-prod")
    prod = run.gate["orgs"]["cp-prod"]
    assert prod["decision"] == "no-go"
    assert prod["failed"] == [{"check": "checks/test_critical_processes.py::test_record_automation",
                               "test": "checks/test_critical_processes.py::test_record_automation[cp-prod]",
                               "reason": REFUSED}]
    assert prod["skipped"] == [] and prod["counts"]["passed"] == 2
    assert writes["cp-prod"] == []


def test_every_created_record_is_deleted_also_when_the_check_fails(writes):
    for org in ("cp-good", "cp-bad"):
        created = [(w["sobject"], w["id"]) for w in writes[org] if w["op"] == "create"]
        deleted = [(w["sobject"], w["id"]) for w in writes[org] if w["op"] == "delete"]
        assert len(created) == 1 and created[0][0] == "Case", writes[org]
        assert sorted(created) == sorted(deleted), writes[org]


def test_a_check_that_breaks_halfway_still_deletes_what_it_created(run, writes):
    assert run.outcome("test_record_automation", "cp-crash") == "failed"
    assert "REQUIRED_FIELD_MISSING" in run.message("test_record_automation", "cp-crash")
    created = [(w["sobject"], w["id"]) for w in writes["cp-crash"] if w["op"] == "create"]
    deleted = [(w["sobject"], w["id"]) for w in writes["cp-crash"] if w["op"] == "delete"]
    assert [sobject for sobject, _ in created] == ["Case"]
    assert created == deleted


def test_nothing_is_written_to_production(writes):
    assert writes["cp-prod"] == []


def test_checks_without_expectations_skip_with_a_how_to(outcome):
    run = from_json(outcome["empty"])
    for check, key in (("test_recent_business_data", "expect.business_data"),
                       ("test_apex_rest_health", "expect.apex_health"),
                       ("test_record_automation", "expect.record_automation")):
        for org in ("cp-good", "cp-prod"):
            assert run.outcome(check, org) == "skipped"
            assert f"declare {key}" in run.message(check, org)


def test_nothing_declared_skips_before_writes_are_refused(outcome):
    run = from_json(outcome["empty"])
    prod = run.gate["orgs"]["cp-prod"]
    assert prod["failed"] == [] and prod["errors"] == []
    assert "writes refused" not in run.output
