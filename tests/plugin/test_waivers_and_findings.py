"""Waivers and severity overrides decide the gate as the profile says, and every output carries
every finding's reason, readable at scale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import read_gate, write_landscape

from lockstep.cli import main

ORGS: list[dict[str, Any]] = [
    {"name": "prod", "kind": "production", "tags": ["emea"]}, {"name": "qa", "kind": "sandbox"},
]
CHECKS = """
def test_flow_active(org):
    assert org.name != "prod", "prod: flow Case_Triage: expected active, found inactive"

def test_headroom(org):
    assert False, f"{org.name}: daily API requests: expected at least 10% remaining, found 3%"

def test_reachable(org):
    assert org.name
"""
WAIVER = {"check": "test_flow_active", "orgs": ["tag:emea"], "reason": "switched on after the migration (CHG-1)",
          "owner": "jane@acme.example", "expires": "2026-12-15"}
SEVERITY = [{"check": "test_headroom", "orgs": ["kind:sandbox"], "level": "warning"},
            {"check": "test_headroom", "orgs": ["prod"], "level": "warning"}]


def landscape(project: pytest.Pytester, **profile: Any) -> pytest.Pytester:
    write_landscape(project.path, ORGS, **profile)
    project.makepyfile(test_checks=CHECKS)
    return project


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", *args)


def test_an_active_waiver_turns_a_failure_into_a_waived_go(project: pytest.Pytester) -> None:
    landscape(project, waivers=[WAIVER], severity=SEVERITY)
    result = run(project, "--now", "2026-12-01T10:00:00+00:00")
    assert result.ret == 0, result.stdout.str()
    gate = read_gate(project.path)
    assert gate["decision"] == "go" and gate["orgs"]["prod"]["decision"] == "go"
    (waived,) = gate["orgs"]["prod"]["waived"]
    assert waived["reason"] == "prod: flow Case_Triage: expected active, found inactive"
    assert waived["waiver"]["owner"] == "jane@acme.example" and waived["waiver"]["expires"].startswith("2026-12-15")
    assert gate["waivers"][0]["status"] == "used" and gate["waivers"][0]["matched"] == 1
    result.stdout.fnmatch_lines(["prod  test_flow_active (waived): prod: flow Case_Triage: expected active, found"
                                 " inactive [until 2026-12-15: switched on after the migration (CHG-1)"
                                 " (jane@acme.example)]", "GATE: GO*"])
    assert main(["gate", "check", str(project.path / "reports" / "gate.json")]) == 0


def test_an_expired_waiver_blocks_and_says_so(project: pytest.Pytester) -> None:
    landscape(project, waivers=[WAIVER], severity=SEVERITY)
    result = run(project, "--now", "2026-12-16T00:00:01+00:00")
    assert result.ret == 1
    gate = read_gate(project.path)
    assert gate["decision"] == "no-go"
    (failed,) = gate["orgs"]["prod"]["failed"]
    assert failed["reason"] == ("prod: flow Case_Triage: expected active, found inactive [waiver expired 2026-12-15"
                                " 23:59 UTC: switched on after the migration (CHG-1) (jane@acme.example)]")
    assert gate["waivers"][0]["status"] == "expired"
    result.stdout.fnmatch_lines(
        ["waiver test_flow_active on tag:emea (jane@acme.example, until 2026-12-15) has expired"])


def test_a_waiver_that_matches_nothing_is_stale_and_does_not_block(project: pytest.Pytester) -> None:
    stale = {**WAIVER, "check": "test_renamed_long_ago"}
    landscape(project, waivers=[WAIVER, stale], severity=SEVERITY)
    result = run(project, "--now", "2026-12-01T10:00:00+00:00")
    assert result.ret == 0
    gate = read_gate(project.path)
    assert [w["status"] for w in gate["waivers"]] == ["used", "stale"]
    result.stdout.fnmatch_lines(["waiver test_renamed_long_ago on tag:emea (jane@acme.example, until 2026-12-15)"
                                 " matched no failure (stale: remove it)"])
    assert "stale" in main_show(project)


def main_show(project: pytest.Pytester) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["gate", "show", str(project.path / "reports" / "gate.json")]) == 0
    return out.getvalue()


def test_errors_are_never_waived(project: pytest.Pytester) -> None:
    write_landscape(project.path, ORGS, waivers=[{**WAIVER, "check": "*", "orgs": ["prod", "qa"]}],
                    states=[{"org": {"name": "prod", "kind": "production"}, "username": "admin@prod.example.com",
                             "faults": {"down": True}},
                            {"org": {"name": "qa", "kind": "sandbox"}, "username": "admin@qa.example.com"}])
    project.makepyfile(test_checks="def test_reachable(org):\n    assert org.name\n")
    assert run(project, "--now", "2026-12-01T10:00:00+00:00").ret != 0
    gate = read_gate(project.path)
    assert gate["orgs"]["prod"]["decision"] == "no-go" and gate["orgs"]["prod"]["errors"]
    assert not gate["orgs"]["prod"]["waived"]


def test_severity_makes_a_check_a_warning_on_chosen_orgs_only(project: pytest.Pytester) -> None:
    landscape(project, severity=[SEVERITY[0]])
    assert run(project).ret == 1
    gate = read_gate(project.path)
    assert [w["check"] for w in gate["orgs"]["qa"]["warnings"]] == ["test_checks.py::test_headroom"]
    assert gate["orgs"]["qa"]["decision"] == "go"
    assert {f["check"] for f in gate["orgs"]["prod"]["failed"]} == {"test_checks.py::test_flow_active",
                                                                    "test_checks.py::test_headroom"}


@pytest.mark.parametrize(("entry", "message"), [
    ({k: v for k, v in WAIVER.items() if k != "expires"},
     "waivers[0]: missing required key 'expires' (a waiver without an end is a policy: use severity:)"),
    ({**WAIVER, "expires": "next week"},
     "waivers[0].expires: expected a date (2026-12-15) or an ISO time, got 'next week'"),
    ({**WAIVER, "orgs": ["prd"]}, "waivers[0].orgs: 'prd' selects no org of the profile"),
    ({**WAIVER, "until": "2026-12-15"}, "waivers[0].until: unknown key (allowed: check, orgs, reason, owner, expires)"),
    ({**WAIVER, "owner": ""}, "waivers[0].owner: expected a non-empty string, got ''"),
])
def test_a_malformed_waiver_is_one_line_at_load(project: pytest.Pytester, entry: dict, message: str) -> None:
    landscape(project, waivers=[entry])
    result = run(project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.strip()] == [f"ERROR: profiles/p.yaml: {message}"]


def test_a_bad_severity_level_is_one_line_at_load(project: pytest.Pytester) -> None:
    landscape(project, severity=[{"check": "test_headroom", "level": "info"}])
    result = run(project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.strip()] == [
        "ERROR: profiles/p.yaml: severity[0].level: expected one of warning, blocker, got 'info'"]


# -- reasons everywhere, readable at scale ---------------------------------------------------

MANY = [{"name": f"o{n:02}", "kind": "sandbox"} for n in range(1, 31)]
SAME_FAILURE = """
def test_flag(org):
    assert org.name <= "o05", f"{org.name}: feature flag Checkout_v2: expected on, found off"

def test_reachable(org):
    assert org.name
"""


def test_thirty_orgs_with_one_reason_read_in_a_few_lines(project: pytest.Pytester, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    write_landscape(project.path, MANY)
    project.makepyfile(test_checks=SAME_FAILURE)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = run(project)
    assert result.ret == 1
    out = result.stdout.str()
    section = out[out.index("lockstep gate"):]
    line = ("25 orgs (o06, o07, o08 and 22 more)  test_flag: feature flag Checkout_v2: expected on, found off")
    assert section.count(line) == 1
    assert "5 more orgs GO with nothing to report: o01, o02, o03, o04, o05" in section
    assert "25 orgs no-go: o06, o07, o08, o09, o10 and 20 more" in section
    assert len(section.splitlines()) < 40, section
    assert "FAILED test_checks.py" not in out
    markdown = summary.read_text()
    assert f"- {line}" in markdown and "## Lockstep gate: NO-GO" in markdown
    shown = main_show(project)
    assert line in shown
    gate = json.loads((project.path / "reports" / "gate.json").read_text())
    assert gate["orgs"]["o30"]["failed"][0]["reason"] == "o30: feature flag Checkout_v2: expected on, found off"


def test_a_failed_check_shows_its_message_not_its_source(project: pytest.Pytester) -> None:
    landscape(project)
    result = run(project, "-k", "flow")
    failures = result.stdout.str().split("FAILURES")[1].split("lockstep gate")[0]
    assert "prod: flow Case_Triage: expected active, found inactive" in failures
    assert "def test_flow_active" not in failures and "assert org.name" not in failures
    long = run(project, "-k", "flow", "--tb=long").stdout.str()
    assert "def test_flow_active" in long
    assert "FAILED test_checks.py::test_flow_active[prod]" in run(project, "-k", "flow", "-rf").stdout.str()
