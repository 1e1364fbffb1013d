"""checks/test_packages.py against planted orgs: each check passes on a good org and fails,
with the right message, on a bad one."""

from __future__ import annotations

import pytest
from catalog import STATES, run_catalog
from shared_run import from_json, once, to_json

PROFILES = STATES / "catalog1"


def _run(tmp_path_factory, name, *args):
    def produce():
        folder = tmp_path_factory.mktemp(name)
        return to_json(run_catalog(folder, PROFILES / f"{name}.yaml", "test_packages.py", args=args))

    return from_json(once(tmp_path_factory, f"catalog1-{name}", produce))


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    return _run(tmp_path_factory, "packages-fail")


@pytest.fixture(scope="module")
def passing(tmp_path_factory):
    return _run(tmp_path_factory, "packages-pass", "-rP")


def test_expected_versions_exact_and_minimum(failing):
    check = "test_expected_package_versions"
    assert failing.outcome(check, "good") == "passed"
    assert failing.outcome(check, "good2") == "passed"
    assert failing.outcome(check, "old") == "failed"
    assert "old: package acme_cpq: expected 2.5.0.1, found 2.4.0.1" in failing.message(check, "old")
    assert "old: package dlrs: expected >= 2.18.0.0, found 2.17.0.1" in failing.message(check, "old")
    assert "odd: package acme_cpq: expected 2.5.0.1, found 2.3.0.0" in failing.message(check, "odd")
    assert "dlrs" not in failing.message(check, "odd")


def test_missing_expectations_skip_with_the_key_to_declare(failing):
    assert failing.outcome("test_expected_package_versions", "bare") == "skipped"
    assert "declare expect.packages.<namespace>.version" in failing.message("test_expected_package_versions", "bare")
    assert "expect.packages.<namespace>.before" in failing.message("test_packages_on_previous_version", "bare")


def test_readiness_accepts_the_previous_or_the_new_version(failing):
    check = "test_packages_on_previous_version"
    assert failing.outcome(check, "old") == "passed"
    assert failing.outcome(check, "good") == "passed"
    assert failing.outcome(check, "odd") == "failed"
    assert ("odd: package acme_cpq: expected 2.4.0.1 before the release (or already 2.5.0.1), found 2.3.0.0"
            in failing.message(check, "odd"))


def test_laggards_are_named(failing, passing):
    check = "test_same_package_versions_everywhere"
    assert failing.outcome(check) == "failed"
    assert "package dlrs: 2 orgs on 2.18.0.3, but old on 2.17.0.1" in failing.message(check)
    assert "acme_cpq" not in failing.message(check).splitlines()[0]  # governed by its fleet policy
    assert passing.outcome(check) == "passed"


def test_fleet_lag_budget(failing, passing):
    check = "test_package_fleet_within_lag_budget"
    assert failing.outcome(check) == "failed"
    message = failing.message(check)
    assert ("package acme_cpq: 2 of 4 orgs (50.0%) lag 2.5.0.1, more than the 25% allowed: "
            "odd on 2.3.0.0, old on 2.4.0.1") in message
    assert "acme_cpq 2.5.0.1      2 orgs   50.0%" in message  # the histogram follows the finding
    assert passing.outcome(check) == "passed"  # 1 of 3 lags: within 40% and 1 org


def test_fleet_histogram_is_printed_on_a_pass(passing):
    assert "package acme_cpq: target 2.5.0.1, 1 of 3 orgs lagging" in passing.output
    assert "acme_cpq 2.4.0.1      1 org    33.3%" in passing.output


def test_gate_reasons_name_org_package_and_versions(failing):
    gate = failing.gate
    assert gate["decision"] == "no-go"
    assert gate["orgs"]["good"]["decision"] == "go"
    reasons = [item["reason"] for item in gate["orgs"]["old"]["failed"]]
    assert reasons == ["old: package acme_cpq: expected 2.5.0.1, found 2.4.0.1"]
    landscape = {item["check"].rpartition("::")[2] for item in gate["landscape"]["failed"]}
    assert landscape == {"test_same_package_versions_everywhere", "test_package_fleet_within_lag_budget"}
