"""An ISV's subscriber fleet, read from the package's owner org (kind ``packaging``).

The packaging org (or Dev Hub) reports every installation of its packages
(``PackageSubscriber``), the versions it uploaded (``MetadataPackageVersion``) and its push
upgrades (``PackagePushRequest`` -> ``PackagePushJob`` -> ``PackagePushError``). The
``fleet:`` expectation of that org says which package, the target version, which subscribers
count and the lag budget; :func:`fleet_requests` plans the five queries the fleet checks
share (sent in one composite call, the subscriber list paged 2,000 rows at a time), and
:func:`read_fleet` turns their answers into a :class:`Fleet`, in one pass over the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lockstep.facts.calls import Query
from lockstep.helpers.versions import Version, parse_version
from lockstep.salesforce.soql import format_soql

__all__ = ["DEFAULT_STATUSES", "KIND", "OPEN_STATUSES", "Fleet", "FleetSpec", "PushJob", "Subscriber", "fleet_requests",
           "read_fleet"]

KIND = "packaging"
DEFAULT_STATUSES = ("Active", "Demo", "Free", "Trial")  # Inactive orgs cannot receive push upgrades
DEFAULT_GRACE_MINUTES = 120.0
UNKNOWN = "unknown version"
OPEN_STATUSES = ("Created", "Pending", "In Progress")
VERSIONS, SUBSCRIBERS, REQUESTS, JOB_COUNTS, OPEN_JOBS = (
    "fleet versions", "fleet subscribers", "fleet push requests", "fleet push job counts", "fleet open push jobs")


@dataclass(frozen=True)
class FleetSpec:
    """The ``fleet:`` expectation of a packaging org (validated when the profile loads)."""

    package: str
    target: Version
    policy: Mapping[str, Any]
    org_types: frozenset[str] | None = None
    statuses: frozenset[str] = frozenset(DEFAULT_STATUSES)
    instances: frozenset[str] | None = None
    only: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    push_grace: dt.timedelta = dt.timedelta(minutes=DEFAULT_GRACE_MINUTES)

    @classmethod
    def of(cls, kind: str, expect: Mapping[str, Any]) -> FleetSpec | None:
        """The org's fleet, or ``None`` when the org is not a packaging org with a ``fleet:``."""
        spec = expect.get("fleet")
        if kind != KIND or not spec:
            return None

        def names(key: str) -> frozenset[str] | None:
            value = spec.get(key)
            if value is None:
                return None
            texts = [str(v).strip() for v in value]  # org keys match in their 15- or 18-character form
            return frozenset(texts) | {t[:15] for t in texts if len(t) == 18 and t.startswith("00D")}

        return cls(
            package=str(spec["package"]), target=parse_version(spec["target"]),
            policy={k: spec.get(k) for k in ("max_lagging_percent", "max_lagging")},
            org_types=names("org_types"), statuses=names("statuses") or frozenset(DEFAULT_STATUSES),
            instances=names("instances"), only=names("only"), exclude=names("exclude") or frozenset(),
            push_grace=dt.timedelta(minutes=float(spec.get("push_grace_minutes", DEFAULT_GRACE_MINUTES))),
        )

    def listed(self, names: frozenset[str], subscriber: Subscriber) -> bool:
        return bool(names & {subscriber.org_key, subscriber.org_key[:15], subscriber.org_name})

    def counts(self, subscriber: Subscriber, *, any_status: bool = False) -> bool:
        """Whether the subscriber belongs to the fleet this expectation verifies."""
        return ((self.org_types is None or subscriber.org_type in self.org_types)
                and (any_status or subscriber.status in self.statuses)
                and (self.instances is None or subscriber.instance in self.instances)
                and (self.only is None or self.listed(self.only, subscriber))
                and not self.listed(self.exclude, subscriber))


@dataclass(frozen=True)
class Subscriber:
    org_key: str
    org_name: str
    org_type: str
    status: str
    instance: str
    version: str
    blocked: bool

    @property
    def label(self) -> str:
        return f"{self.org_name} ({self.org_key})"


@dataclass(frozen=True)
class PushJob:
    org_key: str
    status: str
    started: dt.datetime | None
    errors: tuple[tuple[str, str], ...]  # (ErrorType, ErrorTitle)


@dataclass
class Fleet:
    """Every installation of the package the packaging org reports, and the release's push."""

    spec: FleetSpec
    subscribers: list[Subscriber]
    version_ids: dict[str, str]  # version text -> MetadataPackageVersion Id
    push_request: Mapping[str, Any] | None = None
    push_scheduled: dt.datetime | None = None
    job_counts: dict[str, int] = field(default_factory=dict)
    open_jobs: list[PushJob] = field(default_factory=list)

    @property
    def counted(self) -> list[Subscriber]:
        return [s for s in self.subscribers if self.spec.counts(s)]

    def lags(self, subscriber: Subscriber) -> bool:
        return subscriber.version == UNKNOWN or parse_version(subscriber.version) < self.spec.target

    def by_key(self) -> dict[str, Subscriber]:
        """Subscribers by 15-character org key (the case-sensitive id both forms share)."""
        return {s.org_key[:15]: s for s in self.subscribers}


def fleet_requests(config: Any) -> dict[str, Query] | None:
    """The planner of the fleet checks: five queries to the packaging org, for its fleet's package."""
    spec = FleetSpec.of(config.kind, config.expect)
    if spec is None:
        return None
    package = spec.package
    return {
        VERSIONS: Query(format_soql(
            "SELECT Id, MajorVersion, MinorVersion, PatchVersion, BuildNumber, "
            "ReleaseState FROM MetadataPackageVersion "
            "WHERE MetadataPackage.NamespacePrefix = {}", package)),
        SUBSCRIBERS: Query(format_soql(
            "SELECT OrgKey, OrgName, OrgType, OrgStatus, InstanceName, MetadataPackageVersionId, "
            "HasRestrictionEnabled, "
            "CustomUpgradeType FROM PackageSubscriber WHERE MetadataPackage.NamespacePrefix = {} "
            "AND InstalledStatus = 'i'", package)),
        REQUESTS: Query(format_soql(
            "SELECT Id, PackageVersionId, Status, ScheduledStartTime FROM PackagePushRequest "
            "WHERE PackageVersion.MetadataPackage.NamespacePrefix = {}", package)),
        JOB_COUNTS: Query(format_soql(
            "SELECT PackagePushRequestId, Status, COUNT(Id) jobs FROM PackagePushJob "
            "WHERE PackagePushRequest.PackageVersion.MetadataPackage.NamespacePrefix = {} "
            "GROUP BY PackagePushRequestId, Status", package)),
        OPEN_JOBS: Query(format_soql(
            "SELECT Id, PackagePushRequestId, SubscriberOrganizationKey, Status, StartTime, "
            "(SELECT ErrorType, ErrorTitle FROM PackagePushErrors) FROM PackagePushJob "
            "WHERE Status != 'Succeeded' "
            "AND PackagePushRequest.PackageVersion.MetadataPackage.NamespacePrefix = {}", package)),
    }


def _moment(value: Any) -> dt.datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _version_text(row: Mapping[str, Any]) -> str:
    return ".".join(str(int(row.get(part) or 0)) for part in ("MajorVersion", "MinorVersion", "PatchVersion",
                                                              "BuildNumber"))


def read_fleet(spec: FleetSpec, answer: Callable[[str], Any]) -> Fleet:
    """The fleet from the answers to :func:`fleet_requests` (``answer(name)`` -> rows; raises the
    org's error for a failed request)."""
    versions = {str(row["Id"])[:15]: _version_text(row) for row in answer(VERSIONS)}
    subscribers = [
        Subscriber(str(row.get("OrgKey") or ""), str(row.get("OrgName") or ""), str(row.get("OrgType") or ""),
                   str(row.get("OrgStatus") or ""), str(row.get("InstanceName") or ""),
                   versions.get(str(row.get("MetadataPackageVersionId") or "")[:15], UNKNOWN),
                   bool(row.get("HasRestrictionEnabled")) or row.get("CustomUpgradeType") == "BlockedBySubscriber")
        for row in answer(SUBSCRIBERS)
    ]
    version_ids = {text: vid for vid, text in versions.items()}
    fleet = Fleet(spec, subscribers, version_ids)
    target_id = version_ids.get(str(spec.target))
    requests = [row for row in answer(REQUESTS)
                if target_id and str(row.get("PackageVersionId") or "")[:15] == target_id]
    if not requests:
        return fleet
    request = max(requests, key=lambda row: (str(row.get("ScheduledStartTime") or ""), str(row.get("Id"))))
    fleet.push_request, fleet.push_scheduled = request, _moment(request.get("ScheduledStartTime"))
    request_id = str(request.get("Id"))
    for row in answer(JOB_COUNTS):
        if str(row.get("PackagePushRequestId")) == request_id:
            status = str(row.get("Status"))
            fleet.job_counts[status] = fleet.job_counts.get(status, 0) + int(row.get("jobs") or 0)
    for row in answer(OPEN_JOBS):
        if str(row.get("PackagePushRequestId")) != request_id:
            continue
        errors = ((row.get("PackagePushErrors") or {}).get("records")) or []
        fleet.open_jobs.append(PushJob(
            str(row.get("SubscriberOrganizationKey") or ""), str(row.get("Status")), _moment(row.get("StartTime")),
            tuple((str(e.get("ErrorType") or "UnclassifiedError"), str(e.get("ErrorTitle") or "")) for e in errors)))
    return fleet
