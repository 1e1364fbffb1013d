"""checks/test_automation.py against planted orgs: each check passes on a good org and fails,
with the right message, on a bad one."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from catalog import STATES, run_catalog
from shared_run import from_json, once, to_json

TEMPLATE = STATES / "catalog1" / "automation.yaml"


def _profile(folder, deployed_at: dt.datetime):
    """The planted profile with a deployment start relative to now (the states' times are relative too)."""
    data = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    data["emulator"] = str(TEMPLATE.parent / data["emulator"])
    data["expect"]["deployed_at"] = deployed_at.isoformat()
    path = folder / "automation.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    def produce():
        folder = tmp_path_factory.mktemp("automation")
        now = dt.datetime.now(dt.UTC)
        return to_json(run_catalog(folder, _profile(folder, now - dt.timedelta(hours=1)), "test_automation.py"))

    return from_json(once(tmp_path_factory, "catalog1-automation", produce))


def test_flows(run):
    check = "test_flows_in_expected_state"
    assert run.outcome(check, "auto-good") == "passed", run.message(check, "auto-good")
    assert run.outcome(check, "auto-bad") == "failed"
    message = run.message(check, "auto-bad")
    assert "auto-bad: flow Case_Triage: expected active version 4, found active version 3 (latest version 4)" in message
    assert "auto-bad: flow Lead_Assignment: expected active, found missing" in message
    assert "auto-bad: flow Legacy_Router: expected inactive, found active version 2" in message
    assert ("auto-off: flow Case_Triage: expected active version 4, found inactive (latest version 4)"
            in run.message(check, "auto-off"))


def test_apex_triggers(run):
    check = "test_apex_triggers_in_expected_state"
    assert run.outcome(check, "auto-good") == "passed"
    assert "auto-bad: apex trigger CaseTrigger: expected Active, found Inactive" in run.message(check, "auto-bad")


def test_validation_rules(run):
    check = "test_validation_rules_in_expected_state"
    assert run.outcome(check, "auto-good") == "passed", run.message(check, "auto-good")
    assert run.outcome(check, "auto-bad") == "failed"
    assert ("auto-bad: validation rule Case.Require_Close_Reason: expected active, found inactive"
            in run.message(check, "auto-bad"))


def test_scheduled_jobs_in_expected_state(run):
    check = "test_scheduled_jobs_scheduled"
    assert run.outcome(check, "auto-good") == "passed", run.message(check, "auto-good")
    assert "auto-bad: scheduled job Nightly ERP Sync: expected WAITING, found PAUSED" in run.message(check, "auto-bad")


def test_stuck_scheduled_jobs(run):
    check = "test_no_stuck_scheduled_jobs"
    assert run.outcome(check, "auto-good") == "passed", run.message(check, "auto-good")  # PAUSED is not stuck
    assert run.outcome(check, "auto-none") == "passed"
    message = run.message(check, "auto-bad")
    assert "auto-bad: scheduled job Report Mailer: expected not stuck, found ERROR" in message
    assert "auto-bad: scheduled job Hourly Cleanup: expected to fire at " in message
    assert "minutes overdue (WAITING)" in message
    assert "Nightly ERP Sync" not in message


def test_failed_async_jobs_since_the_deployment(run):
    check = "test_no_failed_async_jobs_since_deployment"
    assert run.outcome(check, "auto-good") == "passed", run.message(check, "auto-good")  # failed before it
    message = run.message(check, "auto-bad")
    assert "auto-bad: async job ErpSyncBatch (BatchApex " in message
    assert "found Failed with 3 errors: First error: UNABLE_TO_LOCK_ROW" in message
    assert "auto-bad: async job OrderQueueable (Queueable " in message
    assert "found Completed with 2 errors" in message


def test_missing_expectations_skip_with_the_key_to_declare(run):
    for check, key in [
        ("test_flows_in_expected_state", "expect.flows"),
        ("test_apex_triggers_in_expected_state", "expect.apex_triggers"),
        ("test_validation_rules_in_expected_state", "expect.validation_rules"),
        ("test_scheduled_jobs_scheduled", "expect.scheduled_jobs"),
        ("test_no_failed_async_jobs_since_deployment", "--deployed-at"),
    ]:
        assert run.outcome(check, "auto-none") == "skipped", check
        assert key in run.message(check, "auto-none"), check


def test_deployed_at_option_wins_over_the_profile(tmp_path):
    now = dt.datetime.now(dt.UTC)
    earlier = (now - dt.timedelta(hours=10)).isoformat()
    result = run_catalog(tmp_path, _profile(tmp_path, now - dt.timedelta(hours=1)), "test_automation.py",
                         args=("-k", "async", f"--deployed-at={earlier}"))
    check = "test_no_failed_async_jobs_since_deployment"
    assert result.outcome(check, "auto-good") == "failed"
    assert "auto-good: async job ErpSyncBatch (BatchApex " in result.message(check, "auto-good")
    assert result.outcome(check, "auto-none") == "passed"  # the option applies to every org; none failed there
