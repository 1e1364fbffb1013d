"""Expectation keys declared next to the check that reads them: a team's new key is validated
before any check runs, a key declared nowhere ends the run as a profile mistake does, and a
built-in check the team leaves out keeps its keys known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import read_gate, write_landscape

TEAM_CHECK = '''
import pytest

from lockstep.config.expectations import Each, Number, expectation

OPEN_CASES = expectation("open_cases", Each("a mapping of queue -> most open cases", Number(0, integer=True)))


def test_open_cases(org):
    """Support queues are not flooded."""
    limits = OPEN_CASES.of(org)
    if limits is None:
        pytest.skip("no open_cases expectations: declare expect.open_cases (queue -> most open cases)")
    assert dict(limits) == {"Support": 5}
'''


def run(project: pytest.Pytester, expect: dict[str, Any], org_expect: dict[str, Any] | None = None,
        check: str = TEAM_CHECK) -> pytest.RunResult:
    org: dict[str, Any] = {"name": "qa", "kind": "sandbox"}
    if org_expect is not None:
        org["expect"] = org_expect
    write_landscape(project.path, [org], expect=expect)
    project.makepyfile(test_team=check)
    return project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")


def refused(result: pytest.RunResult, line: str, root: Path) -> None:
    """One ERROR line, no traceback, and a no-go gate that gives the same line as its reason."""
    assert result.ret == 4
    assert [text for text in result.errlines if text.strip()] == [f"ERROR: {line}"]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    gate = read_gate(root)
    assert gate["decision"] == "no-go" and line in gate["reasons"]


def test_a_team_key_is_read_typed_by_the_check_that_declares_it(project: pytest.Pytester) -> None:
    result = run(project, {"open_cases": {"Support": 5}})
    result.assert_outcomes(passed=1)
    assert result.ret == 0


@pytest.mark.parametrize(("expect", "org_expect", "line"), [
    ({"open_cases": {"Support": "many"}}, None,
     "profiles/p.yaml: expect.open_cases.Support: expected an integer, found 'many'"),
    ({"open_cases": {"Support": 5}}, {"open_cases": {"Support": -1}},
     "profiles/p.yaml: orgs[qa].expect.open_cases.Support: expected an integer of at least 0, found -1"),
    ({"open_case": {"Support": 5}}, None,
     "profiles/p.yaml: expect.open_case: unknown key (did you mean 'open_cases'?)"),
    ({"invoice_sync": True}, None,
     "profiles/p.yaml: expect.invoice_sync: unknown key; no collected check file declares it "
     "(expectation(...) next to the check that reads it)"),
    ({"packges": {"acme": "1.0"}}, None, "profiles/p.yaml: expect.packges: unknown key (did you mean 'packages'?)"),
])
def test_a_mistake_in_a_declared_or_undeclared_key_ends_the_run_before_any_check(
        project: pytest.Pytester, expect: dict[str, Any], org_expect: dict[str, Any] | None, line: str) -> None:
    result = run(project, expect, org_expect)
    refused(result, line, project.path)
    result.assert_outcomes()  # no check ran


def test_a_key_two_check_files_read_must_fit_both(project: pytest.Pytester) -> None:
    """A copied or replaced built-in check declares the built-in key again: each declaration validates."""
    stricter = TEAM_CHECK + '\nFLOWS_AS_NUMBERS = expectation("flows", Each("flows as numbers", Number()))\n'
    result = run(project, {"open_cases": {"Support": 5}, "flows": {"Case_Triage": True}}, check=stricter)
    refused(result, "profiles/p.yaml: expect.flows.Case_Triage: expected a number, found true", project.path)
    copied = TEAM_CHECK + '\nOPEN_CASES_AGAIN = expectation("open_cases", Each("again", Number(0, integer=True)))\n'
    again = run(project, {"open_cases": {"Support": 5}}, check=copied)
    again.assert_outcomes(passed=1)


def test_a_left_out_builtin_check_keeps_its_keys_known(pytester: pytest.Pytester) -> None:
    """The built-in catalog is left out whole; the profile still declares the catalog's keys."""
    pytester.makeini('[pytest]\nlockstep_catalog_skip = test_*.py\n')
    result = run(pytester, {"open_cases": {"Support": 5}, "packages": {"acme": "1.0"},
                            "flows": {"Case_Triage": True}})
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    gate = read_gate(pytester.path)
    assert gate["decision"] == "go"
    assert "test_packages.py::test_expected_package_versions" in gate["catalog"]["left_out"]
    bad = run(pytester, {"open_cases": {"Support": 5}, "packages": {"acme": "abc"}})
    refused(bad, """profiles/p.yaml: expect.packages.acme: expected a version string like "2.5.0.1" (quoted), """
                 "found 'abc'", pytester.path)


def test_with_xdist_a_mistake_ends_the_run_the_same_way(project: pytest.Pytester) -> None:
    """The workers collect the check files: they run nothing and hand the line to the controller."""
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}, {"name": "uat", "kind": "sandbox"}],
                    expect={"open_cases": {"Support": "many"}})
    project.makepyfile(test_team=TEAM_CHECK)
    result = project.runpytest_subprocess("--org-profile", "p", "-p", "no:cacheprovider", "-n", "2")
    refused(result, "profiles/p.yaml: expect.open_cases.Support: expected an integer, found 'many'", project.path)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


OTHER_CHECK = '''
import pytest

pytestmark = pytest.mark.verification


def test_other(org):
    pass
'''


@pytest.mark.parametrize("narrowing", [
    ["-m", "verification"], ["-k", "other"], ["test_other.py"], ["--ignore", "test_team.py"],
    ["--deselect", "test_team.py::test_open_cases"],
])
def test_a_narrowed_run_keeps_the_keys_of_the_checks_it_leaves_out(
        project: pytest.Pytester, narrowing: list[str]) -> None:
    """Selecting some checks (markers, keywords, files) does not make the keys of the others unknown."""
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}], expect={"open_cases": {"Support": 5}})
    project.makepyfile(test_team="import pytest\npytestmark = pytest.mark.readiness\n" + TEAM_CHECK,
                       test_other=OTHER_CHECK)
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", *narrowing)
    result.assert_outcomes(passed=1)
    assert "ERROR" not in result.stderr.str() and read_gate(project.path)["decision"] == "go"


def test_a_run_narrowed_to_some_files_still_refuses_a_typo_of_a_known_key(project: pytest.Pytester) -> None:
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}], expect={"packges": {"acme": "1.0"}})
    project.makepyfile(test_team=TEAM_CHECK, test_other=OTHER_CHECK)
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", "test_other.py")
    refused(result, "profiles/p.yaml: expect.packges: unknown key (did you mean 'packages'?)", project.path)


def test_a_check_file_that_fails_to_import_is_the_reported_cause_not_its_keys(project: pytest.Pytester) -> None:
    """The file that declares a key may be the one that failed: the collection error is the cause."""
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}], expect={"open_cases": {"Support": 5}})
    project.makepyfile(test_team="import nonexistent_module_of_the_team\n" + TEAM_CHECK, test_other=OTHER_CHECK)
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "nonexistent_module_of_the_team" in result.stdout.str()
    assert "unknown key" not in result.stdout.str() + result.stderr.str()
    assert read_gate(project.path)["decision"] == "no-go"
