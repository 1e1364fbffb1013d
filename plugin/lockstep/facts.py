"""Facts: what checks read from an org, fetched once per org and cached.

Each fact is a property returning small frozen dataclasses. ``prefetch(*names)`` gathers
several facts at once: their queries go out together through ``/composite`` (data) and
``/tooling/composite`` (tooling), at most five queries per call, falling back to single
queries when a composite call fails. A failed query is remembered and re-raised, so a
rate-limited org is not asked again by every check.

Checks declare what they read with ``@pytest.mark.facts("packages", "flows")`` (on the
test or the module); before an org's first check the plugin gathers the union of the
facts declared by the collected checks in one ``prefetch``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lockstep.salesforce.client import OrgClient
from lockstep.salesforce.errors import RequestLimitExceeded, SalesforceError, SessionExpired

__all__ = [
    "ApexTrigger", "Assignment", "AsyncJob", "Deployment", "EventSubscriber", "Facts", "Flow", "InstalledPackage",
    "NamedCredential", "Organization", "PackageInstall", "PermissionSet", "RemoteSite", "ScheduledJob",
    "ValidationRule",
]

MAX_QUERIES_PER_COMPOSITE = 5
DATA, TOOLING = "data", "tooling"
_SYSTEM_PERMISSIONS = (
    "ModifyAllData", "ViewAllData", "ApiEnabled", "AuthorApex", "CustomizeApplication", "ManageUsers",
    "ViewSetup", "ViewAllUsers", "ModifyMetadata", "ManageProfilesPermissionsets", "AssignPermissionSets",
)
_OBJECT_ACCESS = (("Read", "read"), ("Create", "create"), ("Edit", "edit"), ("Delete", "delete"),
                  ("ViewAllRecords", "view_all"), ("ModifyAllRecords", "modify_all"))


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    is_sandbox: bool
    instance_name: str | None
    organization_type: str | None


@dataclass(frozen=True)
class InstalledPackage:
    namespace: str | None
    name: str
    version: str
    managed: bool
    beta: bool


@dataclass(frozen=True)
class PackageInstall:
    id: str
    status: str
    created: dt.datetime | None


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str
    created: dt.datetime | None
    check_only: bool


@dataclass(frozen=True)
class Flow:
    api_name: str
    label: str
    process_type: str | None
    trigger_type: str | None
    active_version: int | None
    latest_version: int | None


@dataclass(frozen=True)
class ApexTrigger:
    name: str
    object: str | None
    status: str


@dataclass(frozen=True)
class ValidationRule:
    name: str
    object: str | None
    active: bool


@dataclass(frozen=True)
class NamedCredential:
    name: str
    label: str
    endpoint: str | None


@dataclass(frozen=True)
class RemoteSite:
    name: str
    url: str | None
    active: bool


@dataclass(frozen=True)
class ScheduledJob:
    name: str | None
    job_type: str | None
    state: str
    next_fire: dt.datetime | None
    previous_fire: dt.datetime | None


@dataclass(frozen=True)
class AsyncJob:
    id: str
    job_type: str
    status: str
    class_name: str | None
    errors: int
    extended_status: str | None
    created: dt.datetime | None
    completed: dt.datetime | None


@dataclass(frozen=True)
class EventSubscriber:
    name: str
    topic: str
    type: str | None
    status: str


@dataclass(frozen=True)
class PermissionSet:
    name: str
    label: str
    is_profile: bool
    system: Mapping[str, bool]
    objects: Mapping[str, frozenset[str]]
    fields: Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Assignment:
    permission_set: str
    username: str


def parse_datetime(value: Any) -> dt.datetime | None:
    """Salesforce datetimes (``2024-05-01T10:00:00.000+0000``) as aware datetimes."""
    if not value:
        return None
    text = str(value)
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _get(record: Mapping[str, Any] | None, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


Rows = list[dict[str, Any]]
_SOQL: dict[str, tuple[tuple[str, str], ...]] = {
    "organization": ((DATA, "SELECT Id, Name, IsSandbox, InstanceName, OrganizationType FROM Organization"),),
    "packages": ((TOOLING, "SELECT Id, SubscriberPackage.NamespacePrefix, SubscriberPackage.Name, "
                           "SubscriberPackageVersion.MajorVersion, SubscriberPackageVersion.MinorVersion, "
                           "SubscriberPackageVersion.PatchVersion, SubscriberPackageVersion.BuildNumber, "
                           "SubscriberPackageVersion.IsManaged, SubscriberPackageVersion.IsBeta "
                           "FROM InstalledSubscriberPackage"),),
    "package_installs": ((TOOLING, "SELECT Id, Status, CreatedDate FROM PackageInstallRequest "
                                   "ORDER BY CreatedDate DESC LIMIT 200"),),
    "deployments": ((TOOLING, "SELECT Id, Status, CreatedDate, CheckOnly FROM DeployRequest "
                              "ORDER BY CreatedDate DESC LIMIT 200"),),
    "flows": (
        (DATA, "SELECT ApiName, Label, ProcessType, TriggerType, IsActive FROM FlowDefinitionView"),
        (TOOLING, "SELECT DeveloperName, NamespacePrefix, ActiveVersion.VersionNumber, "
                  "LatestVersion.VersionNumber FROM FlowDefinition"),
    ),
    "apex_triggers": ((DATA, "SELECT Name, TableEnumOrId, Status FROM ApexTrigger"),),
    "validation_rules": ((TOOLING, "SELECT ValidationName, EntityDefinition.QualifiedApiName, Active "
                                   "FROM ValidationRule"),),
    "named_credentials": ((DATA, "SELECT DeveloperName, MasterLabel, Endpoint FROM NamedCredential"),),
    "remote_sites": ((TOOLING, "SELECT SiteName, EndpointUrl, IsActive FROM RemoteProxy"),),
    "scheduled_jobs": ((DATA, "SELECT CronJobDetail.Name, CronJobDetail.JobType, State, NextFireTime, "
                              "PreviousFireTime FROM CronTrigger"),),
    "async_jobs": ((DATA, "SELECT Id, JobType, Status, ApexClass.Name, NumberOfErrors, ExtendedStatus, "
                          "CreatedDate, CompletedDate FROM AsyncApexJob ORDER BY CreatedDate DESC LIMIT 2000"),),
    "event_subscribers": ((DATA, "SELECT Name, Topic, Type, Status FROM EventBusSubscriber"),),
    "permission_sets": (
        (DATA, "SELECT Id, Name, Label, IsOwnedByProfile, Profile.Name, "
               + ", ".join(f"Permissions{p}" for p in _SYSTEM_PERMISSIONS) + " FROM PermissionSet"),
        (DATA, "SELECT ParentId, SobjectType, " + ", ".join(f"Permissions{p}" for p, _ in _OBJECT_ACCESS)
               + " FROM ObjectPermissions"),
        (DATA, "SELECT ParentId, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions"),
    ),
    "assignments": ((DATA, "SELECT Assignee.Username, PermissionSet.Name, PermissionSet.IsOwnedByProfile "
                           "FROM PermissionSetAssignment"),),
}


def _package(row: Mapping[str, Any]) -> InstalledPackage:
    parts = [_get(row, f"SubscriberPackageVersion.{p}") for p in ("MajorVersion", "MinorVersion", "PatchVersion",
                                                                    "BuildNumber")]
    return InstalledPackage(
        namespace=_get(row, "SubscriberPackage.NamespacePrefix") or None,
        name=str(_get(row, "SubscriberPackage.Name") or ""),
        version=".".join(str(p if p is not None else 0) for p in parts),
        managed=bool(_get(row, "SubscriberPackageVersion.IsManaged")),
        beta=bool(_get(row, "SubscriberPackageVersion.IsBeta")),
    )


def _flows(views: Rows, definitions: Rows) -> tuple[Flow, ...]:
    versions: dict[str, tuple[int | None, int | None]] = {}
    for row in definitions:
        numbers = (_int(_get(row, "ActiveVersion.VersionNumber")), _int(_get(row, "LatestVersion.VersionNumber")))
        name = str(row.get("DeveloperName"))
        versions[name] = numbers
        if row.get("NamespacePrefix"):
            versions[f"{row['NamespacePrefix']}__{name}"] = numbers
    flows = []
    for row in views:
        active, latest = versions.get(str(row.get("ApiName")), (None, None))
        flows.append(Flow(str(row.get("ApiName")), str(row.get("Label") or ""), row.get("ProcessType"),
                          row.get("TriggerType"), active, latest))
    return tuple(sorted(flows, key=lambda f: f.api_name))


def _permission_sets(sets: Rows, objects: Rows, fields: Rows) -> tuple[PermissionSet, ...]:
    object_access: dict[str, dict[str, frozenset[str]]] = {}
    for row in objects:
        granted = frozenset(word for field, word in _OBJECT_ACCESS if row.get(f"Permissions{field}"))
        object_access.setdefault(str(row.get("ParentId")), {})[str(row.get("SobjectType"))] = granted
    field_access: dict[str, dict[str, frozenset[str]]] = {}
    for row in fields:
        granted = frozenset(w for f, w in (("Read", "read"), ("Edit", "edit")) if row.get(f"Permissions{f}"))
        field_access.setdefault(str(row.get("ParentId")), {})[str(row.get("Field"))] = granted
    result = []
    for row in sets:
        is_profile = bool(row.get("IsOwnedByProfile"))
        name = (_get(row, "Profile.Name") if is_profile else None) or str(row.get("Name"))
        result.append(PermissionSet(
            name=name,
            label=str(row.get("Label") or name),
            is_profile=is_profile,
            system={p: bool(row.get(f"Permissions{p}")) for p in _SYSTEM_PERMISSIONS},
            objects=object_access.get(str(row.get("Id")), {}),
            fields=field_access.get(str(row.get("Id")), {}),
        ))
    return tuple(sorted(result, key=lambda p: (p.is_profile, p.name)))


_BUILD: dict[str, Callable[..., Any]] = {
    "organization": lambda rows: Organization(str(rows[0].get("Id")), str(rows[0].get("Name")),
                                              bool(rows[0].get("IsSandbox")), rows[0].get("InstanceName"),
                                              rows[0].get("OrganizationType")),
    "packages": lambda rows: tuple(sorted((_package(r) for r in rows), key=lambda p: (p.namespace or "", p.name))),
    "package_installs": lambda rows: tuple(PackageInstall(str(r.get("Id")), str(r.get("Status")),
                                                          parse_datetime(r.get("CreatedDate"))) for r in rows),
    "deployments": lambda rows: tuple(Deployment(str(r.get("Id")), str(r.get("Status")),
                                                 parse_datetime(r.get("CreatedDate")), bool(r.get("CheckOnly")))
                                      for r in rows),
    "flows": _flows,
    "apex_triggers": lambda rows: tuple(ApexTrigger(str(r.get("Name")), r.get("TableEnumOrId"), str(r.get("Status")))
                                        for r in rows),
    "validation_rules": lambda rows: tuple(ValidationRule(str(r.get("ValidationName")),
                                                          _get(r, "EntityDefinition.QualifiedApiName"),
                                                          bool(r.get("Active"))) for r in rows),
    "named_credentials": lambda rows: tuple(NamedCredential(str(r.get("DeveloperName")),
                                                            str(r.get("MasterLabel") or ""), r.get("Endpoint"))
                                            for r in rows),
    "remote_sites": lambda rows: tuple(RemoteSite(str(r.get("SiteName")), r.get("EndpointUrl"), bool(r.get("IsActive")))
                                       for r in rows),
    "scheduled_jobs": lambda rows: tuple(ScheduledJob(_get(r, "CronJobDetail.Name"), _get(r, "CronJobDetail.JobType"),
                                                      str(r.get("State")), parse_datetime(r.get("NextFireTime")),
                                                      parse_datetime(r.get("PreviousFireTime"))) for r in rows),
    "async_jobs": lambda rows: tuple(AsyncJob(str(r.get("Id")), str(r.get("JobType")), str(r.get("Status")),
                                              _get(r, "ApexClass.Name"), int(r.get("NumberOfErrors") or 0),
                                              r.get("ExtendedStatus"), parse_datetime(r.get("CreatedDate")),
                                              parse_datetime(r.get("CompletedDate"))) for r in rows),
    "event_subscribers": lambda rows: tuple(EventSubscriber(str(r.get("Name")), str(r.get("Topic")), r.get("Type"),
                                                            str(r.get("Status"))) for r in rows),
    "permission_sets": _permission_sets,
    "assignments": lambda rows: tuple(sorted(
        (Assignment(str(_get(r, "PermissionSet.Name")), str(_get(r, "Assignee.Username")))
         for r in rows if not _get(r, "PermissionSet.IsOwnedByProfile")),
        key=lambda a: (a.permission_set, a.username),
    )),
}
_REST = ("limits", "api_version")
FACT_NAMES = (*_SOQL, *_REST)


class Facts:
    """The facts of one org; each is read from the org at most once."""

    def __init__(self, client: OrgClient) -> None:
        self.client = client
        self._lock = threading.RLock()
        self._rows: dict[tuple[str, str], Rows | SalesforceError] = {}
        self._values: dict[str, Any] = {}

    def prefetch(self, *names: str) -> Facts:
        """Gather the named facts (all when none are named) in as few API calls as possible."""
        wanted = names or FACT_NAMES
        unknown = [n for n in wanted if n not in FACT_NAMES]
        if unknown:
            raise AttributeError(f"unknown fact {unknown[0]!r}; facts: {', '.join(FACT_NAMES)}")
        with self._lock:
            pending: dict[str, list[str]] = {DATA: [], TOOLING: []}
            for name in wanted:
                for api, soql in _SOQL.get(name, ()):
                    if (api, soql) not in self._rows and soql not in pending[api]:
                        pending[api].append(soql)
            for api, queries in pending.items():
                for start in range(0, len(queries), MAX_QUERIES_PER_COMPOSITE):
                    self._run_batch(api, queries[start:start + MAX_QUERIES_PER_COMPOSITE])
            for name in wanted:
                self._value(name)
        return self

    def _single(self, api: str, soql: str) -> None:
        try:
            rows = self.client.query(soql) if api == DATA else self.client.tooling_query(soql)
        except SalesforceError as exc:
            self._rows[(api, soql)] = exc
        else:
            self._rows[(api, soql)] = rows

    def _run_batch(self, api: str, queries: list[str]) -> None:
        if len(queries) == 1:
            self._single(api, queries[0])
            return
        prefix = f"{self.client.base_path}/{'tooling/' if api == TOOLING else ''}query/?q="
        subrequests = [{"method": "GET", "url": prefix + quote(q), "referenceId": f"q{i}"} for i, q in enumerate(queries)]
        try:
            send = self.client.composite if api == DATA else self.client.tooling_composite
            answers = {a.get("referenceId"): a for a in send(subrequests)}
        except (RequestLimitExceeded, SessionExpired) as exc:
            for soql in queries:
                self._rows[(api, soql)] = exc
            return
        except SalesforceError:
            answers = {}
        for i, soql in enumerate(queries):
            answer = answers.get(f"q{i}")
            body = answer.get("body") if answer else None
            if answer and answer.get("httpStatusCode") == 200 and isinstance(body, dict):
                try:
                    self._rows[(api, soql)] = self.client.more(body)
                except SalesforceError as exc:
                    self._rows[(api, soql)] = exc
            else:
                self._single(api, soql)

    def _query_rows(self, api: str, soql: str) -> Rows:
        if (api, soql) not in self._rows:
            self._single(api, soql)
        rows = self._rows[(api, soql)]
        if isinstance(rows, SalesforceError):
            raise rows
        return rows

    def _value(self, name: str) -> Any:
        with self._lock:
            if name not in self._values:
                if name == "limits":
                    self._values[name] = {k: dict(v) if isinstance(v, Mapping) else v
                                          for k, v in self.client.limits().items()}
                elif name == "api_version":
                    self._values[name] = max((str(v["version"]) for v in self.client.versions()), key=float)
                else:
                    self._values[name] = _BUILD[name](*(self._query_rows(api, soql) for api, soql in _SOQL[name]))
            return self._values[name]

    organization = property(lambda self: self._value("organization"))
    limits = property(lambda self: self._value("limits"))
    api_version = property(lambda self: self._value("api_version"))
    packages = property(lambda self: self._value("packages"))
    package_installs = property(lambda self: self._value("package_installs"))
    deployments = property(lambda self: self._value("deployments"))
    flows = property(lambda self: self._value("flows"))
    apex_triggers = property(lambda self: self._value("apex_triggers"))
    validation_rules = property(lambda self: self._value("validation_rules"))
    named_credentials = property(lambda self: self._value("named_credentials"))
    remote_sites = property(lambda self: self._value("remote_sites"))
    scheduled_jobs = property(lambda self: self._value("scheduled_jobs"))
    async_jobs = property(lambda self: self._value("async_jobs"))
    event_subscribers = property(lambda self: self._value("event_subscribers"))
    permission_sets = property(lambda self: self._value("permission_sets"))
    assignments = property(lambda self: self._value("assignments"))
