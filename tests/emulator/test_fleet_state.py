"""A packaging org's state: the generated fleet (deterministic, fast), its objects served through
SOQL with Salesforce's field names, relationships and paging, and one-line errors for bad specs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulator_helpers import StateFactory, session_for, token_of

from lockstep.config.errors import ConfigError
from lockstep.emulator.state.load import load_states

V = "/services/data/v61.0"
PACKAGES = [{"namespace": "acme_cpq", "name": "Acme CPQ", "versions": ["2.4.0.1", "2.5.0.1"]}]


def fleet_state(total: int = 10_000, **fleet: Any) -> dict[str, Any]:
    generator = {"package": "acme_cpq", "seed": 3, "versions": {"2.5.0.1": total - total // 10, "2.4.0.1": total // 10},
                 "org_types": {"Production": total // 2, "Sandbox": total - total // 2}, **fleet}
    return {"org": {"name": "pkg"}, "packaging": {
        "packages": PACKAGES, "fleet": [generator],
        "subscribers": [{"package": "acme_cpq", "org_name": "Initech", "version": "2.4.0.1", "blocked": True}],
        "push_requests": [{"package": "acme_cpq", "version": "2.5.0.1", "status": "In Progress", "scheduled": "-PT1H",
                           "jobs": [{"org": "Initech", "status": "Failed",
                                     "errors": [{"type": "DeployError", "title": "Missing field"}]}]}]}}


def load(tmp_path: Path, data: dict[str, Any]):
    (tmp_path / "pkg.yaml").write_text(yaml.safe_dump(data))
    return load_states(tmp_path)[0]


def test_ten_thousand_subscribers_load_fast_and_the_same_every_time(tmp_path: Path) -> None:
    started = time.perf_counter()
    first = load(tmp_path, fleet_state())
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"loading 10,000 subscribers took {elapsed:.2f} s"
    rows = first.tables["PackageSubscriber"]
    assert len(rows) == 10_001 and len({r["OrgKey"] for r in rows}) == 10_001
    assert sum(r["OrgType"] == "Sandbox" for r in rows[:-1]) == 5_000
    again = load(tmp_path, fleet_state())
    assert [r["OrgKey"] for r in again.tables["PackageSubscriber"]] == [r["OrgKey"] for r in rows]
    assert len(first.tables["PackagePushJob"]) == 9_000 + 1  # a Succeeded job per subscriber on 2.5.0.1, plus Initech's


@pytest.mark.parametrize(("change", "error"), [
    ({"org_types": {"Production": 10}}, "packaging.fleet[0].org_types: the counts add up to 10, but the fleet's "
                                        "versions to 100"),
    ({"statuses": {"Actve": 100}}, "packaging.fleet[0].statuses.Actve: expected one of Active, Demo, Free, Inactive, "
                                   "Trial"),
    ({"versions": {"2.5": 100}}, "packaging.fleet[0].versions.2.5: expected a version M.m.p.b like 2.5.0.1, got '2.5'"),
    ({"package": "nope"}, "packaging.fleet[0].package: unknown package 'nope'; packaging.packages declares: acme_cpq"),
    ({"sed": 1}, "packaging.fleet[0].sed: unknown key (did you mean 'seed'?)"),
])
def test_a_bad_fleet_spec_is_one_line_naming_the_key(tmp_path: Path, change: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, fleet_state(100, **change))
    assert str(info.value) == f"{tmp_path / 'pkg.yaml'}: {error}"


def test_a_planted_job_must_name_a_subscriber(tmp_path: Path) -> None:
    data = fleet_state(100)
    data["packaging"]["push_requests"][0]["jobs"][0]["org"] = "Nobody"
    with pytest.raises(ConfigError, match=r"push_requests\[0\]\.jobs\[0\]\.org: no subscriber of acme_cpq"):
        load(tmp_path, data)


def test_fleet_objects_are_served_paged_with_relationships(start_emulator: StateFactory) -> None:
    emu = start_emulator(fleet_state(4_500))
    http = session_for(emu)
    http.headers["Authorization"] = f"Bearer {token_of(emu, 'pkg')}"
    soql = ("SELECT OrgKey, OrgName, OrgType, OrgStatus, InstanceName, HasRestrictionEnabled, CustomUpgradeType, "
            "MetadataPackageVersion.MajorVersion FROM PackageSubscriber WHERE "
            "MetadataPackage.NamespacePrefix = 'acme_cpq'")
    page = http.get(f"{emu.url}{V}/query", params={"q": soql}, timeout=30).json()
    rows, pages = list(page["records"]), 1
    assert page["totalSize"] == 4_501 and len(rows) == 2_000 and page["done"] is False
    while not page["done"]:
        page = http.get(emu.url + page["nextRecordsUrl"], timeout=30).json()
        rows += page["records"]
        pages += 1
    assert pages == 3 and len(rows) == 4_501
    initech = next(r for r in rows if r["OrgName"] == "Initech")
    assert initech["HasRestrictionEnabled"] is True and initech["CustomUpgradeType"] == "BlockedBySubscriber"
    assert initech["MetadataPackageVersion"]["MajorVersion"] == 2
    jobs = http.get(f"{emu.url}{V}/query", timeout=30, params={"q": (
        "SELECT SubscriberOrganizationKey, Status, PackagePushRequest.Status, "
        "(SELECT ErrorType, ErrorTitle, ErrorSeverity FROM PackagePushErrors) FROM PackagePushJob "
        "WHERE Status = 'Failed'")}).json()["records"]
    assert jobs[0]["PackagePushRequest"]["Status"] == "In Progress"
    assert jobs[0]["PackagePushErrors"]["records"][0]["ErrorType"] == "DeployError"
    assert jobs[0]["PackagePushErrors"]["records"][0]["ErrorSeverity"] == "Error"
