"""The ``packaging:`` section of a state file: a package owner org and its subscriber fleet.

A packaging org serves ``MetadataPackage``, ``MetadataPackageVersion``, ``PackageSubscriber``
and the push upgrade objects. A fleet of thousands is declared compactly: a generator gives
counts per version, org type, status and instance (each dimension must add up to the same
total; they are dealt out with a seeded shuffle, so the same seed gives the same fleet), and
explicit rows plant the subscribers a test is about::

    packaging:
      packages:
        - {namespace: acme_cpq, name: Acme CPQ, versions: ["2.4.0.1", "2.5.0.1"]}
      fleet:
        - package: acme_cpq
          seed: 7
          versions: {"2.5.0.1": 2900, "2.4.0.1": 100}
          org_types: {Production: 2000, Sandbox: 1000}        # optional (default: Production)
          statuses: {Active: 2950, Trial: 50}                 # optional (default: Active)
          instances: {NA211: 1800, EU44: 1200}                # optional (default: NA1)
      subscribers:                                             # explicit rows, besides the fleet
        - {package: acme_cpq, org_name: Initech, org_key: 00D..., version: "2.5.0.1", blocked: true}
      push_requests:
        - package: acme_cpq
          version: "2.5.0.1"
          status: In Progress
          scheduled: -PT6H
          jobs:                  # every other subscriber on `version` has a Succeeded job
            - {org: Initech, status: Failed, errors: [{type: ApexTestFailure, title: ..., message: ...}]}

Rows are built in one pass (no lookups per row), so 10,000 subscribers load in well under a
second.
"""

from __future__ import annotations

import random
from typing import Any

from lockstep.config.suggest import did_you_mean
from lockstep.emulator.schema.packaging import ERROR_SEVERITIES, ERROR_TYPES, ORG_STATUSES, ORG_TYPES, PUSH_STATUSES
from lockstep.emulator.schema.registry import make_id, to_18
from lockstep.emulator.state.table_builder import Builder
from lockstep.emulator.state.validation import check_keys, expect_list, expect_mapping

__all__ = ["add_packaging"]

MAX_FLEET = 200_000
_SECTION_KEYS = ("packages", "fleet", "subscribers", "push_requests")
_PACKAGE_KEYS = ("namespace", "name", "versions")
_FLEET_KEYS = ("package", "seed", "versions", "org_types", "statuses", "instances", "name_prefix")
_ROW_KEYS = ("package", "org_key", "org_name", "version", "org_type", "status", "instance", "blocked", "parent_org",
             "installed")
_REQUEST_KEYS = ("package", "version", "status", "scheduled", "jobs")
_JOB_KEYS = ("org", "status", "started", "ended", "errors")
_ERROR_KEYS = ("type", "severity", "title", "message", "details")
_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Hooli",
          "Vandelay", "Soylent", "Massive", "Dunder", "Prestige", "Gringotts", "Oscorp", "Nakatomi", "Aperture")
_SUFFIXES = ("Corp", "Labs", "Group", "Holdings", "Systems", "Partners", "Industries", "Retail", "Logistics")


class _Packages:
    """The packages of the org by namespace: package id and version ids by version text."""

    def __init__(self, b: Builder) -> None:
        self.b = b
        self.ids: dict[str, str] = {}
        self.versions: dict[str, dict[str, str]] = {}

    def declare(self, key: str, item: dict[str, Any]) -> None:
        check_keys(self.b.source, key, item, _PACKAGE_KEYS)
        namespace = item.get("namespace")
        if not isinstance(namespace, str) or not namespace:
            raise self.b.fail(f"{key}.namespace", "required: the package's namespace prefix")
        package_id = make_id("033", f"{self.b.definition.name}/package/{namespace}")
        self.ids[namespace] = package_id
        self.versions[namespace] = {}
        self.b.add("MetadataPackage", {"Id": package_id, "Name": str(item.get("name") or namespace),
                                       "NamespacePrefix": namespace, "PackageCategory": "Package"})
        for index, text in enumerate(expect_list(self.b.source, f"{key}.versions", item.get("versions"))):
            self.version(f"{key}.versions[{index}]", namespace, text, str(item.get("name") or namespace))

    def version(self, key: str, namespace: str, text: Any, name: str = "") -> str:
        version = str(text)
        parts = version.split(".")
        if len(parts) != 4 or not all(part.isdigit() for part in parts):
            raise self.b.fail(key, f"expected a version M.m.p.b like 2.5.0.1, got {text!r}")
        known = self.versions[namespace]
        if version not in known:
            major, minor, patch, build = (int(part) for part in parts)
            known[version] = make_id("04t", f"{self.b.definition.name}/package/{namespace}/{version}")
            self.b.add("MetadataPackageVersion", {
                "Id": known[version], "Name": f"{name or namespace} {major}.{minor}",
                "MetadataPackageId": self.ids[namespace], "MajorVersion": major, "MinorVersion": minor,
                "PatchVersion": patch, "BuildNumber": build, "ReleaseState": "Released", "IsDeprecated": False,
            })
        return known[version]

    def namespace(self, key: str, value: Any) -> str:
        if value not in self.ids:
            known = ", ".join(sorted(self.ids)) or "none"
            raise self.b.fail(key, f"unknown package {value!r}{did_you_mean(str(value), self.ids)}; "
                                   f"packaging.packages declares: {known}")
        return str(value)


def _counts(b: Builder, key: str, value: Any, choices: tuple[str, ...] | None,
            total: int | None) -> list[tuple[str, int]]:
    counts = expect_mapping(b.source, key, value)
    out = []
    for name, count in counts.items():
        if choices is not None and name not in choices:
            raise b.fail(f"{key}.{name}", f"expected one of {', '.join(choices)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise b.fail(f"{key}.{name}", f"expected a count (an integer of at least 0), got {count!r}")
        out.append((str(name), count))
    if total is not None and out and sum(c for _, c in out) != total:
        raise b.fail(key, f"the counts add up to {sum(c for _, c in out)}, but the fleet's versions to {total}")
    return out


def _dealt(rng: random.Random, counts: list[tuple[str, int]], total: int, default: str) -> list[str]:
    if not counts:
        return [default] * total
    values = [name for name, count in counts for _ in range(count)]
    rng.shuffle(values)
    return values


def _subscriber(b: Builder, packages: _Packages, namespace: str, version_id: str, org_key: str, name: str,
                org_type: str, status: str, instance: str, blocked: bool = False, parent: str | None = None,
                installed: str = "i") -> dict[str, Any]:
    return {
        "Id": make_id("0Hb", f"{b.definition.name}/subscriber/{namespace}/{org_key}"), "OrgKey": org_key,
        "OrgName": name, "OrgType": org_type, "OrgStatus": status, "InstanceName": instance, "ParentOrg": parent,
        "InstalledStatus": installed, "MetadataPackageId": packages.ids[namespace],
        "MetadataPackageVersionId": version_id,
        "HasRestrictionEnabled": blocked, "CustomUpgradeType": "BlockedBySubscriber" if blocked else "None",
        "CreatedDate": b.now, "LastModifiedDate": b.now, "SystemModstamp": b.now, "IsDeleted": False,
        "CreatedById": b.admin_id, "LastModifiedById": b.admin_id,
    }


def _fleet(b: Builder, packages: _Packages, key: str, spec: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    check_keys(b.source, key, spec, _FLEET_KEYS)
    namespace = packages.namespace(f"{key}.package", spec.get("package"))
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise b.fail(f"{key}.seed", f"expected an integer, got {seed!r}")
    versions = _counts(b, f"{key}.versions", spec.get("versions"), None, None)
    if not versions:
        raise b.fail(f"{key}.versions", "required: subscriber counts per version, like {\"2.5.0.1\": 2900}")
    total = sum(count for _, count in versions)
    if total > MAX_FLEET:
        raise b.fail(f"{key}.versions", f"at most {MAX_FLEET} subscribers per fleet, got {total}")
    rng = random.Random(seed)
    version_ids = [packages.version(f"{key}.versions.{text}", namespace, text) for text, _ in versions]
    by_version = [vid for vid, (_, count) in zip(version_ids, versions, strict=True) for _ in range(count)]
    rng.shuffle(by_version)
    types = _dealt(rng, _counts(b, f"{key}.org_types", spec.get("org_types"), ORG_TYPES, total), total, "Production")
    statuses = _dealt(rng, _counts(b, f"{key}.statuses", spec.get("statuses"), ORG_STATUSES, total), total, "Active")
    instances = _dealt(rng, _counts(b, f"{key}.instances", spec.get("instances"), None, total), total, "NA1")
    prefix = str(spec.get("name_prefix") or "")
    for index in range(total):
        org_key = to_18(make_id("00D", f"fleet/{namespace}/{seed}/{index}")[:15])
        name = f"{prefix}{rng.choice(_WORDS)} {rng.choice(_SUFFIXES)} {index:05d}"
        rows.append(_subscriber(b, packages, namespace, by_version[index], org_key, name, types[index],
                                statuses[index], instances[index]))


def _explicit(b: Builder, packages: _Packages, key: str, item: dict[str, Any]) -> dict[str, Any]:
    check_keys(b.source, key, item, _ROW_KEYS)
    namespace = packages.namespace(f"{key}.package", item.get("package"))
    name = item.get("org_name")
    if not isinstance(name, str) or not name.strip():
        raise b.fail(f"{key}.org_name", "required: the subscriber org's name")
    org_key = str(item.get("org_key") or make_id("00D", f"subscriber/{name}"))
    if len(org_key) not in (15, 18) or not org_key.startswith("00D") or not org_key.isalnum():
        raise b.fail(f"{key}.org_key", f"expected a 15 or 18 character org id starting with 00D, got {org_key!r}")
    for field, choices in (("org_type", ORG_TYPES), ("status", ORG_STATUSES), ("installed", ("i", "u"))):
        if item.get(field) is not None and item[field] not in choices:
            raise b.fail(f"{key}.{field}", f"expected one of {', '.join(choices)}, got {item[field]!r}")
    if "version" not in item:
        raise b.fail(f"{key}.version", "required: the version the subscriber runs")
    version_id = packages.version(f"{key}.version", namespace, item["version"])
    return _subscriber(b, packages, namespace, version_id, to_18(org_key[:15]), name.strip(),
                       str(item.get("org_type") or "Production"), str(item.get("status") or "Active"),
                       str(item.get("instance") or "NA1"), bool(item.get("blocked", False)), item.get("parent_org"),
                       str(item.get("installed") or "i"))


def _push_request(b: Builder, packages: _Packages, key: str, item: dict[str, Any], subscribers: list[dict[str, Any]],
                  by_name: dict[str, dict[str, Any]]) -> None:
    check_keys(b.source, key, item, _REQUEST_KEYS)
    namespace = packages.namespace(f"{key}.package", item.get("package"))
    version_id = packages.version(f"{key}.version", namespace, item.get("version"))
    status = str(item.get("status") or "Succeeded")
    if status not in PUSH_STATUSES:
        raise b.fail(f"{key}.status", f"expected one of {', '.join(PUSH_STATUSES)}, got {status!r}")
    scheduled = b.when(f"{key}.scheduled", item.get("scheduled")) or b.now
    seed = f"{namespace}/{item.get('version')}"
    if b.new_id("PackagePushRequest", seed) in {row["Id"] for row in b.tables.get("PackagePushRequest", ())}:
        seed = f"{seed}/{key}"  # another push to the same version (a retry): an id of its own
    request = b.add("PackagePushRequest", {"PackageVersionId": version_id, "Status": status,
                                           "ScheduledStartTime": scheduled}, seed=seed)
    planted: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(expect_list(b.source, f"{key}.jobs", item.get("jobs"))):
        where = f"{key}.jobs[{index}]"
        job = expect_mapping(b.source, where, raw)
        check_keys(b.source, where, job, _JOB_KEYS)
        subscriber = by_name.get(str(job.get("org")))
        if subscriber is None or subscriber["MetadataPackageId"] != packages.ids[namespace]:
            raise b.fail(f"{where}.org", f"no subscriber of {namespace} with that org key or name: {job.get('org')!r}")
        job_status = str(job.get("status") or "Succeeded")
        if job_status not in PUSH_STATUSES:
            raise b.fail(f"{where}.status", f"expected one of {', '.join(PUSH_STATUSES)}, got {job_status!r}")
        planted[subscriber["OrgKey"]] = {**job, "status": job_status, "_where": where}
    package_id = packages.ids[namespace]
    for subscriber in subscribers:
        org_key = subscriber["OrgKey"]
        found = planted.get(org_key)
        if found is None:
            if subscriber["MetadataPackageId"] != package_id or subscriber["MetadataPackageVersionId"] != version_id:
                continue
            found = {"status": "Succeeded"}
        _job(b, request, org_key, found, scheduled)


def _job(b: Builder, request: dict[str, Any], org_key: str, job: dict[str, Any], scheduled: Any) -> None:
    where = job.get("_where", "")
    status = job["status"]
    started = b.when(f"{where}.started", job.get("started"))
    if started is None and status not in ("Created", "Pending"):
        started = scheduled
    ended = b.when(f"{where}.ended", job.get("ended"))
    if ended is None and status in ("Succeeded", "Failed", "Canceled") and started is not None:
        ended = started
    row = b.add("PackagePushJob", {
        "PackagePushRequestId": request["Id"], "SubscriberOrganizationKey": org_key, "Status": status,
        "StartTime": started, "EndTime": ended,
        "DurationSeconds": int((ended - started).total_seconds()) if started and ended else None,
    }, seed=f"{request['Id']}/{org_key}")
    for index, raw in enumerate(expect_list(b.source, f"{where}.errors", job.get("errors"))):
        key = f"{where}.errors[{index}]"
        error = expect_mapping(b.source, key, raw)
        check_keys(b.source, key, error, _ERROR_KEYS)
        kind, severity = str(error.get("type") or "UnclassifiedError"), str(error.get("severity") or "Error")
        if kind not in ERROR_TYPES:
            raise b.fail(f"{key}.type", f"expected one of {', '.join(ERROR_TYPES)}, got {kind!r}")
        if severity not in ERROR_SEVERITIES:
            raise b.fail(f"{key}.severity", f"expected Error or Warning, got {severity!r}")
        b.add("PackagePushError", {
            "PackagePushJobId": row["Id"], "ErrorType": kind, "ErrorSeverity": severity,
            "ErrorTitle": error.get("title"), "ErrorMessage": error.get("message"),
            "ErrorDetails": error.get("details"),
        }, seed=f"{row['Id']}/{index}")


def add_packaging(b: Builder) -> None:
    """Fill the packaging tables from the state file's ``packaging:`` section (if any)."""
    section = expect_mapping(b.source, "packaging", b.definition.raw.get("packaging"))
    if not section:
        return
    check_keys(b.source, "packaging", section, _SECTION_KEYS)
    packages = _Packages(b)
    for index, raw in enumerate(expect_list(b.source, "packaging.packages", section.get("packages"))):
        key = f"packaging.packages[{index}]"
        packages.declare(key, expect_mapping(b.source, key, raw))
    subscribers: list[dict[str, Any]] = []
    for index, raw in enumerate(expect_list(b.source, "packaging.fleet", section.get("fleet"))):
        key = f"packaging.fleet[{index}]"
        _fleet(b, packages, key, expect_mapping(b.source, key, raw), subscribers)
    by_name: dict[str, dict[str, Any]] = {}
    for row in subscribers:
        by_name[row["OrgKey"]] = by_name[row["OrgName"]] = row
    for index, raw in enumerate(expect_list(b.source, "packaging.subscribers", section.get("subscribers"))):
        key = f"packaging.subscribers[{index}]"
        row = _explicit(b, packages, key, expect_mapping(b.source, key, raw))
        by_name[row["OrgName"]] = by_name[row["OrgKey"]] = by_name[row["OrgKey"][:15]] = row
        subscribers.append(row)
    b.tables.setdefault("PackageSubscriber", []).extend(subscribers)
    for index, raw in enumerate(expect_list(b.source, "packaging.push_requests", section.get("push_requests"))):
        key = f"packaging.push_requests[{index}]"
        _push_request(b, packages, key, expect_mapping(b.source, key, raw), subscribers, by_name)
