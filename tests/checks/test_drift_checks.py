"""checks/test_drift.py against planted orgs (a drifted staging org, an org left out, an
ignored flow), and the drift matrix of lockstep.helpers.drift on its own."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from catalog import STATES, run_catalog
from shared_run import from_json, once, to_json

from lockstep.facts.fetch import ApexTrigger, Flow, InstalledPackage, PermissionSet, ValidationRule
from lockstep.helpers.drift import compare, snapshot

CHECK = "test_no_drift_between_orgs"


def _drift_property(folder) -> dict:
    """The drift matrix as the HTML report carries it (the JUnit XML leaves such data out)."""
    page = (folder / "report.html").read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" class="lockstep-drift" data-check="[^"]*">(.*?)</script>', page)
    if found is None:
        raise AssertionError("no drift matrix in the HTML report")
    matrix: dict[str, Any] = json.loads(found.group(1))
    return matrix


def _run(tmp_path_factory, name):
    """The catalog run and the drift matrix it attached to its report."""
    def produce():
        folder = tmp_path_factory.mktemp(name)
        run = run_catalog(folder, STATES / "catalog1" / f"{name}.yaml", "test_drift.py",
                          args=(f"--html={folder / 'report.html'}",))
        return {"run": to_json(run), "matrix": _drift_property(folder)}

    shared = once(tmp_path_factory, f"catalog1-{name}", produce)
    return from_json(shared["run"]), shared["matrix"]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return _run(tmp_path_factory, "drift-baseline")


@pytest.fixture(scope="module")
def nway(tmp_path_factory):
    return _run(tmp_path_factory, "drift-nway")


def test_drift_from_the_baseline_lists_every_item_with_every_orgs_value(baseline):
    run, _ = baseline
    assert run.outcome(CHECK) == "failed"
    message = run.message(CHECK)
    assert message.startswith("drift: 8 items differ from baseline d-prod on d-staging: package ")
    for line in [
        "package acme_cpq: 2.5.0.1 on d-prod (baseline), d-qa; 2.4.0.1 on d-staging",
        "permission set Debug_Tools: missing on d-prod (baseline), d-qa; exists on d-staging",
        "permission set Sales_Ops object Account: read, create, edit on d-prod (baseline), d-qa; read on d-staging",
        "permission set Sales_Ops field Account.Rating: read, edit on d-prod (baseline), d-qa; no access on d-staging",
        "flow Case_Triage: active v4 on d-prod (baseline), d-qa; inactive on d-staging",
        "apex trigger CaseTrigger: Active on d-prod (baseline), d-qa; Inactive on d-staging",
        "validation rule Case.Require_Close_Reason: active on d-prod (baseline), d-qa; inactive on d-staging",
    ]:
        assert line in message
    assert "on d-sub" not in message and ", d-sub" not in message  # drift: null leaves it out
    assert "Legacy_Debug" not in message  # ignored
    reason = run.gate["landscape"]["failed"][0]["reason"]  # the gate names the differing items, not only a count
    assert reason.startswith("drift: 8 items differ from baseline d-prod on d-staging: package acme_cpq: 2.5.0.1 on")
    assert "flow Case_Triage: active v4 on d-prod (baseline), d-qa; inactive on d-staging" in reason


def test_the_matrix_is_attached_to_the_report_as_plain_data(baseline):
    _, matrix = baseline
    assert matrix["orgs"] == ["d-prod", "d-qa", "d-staging"]
    assert matrix["baseline"] == "d-prod"
    assert matrix["ignored"] == ["flows:Legacy_Debug"]
    assert matrix["differing"] == 8
    items = {item["key"]: item for item in matrix["items"]}
    assert items["flows:Case_Triage"] == {
        "key": "flows:Case_Triage", "label": "flow Case_Triage", "differs": True,
        "values": {"d-prod": "active v4", "d-qa": "active v4", "d-staging": "inactive"},
    }
    assert items["permission_sets:Sales_Ops"]["differs"] is False


def test_orgs_alike_pass_n_way(nway):
    run, matrix = nway
    assert run.outcome(CHECK) == "passed", run.message(CHECK)
    assert matrix["orgs"] == ["d-prod", "d-qa"]  # tag:internal
    assert matrix["baseline"] is None and matrix["differing"] == 0


def _facts(packages=(), permission_sets=(), flows=(), triggers=(), rules=()):
    return SimpleNamespace(packages=packages, permission_sets=permission_sets, flows=flows,
                           apex_triggers=triggers, validation_rules=rules)


def test_n_way_lines_group_orgs_by_value_most_common_first():
    def flow(active):
        return Flow("Case_Triage", "Case Triage", None, None, active, 4)

    snapshots = {name: snapshot(_facts(flows=(flow(active),))) for name, active in
                 [("a", 4), ("b", 4), ("c", None), ("d", 4)]}
    matrix = compare(snapshots)
    assert matrix.summary() == "drift: 1 item differs between a, b, c, d"
    assert matrix.lines() == ["flow Case_Triage: active v4 on a, b, d; inactive on c"]


def test_snapshot_covers_every_category_and_skips_profiles():
    facts = _facts(
        packages=(InstalledPackage(None, "Acme Utils", "1.3.0.2", False, False),),
        permission_sets=(
            PermissionSet("Sales_Ops", "Sales Ops", False, {}, {"Account": frozenset({"edit", "read"})},
                          {"Account.Rating": frozenset({"read"})}),
            PermissionSet("System Administrator", "System Administrator", True, {},
                          {"Account": frozenset({"read"})}, {}),
        ),
        triggers=(ApexTrigger("CaseTrigger", "Case", "Active"),),
        rules=(ValidationRule("Require_Close_Reason", "Case", False),),
    )
    assert snapshot(facts) == {
        "packages:Acme Utils": "1.3.0.2",
        "permission_sets:Sales_Ops": "exists",
        "permission_sets:Sales_Ops/Account": "read, edit",
        "permission_sets:Sales_Ops/Account.Rating": "read",
        "apex_triggers:CaseTrigger": "Active",
        "validation_rules:Case.Require_Close_Reason": "inactive",
    }
    assert snapshot(facts, ["apex_triggers"]) == {"apex_triggers:CaseTrigger": "Active"}


def test_compare_refuses_a_baseline_outside_the_comparison():
    with pytest.raises(ValueError, match="baseline org 'prod'"):
        compare({"a": {}, "b": {}}, baseline="prod")
