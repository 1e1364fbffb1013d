"""The catalog's questions asked the way a hand-written suite asks them: one query per check,
orgs one after another, nothing shared between checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from conftest import kind_of


def rows(sf: Salesforce, soql: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = sf.query_all(soql)["records"]
    return records


def tooling(sf: Salesforce, soql: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = sf.toolingexecute(f"query/?q={soql.replace(' ', '+')}")["records"]
    return records


# -- readiness
def test_org_reachable(sf: Salesforce) -> None:
    assert rows(sf, "SELECT Id, Name FROM Organization")


def test_api_headroom(sf: Salesforce, expect: dict[str, Any]) -> None:
    daily = sf.limits()["DailyApiRequests"]
    assert 100 * daily["Remaining"] / daily["Max"] >= expect.get("api_headroom", {}).get("min_remaining_percent", 0)


def test_no_deployment_in_progress(sf: Salesforce) -> None:
    assert not [r for r in tooling(sf, "SELECT Id, Status FROM DeployRequest") if r["Status"] == "InProgress"]


def test_no_package_install_in_progress(sf: Salesforce) -> None:
    assert not [r for r in tooling(sf, "SELECT Id, Status FROM PackageInstallRequest") if r["Status"] == "IN_PROGRESS"]


# -- packages
_PACKAGES = ("SELECT SubscriberPackage.NamespacePrefix, SubscriberPackageVersion.MajorVersion, "
             "SubscriberPackageVersion.MinorVersion FROM InstalledSubscriberPackage")


def test_expected_package_versions(sf: Salesforce, expect: dict[str, Any]) -> None:
    assert len(tooling(sf, _PACKAGES)) >= len(expect.get("packages", {}))


def test_packages_on_previous_version(sf: Salesforce) -> None:
    tooling(sf, _PACKAGES)


# -- automation
def test_flows_in_expected_state(sf: Salesforce, expect: dict[str, Any]) -> None:
    active = {r["ApiName"] for r in rows(sf, "SELECT ApiName, IsActive FROM FlowDefinitionView") if r["IsActive"]}
    assert set(expect.get("flows", {})) <= active


def test_apex_triggers_in_expected_state(sf: Salesforce) -> None:
    rows(sf, "SELECT Name, Status FROM ApexTrigger")


def test_validation_rules_in_expected_state(sf: Salesforce) -> None:
    tooling(sf, "SELECT ValidationName, Active FROM ValidationRule")


def test_scheduled_jobs_scheduled(sf: Salesforce) -> None:
    rows(sf, "SELECT CronJobDetail.Name, State FROM CronTrigger")


def test_no_stuck_scheduled_jobs(sf: Salesforce) -> None:
    rows(sf, "SELECT CronJobDetail.Name, State, NextFireTime FROM CronTrigger")


def test_no_failed_async_jobs_since_deployment(sf: Salesforce) -> None:
    rows(sf, "SELECT Id, Status, NumberOfErrors FROM AsyncApexJob ORDER BY CreatedDate DESC LIMIT 2000")


# -- integrations
def test_named_credentials_point_at_own_environment(sf: Salesforce) -> None:
    rows(sf, "SELECT DeveloperName, Endpoint FROM NamedCredential")


def test_remote_sites_point_at_own_environment(sf: Salesforce) -> None:
    tooling(sf, "SELECT SiteName, EndpointUrl, IsActive FROM RemoteProxy")


def test_no_unknown_endpoints(sf: Salesforce) -> None:
    rows(sf, "SELECT DeveloperName, Endpoint FROM NamedCredential")


def test_external_endpoints_answer(sf: Salesforce, expect: dict[str, Any]) -> None:
    for probe in expect.get("probes", {}).values():
        assert requests.get(probe["url"], verify=sf.session.verify, timeout=10).status_code == probe.get("status", 200)


def test_event_subscribers_running(sf: Salesforce) -> None:
    rows(sf, "SELECT Name, Status FROM EventBusSubscriber")


# -- permissions
def test_permission_sets_and_profiles_exist(sf: Salesforce) -> None:
    rows(sf, "SELECT Id, Name FROM PermissionSet")


def test_object_permissions(sf: Salesforce) -> None:
    rows(sf, "SELECT ParentId, SobjectType, PermissionsRead FROM ObjectPermissions")


def test_field_permissions(sf: Salesforce) -> None:
    rows(sf, "SELECT ParentId, Field, PermissionsRead FROM FieldPermissions")


def test_required_permission_set_assignments(sf: Salesforce) -> None:
    rows(sf, "SELECT Assignee.Username, PermissionSet.Name FROM PermissionSetAssignment")


def test_no_unexpected_powerful_permissions(sf: Salesforce) -> None:
    rows(sf, "SELECT Id, Name, PermissionsModifyAllData FROM PermissionSet")


# -- critical processes
def test_recent_business_data(sf: Salesforce, expect: dict[str, Any]) -> None:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for spec in expect.get("business_data", {}).values():
        where = " AND ".join(f"{field} = '{value}'" for field, value in spec.get("where", {}).items())
        soql = f"SELECT COUNT(Id) total FROM {spec['object']} WHERE {where} AND CreatedDate >= {since}"
        assert rows(sf, soql)


def test_apex_rest_health(sf: Salesforce, expect: dict[str, Any]) -> None:
    for spec in expect.get("apex_health", {}).values():
        sf.apexecute(spec["path"], method="GET")


def test_record_automation(sf: Salesforce, org: str, expect: dict[str, Any]) -> None:
    if kind_of(org) in ("production", "subscriber"):
        pytest.skip("production: no writes")
    for spec in expect.get("record_automation", {}).values():
        created = getattr(sf, spec["object"]).create(spec["create"])
        getattr(sf, spec["object"]).get(created["id"])
        getattr(sf, spec["object"]).delete(created["id"])


# -- cross-org: every org again, one after another
def test_no_drift_between_orgs(every_org: list[tuple[str, Salesforce]]) -> None:
    for _, sf in every_org:
        tooling(sf, _PACKAGES)
        rows(sf, "SELECT ApiName, IsActive FROM FlowDefinitionView")
        rows(sf, "SELECT Id, Name FROM PermissionSet")


def test_same_package_versions_everywhere(every_org: list[tuple[str, Salesforce]]) -> None:
    for _, sf in every_org:
        tooling(sf, _PACKAGES)


def test_package_fleet_within_lag_budget(every_org: list[tuple[str, Salesforce]]) -> None:
    for _, sf in every_org:
        tooling(sf, _PACKAGES)


def test_sandboxes_not_ahead_of_production(every_org: list[tuple[str, Salesforce]]) -> None:
    for _, sf in every_org:
        sf.restful("")
