"""``lockstep snapshot``: an emulator state file copied from one org, read-only.

    lockstep snapshot --org-profile P --org NAME -o states/NAME.yaml [--records Account,Case] [--limit 50] [--force]

Reads the org with the catalog's fact queries (packages, flows, Apex triggers, validation
rules, permission sets and their assignments, integrations, jobs, limits), the requests the
catalog's checks plan from the org's expectations (the records ``business_data`` counts, the
Apex REST ``apex_health`` answers), the subscriber fleet of a package's owner org
(:mod:`lockstep.commands.snapshot_fleet`) and up to ``--limit`` recent records of each ``--records``
object, and writes them as a state file the emulator serves (``lockstep emulator serve``, or
a profile's ``emulator:``): a team develops and tests its checks offline against a copy of
its own org. Every request goes through the client's write guard, which refuses writes: the
command never writes to the org. Secrets and personal data are left out
(:mod:`lockstep.commands.snapshot_privacy`). Times are copied as they were (absolute).

Exit status: 0 written, 1 the org could not be read, 2 a usage mistake (profile, org name,
object, existing output without ``--force``, a file that cannot be written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from lockstep.commands.single_org import find_org, opened
from lockstep.commands.snapshot_fleet import fleet_state
from lockstep.commands.snapshot_privacy import Pseudonyms, kept_field, named_usernames, safe_url
from lockstep.config.errors import ConfigError
from lockstep.emulator.schema.registry import SCHEMA
from lockstep.emulator.state.load import load_states
from lockstep.facts.calls import Get, Query
from lockstep.facts.fetch import FACT_NAMES
from lockstep.salesforce.errors import OrgTrouble, SalesforceError
from lockstep.salesforce.soql import format_soql

if TYPE_CHECKING:
    from lockstep.config.profile import OrgConfig
    from lockstep.session.orgs import Org

__all__ = ["snapshot_main", "snapshot_state"]

_MAX_BUSINESS_ROWS = 2000  # records copied per business_data expectation (its count up to this)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: a 10,000-subscriber fleet in 1 s, not 10


class UsageError(Exception):
    """A mistake in the command line or its files; one line."""


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _kind(org: Org) -> str:
    organization = org.facts.organization
    if "developer" in str(organization.organization_type or "").lower():
        return "developer"
    return "sandbox" if organization.is_sandbox else "production"


def _limits(org: Org, calls_before: int) -> dict[str, Any]:
    """The org's limits; daily API requests as they were before the snapshot's own calls."""
    limits = {name: {"Max": value["Max"], "Remaining": value["Remaining"]}
              for name, value in sorted(org.facts.limits.items())
              if isinstance(value, Mapping) and all(isinstance(value.get(k), int) for k in ("Max", "Remaining"))}
    usage = org.facts.api_usage
    limits["DailyApiRequests"] = {"Max": usage["Max"],
                                  "Remaining": min(usage["Max"], usage["Remaining"] + calls_before)}
    return limits


def _permissions(org: Org, pseudonym: Pseudonyms) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    holders: dict[str, list[str]] = {}
    for assignment in org.facts.assignments:
        holders.setdefault(assignment.permission_set, []).append(pseudonym(assignment.username))
    entries = []
    for ps in org.facts.permission_sets:
        entry: dict[str, Any] = {"profile": ps.name} if ps.is_profile else {"name": ps.name, "label": ps.label}
        system = {k: v for k, v in sorted(ps.system.items()) if v or ps.is_profile}
        if system:
            entry["system"] = system
        order = ("read", "create", "edit", "delete", "view_all", "modify_all")
        if ps.objects:
            entry["objects"] = {o: [r for r in order if r in rights] for o, rights in sorted(ps.objects.items())}
        if ps.fields:
            entry["fields"] = {f: [r for r in ("read", "edit") if r in rights] for f,
                               rights in sorted(ps.fields.items())}
        if not ps.is_profile and holders.get(ps.name):
            entry["assigned_to"] = sorted(set(holders[ps.name]))
        entries.append(entry)
    return entries, holders


def _users(org: Org, usernames: Sequence[str], pseudonym: Pseudonyms) -> list[dict[str, Any]]:
    """The assigned users with their profile, under their placeholder names."""
    profiles: dict[str, str] = {}
    for start in range(0, len(usernames), 100):
        chunk = list(usernames[start:start + 100])
        for row in org.answers.result(Query(format_soql("SELECT Username, Profile.Name FROM User WHERE Username IN {}",
                                                        chunk))):
            profiles[str(row.get("Username")).lower()] = str((row.get("Profile") or {}).get("Name") or "Standard User")
    users = []
    for index, username in enumerate(sorted(set(usernames), key=str.lower), start=1):
        users.append({"Username": pseudonym(username), "LastName": f"User {index}",
                      "Profile": profiles.get(username.lower(), "Standard User")})
    return users


def _setup(org: Org) -> dict[str, Any]:
    facts = org.facts
    state: dict[str, Any] = {
        "packages": [{"namespace": p.namespace, "name": p.name, "version": p.version, "managed": p.managed,
                      "beta": p.beta} for p in facts.packages],
        "package_installs": [{"id": i.id, "status": i.status, "created": _when(i.created)}
                             for i in facts.package_installs],
        "deployments": [{"id": d.id, "status": d.status, "check_only": d.check_only, "created": _when(d.created)}
                        for d in facts.deployments],
        "flows": [{"api_name": f.api_name, "label": f.label, "process_type": f.process_type,
                   "trigger_type": f.trigger_type, "versions": f.latest_version or f.active_version or 1,
                   "active_version": f.active_version} for f in facts.flows],
        "apex_triggers": [{"name": t.name, "object": t.object, "status": t.status} for t in facts.apex_triggers
                          if t.object],
        "validation_rules": [{"name": r.name, "object": r.object, "active": r.active} for r in facts.validation_rules
                             if r.object],
        "named_credentials": [{"name": c.name, "label": c.label, "endpoint": safe_url(c.endpoint) or "https://invalid"}
                              for c in facts.named_credentials],
        "remote_sites": [{"name": s.name, "url": safe_url(s.url) or "https://invalid", "active": s.active}
                         for s in facts.remote_sites],
        "scheduled_jobs": [{"name": j.name, "job_type": j.job_type, "state": j.state, "next_fire": _when(j.next_fire),
                            "previous_fire": _when(j.previous_fire)} for j in facts.scheduled_jobs if j.name],
        "async_jobs": [{"id": j.id, "job_type": j.job_type, "status": j.status, "class": j.class_name,
                        "errors": j.errors, "extended_status": j.extended_status, "created": _when(j.created),
                        "completed": _when(j.completed)} for j in facts.async_jobs],
        "event_subscribers": [{"name": e.name, "topic": e.topic, "type": e.type, "status": e.status}
                              for e in facts.event_subscribers],
    }
    return {key: value for key, value in state.items() if value}


def _business_queries(expect: Mapping[str, Any]) -> dict[str, tuple[str, Query]]:
    """Per ``business_data`` expectation: its object and the records its count query counts."""
    queries = {}
    for name, spec in sorted((expect.get("business_data") or {}).items()):
        if not isinstance(spec, Mapping) or not isinstance(spec.get("object"), str):
            continue
        where = dict(sorted((spec.get("where") or {}).items()))
        conditions = [format_soql(f"{field} = {{}}", value) for field, value in where.items()]
        if isinstance(spec.get("within_days"), int):
            conditions.append(f"CreatedDate = LAST_N_DAYS:{spec['within_days']}")
        fields = ", ".join(dict.fromkeys(["Id", "CreatedDate", *where]))
        clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        queries[name] = (spec["object"], Query(f"SELECT {fields} FROM {spec['object']}{clause} "
                                               f"LIMIT {_MAX_BUSINESS_ROWS}"))
    return queries


def _apex_rest(org: Org, expect: Mapping[str, Any]) -> list[dict[str, Any]]:
    served = []
    for _, spec in sorted((expect.get("apex_health") or {}).items()):
        path = str((spec or {}).get("path", "")).strip("/")
        try:
            body = org.answers.result(Get(f"/services/apexrest/{path}"))
        except OrgTrouble:
            raise
        except SalesforceError as exc:  # the service answered with an error: serve the same status
            served.append({"path": path, "status": exc.status or 500,
                           "body": [{"errorCode": exc.code or "APEX_ERROR", "message": exc.message}]})
            continue
        served.append({"path": path, "status": 200, "body": body})
    return served


def _records(org: Org, objects: Sequence[str], limit: int, expect: Mapping[str, Any]) -> dict[str,
                                                                                              list[dict[str, Any]]]:
    copied: dict[str, dict[str, dict[str, Any]]] = {}
    for obj, query in _business_queries(expect).values():
        for row in org.answers.result(query):
            copied.setdefault(obj, {})[str(row["Id"])] = {k: v for k, v in row.items() if k != "attributes"}
    for obj in objects:
        described = org.answers.result(Get(f"sobjects/{obj}/describe"))
        spec = SCHEMA.get(obj)
        fields = [f["name"] for f in described.get("fields", [])
                  if kept_field(obj, f["name"], str(f.get("type"))) and not f.get("calculated")
                  and (f["name"].endswith("__c") or (spec is not None and spec.find_field(f["name"]) is not None))]
        fields = list(dict.fromkeys(["Id", *fields]))
        order = " ORDER BY CreatedDate DESC" if spec is None or spec.find_field("CreatedDate") else ""
        for row in org.answers.result(Query(f"SELECT {', '.join(fields)} FROM {obj}{order} LIMIT {limit}")):
            kept = {k: v for k, v in row.items()
                    if k not in ("attributes", "SystemModstamp", "IsDeleted")
                    and v is not None and not isinstance(v, Mapping)}
            copied.setdefault(obj, {}).setdefault(str(row["Id"]), {}).update(kept)
    return {obj: list(rows.values()) for obj, rows in sorted(copied.items())}


def snapshot_state(org: Org, config: OrgConfig, records: Sequence[str] = (), limit: int = 50) -> dict[str, Any]:
    """The emulator state of ``org`` as it is now (see the module's docstring)."""
    org.facts.prefetch(*FACT_NAMES)
    calls_before = org.api_calls
    organization = org.facts.organization
    assignments = org.facts.assignments
    pseudonym = Pseudonyms((a.username for a in assignments), named_usernames(config.expect))
    permission_sets, _ = _permissions(org, pseudonym)
    state: dict[str, Any] = {
        "org": {"name": config.name, "org_id": organization.id, "display_name": organization.name, "kind": _kind(org),
                "organization_type": organization.organization_type, "instance_name": organization.instance_name,
                "api_versions": {"min": "31.0", "max": org.facts.api_version}},
        "username": "admin@snapshot.invalid",
        "limits": _limits(org, calls_before),
        "users": _users(org, [a.username for a in assignments], pseudonym),
        "permission_sets": permission_sets,
        **_setup(org),
    }
    rest = _apex_rest(org, config.expect)
    if rest:
        state["apex_rest"] = rest
    copied = _records(org, records, limit, config.expect)
    if copied:
        state["records"] = copied
    packaging = fleet_state(org)
    if packaging:
        state["packaging"] = packaging
    return {key: value for key, value in state.items() if value not in ([], {}, None)}


def _write(target: Path, state: dict[str, Any], header: str) -> None:
    """Write atomically; the file must load as an emulator state before it replaces anything."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        text = yaml.dump(state, Dumper=_DUMPER, sort_keys=False, default_flow_style=None, width=120)
        partial.write_text(header + text, encoding="utf-8")
        try:
            load_states(partial)
        except ConfigError as exc:
            raise UsageError(f"the copy does not load as an emulator state: {exc}") from None
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _objects(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    records = sorted(name for name, obj in SCHEMA.items() if "OwnerId" in obj.fields and name != "CronTrigger")
    for name in names:
        if name not in records and not name.endswith("__c"):
            raise UsageError(f"--records: cannot copy records of {name!r}; objects: {', '.join(records)} "
                             "and custom objects (Name__c); users and setup are copied without --records")
    return list(dict.fromkeys(names))


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 2000:
        raise argparse.ArgumentTypeError(f"expected a number of records from 1 to 2000, got {text!r}")
    return int(text)


def snapshot_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="lockstep snapshot", description="copy an org into an emulator state file")
    parser.add_argument("--org-profile", required=True, help="profile name (profiles/NAME.yaml) or path")
    parser.add_argument("--org", required=True, help="the org's name in the profile")
    parser.add_argument("-o", "--output", required=True, help="state file to write, e.g. states/NAME.yaml")
    parser.add_argument("--records", default="", help="objects to copy sample records of, e.g. Account,Case")
    parser.add_argument("--limit", type=_limit, default=50, help="records per object (newest first; default 50)")
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    args = parser.parse_args(argv)
    target = Path(args.output)
    try:
        objects = _objects(args.records)
        if target.exists() and not args.force:
            raise UsageError(f"{target} exists; pass --force to replace it")
        profile, config = find_org(args.org_profile, args.org, Path.cwd())
    except (UsageError, ConfigError) as exc:
        sys.stderr.write(f"lockstep snapshot: {exc}\n")
        return 2
    try:
        with opened(profile, config) as org:
            state = snapshot_state(org, config, objects, args.limit)
            calls = org.api_calls
    except (SalesforceError, LookupError) as exc:
        sys.stderr.write(f"lockstep snapshot: {config.name}: {' '.join(str(exc).split())}\n")
        return 1
    taken = _when(dt.datetime.now(dt.UTC).replace(microsecond=0))
    header = (f"# Copy of org {config.name!r} (profile {profile.name!r}) taken {taken} by `lockstep snapshot`.\n"
              "# No credentials; usernames replaced, personal fields left out (docs/connecting-orgs.md).\n")
    try:
        _write(target, state, header)
    except (UsageError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        sys.stderr.write(f"lockstep snapshot: {target}: {reason}\n")
        return 2
    counts = ", ".join(f"{len(rows)} {obj}" for obj, rows in state.get("records", {}).items()) or "no records"
    sys.stdout.write(f"wrote {target}: org {config.name} ({calls} API calls, {counts})\n")
    return 0
