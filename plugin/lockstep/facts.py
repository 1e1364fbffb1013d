"""Facts: what checks read from an org, fetched once per org and cached.

Each fact is a property returning small frozen dataclasses. ``prefetch(*names)`` gathers
several facts at once: their queries go out together through ``/composite`` (data) and
``/tooling/composite`` (tooling), at most five queries per call. A composite call that
fails (rate limit, expired session, 5xx, dropped connection) marks every query of its batch
failed; single queries are sent only when the composite resource itself is not served.
A failed query, and a fact that cannot be built from the org's answer (a
:class:`~lockstep.salesforce.errors.FactError`, ``<org>: fact <name>: <reason>``), are
remembered and raised to each check that reads them: the org is not asked again.

Checks declare what they read with ``@pytest.mark.facts("packages", "flows")`` (on the
test or the module); before an org's first check the plugin gathers the union of the
facts declared by the collected checks in one ``prefetch``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from lockstep.fact_types import (
    ApexTrigger,
    Assignment,
    AsyncJob,
    Deployment,
    EventSubscriber,
    Flow,
    InstalledPackage,
    NamedCredential,
    Organization,
    PackageInstall,
    PermissionSet,
    RemoteSite,
    ScheduledJob,
    ValidationRule,
)
from lockstep.salesforce.client import OrgClient, error_for
from lockstep.salesforce.errors import FactError, NotFound, SalesforceError, one_line

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


class UnexpectedAnswer(ValueError):
    """The org answered, but not with what a fact is built from."""


def _organization(rows: Rows) -> Organization:
    if not rows:
        raise UnexpectedAnswer("no Organization row")
    row = rows[0]
    return Organization(str(row.get("Id")), str(row.get("Name")), bool(row.get("IsSandbox")),
                        row.get("InstanceName"), row.get("OrganizationType"))


def _versions(served: Any) -> str:
    numbers = [str(v["version"]) for v in served]
    if not numbers:
        raise UnexpectedAnswer("no API version served")
    return max(numbers, key=float)


_BUILD: dict[str, Callable[..., Any]] = {
    "organization": _organization,
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
        """Gather the named facts (all when none are named) in as few API calls as possible.

        Every named fact is attempted; the first that failed is raised at the end."""
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
            first: SalesforceError | None = None
            for name in wanted:
                try:
                    self._value(name)
                except SalesforceError as exc:
                    first = first or exc
        if first is not None:
            raise first
        return self

    def error_of(self, names: Iterable[str]) -> SalesforceError | None:
        """The remembered failure of the first of ``names`` that failed, or ``None``.

        Reports only facts already gathered (waiting for a ``prefetch`` in progress); never
        asks the org."""
        with self._lock:
            for name in names:
                value = self._values.get(name)
                if isinstance(value, SalesforceError):
                    return value.again()
        return None

    def _single(self, api: str, soql: str) -> None:
        try:
            rows: Rows | SalesforceError = self.client.query(soql) if api == DATA else self.client.tooling_query(soql)
        except SalesforceError as exc:
            rows = exc
        self._rows[(api, soql)] = rows

    def _run_batch(self, api: str, queries: list[str]) -> None:
        if len(queries) == 1:
            self._single(api, queries[0])
            return
        prefix = f"{self.client.base_path}/{'tooling/' if api == TOOLING else ''}query/?q="
        subrequests = [{"method": "GET", "url": prefix + quote(q), "referenceId": f"q{i}"} for i, q in enumerate(queries)]
        send = self.client.composite if api == DATA else self.client.tooling_composite
        try:
            answers = {a.get("referenceId"): a for a in send(subrequests) if isinstance(a, Mapping)}
        except SalesforceError as exc:
            if not _composite_unsupported(exc):
                for soql in queries:
                    self._rows[(api, soql)] = exc
                return
            for soql in queries:
                self._single(api, soql)
            return
        for i, soql in enumerate(queries):
            self._rows[(api, soql)] = self._answer_rows(answers.get(f"q{i}"))

    def _answer_rows(self, answer: Mapping[str, Any] | None) -> Rows | SalesforceError:
        """The rows of one composite subrequest's answer, or the error it stands for."""
        name = self.client.name
        if answer is None:
            return SalesforceError(name, "UNEXPECTED_ANSWER", "the composite answer has no result for the query")
        status, body = answer.get("httpStatusCode"), answer.get("body")
        if not isinstance(status, int):
            return SalesforceError(name, "UNEXPECTED_ANSWER", "a composite result without an HTTP status")
        if status != 200:
            return error_for(name, status, body)
        try:
            return self.client.more(body)
        except SalesforceError as exc:
            return exc

    def _query_rows(self, api: str, soql: str) -> Rows:
        if (api, soql) not in self._rows:
            self._single(api, soql)
        rows = self._rows[(api, soql)]
        if isinstance(rows, SalesforceError):
            raise rows.again()
        return rows

    def _build(self, name: str) -> Any:
        if name == "limits":
            answer = self.client.limits()
            if not isinstance(answer, Mapping):
                raise UnexpectedAnswer("limits is not a JSON object")
            return {k: dict(v) if isinstance(v, Mapping) else v for k, v in answer.items()}
        if name == "api_version":
            return _versions(self.client.versions())
        return _BUILD[name](*(self._query_rows(api, soql) for api, soql in _SOQL[name]))

    def _value(self, name: str) -> Any:
        """The fact, built once; a failure (the org's error, or an answer the fact cannot be
        built from) is remembered and raised again to every reader."""
        with self._lock:
            if name not in self._values:
                try:
                    self._values[name] = self._build(name)
                except SalesforceError as exc:
                    self._values[name] = exc
                except Exception as exc:  # an org's odd answer must cost this fact only
                    reason = str(exc) if isinstance(exc, UnexpectedAnswer) else f"{type(exc).__name__}: {exc}"
                    self._values[name] = FactError(self.client.name, name, f"unexpected answer: {one_line(reason)[:200]}")
            value = self._values[name]
        if isinstance(value, SalesforceError):
            raise value.again()
        return value

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


def _composite_unsupported(exc: SalesforceError) -> bool:
    """Whether the composite resource itself is not served (then single queries are worth it)."""
    return isinstance(exc, NotFound) or exc.status in (404, 405) or exc.code == "METHOD_NOT_ALLOWED"
