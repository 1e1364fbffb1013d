"""One failing org in a real run: its checks fail with one line each, its API calls stay
bounded, the other orgs are unaffected and the run ends with exit 1 (never INTERNALERROR)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from plugin_helpers import read_gate, reasons, state, write_landscape

from lockstep.config.errors import ConfigError
from lockstep.config.profile import load_profile
from lockstep.emulator import Emulator
from lockstep.facts.fetch import Facts
from lockstep.session.orgs import Landscape

ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}]
CHECKS = """
import pytest

pytestmark = pytest.mark.facts("organization", "packages", "flows", "apex_triggers", "validation_rules",
                               "named_credentials", "permission_sets")

def test_organization(org):
    assert org.facts.organization.name == org.name

def test_packages(org):
    assert org.facts.packages == ()

def test_flows(org):
    assert org.facts.flows == ()

def test_limits(org):
    assert org.facts.limits["DailyApiRequests"]["Max"] > 0

def test_query(org):
    assert org.client.query("SELECT Id FROM Account") == []
"""
# The first composite batch of the prefetch, attempted three times (one try and two retries);
# every later call of the org fails at once without reaching it.
MAX_FAULTY_CALLS = 3


def run(project: pytest.Pytester, faults: dict[str, Any]) -> tuple[pytest.RunResult, dict[str, Any]]:
    write_landscape(project.path, ORGS, states=[state("prod", "production"), state("qa", faults=faults)])
    project.makepyfile(test_checks=CHECKS)
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    return result, read_gate(project.path)


@pytest.mark.parametrize(("faults", "code"), [
    ({"error_rate": 1.0}, "SERVER_UNAVAILABLE"),
    ({"error_rate": 1.0, "error_status": 500}, "UNKNOWN_EXCEPTION"),
    ({"drop_rate": 1.0}, "CONNECTION_FAILED"),
])
def test_a_failing_org_costs_its_checks_one_line_each_and_few_calls(
        project: pytest.Pytester, faults: dict[str, Any], code: str) -> None:
    result, gate = run(project, faults)
    assert result.ret == 1
    output = result.stdout.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output
    qa, prod = gate["orgs"]["qa"], gate["orgs"]["prod"]
    assert 1 <= qa["api_calls"] <= MAX_FAULTY_CALLS
    assert qa["decision"] == "no-go" and qa["reachable"] is True
    lines = reasons(gate, "qa")
    assert len(lines) == 5
    assert all(line.startswith(f"qa: {code}: ") and "\n" not in line and "HTTP None" not in line for line in lines)
    if code == "CONNECTION_FAILED":
        assert all(line.endswith(": connection dropped by the server") for line in lines)
    assert prod["decision"] == "go" and prod["counts"]["passed"] == 5


def test_an_org_that_is_down_is_unreachable_without_api_calls(project: pytest.Pytester) -> None:
    result, gate = run(project, {"down": True})
    assert result.ret == 1 and "INTERNALERROR" not in result.stdout.str()
    qa = gate["orgs"]["qa"]
    assert qa["reachable"] is False and qa["api_calls"] == 0
    assert [line.startswith("qa: unreachable: CONNECTION_FAILED: ") for line in reasons(gate, "qa")] == [True] * 5
    assert gate["orgs"]["prod"]["decision"] == "go"


def test_a_bad_access_token_makes_the_org_unreachable(project: pytest.Pytester, emulator: Emulator,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_TOKEN", "00Dbogus!not-a-session-token")
    auth = {"ca_file": str(emulator.ca_cert)}
    profile = {"orgs": [
        {"name": "alpha", "kind": "sandbox", "auth": {"method": "emulator", "url": emulator.url, **auth}},
        {"name": "qa", "kind": "sandbox",
         "auth": {"method": "access_token", "access_token": "${QA_TOKEN}", "instance_url": emulator.url, **auth}},
    ]}
    (project.path / "profiles").mkdir()
    (project.path / "profiles" / "tok.yaml").write_text(yaml.safe_dump(profile))
    project.makepyfile(test_checks="def test_organization(org):\n    assert org.facts.organization.name == org.name\n")
    result = project.runpytest("--org-profile", "tok", "-p", "no:cacheprovider")
    assert result.ret == 1
    gate = read_gate(project.path)
    qa = gate["orgs"]["qa"]
    assert qa["reachable"] is False and qa["api_calls"] == 0
    assert reasons(gate, "qa") == ["qa: unreachable: INVALID_SESSION_ID: the access token was refused "
                                   "(userinfo: HTTP 401)"]
    assert gate["orgs"]["alpha"]["decision"] == "go"
    assert "00Dbogus" not in result.stdout.str()


def test_connect_all_survives_any_exception_while_gathering_facts(project: pytest.Pytester,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A fact builder's bug (here: every prefetch raising IndexError) costs the org's facts, not the run."""
    path = write_landscape(project.path, ORGS)
    profile = load_profile(str(path), project.path)

    def broken(self: Facts, *names: str) -> Facts:
        raise IndexError("list index out of range")

    monkeypatch.setattr(Facts, "prefetch", broken)
    landscape = Landscape(profile, profile.orgs)
    landscape.start_emulator()
    try:
        orgs = landscape.pool.connect_all(landscape.org_names, lambda name: ("organization",))
        assert [o.unreachable for o in orgs] == [None, None]
        assert orgs[0].facts.organization.name == "prod"
    finally:
        landscape.stop()


def test_timeout_and_deadline_come_from_the_profile(tmp_path: Path) -> None:
    from lockstep.salesforce.client import DEFAULT_DEADLINE, DEFAULT_TIMEOUT
    from lockstep.session.orgs import Org

    (tmp_path / "p.yaml").write_text(
        "orgs:\n"
        "  - {name: a, kind: sandbox, auth: {method: sf_cli, alias: a}, timeout: 5, deadline: 120}\n"
        "  - {name: b, kind: sandbox, auth: {method: sf_cli, alias: b}}\n", encoding="utf-8")
    profile = load_profile(tmp_path / "p.yaml", tmp_path)
    assert DEFAULT_TIMEOUT == (10.0, 30.0)
    a, b = Org(profile.org("a")), Org(profile.org("b"))
    assert (a.timeout, a.deadline) == ((10.0, 5.0), 120.0)
    assert (b.timeout, b.deadline) == (DEFAULT_TIMEOUT, DEFAULT_DEADLINE)


def test_a_timeout_must_be_a_positive_number(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "orgs:\n  - {name: a, kind: sandbox, auth: {method: sf_cli, alias: a}, timeout: 0}\n", encoding="utf-8")
    with pytest.raises(ConfigError,
                       match=r"orgs\[a\]\.timeout: expected a positive number of seconds up to 3600, got 0"):
        load_profile(tmp_path / "p.yaml", tmp_path)
