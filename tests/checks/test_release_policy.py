"""lockstep.config.release_policy and lockstep.gate.upstream: windows, freezes, next window, upstream gate files;
profile validation of the release section."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from catalog import go_gate

from lockstep.config.errors import ConfigError
from lockstep.config.profile import load_profile
from lockstep.config.release_policy import parse_release
from lockstep.gate.upstream import Upstream, parse_upstream, upstream_problems

BERLIN_EVENINGS = {"windows": [{"days": ["mon-fri"], "start": "18:00", "end": "22:00", "timezone": "Europe/Berlin"}],
                   "freezes": [{"from": dt.date(2026, 12, 20), "to": "2027-01-04", "reason": "year-end freeze"}]}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(("now", "is_open", "next_open"), [
    ("2026-11-26T19:00:00+01:00", True, None),
    ("2026-11-26T17:59:00+01:00", False, "2026-11-26T18:00:00+01:00"),
    ("2026-11-26T22:00:00+01:00", False, "2026-11-27T18:00:00+01:00"),
    ("2026-11-28T10:00:00+01:00", False, "2026-11-30T18:00:00+01:00"),
    ("2026-12-21T19:00:00+01:00", False, "2027-01-05T18:00:00+01:00"),
    ("2026-03-28T10:00:00+00:00", False, "2026-03-30T18:00:00+02:00"),   # across the switch to summer time
])
def test_windows_freezes_and_the_next_window(now, is_open, next_open):
    verdict = parse_release(BERLIN_EVENINGS).verdict(at(now))
    assert verdict.open is is_open
    assert verdict.next_open == (at(next_open) if next_open else None)


def test_a_window_past_midnight_and_a_freeze_ending_inside_a_window():
    policy = parse_release({"windows": [{"days": ["sat"], "start": "22:00", "end": "02:00"}],
                            "freezes": [{"from": "2026-11-28", "to": "2026-11-28"}]})
    assert policy.is_open(at("2026-11-29T01:00:00+00:00")) is True
    assert policy.verdict(at("2026-11-28T23:00:00+00:00")).next_open == at("2026-11-29T00:00:00+00:00")
    assert policy.verdict(at("2026-11-29T03:00:00+00:00")).next_open == at("2026-12-05T22:00:00+00:00")


def test_freezes_alone_and_no_policy():
    assert parse_release({}).declared is False
    policy = parse_release({"freezes": [{"from": "2026-12-20", "to": "2026-12-31", "reason": "x"}]})
    assert policy.verdict(at("2026-11-26T10:00:00+00:00")).open
    closed = policy.verdict(at("2026-12-25T10:00:00+00:00"))
    assert closed.reason == "inside freeze 'x' (2026-12-20 to 2026-12-31)"
    assert closed.next_open == at("2027-01-01T00:00:00+00:00")


def test_unquoted_yaml_times_are_understood():
    policy = parse_release({"windows": [{"start": 18 * 60, "end": 22 * 60}]})
    assert policy.windows[0].describe() == "every day 18:00-22:00 UTC"


@pytest.mark.parametrize(("release", "key", "problem"), [
    ({"windows": [{"start": "18:00"}]}, "release.windows[0]", "missing required key 'end'"),
    ({"windows": [{"start": "25:00", "end": "22:00"}]}, "release.windows[0].start", "expected a time"),
    ({"windows": [{"days": ["funday"], "start": "18:00", "end": "22:00"}]}, "release.windows[0].days[0]",
     "unknown day"),
    ({"windows": [{"start": "1:00", "end": "2:00", "timezone": "Mars/Olympus"}]}, "release.windows[0].timezone",
     "unknown time zone"),
    ({"freezes": [{"from": "2026-12-20", "to": "2026-12-01"}]}, "release.freezes[0].to", "before from"),
    ({"freezes": [{"from": "soon", "to": "2026-12-01"}]}, "release.freezes[0].from", "expected a date"),
    ({"window": []}, "release.window", "unknown key"),
])
def test_release_mistakes_name_the_key(release, key, problem):
    with pytest.raises(ConfigError) as info:
        parse_release(release)
    assert info.value.key == key and problem in info.value.problem


def test_profile_loading_reports_release_mistakes_in_one_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("release:\n  upstream: {profile: staging, phase: verfication, gate_file: g.json}\n"
                    "orgs:\n  - {name: a, kind: dev, auth: {method: sf_cli, alias: a}}\n")
    with pytest.raises(ConfigError) as info:
        load_profile(path, tmp_path)
    assert str(info.value) == ("p.yaml: release.upstream.phase: unknown value 'verfication' "
                               "(did you mean 'verification'?)")
    path.write_text("release:\n  upstream: {profile: staging, phase: both, gate_file: g.json}\n"
                    "orgs:\n  - {name: a, kind: dev, auth: {method: sf_cli, alias: a}}\n")
    with pytest.raises(ConfigError) as info:
        load_profile(path, tmp_path)
    assert str(info.value) == "p.yaml: release.upstream.phase: unknown value 'both' (use readiness, verification, all)"


def gate_file(tmp_path, **changes):
    gate = go_gate(**{"release": "R1", **changes})
    (tmp_path / "reports").mkdir(exist_ok=True)
    (tmp_path / "reports" / "staging-gate.json").write_text(json.dumps(gate))


UPSTREAM = {"profile": "staging", "phase": "verification", "gate_file": "reports/staging-gate.json",
            "max_age_hours": 24}
NOW = at("2026-11-26T20:00:00+00:00")


def declared(data: dict[str, Any]) -> Upstream:
    """``release.upstream`` as a profile declares it."""
    upstream = parse_upstream(data)
    assert upstream is not None
    return upstream


def test_upstream_go_passes_and_a_run_of_all_phases_counts(tmp_path):
    gate_file(tmp_path)
    assert upstream_problems(declared(UPSTREAM), "R1", NOW, tmp_path) == []
    gate_file(tmp_path, phase="all")
    assert upstream_problems(declared(UPSTREAM), "R1", NOW, tmp_path) == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"decision": "no-go", "reasons": ["stg: 2 failed checks"]}, "expected go, found no-go (stg: 2 failed checks)"),
    ({"release": "R0"}, "expected a gate for release R1, found release R0"),
    ({"profile": {"name": "qa", "sha256": ""}}, "expected a gate of profile staging, found profile qa"),
    ({"phase": "readiness"}, "expected a verification gate, found phase readiness"),
    ({"finished": "2026-11-25T10:00:00+00:00"}, "expected a gate at most 24 h old, found one finished "
                                                  "2026-11-25T10:00+00:00 (34 h ago)"),
])
def test_upstream_problems_are_named(tmp_path, changes, expected):
    gate_file(tmp_path, **changes)
    assert upstream_problems(declared(UPSTREAM), "R1", NOW, tmp_path) == [
        f"upstream stage staging (verification): {expected}"]


def test_upstream_phase_all_needs_a_run_of_all_phases(tmp_path):
    upstream = declared({**UPSTREAM, "phase": "all"})
    for phase in ("readiness", "verification"):
        gate_file(tmp_path, phase=phase)
        assert upstream_problems(upstream, "R1", NOW, tmp_path) == [
            f"upstream stage staging (all): expected a gate of a run of all phases, found phase {phase}"]
    gate_file(tmp_path, phase="all")
    assert upstream_problems(upstream, "R1", NOW, tmp_path) == []


@pytest.mark.parametrize(("changes", "found"), [
    ({"complete": False, "selection": "stg-1", "deselected": 0},
     "a partial run (--orgs 'stg-1')"),
    ({"complete": False, "keyword": "packages", "markexpr": "verification", "deselected": 12},
     "a partial run (-k 'packages', 12 tests deselected)"),
    ({"complete": None}, "a partial run"),
])
def test_upstream_partial_run_is_refused_unless_allowed(tmp_path, changes, found):
    gate_file(tmp_path, **changes)
    assert upstream_problems(declared(UPSTREAM), "R1", NOW, tmp_path) == [
        f"upstream stage staging (verification): expected the gate of a complete run, found {found}"
        " (allow_partial: true in release.upstream accepts it)"]
    assert upstream_problems(declared({**UPSTREAM, "allow_partial": True}), "R1", NOW, tmp_path) == []


def test_upstream_gate_of_an_older_lockstep_is_not_taken_for_complete(tmp_path):
    gate_file(tmp_path)
    gate = json.loads((tmp_path / "reports" / "staging-gate.json").read_text())
    del gate["complete"], gate["schema"]  # a gate of a Lockstep that recorded neither
    (tmp_path / "reports" / "staging-gate.json").write_text(json.dumps(gate))
    (problem,) = upstream_problems(declared(UPSTREAM), "R1", NOW, tmp_path)
    assert "unreadable (not a gate file: missing key 'schema'" in problem


def test_upstream_allow_partial_must_be_a_boolean():
    with pytest.raises(ConfigError) as info:
        parse_upstream({**UPSTREAM, "allow_partial": "yes"})
    assert str(info.value).endswith("expected true or false, got 'yes'")


def test_upstream_missing_file_or_release(tmp_path):
    upstream = declared(UPSTREAM)
    assert upstream_problems(upstream, "R1", NOW, tmp_path) == [
        "upstream stage staging (verification): expected a gate file for release R1, "
        "found no file reports/staging-gate.json"]
    assert "no --release given" in upstream_problems(upstream, None, NOW, tmp_path)[0]
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "staging-gate.json").write_text("{not json")
    assert "unreadable" in upstream_problems(upstream, "R1", NOW, tmp_path)[0]
