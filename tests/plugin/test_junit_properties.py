"""JUnit XML for CI test-report viewers: org, check, severity, phases and the reason as
properties with clean names; nothing internal, nothing huge."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from plugin_helpers import write_landscape

from lockstep.reports.junit import MAX_VALUE

ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}]
CHECKS = """
import pytest

pytestmark = pytest.mark.verification

@pytest.mark.readiness
def test_flows(org, record_property):
    record_property("evidence", "x" * 5000)
    assert org.name != "qa", "qa: flow Case_Triage: expected active, found inactive"

def test_optional(org):
    pytest.skip("no optional expectation: declare expect.optional")

def test_setup_error(org, broken):
    pass

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

@pytest.mark.warning
def test_matrix(orgs, record_property):
    record_property("lockstep_drift", {"items": [{"key": "k", "values": {"prod": "a" * 3000}}]})
    assert False, "drift: 1 item differs between prod, qa"
"""


def properties(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


@pytest.fixture(params=["serial", "xdist"])
def suite(project: pytest.Pytester, request: pytest.FixtureRequest) -> tuple[ET.Element, dict[str, dict[str, str]]]:
    write_landscape(project.path, ORGS)
    project.makepyfile(test_checks=CHECKS)
    junit = project.path / "junit.xml"
    extra = ["-n", "2"] if request.param == "xdist" else []
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", "--run-id", "run-5",
                               f"--junitxml={junit}", *extra)
    assert result.ret == 1
    assert "record_property is incompatible" not in result.stdout.str()
    root = ET.parse(junit).getroot()
    return root, {case.get("name", ""): properties(case) for case in root.iter("testcase")}


def test_each_testcase_carries_org_check_severity_phases_and_the_reason(suite) -> None:
    _, cases = suite
    failed = cases["test_flows[qa]"]
    assert failed["lockstep.org"] == "qa"
    assert failed["lockstep.check"] == "test_checks.py::test_flows"
    assert failed["lockstep.severity"] == "blocker"
    assert failed["lockstep.phases"] == "readiness,verification"
    assert failed["lockstep.reason"] == "qa: flow Case_Triage: expected active, found inactive"
    assert "lockstep.reason" not in cases["test_flows[prod]"]  # it passed
    assert cases["test_optional[prod]"]["lockstep.reason"] == "no optional expectation: declare expect.optional"
    assert cases["test_setup_error[qa]"]["lockstep.reason"] == "RuntimeError: fixture broke"
    warning = cases["test_matrix"]
    assert "lockstep.org" not in warning  # a cross-org check has no org
    assert warning["lockstep.severity"] == "warning"
    assert warning["lockstep.reason"] == "drift: 1 item differs between prod, qa"


def test_no_internal_or_huge_value_is_written(suite) -> None:
    root, cases = suite
    names = {name for props in cases.values() for name in props}
    assert {n for n in names if n.startswith("lockstep")} == {
        "lockstep.org", "lockstep.check", "lockstep.severity", "lockstep.phases", "lockstep.reason"}
    assert "evidence" in cases["test_flows[qa]"]  # a check's own property is kept ...
    assert len(cases["test_flows[qa]"]["evidence"]) == MAX_VALUE  # ... cut short
    assert all(len(value) <= MAX_VALUE for props in cases.values() for value in props.values())
    suite_props = {p.get("name"): p.get("value") for p in root.find("testsuite").find("properties")}
    assert suite_props == {"lockstep.decision": "no-go", "lockstep.run_id": "run-5", "lockstep.profile": "p",
                           "lockstep.phase": "all"}
