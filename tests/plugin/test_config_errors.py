"""Every reader of what users write reports a mistake as one ConfigError: the file, the org and
the key it names are attributes, and ``str()`` is the one line users see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lockstep.config.errors
from lockstep.config.errors import ConfigError
from lockstep.config.expectations import TEXT, VERSION, Each, Number, builtin_expectations, expectation, known
from lockstep.config.profile import check_expectations, load_profile
from lockstep.config.schema import ListOf
from lockstep.emulator.state.load import load_states

ORG = "orgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: qa}}\n"
OPEN_CASES = expectation("open_cases", Each("a mapping of queue -> most open cases", Number(0, integer=True)))


def profile_error(root: Path, text: str) -> ConfigError:
    (root / "profiles").mkdir(exist_ok=True)
    (root / "profiles" / "p.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_profile("p", root, environ={})
    return info.value


@pytest.mark.parametrize(("text", "org", "key", "problem"), [
    pytest.param("orgs:\n  - {name: qa, kind: prodution, auth: {method: sf_cli, alias: qa}}\n", "qa", "kind",
                  "unknown value 'prodution' (did you mean 'production'?)", id="profile"),
    pytest.param("orgs:\n  - {name: qa, kind: sandbox, auth: {method: jwtt}}\n", "qa", "auth.method",
                  "unknown value 'jwtt' (did you mean 'jwt'?)", id="auth"),
    pytest.param("waivers:\n  - {check: test_x, reason: r, owner: o, expires: soon}\n" + ORG, None,
                  "waivers[0].expires", "expected a date (2026-12-15) or an ISO time, got 'soon'", id="waiver"),
    pytest.param("release: {timezone: Mars/Base}\n" + ORG, None, "release.timezone",
                  "unknown time zone 'Mars/Base'", id="release-policy"),
    pytest.param("release: {upstream: {profile: qa, gate_file: g.json, phase: verificaton}}\n" + ORG, None,
                 "release.upstream.phase", "unknown value 'verificaton' (did you mean 'verification'?)",
                 id="upstream"),
    pytest.param("release: {upstream: {profile: qa, gate: g.json}}\n" + ORG, None, "release.upstream.gate",
                 "unknown key (did you mean 'gate_file'?)", id="upstream-key"),
    pytest.param("orgs: [\n", None, None, "YAML syntax error at line 2, column 1: expected node content", id="yaml"),
    pytest.param("expect: {}\nexpect: {}\n" + ORG, None, "expect", "duplicate key 'expect' at line 2 (first at line 1)",
                 id="yaml-duplicate"),
    pytest.param("expect: {packages: {acme: {version: abc}}}\n" + ORG, None, "expect.packages.acme.version",
                 'expected a version string like "2.5.0.1" (quoted), found \'abc\'', id="expectation-value"),
    pytest.param("orgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: qa}, "
                 "expect: {flows: {A: {actve: true}}}}\n", "qa", "expect.flows.A.actve",
                 "unknown key (did you mean 'active'?)", id="org-expectation"),
])
def test_each_profile_reader_names_file_org_and_key(tmp_path: Path, text: str, org: str | None, key: str | None,
                                                     problem: str) -> None:
    error = profile_error(tmp_path, text)
    assert (error.file, error.org, error.key, error.problem) == ("profiles/p.yaml", org, key, problem)
    where = f"orgs[{org}].{key}" if org else key
    assert str(error) == ": ".join(part for part in ("profiles/p.yaml", where, problem) if part)


@pytest.mark.parametrize(("text", "org", "key"), [
    pytest.param("expect:\n  flows: {A: true}\n  true: 1\n" + ORG, None, "expect.True", id="true-key"),
    pytest.param("expect:\n  ~: 1\n  flows: {}\n" + ORG, None, "expect.None", id="null-key"),
    pytest.param("waivers:\n  - {check: test_x, reason: r, owner: o, expires: 2030-01-01, 3: 4}\n" + ORG, None,
                 "waivers[0].3", id="number-key"),
    pytest.param("orgs:\n  - {name: qa, kind: sandbox, 5: 6, auth: {method: sf_cli, alias: qa}}\n", "qa", "5",
                 id="org-number-key"),
])
def test_keys_that_are_not_text_beside_text_keys_are_unknown_keys_not_a_crash(
        tmp_path: Path, text: str, org: str | None, key: str) -> None:
    error = profile_error(tmp_path, text)
    assert (error.file, error.org, error.key) == ("profiles/p.yaml", org, key)
    assert error.problem.startswith("unknown key")


def test_an_emulator_state_mistake_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("org: {name: qa, knd: sandbox}\n")
    with pytest.raises(ConfigError) as info:
        load_states(tmp_path / "s.yaml")
    assert (info.value.file, info.value.org, info.value.key) == (str(tmp_path / "s.yaml"), None, "org.knd")
    assert str(info.value) == f"{tmp_path / 's.yaml'}: org.knd: unknown key (did you mean 'kind'?)"



@pytest.mark.parametrize(("text", "key", "problem"), [
    ("org: {name: qa, kind: sandbx}\n", "org.kind",
     "expected one of production, sandbox, developer, scratch, got 'sandbx' "
     "(did you mean 'sandbox'?)"),
    ("org: {name: qa}\nfaults: {latncy_ms: 5}\n", "faults.latncy_ms", "unknown fault (did you mean 'latency_ms'?)"),
    ("org: {name: qa}\npermission_sets:\n  - {name: P, objects: {Account: [read, edt]}}\n",
     "permission_sets[0].objects.Account", "unknown permission 'edt' (did you mean 'edit'?)"),
])
def test_an_emulator_state_value_close_to_a_known_one_gets_did_you_mean(
        tmp_path: Path, text: str, key: str, problem: str) -> None:
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_states(tmp_path / "s.yaml")
    assert (info.value.key, info.value.problem) == (key, problem)

def test_a_key_of_the_teams_check_file_is_validated_and_an_undeclared_one_refused(tmp_path: Path) -> None:
    """What a run does once the team's check file is collected (the run itself: test_declared_expectations)."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.yaml").write_text(
        "expect: {open_cases: {Support: 5}}\norgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: qa},"
        " expect: {open_case: {Support: 1}}}\n")
    profile = load_profile("p", tmp_path, environ={})  # outside a run: a key of a check not seen passes
    declared = known([*builtin_expectations(), OPEN_CASES])
    with pytest.raises(ConfigError) as info:
        check_expectations(profile, declared, complete=True)
    assert (info.value.file, info.value.org, info.value.key) == ("profiles/p.yaml", "qa", "expect.open_case")
    assert str(info.value) == "profiles/p.yaml: orgs[qa].expect.open_case: unknown key (did you mean 'open_cases'?)"


def test_a_message_stays_one_line() -> None:
    error = ConfigError("unknown key", file="p.yaml", key="orgs.bad\nkey")
    assert str(error) == "p.yaml: orgs.bad\\nkey: unknown key"
    assert lockstep.config.errors.__all__ == ["ConfigError", "one_line"]


@pytest.mark.parametrize(("shape", "what"), [
    (ListOf(TEXT), "a list of strings"), (ListOf(Number()), "a list of numbers"),
    (ListOf(VERSION), 'a list of items, each a version string like "2.5.0.1" (quoted)'),
])
def test_a_list_shape_describes_its_items(shape: ListOf[Any], what: str) -> None:
    """A team's ListOf(Number()) says numbers, not the strings of the default wording."""
    with pytest.raises(ConfigError) as info:
        shape.check("x", ("limits",))
    assert info.value.problem == f"expected {what}, found 'x'"
