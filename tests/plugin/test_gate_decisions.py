"""gate.py: outcomes and session facts in, a fail-closed decision out (pure unit tests)."""

from __future__ import annotations

from typing import Any

import pytest

from lockstep.gate.build import RunInfo, Tally, build_gate, exit_code, outcome_of, phase_of, unfinished_gate

ORGS = {"prod": "production", "qa": "sandbox"}


def passed(tally: Tally, org: str | None, name: str = "test_a", **kw: Any) -> None:
    test = f"checks/test_x.py::{name}" + (f"[{org}]" if org else "")
    tally.add(test, "setup", "passed", check=f"checks/test_x.py::{name}", org=org, **kw)
    tally.add(test, "call", "passed", check=f"checks/test_x.py::{name}", org=org, **kw)
    tally.add(test, "teardown", "passed", check=f"checks/test_x.py::{name}", org=org, **kw)


def green() -> Tally:
    tally = Tally()
    for org in ORGS:
        passed(tally, org, phases=("verification",))
    return tally


def gate(tally: Tally, **info: Any) -> dict[str, Any]:
    return build_gate(tally.results, RunInfo(orgs=ORGS, **info)).to_json()


def test_all_passed_is_go() -> None:
    result = gate(green(), api_calls={"prod": 3}, profile_name="p", profile_sha256="ab", release="R1")
    assert result["decision"] == "go" and result["reasons"] == []
    assert result["orgs"]["prod"]["decision"] == "go"
    assert result["orgs"]["prod"]["api_calls"] == 3 and result["orgs"]["qa"]["api_calls"] == 0
    assert result["counts"]["passed"] == 2 and result["counts"]["executed"] == 2
    assert result["phase"] == "verification"
    assert result["profile"] == {"name": "p", "sha256": "ab"} and result["release"] == "R1"


def test_a_failure_is_no_go_for_that_org_only() -> None:
    tally = green()
    tally.add("checks/test_x.py::test_b[prod]", "call", "failed", check="checks/test_x.py::test_b", org="prod",
              reason="prod: flow X: expected active, found inactive")
    result = gate(tally)
    assert result["decision"] == "no-go"
    assert result["orgs"]["prod"]["decision"] == "no-go" and result["orgs"]["qa"]["decision"] == "go"
    assert result["orgs"]["prod"]["failed"] == [{"check": "checks/test_x.py::test_b",
                                                 "test": "checks/test_x.py::test_b[prod]",
                                                 "reason": "prod: flow X: expected active, found inactive"}]
    assert result["reasons"] == ["prod: 1 failed check"]
    assert exit_code(result["decision"], 0) == 1


def test_setup_and_teardown_errors_block() -> None:
    tally = green()
    tally.add("checks/test_x.py::test_a[qa]", "teardown", "failed", org="qa", reason="boom")
    result = gate(tally)
    assert result["orgs"]["qa"]["errors"][0]["reason"] == "boom"
    assert result["counts"]["errors"] == 1 and result["decision"] == "no-go"


def test_unreachable_org_is_no_go() -> None:
    tally = green()
    tally.add("checks/test_x.py::test_b[qa]", "setup", "failed", org="qa", reason="qa: unreachable: down")
    result = gate(tally, unreachable={"qa": "CONNECTION_FAILED: down"})
    assert result["orgs"]["qa"]["reachable"] is False and result["orgs"]["qa"]["decision"] == "no-go"
    assert result["reasons"] == ["qa: unreachable: CONNECTION_FAILED: down"]


def test_zero_executed_checks_is_no_go() -> None:
    tally = Tally()
    tally.add("t[prod]", "setup", "skipped", org="prod", reason="not applicable")
    result = gate(tally)
    assert result["decision"] == "no-go"
    assert "no check was executed" in result["reasons"]
    assert result["orgs"]["prod"]["skipped"][0]["reason"] == "not applicable"
    assert gate(Tally())["reasons"][-1] == "no check was executed"


def test_a_skip_alone_does_not_block() -> None:
    tally = green()
    tally.add("checks/test_x.py::test_s[prod]", "call", "skipped", org="prod", reason="declare expect.x")
    result = gate(tally)
    assert result["decision"] == "go"
    assert result["orgs"]["prod"]["skipped"] == [{"check": "checks/test_x.py::test_s[prod]",
                                                  "test": "checks/test_x.py::test_s[prod]",
                                                  "reason": "declare expect.x"}]


def test_an_org_where_no_check_ran_is_no_go() -> None:
    tally = Tally()
    passed(tally, "prod")
    tally.add("t[qa]", "setup", "skipped", org="qa", reason="n/a")
    result = gate(tally)
    assert result["orgs"]["qa"]["decision"] == "no-go"
    assert result["reasons"] == ["qa: no check ran (1 skip)"]


@pytest.mark.parametrize(("when", "outcome", "wasxfail", "expected"), [
    ("call", "skipped", True, "xfailed"),
    ("call", "passed", True, "xpassed"),
    ("call", "failed", False, "failed"),
    ("setup", "failed", False, "error"),
    ("setup", "skipped", False, "skipped"),
    ("setup", "passed", False, None),
])
def test_outcome_of(when: str, outcome: str, wasxfail: bool, expected: str | None) -> None:
    assert outcome_of(when, outcome, wasxfail) == expected


def test_xfail_and_xpass_of_a_blocker_block() -> None:
    for outcome, wasxfail in (("skipped", True), ("passed", True)):
        tally = green()
        tally.add("t[prod]", "call", outcome, wasxfail=wasxfail, org="prod", reason="known bug")
        assert gate(tally)["decision"] == "no-go"


def test_warning_failures_are_reported_but_do_not_block() -> None:
    tally = green()
    tally.add("t[prod]", "call", "failed", org="prod", severity="warning", reason="preview instance ahead")
    result = gate(tally)
    assert result["decision"] == "go"
    assert result["orgs"]["prod"]["warnings"][0]["reason"] == "preview instance ahead"
    assert result["counts"]["warnings"] == 1


def test_warning_errors_still_block() -> None:
    tally = green()
    tally.add("t[prod]", "setup", "failed", org="prod", severity="warning", reason="broken fixture")
    assert gate(tally)["decision"] == "no-go"


def test_landscape_failures_block() -> None:
    tally = green()
    tally.add("checks/test_x.py::test_same", "call", "failed", org=None, reason="package acme: 2 versions")
    result = gate(tally)
    assert result["landscape"]["failed"][0]["reason"] == "package acme: 2 versions"
    assert result["reasons"] == ["landscape: 1 failed check"]


def test_interruption_and_collection_errors_block() -> None:
    result = gate(green(), interrupted="KeyboardInterrupt", exit_status=2)
    assert result["reasons"] == ["run interrupted: KeyboardInterrupt"]
    result = gate(green(), collection_errors=(("checks/test_bad.py", "SyntaxError: invalid syntax"),))
    assert result["reasons"] == ["collection error: checks/test_bad.py: SyntaxError: invalid syntax"]


def test_unexplained_exit_status_blocks() -> None:
    assert gate(green(), exit_status=3)["reasons"] == ["pytest exit status 3 (internal error)"]
    assert gate(green(), exit_status=1)["reasons"] == ["pytest reported a failure outside the checks"]


def test_worst_outcome_wins_and_keeps_its_reason() -> None:
    tally = Tally()
    tally.add("t[prod]", "call", "failed", org="prod", reason="first")
    tally.add("t[prod]", "teardown", "failed", org="prod", reason="cleanup failed")
    tally.add("t[prod]", "teardown", "passed", org="prod")
    (result,) = tally.results
    assert (result.outcome, result.reason, result.executed) == ("error", "cleanup failed", True)


def test_phase() -> None:
    assert phase_of("readiness", []) == "readiness"
    assert phase_of("", ["verification", "verification"]) == "verification"
    assert phase_of("", ["verification", "readiness"]) == "all"
    assert phase_of("not slow", []) == "all"


def test_exit_code() -> None:
    assert exit_code("go", 0) == 0
    assert exit_code("no-go", 0) == 1
    assert exit_code("no-go", 2) == 2
    assert exit_code("go", 1) == 0


def test_an_org_error_during_a_check_is_an_error_not_a_failed_check() -> None:
    tally = green()
    test = "checks/test_x.py::test_b[prod]"
    tally.add(test, "setup", "passed", check="checks/test_x.py::test_b", org="prod")
    tally.add(test, "call", "failed", check="checks/test_x.py::test_b", org="prod", org_error=True,
              reason="prod: SERVER_UNAVAILABLE: HTTP 503")
    result = gate(tally)
    prod = result["orgs"]["prod"]
    assert prod["failed"] == [] and [e["reason"] for e in prod["errors"]] == ["prod: SERVER_UNAVAILABLE: HTTP 503"]
    assert prod["counts"]["errors"] == 1 and prod["counts"]["failed"] == 0
    assert result["decision"] == "no-go" and "prod: 1 error" in result["reasons"]


def test_the_gate_of_an_unfinished_run_is_no_go() -> None:
    result = unfinished_gate("run started 2026-01-01T00:00:00+00:00 and did not finish", release="R1",
                             profile_name="p", markexpr="readiness").to_json()
    assert result["decision"] == "no-go" and result["phase"] == "readiness" and result["finished"] is None
    assert result["reasons"] == ["run started 2026-01-01T00:00:00+00:00 and did not finish"]
    assert result["counts"]["executed"] == 0 and result["orgs"] == {} and result["complete"] is False
    assert exit_code(result["decision"], 0) == 1
