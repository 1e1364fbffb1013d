"""Planned requests (``@plan(planner)`` and the ``planned`` fixture), proven through a run of a
check file against an emulator this module owns: the gate, the output, and what the
emulator's admin endpoint reports per org afterwards (API calls, write log)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from inprocess import run_pytest
from plugin_helpers import org_reports, read_gate, state, write_landscape

from lockstep.emulator import Emulator

ORGS = ("alpha", "beta", "gamma", "delta", "prod")
CHECKS = '''
import pytest
from lockstep.config.expectations import BOOL, TEXT, Anything, ListOf, expectation
from lockstep.facts.plan import Get, Query, SmokeTest, ToolingQuery, plan

OBJECT = expectation("object", TEXT)
BAD_QUERY = expectation("bad_query", BOOL)
READ = expectation("read", ListOf(TEXT))
BROKEN = expectation("broken", Anything())


def counts(org):
    obj = org.expect.get("object", "Case")
    queries = {f"q{i}": Query(f"SELECT COUNT(Id) total FROM {obj} WHERE Subject != 'x{i}'") for i in range(6)}
    if org.expect.get("bad_query"):
        queries["bad"] = Query("SELECT Id FROM NoSuchThing")
    return {**queries, "classes": ToolingQuery("SELECT Id FROM ApexClass"), "health": Get("/services/apexrest/health")}


@plan(counts)
def test_counts(org, planned):
    """Six queries and a Tooling query: asked before the first check, batched."""
    calls = org.api_calls
    totals = [planned[f"q{i}"][0]["total"] for i in range(6)]
    assert planned["classes"] == [] and planned["health"] == {"status": "ok"}
    assert org.api_calls == calls, f"{org.name}: planned answers were asked during the check"
    assert totals == [1] * 6


def test_unplanned(org):
    """Reads nothing planned: another request's failure on the same org does not touch it."""
    assert org.client.query("SELECT COUNT(Id) total FROM Case")[0]["total"] >= 1


def smoke(org):
    return {"triage": SmokeTest("Case", create={"Subject": "smoke", "Origin": "Web"},
                                read=org.expect.get("read", ["Priority", "Status"]))}


@pytest.mark.writes
@plan(smoke)
def test_smoke(org, planned):
    record = planned["triage"]
    assert (record["Priority"], record["Status"]) == ("High", "Working")


@plan(smoke)
def test_smoke_outside_writes_check(org, planned):
    planned["triage"]


def test_z_no_smoke_record_left(org):
    assert org.client.query("SELECT COUNT(Id) total FROM Case WHERE Subject = 'smoke'")[0]["total"] == 0


def broken(org):
    if org.expect.get("broken"):
        pytest.fail(f"{org.name}: expect.broken: expected nothing, got {org.expect['broken']!r}", pytrace=False)
    return {}


@plan(broken)
def test_broken_planner(org, planned):
    assert dict(planned) == {}
'''
AUTOMATION: dict[str, Any] = {
    "flows": [{"api_name": "Case_Triage", "label": "Case Triage", "process_type": "AutoLaunchedFlow",
               "trigger_type": "RecordAfterSave", "object": "Case", "versions": 1, "active_version": 1}],
    "automation": [{"flow": "Case_Triage", "object": "Case", "on": "create",
                    "set": {"Priority": "High", "Status": "Working"}}],
    "apex_rest": [{"path": "health", "status": 200, "body": {"status": "ok"}}],
    "records": {"Case": [{"Subject": "Printer jam", "Status": "New", "Origin": "Email"}]},
}
REFUSED = "writes are refused outside a check marked @pytest.mark.writes on an org that allows writes"
SMOKE_REFUSED = ("prod: writes refused: allow_writes is false for this org; allow writes in the profile "
                 "or remove this expectation for the org (null)")


def _run(root: Path, emulator: Emulator, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pytest(root, "test_plans.py", "--org-profile", "profile.yaml", "-p", "no:cacheprovider", "-q",
                      "-p", "no:xdist", *args)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("plans")
    write_landscape(root / "states", [{"name": n} for n in ORGS],
                    states=[state("alpha", **AUTOMATION), state("beta", **AUTOMATION),
                            state("gamma", **AUTOMATION), state("delta", **AUTOMATION),
                            state("prod", "production", **AUTOMATION)])
    with Emulator(root / "states" / "profiles" / "p-states", host="127.0.0.1", port=0) as emulator:
        auth = {"method": "emulator", "url": emulator.url, "ca_file": str(emulator.ca_cert)}
        (root / "profile.yaml").write_text(yaml.safe_dump({"orgs": [
            {"name": "alpha", "kind": "sandbox", "auth": auth},
            {"name": "beta", "kind": "sandbox", "auth": auth,
             "expect": {"object": "NoSuchThing", "read": ["Priority", "NoSuchField__c"], "broken": 3}},
            {"name": "gamma", "kind": "sandbox", "auth": auth, "expect": {"bad_query": True}},
            {"name": "delta", "kind": "sandbox", "auth": auth, "expect": {"read": ["Priority", "NoSuchField__c"]}},
            {"name": "prod", "kind": "production", "auth": auth}]}))
        (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\n")
        (root / "test_plans.py").write_text(CHECKS)
        proc = _run(root, emulator, "--org-concurrency", "2")
        orgs = org_reports(emulator, ORGS)
    gate_file = root / "reports" / "gate.json"
    assert gate_file.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"output": proc.stdout + proc.stderr, "gate": json.loads(gate_file.read_text()), "orgs": orgs}


def reasons(outcome: dict[str, Any], org: str) -> dict[str, str]:
    entry = outcome["gate"]["orgs"][org]
    return {item["test"].split("::")[1].split("[")[0]: item["reason"] for item in entry["failed"] + entry["errors"]}


def test_planned_requests_are_asked_before_the_checks_and_batched(outcome: dict[str, Any]) -> None:
    assert "test_counts" not in reasons(outcome, "alpha"), outcome["output"][-3000:]
    # alpha: 6 queries in 2 composites (the smoke test rides in the second), 1 Tooling query,
    # 1 Apex REST GET, and 2 queries the unplanned checks send themselves
    assert outcome["gate"]["orgs"]["alpha"]["api_calls"] == 6 == outcome["orgs"]["alpha"]["api_calls"]
    # prod: the same without the smoke test, which never leaves the process
    assert outcome["gate"]["orgs"]["prod"]["api_calls"] == 6 == outcome["orgs"]["prod"]["api_calls"]


def test_a_failing_planned_request_fails_the_check_reading_it_on_that_org_only(outcome: dict[str, Any]) -> None:
    beta = reasons(outcome, "beta")
    assert beta["test_counts"].startswith("beta: INVALID_TYPE"), beta
    assert "NoSuchThing" in beta["test_counts"]
    assert "test_unplanned" not in beta and "test_z_no_smoke_record_left" not in beta
    assert "test_counts" not in reasons(outcome, "alpha") and "test_counts" not in reasons(outcome, "prod")


def test_a_planner_failure_fails_its_check_on_that_org_only(outcome: dict[str, Any]) -> None:
    assert reasons(outcome, "beta")["test_broken_planner"] == "beta: expect.broken: expected nothing, got 3"
    assert "test_broken_planner" not in reasons(outcome, "alpha")


def test_a_smoke_test_creates_reads_back_and_deletes_in_one_call(outcome: dict[str, Any]) -> None:
    assert "test_smoke" not in reasons(outcome, "alpha")
    writes = [(w["op"], w["sobject"]) for w in outcome["orgs"]["alpha"]["writes"]]
    assert writes == [("create", "Case"), ("delete", "Case")]


def test_a_failing_smoke_test_leaves_no_record(outcome: dict[str, Any]) -> None:
    beta = reasons(outcome, "beta")
    assert beta["test_smoke"].startswith("beta: INVALID_FIELD"), beta
    assert outcome["orgs"]["beta"]["writes"] == []
    assert "test_z_no_smoke_record_left" not in beta


def test_a_query_failing_beside_a_smoke_test_costs_one_call_more_never_an_answer(outcome: dict[str, Any]) -> None:
    """gamma: the failing query rolls back the composite it shares with the smoke test; the
    query rolled back with it and the smoke test are sent again, each answered rightly."""
    gamma = reasons(outcome, "gamma")
    assert "test_counts" not in gamma and "test_smoke" not in gamma, gamma
    writes = [(w["op"], w["sobject"]) for w in outcome["orgs"]["gamma"]["writes"]]
    assert writes == [("create", "Case"), ("delete", "Case")]
    # alpha's 6 calls, plus the rolled-back query and the smoke test sent again on their own
    assert outcome["gate"]["orgs"]["gamma"]["api_calls"] == 8 == outcome["orgs"]["gamma"]["api_calls"]


def test_a_smoke_test_failing_beside_queries_leaves_their_answers_right_and_no_record(
        outcome: dict[str, Any]) -> None:
    """delta: the smoke test fails and rolls back the queries sharing its composite: they are
    sent again without it."""
    delta = reasons(outcome, "delta")
    assert delta["test_smoke"].startswith("delta: INVALID_FIELD"), delta
    assert "test_counts" not in delta and "test_z_no_smoke_record_left" not in delta, delta
    assert outcome["orgs"]["delta"]["writes"] == []
    assert outcome["gate"]["orgs"]["delta"]["api_calls"] == 7 == outcome["orgs"]["delta"]["api_calls"]


def test_smoke_tests_are_refused_on_production_and_outside_writes_checks(outcome: dict[str, Any]) -> None:
    prod = reasons(outcome, "prod")
    assert prod["test_smoke"] == SMOKE_REFUSED
    assert outcome["orgs"]["prod"]["writes"] == []
    outside = reasons(outcome, "alpha")["test_smoke_outside_writes_check"]
    assert outside == f"alpha: WRITE_REFUSED: SmokeTest Case: {REFUSED}"
    assert len(outcome["orgs"]["alpha"]["writes"]) == 2  # only test_smoke's create and delete


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5", ""])
def test_org_concurrency_must_be_a_positive_integer(project: pytest.Pytester, value: str) -> None:
    write_landscape(project.path, [{"name": "alpha", "kind": "sandbox"}])
    project.makepyfile(test_a="def test_one(org):\n    pass\n")
    result = project.runpytest("--org-profile", "p", f"--org-concurrency={value}", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if "--org-concurrency" in line]
    assert errors and f"expected a positive integer (orgs at once), got {value!r}" in errors[-1]


def test_org_concurrency_one_gives_the_same_results(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": n, "kind": "sandbox"} for n in ("alpha", "beta", "gamma")])
    project.makepyfile(test_a="import pytest\n\n@pytest.mark.facts('organization')\n"
                              "def test_one(org):\n    assert org.facts.organization.name == org.name\n")
    result = project.runpytest("--org-profile", "p", "--org-concurrency", "1", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


PLANNED_COUNTS = '''
from lockstep.facts.plan import Query, plan


def counts(org):
    return {f"q{i}": Query(f"SELECT COUNT(Id) total FROM Account WHERE Name != 'x{i}'") for i in range(7)}


@plan(counts)
def test_counts(org, planned):
    calls = org.api_calls
    assert [planned[f"q{i}"][0]["total"] for i in range(7)] == [0] * 7
    assert org.api_calls == calls == 2, f"{org.name}: {org.api_calls} calls"
'''


def test_large_landscapes_show_progress_while_every_org_is_asked(project: pytest.Pytester) -> None:
    names = [f"org{n:02d}" for n in range(10)]
    write_landscape(project.path, [{"name": n, "kind": "sandbox"} for n in names])
    project.makepyfile(test_a=PLANNED_COUNTS)
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["lockstep: logging in to 10 orgs and asking each for its facts and planned requests",
                                 "lockstep: 10/10 orgs ready"])
    assert all(entry["api_calls"] == 2 for entry in read_gate(project.path)["orgs"].values())


def test_under_xdist_each_org_is_asked_its_plan_before_its_first_check(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": n, "kind": "sandbox"} for n in ("alpha", "beta", "gamma")])
    project.makepyfile(test_a=PLANNED_COUNTS)
    result = project.runpytest("--org-profile", "p", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert {name: entry["api_calls"] for name, entry in read_gate(project.path)["orgs"].items()} == {
        "alpha": 2, "beta": 2, "gamma": 2}


def test_a_plan_that_is_not_a_function_is_a_usage_error_naming_the_test(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "alpha", "kind": "sandbox"}])
    project.makepyfile(test_a="import pytest\n\n@pytest.mark.plan.with_args('SELECT Id FROM Case')\n"
                              "def test_one(org, planned):\n    pass\n")
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any("test_a.py::test_one[alpha]: @pytest.mark.plan: expected planner functions" in line
               for line in result.errlines), result.errlines


def test_a_planner_answering_something_else_fails_its_check_with_one_line(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "alpha", "kind": "sandbox"}])
    project.makepyfile(test_a="from lockstep.facts.plan import plan\n\n"
                              "def soql(org):\n    return ['SELECT Id FROM Case']\n\n"
                              "@plan(soql)\ndef test_one(org, planned):\n    planned['x']\n\n"
                              "def test_two(org):\n    pass\n")
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    [failure] = read_gate(project.path)["orgs"]["alpha"]["failed"]
    assert failure["reason"] == ("alpha: plan soql: expected a mapping name -> request (Query, ToolingQuery, Get, "
                                 "SmokeTest), got ['SELECT Id FROM Case']")
