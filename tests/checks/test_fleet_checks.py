"""checks/test_fleet.py against planted packaging orgs: every planted fleet problem fails its
check with a message naming it, a healthy fleet (at the edge of its lag budget, with filtered-out
laggards) passes, and the gate names each finding."""

from __future__ import annotations

import pytest
from catalog import STATES, run_catalog
from shared_run import from_json, once, to_json


def _run(tmp_path_factory, name):
    def produce():
        folder = tmp_path_factory.mktemp(name)
        return to_json(run_catalog(folder, STATES / "fleet" / f"{name}.yaml", "test_fleet.py", args=("-rP",)))

    return from_json(once(tmp_path_factory, f"fleet-{name}", produce))


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    return _run(tmp_path_factory, "fleet-fail")


@pytest.fixture(scope="module")
def passing(tmp_path_factory):
    return _run(tmp_path_factory, "fleet-pass")


def test_lag_over_budget_names_laggards_by_instance_with_a_histogram(failing):
    message = failing.message("test_fleet_on_target_version", "pkg-bad")
    assert failing.outcome("test_fleet_on_target_version", "pkg-bad") == "failed"
    # 60 generated + Initech, Hooli, Wonka, Globex; Soylent is inactive (not counted); other_pkg is another fleet
    assert "pkg-bad: package acme_cpq: 64 of 1006 subscribers (6.4%) lag 2.5.0.1, more than the 2% allowed" in message
    assert "acme_cpq 2.4.0.1     64 subscribers    6.4%" in message
    assert "NA1: 1 lagging: Globex (00D000000000GLOEA2) on 2.4.0.1" in message
    na211 = next(line for line in message.splitlines() if line.strip().startswith("NA211:"))
    assert na211.strip().startswith("NA211: 40 lagging: ") and na211.endswith(" and 20 more")
    assert "Initech (00D000000000INIEA2) on 2.4.0.1" in na211
    assert "Soylent" not in message


def test_failed_and_stuck_push_jobs_are_named_with_their_errors(failing):
    check = "test_push_upgrade_succeeded"
    message = failing.message(check, "pkg-bad")
    assert failing.outcome(check, "pkg-bad") == "failed"
    assert ("pkg-bad: push upgrade of acme_cpq to 2.5.0.1: 1 push job failed: Initech (00D000000000INIEA2) failed "
            "(ApexTestFailure: QuoteTriggerTest.testDiscount failed)") in message
    assert ("1 push job not finished 120 minutes after starting: Hooli (00D000000000HOOEA2) Pending since"
            in message)
    assert "Wonka" not in message  # in progress for 10 minutes: within the grace period
    assert "Old failure" not in message  # a job of the previous release's push request


def test_blocking_and_inactive_subscribers_are_a_warning(failing):
    check = "test_subscribers_accept_push_upgrades"
    message = failing.message(check, "pkg-bad")
    assert failing.outcome(check, "pkg-bad") == "failed"
    assert ("1 subscriber blocks push upgrades (HasRestrictionEnabled): "
            "Globex (00D000000000GLOEA2) on 2.4.0.1") in message
    assert "1 subscriber inactive (OrgStatus Inactive): Soylent (00D000000000SOYEA2) on 2.3.0.0" in message
    warnings = [item["test"] for item in failing.gate["orgs"]["pkg-bad"]["warnings"]]
    assert any(check in test for test in warnings)


def test_direct_subscriber_disagreeing_with_the_packaging_org(failing):
    check = "test_fleet_matches_direct_subscribers"
    assert failing.outcome(check) == "failed"
    message = failing.message(check)
    assert ("sub-a (00D000000000SUAEA2): package acme_cpq: pkg-bad reports 2.5.0.1, "
            "the org itself runs 2.4.0.1") in message
    assert "sub-b" not in message


def test_every_planted_problem_is_named_in_the_gate(failing):
    assert failing.returncode == 1 and failing.gate["decision"] == "no-go"
    failed = {item["test"].split("::")[-1].split("[")[0] for item in failing.gate["orgs"]["pkg-bad"]["failed"]}
    assert failed == {"test_fleet_on_target_version", "test_push_upgrade_succeeded"}
    landscape = " ".join(item["reason"] for item in failing.gate["landscape"]["failed"])
    assert "sub-a (00D000000000SUAEA2)" in landscape


def test_other_orgs_skip_with_what_to_declare(failing):
    message = failing.message("test_fleet_on_target_version", "sub-a")
    assert failing.outcome("test_fleet_on_target_version", "sub-a") == "skipped"
    assert "kind: packaging, expect.fleet {package: NAMESPACE, target: VERSION}" in message


def test_healthy_fleet_passes_at_the_edge_of_its_budget(passing):
    for check in ("test_fleet_on_target_version", "test_push_upgrade_succeeded",
                  "test_subscribers_accept_push_upgrades"):
        assert passing.outcome(check, "pkg-good") == "passed", passing.message(check, "pkg-good")
    assert passing.outcome("test_fleet_matches_direct_subscribers") == "passed"
    # exactly 2%: 20 of 1,000 counted; the 50 sandboxes on 2.3.0.0 and the excluded laggard left out
    assert "pkg-good: acme_cpq: target 2.5.0.1, 20 of 1000 subscribers lagging" in passing.output
    assert "980 of 980 jobs succeeded" in passing.output
    assert passing.gate["orgs"]["pkg-good"]["decision"] == "go"
