"""The subscriber fleet of a package's owner org, copied by ``lockstep snapshot``.

An org that answers ``PackageSubscriber`` queries (a packaging org or Dev Hub, whatever its
``kind``) reports its packages, their versions, every installation and every push upgrade.
:func:`fleet_state` reads them with five read-only queries sent together through the org's
answers (one composite call, each list paged 2,000 rows at a time, as the fleet checks read
it) and returns the state file's ``packaging:`` section as explicit rows, which the emulator
loads (``lockstep.emulator.state.fleet``) to serve the same packages, versions, subscribers (org
keys, names, types, statuses, instances, blocks), push requests, jobs and errors.

Kept: subscriber org names (customer companies, like an Account's Name), org keys and
instances. Dropped: a push error's message and details, free text that can quote the
subscriber's data (its type, severity and title are kept).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lockstep.facts.calls import Query
from lockstep.salesforce.errors import OrgTrouble, SalesforceError

if TYPE_CHECKING:
    from lockstep.session.orgs import Org

__all__ = ["fleet_state"]

PACKAGES = Query("SELECT Id, Name, NamespacePrefix FROM MetadataPackage")
VERSIONS = Query("SELECT Id, MetadataPackageId, MajorVersion, MinorVersion, PatchVersion, BuildNumber "
                 "FROM MetadataPackageVersion")
SUBSCRIBERS = Query("SELECT OrgKey, OrgName, OrgType, OrgStatus, InstanceName, ParentOrg, InstalledStatus, "
                    "MetadataPackageId, MetadataPackageVersionId, HasRestrictionEnabled, CustomUpgradeType "
                    "FROM PackageSubscriber")
REQUESTS = Query("SELECT Id, PackageVersionId, Status, ScheduledStartTime FROM PackagePushRequest")
JOBS = Query("SELECT Id, PackagePushRequestId, SubscriberOrganizationKey, Status, StartTime, EndTime, "
             "(SELECT ErrorType, ErrorSeverity, ErrorTitle FROM PackagePushErrors) FROM PackagePushJob")
_QUERIES = (SUBSCRIBERS, PACKAGES, VERSIONS, REQUESTS, JOBS)


def _key(value: Any) -> str:
    """A Salesforce id in its 15-character, case-sensitive form."""
    return str(value or "")[:15]


def _when(value: Any) -> str | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None  # not a time: the emulator fills in the push's own
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _version(row: Mapping[str, Any]) -> str:
    return ".".join(str(int(row.get(p) or 0)) for p in ("MajorVersion", "MinorVersion", "PatchVersion", "BuildNumber"))


def _subscriber(row: Mapping[str, Any], namespace: str, version: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "package": namespace, "org_key": str(row["OrgKey"]), "org_name": str(row.get("OrgName") or row["OrgKey"]),
        "version": version, "org_type": row.get("OrgType") or "Production", "status": row.get("OrgStatus") or "Active",
        "instance": row.get("InstanceName") or "NA1",
    }
    if row.get("HasRestrictionEnabled") or row.get("CustomUpgradeType") == "BlockedBySubscriber":
        entry["blocked"] = True
    if row.get("ParentOrg"):
        entry["parent_org"] = str(row["ParentOrg"])
    if row.get("InstalledStatus") == "u":
        entry["installed"] = "u"
    return entry


def _error(row: Mapping[str, Any]) -> dict[str, Any]:
    error = {"type": row.get("ErrorType") or "UnclassifiedError", "severity": row.get("ErrorSeverity") or "Error"}
    if row.get("ErrorTitle"):
        error["title"] = str(row["ErrorTitle"])
    return error


def _job(row: Mapping[str, Any], org_key: str) -> dict[str, Any]:
    job: dict[str, Any] = {"org": org_key, "status": row.get("Status") or "Succeeded"}
    errors = [_error(e) for e in (row.get("PackagePushErrors") or {}).get("records") or []]
    for field, key in (("StartTime", "started"), ("EndTime", "ended")):
        if row.get(field):
            job[key] = _when(row[field])
    if errors:
        job["errors"] = errors
    return job


def _packages(org: Org) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """The ``packages:`` entries, and each version's (namespace, version text) by version id."""
    packages = {_key(p["Id"]): p for p in org.answers.result(PACKAGES) if p.get("NamespacePrefix")}
    versions: dict[str, tuple[str, str]] = {}
    for row in org.answers.result(VERSIONS):
        package = packages.get(_key(row.get("MetadataPackageId")))
        if package is not None:
            versions[_key(row["Id"])] = (str(package["NamespacePrefix"]), _version(row))
    uploaded: dict[str, list[str]] = defaultdict(list)
    for namespace, text in sorted(versions.values(), key=lambda v: (v[0], [int(p) for p in v[1].split(".")])):
        uploaded[namespace].append(text)
    entries = [{"namespace": str(p["NamespacePrefix"]), "name": str(p.get("Name") or p["NamespacePrefix"]),
                "versions": uploaded.get(str(p["NamespacePrefix"]), [])}
               for p in sorted(packages.values(), key=lambda p: str(p["NamespacePrefix"]))]
    return entries, versions


def _pushes(org: Org, versions: Mapping[str, tuple[str, str]],
            subscribers: Mapping[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``push_requests:`` entries, in the order the org reports them, each with all its jobs."""
    jobs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in org.answers.result(JOBS):
        jobs[_key(row.get("PackagePushRequestId"))].append(row)
    pushes = []
    for row in org.answers.result(REQUESTS):
        owner = versions.get(_key(row.get("PackageVersionId")))
        if owner is None:
            continue
        namespace, version = owner
        planted = []
        for job in sorted(jobs.get(_key(row["Id"]), []), key=lambda j: str(j.get("SubscriberOrganizationKey"))):
            subscriber = subscribers.get((namespace, _key(job.get("SubscriberOrganizationKey"))))
            if subscriber is not None:  # a job of an org no longer reported cannot be served
                planted.append(_job(job, subscriber["org_key"]))
        push: dict[str, Any] = {"package": namespace, "version": version, "status": row.get("Status") or "Succeeded",
                                "scheduled": _when(row.get("ScheduledStartTime"))}
        if planted:
            push["jobs"] = planted
        pushes.append(push)
    return pushes


def fleet_state(org: Org) -> dict[str, Any] | None:
    """The ``packaging:`` section copied from ``org``, or ``None`` when it reports no fleet."""
    org.answers.gather(_QUERIES)
    try:
        reported = org.answers.result(SUBSCRIBERS)
    except OrgTrouble:
        raise
    except SalesforceError:  # not a package's owner org: it does not serve PackageSubscriber
        return None
    packages, versions = _packages(org)
    if not packages:
        return None
    subscribers: dict[tuple[str, str], dict[str, Any]] = {}
    for row in reported:
        owner = versions.get(_key(row.get("MetadataPackageVersionId")))
        if owner is not None and row.get("OrgKey"):  # else a version this org did not upload
            subscribers[(owner[0], _key(row["OrgKey"]))] = _subscriber(row, *owner)
    section = {"packages": packages, "subscribers": list(subscribers.values()),
               "push_requests": _pushes(org, versions, subscribers)}
    return {key: value for key, value in section.items() if value}
