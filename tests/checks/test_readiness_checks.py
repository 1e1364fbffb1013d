"""checks/test_readiness.py against planted orgs (tests/checks/states/catalog2/readiness), with the
release policy and the upstream gate file written per run and the clock set by --now."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from catalog import STATES, go_gate, run_catalog
from shared_run import from_json, once, to_json

BASE = STATES / "catalog2" / "readiness.yaml"
IN_WINDOW = "2026-11-26T19:00:00+01:00"      # a Thursday evening in Berlin
IN_FREEZE = "2026-12-22T19:00:00+01:00"
WEEKEND = "2026-11-28T10:00:00+01:00"


def landscape(folder, *, gate_file, upstream_finished, **upstream_gate):
    """A profile extending the planted one with a release policy, and the upstream stage's gate file."""
    gate = go_gate(**{"release": "2026.11", "finished": upstream_finished, **upstream_gate})
    (folder / "staging-gate.json").write_text(json.dumps(gate))
    profile = {
        "extends": str(BASE),
        "release": {
            "windows": [{"days": ["mon-fri"], "start": "18:00", "end": "22:00", "timezone": "Europe/Berlin"}],
            "freezes": [{"from": dt.date(2026, 12, 20), "to": dt.date(2027, 1, 4), "reason": "year-end freeze"}],
            "upstream": {"profile": "staging", "phase": "verification", "gate_file": str(gate_file),
                         "max_age_hours": 72},
        },
    }
    path = folder / "readiness.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    def produce():
        folder = tmp_path_factory.mktemp("ready")
        path = landscape(folder, gate_file=folder / "staging-gate.json", upstream_finished="2026-11-26T16:00:00+00:00")
        return to_json(run_catalog(folder, path, "test_readiness.py",
                                   args=("--now", IN_WINDOW, "--release", "2026.11")))

    return from_json(once(tmp_path_factory, "catalog2-readiness-ready", produce))


@pytest.fixture(scope="module")
def frozen(tmp_path_factory):
    def produce():
        folder = tmp_path_factory.mktemp("frozen")
        path = landscape(folder, gate_file=folder / "staging-gate.json", upstream_finished="2026-11-26T16:00:00+00:00",
                         decision="no-go", reasons=["stg: 1 failed check"])
        return to_json(run_catalog(folder, path, "test_readiness.py",
                                   args=("--now", IN_FREEZE, "--release", "2026.12", "--orgs", "rdy-good",
                                         "-k", "release_window or upstream or ahead")))

    return from_json(once(tmp_path_factory, "catalog2-readiness-frozen", produce))


@pytest.fixture(scope="module")
def weekend(tmp_path_factory):
    def produce():
        folder = tmp_path_factory.mktemp("weekend")
        path = landscape(folder, gate_file=folder / "missing.json", upstream_finished="2026-11-26T16:00:00+00:00")
        return to_json(run_catalog(folder, path, "test_readiness.py",
                                   args=("--now", WEEKEND, "--orgs", "rdy-good,rdy-prod",
                                         "-k", "release_window or upstream or ahead")))

    return from_json(once(tmp_path_factory, "catalog2-readiness-weekend", produce))


def test_ready_orgs_pass_every_per_org_check(ready):
    for check in ("test_org_reachable", "test_api_headroom", "test_no_deployment_in_progress",
                  "test_no_package_install_in_progress"):
        for org in ("rdy-good", "rdy-prod"):
            assert ready.outcome(check, org) == "passed", ready.message(check, org)
    assert ready.gate["orgs"]["rdy-good"]["decision"] == "go"
    assert ready.gate["orgs"]["rdy-prod"]["decision"] == "go"


def test_an_org_that_does_not_answer_is_not_ready(ready):
    assert ready.outcome("test_org_reachable", "rdy-down") in ("failed", "error")
    assert "rdy-down: unreachable" in ready.message("test_org_reachable", "rdy-down")
    assert ready.gate["orgs"]["rdy-down"]["decision"] == "no-go"


def test_api_headroom_in_percent_and_absolute(ready):
    busy = ready.message("test_api_headroom", "rdy-busy")
    assert "rdy-busy: daily API requests: expected at least 10% remaining, found 3999" in busy
    assert "of 5000000 (8.0%)" in busy
    low = ready.message("test_api_headroom", "rdy-low")
    assert "rdy-low: daily API requests: expected at least 1000 remaining, found 89" in low
    assert "%" not in low.splitlines()[0]
    assert ready.outcome("test_api_headroom", "rdy-none") == "skipped"
    assert "declare expect.api_headroom" in ready.message("test_api_headroom", "rdy-none")


def test_deployment_and_package_install_in_progress(ready):
    assert ready.outcome("test_no_deployment_in_progress", "rdy-busy") == "failed"
    assert "expected none in progress, found InProgress since" in ready.message("test_no_deployment_in_progress",
                                                                               "rdy-busy")
    assert ready.outcome("test_no_package_install_in_progress", "rdy-busy") == "failed"
    assert "expected none in progress, found IN_PROGRESS since" in ready.message(
        "test_no_package_install_in_progress", "rdy-busy")


def test_release_window_open_passes(ready):
    assert ready.outcome("test_release_window_open") == "passed"


def test_inside_a_freeze_is_a_no_go_naming_the_next_window(frozen):
    assert frozen.outcome("test_release_window_open") == "failed"
    assert ("release window: expected open at 2026-12-22T19:00+01:00, found inside freeze 'year-end freeze' "
            "(2026-12-20 to 2027-01-04); next window opens Tue 2027-01-05 18:00 CET") in frozen.message(
        "test_release_window_open")
    assert frozen.gate["decision"] == "no-go"


def test_outside_every_window_is_a_no_go_naming_the_next_window(weekend):
    assert weekend.outcome("test_release_window_open") == "failed"
    assert ("release window: expected open at 2026-11-28T10:00+01:00, found outside every release window "
            "(mon-fri 18:00-22:00 Europe/Berlin); next window opens Mon 2026-11-30 18:00 CET") in weekend.message(
        "test_release_window_open")


def test_preview_sandbox_ahead_of_production_is_a_warning(ready):
    assert ready.outcome("test_sandboxes_not_ahead_of_production") == "failed"
    message = ready.gate["landscape"]["warnings"][0]["reason"]
    assert ("rdy-busy: Salesforce release: expected API 62.0 like production (rdy-prod), "
            "found preview API 63.0") in message
    assert "rdy-good" not in message
    warnings = [w["check"] for w in ready.gate["landscape"]["warnings"]]
    assert warnings == ["checks/test_readiness.py::test_sandboxes_not_ahead_of_production"]
    assert ready.gate["landscape"]["failed"] == []


def test_upstream_go_for_the_same_release_passes(ready):
    assert ready.outcome("test_upstream_stage_passed") == "passed", ready.message("test_upstream_stage_passed")


def test_upstream_no_go_other_release_and_stale_gate_are_named(frozen):
    message = frozen.message("test_upstream_stage_passed")
    assert frozen.outcome("test_upstream_stage_passed") == "failed"
    assert ("upstream stage staging (verification): expected a gate for release 2026.12, "
            "found release 2026.11") in message
    assert "upstream stage staging (verification): expected go, found no-go (stg: 1 failed check)" in message
    assert "expected a gate at most 72 h old, found one finished 2026-11-26T16:00+00:00 (626 h ago)" in message


def test_upstream_without_release_or_gate_file_is_a_no_go(weekend):
    assert weekend.outcome("test_upstream_stage_passed") == "failed"
    assert ("upstream stage staging (verification): expected a go for this release, found no --release given"
            in weekend.message("test_upstream_stage_passed"))


def test_sandboxes_on_production_release_pass_and_no_production_skips(weekend, frozen):
    assert weekend.outcome("test_sandboxes_not_ahead_of_production") == "passed"
    assert frozen.outcome("test_sandboxes_not_ahead_of_production") == "skipped"
    assert "declare expect.production_api_version" in frozen.message("test_sandboxes_not_ahead_of_production")
