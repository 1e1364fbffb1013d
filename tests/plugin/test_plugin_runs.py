"""pytest runs with the plugin: inert mode, parametrization, --orgs, profile errors, fixtures."""

from __future__ import annotations

import pytest
from plugin_helpers import read_gate, state, write_landscape

TWO_CHECKS = """
import pytest

def test_name(org):
    assert org.name

@pytest.mark.readiness
def test_reads(org):
    assert org.facts.organization.name
"""


def test_inert_without_profile(project: pytest.Pytester) -> None:
    project.makepyfile(test_a="def test_org(org):\n    pass\n\ndef test_plain():\n    pass\n")
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*lockstep: this test needs Salesforce orgs; pass --org-profile NAME*"])
    result.stdout.no_fnmatch_line("*lockstep gate*")
    assert not (project.path / "reports").exists()


def test_markers_are_registered(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.readiness:*", "@pytest.mark.verification:*", "@pytest.mark.warning:*"])


def test_ids_are_org_names_sorted(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": n, "kind": "sandbox"} for n in ("zulu", "alpha", "mike")])
    project.makepyfile(test_a=TWO_CHECKS)
    result = project.runpytest("--org-profile", "p", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret == 0
    ids = [line for line in result.outlines if "::" in line]
    assert ids == [f"test_a.py::test_name[{n}]" for n in ("alpha", "mike", "zulu")] + [
        f"test_a.py::test_reads[{n}]" for n in ("alpha", "mike", "zulu")]
    assert not (project.path / "reports" / "gate.json").exists()


def test_orgs_option_narrows_by_name_and_tag(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "prod", "kind": "production", "tags": ["emea"]},
                                   {"name": "qa", "kind": "sandbox", "tags": ["emea"]},
                                   {"name": "us", "kind": "sandbox"}])
    project.makepyfile(test_a="def test_one(org):\n    pass\n")
    result = project.runpytest("--org-profile", "p", "--orgs", "tag:emea", "--co", "-q", "-p", "no:cacheprovider")
    assert [line for line in result.outlines if "::" in line] == ["test_a.py::test_one[prod]",
                                                                  "test_a.py::test_one[qa]"]
    result = project.runpytest("--org-profile", "p", "--orgs", "us,qa", "--co", "-q", "-p", "no:cacheprovider")
    assert [line for line in result.outlines if "::" in line] == ["test_a.py::test_one[qa]", "test_a.py::test_one[us]"]
    result = project.runpytest("--org-profile", "p", "--orgs", "usa", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: --orgs: no org named 'usa' in profile 'p' (did you mean "
                                 "'us'?); orgs: prod, qa, us"])


@pytest.mark.parametrize(("profile", "message"), [
    ("orgs:\n  - {name: prod-emea, kind: production, auth: {method: jwtt, client_id: a, username: u}}\n",
     "ERROR: profiles/p.yaml: orgs[prod-emea].auth.method: unknown value 'jwtt' (did you mean 'jwt'?)"),
    ("orgs:\n  - {name: qa, kind: sandbox, auth: {method: client_credentials, client_id: a, "
     "client_secret: '${LOCKSTEP_TEST_UNSET}', login_url: 'https://x'}}\n",
     "ERROR: profiles/p.yaml: orgs[qa].auth.client_secret: environment variable LOCKSTEP_TEST_UNSET is not set"),
    ("orgs:\n  - {name: qa\n", "ERROR: profiles/p.yaml: YAML syntax error at line 3, column 1: *"),
])
def test_profile_errors_are_usage_errors(project: pytest.Pytester, profile: str, message: str) -> None:
    project.mkdir("profiles")
    (project.path / "profiles" / "p.yaml").write_text(profile)
    project.makepyfile(test_a="def test_one(org):\n    pass\n")
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert len([line for line in result.errlines if line.strip()]) == 1


def test_unknown_profile_lists_available(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}], name="staging")
    result = project.runpytest("--org-profile", "stagign", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines([
        "ERROR: --org-profile: unknown profile 'stagign' (did you mean 'staging'?); "
        "available profiles in profiles/: staging"
    ])


def test_profile_by_path(project: pytest.Pytester) -> None:
    path = write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}], name="mine")
    project.makepyfile(test_a="def test_one(org, profile):\n    assert profile.name == 'mine'\n")
    result = project.runpytest(f"--org-profile={path}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_fixtures_expose_org_and_options(project: pytest.Pytester) -> None:
    write_landscape(project.path, [
        {"name": "prod", "kind": "production", "tags": ["t1"], "expect": {"flows": {"A": {"active": True}}}},
        {"name": "qa", "kind": "sandbox"},
    ], expect={"flows": {"B": {"active": False}}})
    project.makepyfile(test_a="""
import datetime as dt

def test_org(org):
    if org.name == "prod":
        assert org.kind == "production" and org.is_production and not org.allow_writes and org.tags == ("t1",)
        assert set(org.expect["flows"]) == {"A", "B"}
    else:
        assert org.allow_writes and set(org.expect["flows"]) == {"B"}
    assert org.client.api_version == "62.0"

def test_orgs(orgs):
    assert [o.name for o in orgs] == ["prod", "qa"]

def test_clock(lockstep_now, lockstep_deployed_at):
    assert lockstep_now == dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc)
    assert lockstep_deployed_at == dt.datetime(2026, 1, 2, 2, 0, tzinfo=dt.timezone.utc)
""")
    result = project.runpytest("--org-profile", "p", "--now", "2026-01-02T03:04:00Z",
                               "--deployed-at", "2026-01-02T02:00:00+00:00", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*lockstep gate*", "org *kind *passed *failed *errors *skipped *api calls *decision",
                                 "prod *production *1 *0 *0 *0 *GO", "qa *sandbox *1 *0 *0 *0 *GO", "GATE: GO *"])


def test_bad_now_is_a_usage_error(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}])
    result = project.runpytest("--org-profile", "p", "--now", "yesterday", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: --now: not an ISO-8601 date/time: 'yesterday'"])


def test_unknown_fact_in_marker_is_a_usage_error(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}])
    project.makepyfile(test_a="import pytest\n\n@pytest.mark.facts('flowz')\ndef test_one(org):\n    pass\n")
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: test_a.py::test_one[[]qa[]]: @pytest.mark.facts: "
                                 "unknown fact 'flowz'; facts: *"])


def test_states_with_data_reach_the_facts(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}], states=[state(
        "qa",
        packages=[{"namespace": "acme", "name": "Acme", "version": "2.4.0.1", "managed": True, "beta": False}],
        flows=[{"api_name": "Case_Triage", "label": "Case Triage", "process_type": "AutoLaunchedFlow",
                "trigger_type": "RecordAfterSave", "object": "Case", "versions": 3, "active_version": 2}],
        named_credentials=[{"name": "ERP", "label": "ERP", "endpoint": "https://erp.example.com"}],
    )])
    project.makepyfile(test_a="""
def test_facts(org):
    (package,) = org.facts.packages
    assert (package.namespace, package.version, package.managed) == ("acme", "2.4.0.1", True)
    (flow,) = org.facts.flows
    assert (flow.api_name, flow.active_version, flow.latest_version) == ("Case_Triage", 2, 3)
    assert org.facts.named_credentials[0].endpoint == "https://erp.example.com"
    assert org.facts.organization.is_sandbox is True
    assert float(org.facts.api_version) >= 31
    assert "DailyApiRequests" in org.facts.limits
""")
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_emulator_state_problems_are_usage_errors(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}], states=[{"org": {"name": "qa", "bogus": 1}}])
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: profiles/p.yaml: emulator: cannot start: *org.bogus*"])
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}, {"name": "uat", "kind": "staging"}],
                    states=[state("qa")])
    (project.path / "profiles" / "p-states" / "uat.yaml").unlink(missing_ok=True)
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: profiles/p.yaml: orgs[uat]: no org of that name in the emulator "
                                 "state (it serves: qa)"])


def test_writes_need_the_marker_and_an_org_that_allows_them(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}])
    project.makepyfile(test_a="""
import pytest
from lockstep.salesforce.errors import SalesforceError, WriteRefused

def test_read_only(org):
    try:
        org.client.create("Account", {"Name": "x"})
    except WriteRefused:
        pass  # caught or not, a refused write fails the check

@pytest.mark.writes
def test_smoke(org):
    record = org.client.create("Account", {"Name": "Lockstep smoke"})
    try:
        assert org.client.query(f"SELECT Name FROM Account WHERE Id = '{record}'")[0]["Name"] == "Lockstep smoke"
    finally:
        org.client.delete("Account", record)

@pytest.mark.writes
def test_records_fixture(org, records):
    try:
        records.create("Account", {"Name": "Lockstep smoke"})
    except SalesforceError:
        pass  # a check cannot swallow the refusal
""")
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=4)
    refused = ("prod: writes refused: allow_writes is false for this org; allow writes in the profile "
               "or remove this expectation for the org (null)")
    read_only = ("{}: WRITE_REFUSED: POST /services/data/v62.0/sobjects/Account/: writes are refused outside "
                 "a check marked @pytest.mark.writes on an org that allows writes")
    gate = read_gate(project.path)
    assert gate["orgs"]["prod"]["decision"] == "no-go" and gate["orgs"]["qa"]["decision"] == "no-go"
    assert [(f["check"], f["reason"]) for f in gate["orgs"]["prod"]["failed"]] == [
        ("test_a.py::test_read_only", read_only.format("prod")),
        ("test_a.py::test_records_fixture", refused), ("test_a.py::test_smoke", refused)]
    assert [(f["check"], f["reason"]) for f in gate["orgs"]["qa"]["failed"]] == [
        ("test_a.py::test_read_only", read_only.format("qa"))]
    assert gate["orgs"]["prod"]["skipped"] == []
    result.stdout.fnmatch_lines([f"prod  2 checks: {refused}"])
