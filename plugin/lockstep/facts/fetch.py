"""Facts: what checks read from an org, fetched once per org and cached.

Each fact is defined once, in :class:`Facts`: the requests it is read from
(:mod:`lockstep.facts.calls`), how their answers become small frozen dataclasses, and its
documented, typed attribute on ``org.facts``. A new fact is one :class:`Fact` entry there
(and, when it needs one, a dataclass in :mod:`lockstep.facts.types`); ``FACT_NAMES`` and
``@pytest.mark.facts`` know it from that entry.

``prefetch(*names)`` gathers several facts at once: their queries go out together through
``/composite`` and ``/tooling/composite`` (at most five queries per call), with the requests
the org's checks planned (:mod:`lockstep.facts.plan`). A failed request, and a fact that cannot
be built from the org's answer (a :class:`~lockstep.salesforce.errors.FactError`,
``<org>: fact <name>: <reason>``), are remembered and raised to each check that reads them:
the org is not asked again.

Checks declare what they read with ``@pytest.mark.facts("packages", "flows")`` (on the
test or the module); before an org's first check the plugin gathers the union of the
facts declared by the collected checks.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, overload

from lockstep.facts.calls import Answers, ApiUsage, ApiVersions, Get, Query, Request, ToolingQuery
from lockstep.facts.types import (
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
from lockstep.salesforce.client import OrgClient
from lockstep.salesforce.errors import FactError, SalesforceError, one_line

__all__ = [
    "FACT_NAMES", "ApexTrigger", "Assignment", "AsyncJob", "Deployment", "EventSubscriber", "Fact", "Facts", "Flow",
    "InstalledPackage", "NamedCredential", "Organization", "PackageInstall", "PermissionSet", "RemoteSite",
    "ScheduledJob", "ValidationRule",
]

T = TypeVar("T")
Rows = list[dict[str, Any]]
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
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _get(record: Mapping[str, Any] | None, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _children(row: Mapping[str, Any], relationship: str) -> Rows:
    """The rows of a child subquery (``null`` when the parent has none)."""
    nested = row.get(relationship)
    records = nested.get("records") if isinstance(nested, Mapping) else None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


class UnexpectedAnswer(ValueError):
    """The org answered, but not with what a fact is built from."""


def _organization(rows: Rows) -> Organization:
    if not rows:
        raise UnexpectedAnswer("no Organization row")
    row = rows[0]
    return Organization(str(row.get("Id")), str(row.get("Name")), bool(row.get("IsSandbox")),
                        row.get("InstanceName"), row.get("OrganizationType"))


def _limits(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, Mapping):
        raise UnexpectedAnswer("limits is not a JSON object")
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in answer.items()}


def _api_version(served: Any) -> str:
    numbers = [str(v["version"]) for v in served]
    if not numbers:
        raise UnexpectedAnswer("no API version served")
    return max(numbers, key=float)


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


def _packages(rows: Rows) -> tuple[InstalledPackage, ...]:
    return tuple(sorted((_package(r) for r in rows), key=lambda p: (p.namespace or "", p.name)))


def _package_installs(rows: Rows) -> tuple[PackageInstall, ...]:
    return tuple(PackageInstall(str(r.get("Id")), str(r.get("Status")), parse_datetime(r.get("CreatedDate")))
                 for r in rows)


def _deployments(rows: Rows) -> tuple[Deployment, ...]:
    return tuple(Deployment(str(r.get("Id")), str(r.get("Status")), parse_datetime(r.get("CreatedDate")),
                            bool(r.get("CheckOnly"))) for r in rows)


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


def _apex_triggers(rows: Rows) -> tuple[ApexTrigger, ...]:
    return tuple(ApexTrigger(str(r.get("Name")), r.get("TableEnumOrId"), str(r.get("Status"))) for r in rows)


def _validation_rules(rows: Rows) -> tuple[ValidationRule, ...]:
    return tuple(ValidationRule(str(r.get("ValidationName")), _get(r, "EntityDefinition.QualifiedApiName"),
                                bool(r.get("Active"))) for r in rows)


def _named_credentials(rows: Rows) -> tuple[NamedCredential, ...]:
    return tuple(NamedCredential(str(r.get("DeveloperName")), str(r.get("MasterLabel") or ""), r.get("Endpoint"))
                 for r in rows)


def _remote_sites(rows: Rows) -> tuple[RemoteSite, ...]:
    return tuple(RemoteSite(str(r.get("SiteName")), r.get("EndpointUrl"), bool(r.get("IsActive"))) for r in rows)


def _scheduled_jobs(rows: Rows) -> tuple[ScheduledJob, ...]:
    return tuple(ScheduledJob(_get(r, "CronJobDetail.Name"), _get(r, "CronJobDetail.JobType"), str(r.get("State")),
                              parse_datetime(r.get("NextFireTime")), parse_datetime(r.get("PreviousFireTime")))
                 for r in rows)


def _async_jobs(rows: Rows) -> tuple[AsyncJob, ...]:
    return tuple(AsyncJob(str(r.get("Id")), str(r.get("JobType")), str(r.get("Status")), _get(r, "ApexClass.Name"),
                          int(r.get("NumberOfErrors") or 0), r.get("ExtendedStatus"),
                          parse_datetime(r.get("CreatedDate")), parse_datetime(r.get("CompletedDate"))) for r in rows)


def _event_subscribers(rows: Rows) -> tuple[EventSubscriber, ...]:
    return tuple(EventSubscriber(str(r.get("Name")), str(r.get("Topic")), r.get("Type"), str(r.get("Status")))
                 for r in rows)


def _permission_sets(sets: Rows) -> tuple[PermissionSet, ...]:
    result = []
    for row in sets:
        is_profile = bool(row.get("IsOwnedByProfile"))
        name = (_get(row, "Profile.Name") if is_profile else None) or str(row.get("Name"))
        objects = {str(o.get("SobjectType")): frozenset(word for f, word in _OBJECT_ACCESS if o.get(f"Permissions{f}"))
                   for o in _children(row, "ObjectPerms")}
        fields = {str(f.get("Field")): frozenset(w for p, w in (("Read", "read"), ("Edit", "edit"))
                                                 if f.get(f"Permissions{p}"))
                  for f in _children(row, "FieldPerms")}
        result.append(PermissionSet(name=name, label=str(row.get("Label") or name), is_profile=is_profile,
                                    system={p: bool(row.get(f"Permissions{p}")) for p in _SYSTEM_PERMISSIONS},
                                    objects=objects, fields=fields))
    return tuple(sorted(result, key=lambda p: (p.is_profile, p.name)))


def _assignments(sets: Rows) -> tuple[Assignment, ...]:
    return tuple(sorted(
        (Assignment(str(row.get("Name")), str(_get(a, "Assignee.Username")))
         for row in sets if not row.get("IsOwnedByProfile") for a in _children(row, "Assignments")),
        key=lambda a: (a.permission_set, a.username),
    ))


# Permission sets with their object and field access and their assignments: one query read
# by two facts (child subqueries; each child list is paged to its end like any query).
_PERMISSION_SETS = Query(
    "SELECT Id, Name, Label, IsOwnedByProfile, Profile.Name, "
    + ", ".join(f"Permissions{p}" for p in _SYSTEM_PERMISSIONS)
    + ", (SELECT SobjectType, " + ", ".join(f"Permissions{p}" for p, _ in _OBJECT_ACCESS) + " FROM ObjectPerms)"
    + ", (SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPerms)"
    + ", (SELECT Assignee.Username FROM Assignments) FROM PermissionSet"
)


class Fact(Generic[T]):
    """One fact: the requests it is read from, and ``build`` turning their answers (in the
    same order) into the value checks read as ``org.facts.<name>``."""

    def __init__(self, *requests: Request, build: Callable[..., T], doc: str) -> None:
        self.requests = requests
        self.build = build
        self.name = ""
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, facts: None, owner: type) -> Fact[T]: ...
    @overload
    def __get__(self, facts: Facts, owner: type) -> T: ...

    def __get__(self, facts: Facts | None, owner: type) -> Fact[T] | T:
        if facts is None:
            return self
        value: T = facts._value(self.name)
        return value


class Facts:
    """The facts of one org; each is read from the org at most once."""

    organization = Fact(
        Query("SELECT Id, Name, IsSandbox, InstanceName, OrganizationType FROM Organization"),
        build=_organization, doc="The Organization record: id, name, sandbox or not, instance, edition.")
    limits = Fact(
        Get("limits/"), build=_limits,
        doc="The org's limits (``/limits``): name -> {Max, Remaining, ...}, e.g. ``DailyApiRequests``.")
    api_usage: Fact[dict[str, int]] = Fact(
        ApiUsage(), build=dict,
        doc="Daily API requests ``{'Max': M, 'Remaining': R}`` as the org's answers report them (the "
            "``Sforce-Limit-Info`` header): no API call of its own when other facts are gathered with it.")
    api_version = Fact(ApiVersions(), build=_api_version, doc="The newest API version the org serves, e.g. '62.0'.")
    packages = Fact(
        ToolingQuery("SELECT Id, SubscriberPackage.NamespacePrefix, SubscriberPackage.Name, "
                     "SubscriberPackageVersion.MajorVersion, SubscriberPackageVersion.MinorVersion, "
                     "SubscriberPackageVersion.PatchVersion, SubscriberPackageVersion.BuildNumber, "
                     "SubscriberPackageVersion.IsManaged, SubscriberPackageVersion.IsBeta "
                     "FROM InstalledSubscriberPackage"),
        build=_packages, doc="Installed packages (namespace, name, version a.b.c.d, managed, beta), by namespace.")
    package_installs = Fact(
        ToolingQuery("SELECT Id, Status, CreatedDate FROM PackageInstallRequest ORDER BY CreatedDate DESC LIMIT 200"),
        build=_package_installs, doc="The latest 200 package install requests, newest first.")
    deployments = Fact(
        ToolingQuery("SELECT Id, Status, CreatedDate, CheckOnly FROM DeployRequest "
                     "ORDER BY CreatedDate DESC LIMIT 200"),
        build=_deployments, doc="The latest 200 metadata deployments (validations included), newest first.")
    flows = Fact(
        Query("SELECT ApiName, Label, ProcessType, TriggerType, IsActive FROM FlowDefinitionView"),
        ToolingQuery("SELECT DeveloperName, NamespacePrefix, ActiveVersion.VersionNumber, "
                     "LatestVersion.VersionNumber FROM FlowDefinition"),
        build=_flows, doc="Flows with their active and latest version numbers, by API name.")
    apex_triggers = Fact(Query("SELECT Name, TableEnumOrId, Status FROM ApexTrigger"),
                         build=_apex_triggers, doc="Apex triggers: name, object, status (Active, Inactive).")
    validation_rules = Fact(
        ToolingQuery("SELECT ValidationName, EntityDefinition.QualifiedApiName, Active FROM ValidationRule"),
        build=_validation_rules, doc="Validation rules: name, object, active.")
    named_credentials = Fact(Query("SELECT DeveloperName, MasterLabel, Endpoint FROM NamedCredential"),
                             build=_named_credentials, doc="Named credentials: name, label, endpoint URL.")
    remote_sites = Fact(ToolingQuery("SELECT SiteName, EndpointUrl, IsActive FROM RemoteProxy"),
                        build=_remote_sites, doc="Remote site settings: name, URL, active.")
    scheduled_jobs = Fact(
        Query("SELECT CronJobDetail.Name, CronJobDetail.JobType, State, NextFireTime, PreviousFireTime "
              "FROM CronTrigger"),
        build=_scheduled_jobs, doc="Scheduled (cron) jobs: name, type, state, next and previous fire time.")
    async_jobs = Fact(
        Query("SELECT Id, JobType, Status, ApexClass.Name, NumberOfErrors, ExtendedStatus, CreatedDate, "
              "CompletedDate FROM AsyncApexJob ORDER BY CreatedDate DESC LIMIT 2000"),
        build=_async_jobs, doc="The latest 2000 asynchronous Apex jobs, newest first.")
    event_subscribers = Fact(Query("SELECT Name, Topic, Type, Status FROM EventBusSubscriber"),
                             build=_event_subscribers, doc="Platform-event and change-data-capture subscribers.")
    permission_sets = Fact(
        _PERMISSION_SETS, build=_permission_sets,
        doc="Permission sets and profiles: system permissions, object and field access; sets before profiles.")
    assignments = Fact(_PERMISSION_SETS, build=_assignments,
                       doc="Who holds which permission set (profiles left out), by permission set and user.")

    def __init__(self, client: OrgClient, answers: Answers | None = None) -> None:
        self.client = client
        self.answers = answers if answers is not None else Answers(client)
        self._lock = threading.RLock()
        self._values: dict[str, Any] = {}

    @staticmethod
    def requests_of(names: Iterable[str]) -> list[Request]:
        """The requests the named facts are read from (each once)."""
        return list(dict.fromkeys(r for name in names for r in FACTS[name].requests))

    def prefetch(self, *names: str) -> Facts:
        """Gather the named facts (all when none are named) in as few API calls as possible.

        Every named fact is attempted; the first that failed is raised at the end."""
        wanted = names or FACT_NAMES
        unknown = [n for n in wanted if n not in FACTS]
        if unknown:
            raise AttributeError(f"unknown fact {unknown[0]!r}; facts: {', '.join(FACT_NAMES)}")
        self.answers.gather(self.requests_of(wanted))
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

    def _value(self, name: str) -> Any:
        """The fact, built once; a failure (the org's error, or an answer the fact cannot be
        built from) is remembered and raised again to every reader."""
        with self._lock:
            if name not in self._values:
                fact = FACTS[name]
                try:
                    self._values[name] = fact.build(*(self.answers.result(r) for r in fact.requests))
                except SalesforceError as exc:
                    self._values[name] = exc
                except Exception as exc:  # noqa: BLE001 - an org's odd answer must cost this fact only
                    reason = str(exc) if isinstance(exc, UnexpectedAnswer) else f"{type(exc).__name__}: {exc}"
                    self._values[name] = FactError(self.client.name, name,
                                                   f"unexpected answer: {one_line(reason)[:200]}")
            value = self._values[name]
        if isinstance(value, SalesforceError):
            raise self.client.handed_out(value.again())
        return value


FACTS: dict[str, Fact[Any]] = {name: value for name, value in vars(Facts).items() if isinstance(value, Fact)}
FACT_NAMES = tuple(FACTS)
