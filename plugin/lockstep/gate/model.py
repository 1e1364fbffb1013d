"""The gate file as one typed model: :class:`Gate` and its parts, written with
:meth:`Gate.to_json` and read with :meth:`Gate.from_json`, which checks every field and
raises :class:`GateFileError` (one line naming the field) for anything that is not a gate of
a schema this Lockstep reads. :meth:`Gate.contradictions` lists what in a "go" disagrees
with its other fields (a consistent "go" has none). The fields are described in docs/gate.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lockstep.gate.catalog import CatalogRecord
from lockstep.gate.fields import (
    Bad,
    member,
    read_count,
    read_each,
    read_flag,
    read_names,
    read_obj,
    read_one_of,
    read_status,
    read_text,
    type_name,
)

__all__ = [
    "COUNT_KEYS",
    "LISTS",
    "SCHEMA",
    "Counts",
    "Entry",
    "Gate",
    "GateFileError",
    "Landscape",
    "Narrowing",
    "OrgGate",
    "Profile",
    "ShardRecord",
    "Waiver",
    "WaiverUse",
    "parse_time",
]

SCHEMA = 1  # the version this Lockstep writes; it reads every version up to it
GO, NO_GO = "go", "no-go"
PHASES = ("readiness", "verification", "all")
LISTS = ("failed", "errors", "warnings", "waived", "skipped")
COUNT_KEYS = ("passed", "failed", "errors", "skipped", "xfailed", "xpassed", "warnings", "waived", "total", "executed")
WAIVER_STATUSES = ("used", "stale", "expired")


class GateFileError(Exception):
    """A gate file that cannot be read or is not a gate; the message is one line."""


def parse_time(value: str | None) -> dt.datetime | None:
    """A gate's ISO 8601 time (UTC when it names no zone), ``None`` for none or not a time."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Waiver:
    """A profile's waiver as the gate records it."""

    check: str
    orgs: str
    reason: str
    owner: str
    expires: str | None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "orgs": self.orgs, "reason": self.reason, "owner": self.owner,
                "expires": self.expires}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Waiver:
        data = read_obj(data, where)
        check, orgs, reason, owner = (read_text(data, k, where) for k in ("check", "orgs", "reason", "owner"))
        return cls(check, orgs, reason, owner, read_text(data, "expires", where, null=True))


@dataclass(frozen=True)
class WaiverUse:
    """One waiver of the profile and what this run made of it."""

    waiver: Waiver
    matched: int
    status: str  # used | stale (matched nothing) | expired

    def to_json(self) -> dict[str, Any]:
        return {**self.waiver.to_json(), "matched": self.matched, "status": self.status}

    @classmethod
    def from_json(cls, data: Any, where: str) -> WaiverUse:
        data = read_obj(data, where)
        return cls(Waiver.from_json(data, where), read_count(member(data, "matched", where), f"{where}.matched"),
                   read_one_of(member(data, "status", where), f"{where}.status", WAIVER_STATUSES))


@dataclass(frozen=True)
class Entry:
    """One check in a list of the gate (failed, errors, ...) with its one-line reason."""

    check: str
    test: str
    reason: str
    waiver: Waiver | None = None  # the active waiver, in ``waived``

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"check": self.check, "test": self.test, "reason": self.reason}
        if self.waiver is not None:
            data["waiver"] = self.waiver.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> Entry:
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("check", "reason")):
            raise Bad(f"{where}: expected an object with check and reason strings")
        return cls(data["check"], read_text(data, "test", where), data["reason"],
                   Waiver.from_json(data["waiver"], f"{where}.waiver") if "waiver" in data else None)


@dataclass(frozen=True)
class Counts:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    warnings: int = 0
    waived: int = 0
    total: int = 0
    executed: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, k) + getattr(other, k) for k in COUNT_KEYS))

    def to_json(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in COUNT_KEYS}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Counts:
        data = read_obj(data, where)
        for name, value in data.items():
            read_count(value, f"{where}.{name}")
        return cls(*(member(data, name, where) for name in COUNT_KEYS))


@dataclass(frozen=True)
class _Lists:
    failed: tuple[Entry, ...] = ()
    errors: tuple[Entry, ...] = ()
    warnings: tuple[Entry, ...] = ()
    waived: tuple[Entry, ...] = ()
    skipped: tuple[Entry, ...] = ()

    def entries(self, kind: str) -> tuple[Entry, ...]:
        """The list ``kind`` (one of :data:`LISTS`)."""
        return tuple(getattr(self, kind))

    def _lists_json(self) -> dict[str, Any]:
        return {kind: [e.to_json() for e in self.entries(kind)] for kind in LISTS}

    @staticmethod
    def _lists_from(data: Mapping[str, Any], where: str) -> dict[str, tuple[Entry, ...]]:
        return {kind: read_each(member(data, kind, where), f"{where}.{kind}", Entry.from_json) for kind in LISTS}


@dataclass(frozen=True)
class OrgGate(_Lists):
    """One org's part of the gate."""

    decision: str = NO_GO
    kind: str = ""
    reachable: bool = True
    api_calls: int = 0
    counts: Counts = Counts()

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "kind": self.kind, "reachable": self.reachable,
                "api_calls": self.api_calls, "counts": self.counts.to_json(), **self._lists_json()}

    @classmethod
    def from_json(cls, data: Any, where: str) -> OrgGate:
        data = read_obj(data, where)
        return cls(decision=read_one_of(data.get("decision"), f"{where}.decision", (GO, NO_GO)),
                   kind=read_text(data, "kind", where), reachable=read_flag(data, "reachable", where),
                   api_calls=read_count(member(data, "api_calls", where), f"{where}.api_calls"),
                   counts=Counts.from_json(member(data, "counts", where), f"{where}.counts"),
                   **cls._lists_from(data, where))


@dataclass(frozen=True)
class Landscape(_Lists):
    """The checks that are not per org (cross-org, landscape) and the orgs they left out."""

    left_out: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**self._lists_json(), "left_out": dict(self.left_out)}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Landscape:
        data = read_obj(data, where)
        left_out = read_obj(member(data, "left_out", where), f"{where}.left_out")
        for name, reason in left_out.items():
            if not isinstance(reason, str):
                raise Bad(f"{where}.left_out.{name}: expected a string, found {type_name(reason)}")
        return cls(left_out=dict(left_out), **cls._lists_from(data, where))


@dataclass(frozen=True)
class Profile:
    name: str
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Profile:
        data = read_obj(data, where)
        return cls(read_text(data, "name", where), read_text(data, "sha256", where))


@dataclass(frozen=True)
class Narrowing:
    """How the run was narrowed; ``complete``: it verified all of the profile (``None``: unknown)."""

    selection: str | None = None  # --orgs
    org_shard: str | None = None  # --org-shard
    keyword: str = ""  # -k
    markexpr: str = ""  # -m
    paths: tuple[str, ...] = ()
    narrowed_by: tuple[str, ...] = ()  # --lf, --ignore, ...
    deselected: int = 0
    complete: bool | None = False

    def to_json(self) -> dict[str, Any]:
        return {"selection": self.selection, "org_shard": self.org_shard, "keyword": self.keyword,
                "markexpr": self.markexpr, "paths": list(self.paths), "narrowed_by": list(self.narrowed_by),
                "deselected": self.deselected, "complete": self.complete}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Narrowing:
        complete = member(data, "complete", "")
        if complete is not None and not isinstance(complete, bool):
            raise Bad(f"complete: expected a boolean or null, found {type_name(complete)}")
        return cls(read_text(data, "selection", null=True), read_text(data, "org_shard", null=True),
                   read_text(data, "keyword"), read_text(data, "markexpr"), read_names(data, "paths", ""),
                   read_names(data, "narrowed_by", ""), read_count(member(data, "deselected", ""), "deselected"),
                   complete)


@dataclass(frozen=True)
class ShardRecord:
    """What one shard of a sharded run verified (``shard``; in a merged gate, ``shards`` with
    each shard's ``decision``)."""

    index: int
    count: int
    orgs: tuple[str, ...]
    selected: tuple[str, ...]
    profile_orgs: tuple[str, ...]
    cross_org: bool
    complete: bool
    cross_org_api_calls: Mapping[str, int] = dataclasses.field(default_factory=dict)
    decision: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "index": self.index, "count": self.count, "orgs": list(self.orgs), "selected": list(self.selected),
            "profile_orgs": list(self.profile_orgs), "cross_org": self.cross_org, "complete": self.complete,
            "cross_org_api_calls": dict(self.cross_org_api_calls)}
        if self.decision is not None:
            data["decision"] = self.decision
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> ShardRecord:
        data = read_obj(data, where)
        index, count = data.get("index"), data.get("count")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (index, count)) or not 1 <= index <= count:
            raise Bad(f"{where}: expected index and count with 1 <= index <= count")
        orgs, selected, profile_orgs = (read_names(data, key, where, "org names")
                                        for key in ("orgs", "selected", "profile_orgs"))
        calls = read_obj(member(data, "cross_org_api_calls", where), f"{where}.cross_org_api_calls")
        for name, value in calls.items():
            read_count(value, f"{where}.cross_org_api_calls.{name}")
        decision = read_one_of(data["decision"], f"{where}.decision", (GO, NO_GO)) if "decision" in data else None
        return cls(index, count, orgs, selected, profile_orgs, read_flag(data, "cross_org", where),
                   read_flag(data, "complete", where),
                   dict(calls), decision)


@dataclass(frozen=True)
class Gate:
    """The gate file of one run (or of the shards of one run, merged)."""

    decision: str
    run_id: str
    release: str | None
    profile: Profile
    phase: str
    started: str
    finished: str | None
    lockstep_version: str
    exit_status: int | None
    pytest_exit_status: int | None
    counts: Counts
    orgs: Mapping[str, OrgGate]
    landscape: Landscape
    waivers: tuple[WaiverUse, ...]
    reasons: tuple[str, ...]
    narrowing: Narrowing
    deployed_at: str | None = None
    shard: ShardRecord | None = None  # the gate of one shard (--org-shard)
    shards: tuple[ShardRecord, ...] | None = None  # the gate merged from the gates of every shard
    catalog: CatalogRecord | None = None  # which checks the run collected
    schema: int = SCHEMA

    @property
    def go(self) -> bool:
        return self.decision == GO

    def with_reason(self, reason: str) -> Gate:
        """This gate made a no-go for one more reason (a gate that could not be written, another run's file)."""
        status = None if self.exit_status is None else self.exit_status or 1
        return dataclasses.replace(self, decision=NO_GO, reasons=(*self.reasons, reason), exit_status=status)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": self.schema, "decision": self.decision, "run_id": self.run_id, "release": self.release,
            "profile": self.profile.to_json(), "phase": self.phase, "started": self.started,
            "finished": self.finished, "lockstep_version": self.lockstep_version, "exit_status": self.exit_status,
            "pytest_exit_status": self.pytest_exit_status, "counts": self.counts.to_json(),
            "orgs": {name: org.to_json() for name, org in self.orgs.items()}, "landscape": self.landscape.to_json(),
            "waivers": [w.to_json() for w in self.waivers], "reasons": list(self.reasons),
            "deployed_at": self.deployed_at, **self.narrowing.to_json()}
        if self.shard is not None:
            data["shard"] = self.shard.to_json()
        if self.shards is not None:
            data["shards"] = [s.to_json() for s in self.shards]
        if self.catalog is not None:
            data["catalog"] = self.catalog.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any, source: str = "gate") -> Gate:
        """The gate ``data`` holds; :class:`GateFileError` naming ``source`` and the field otherwise."""
        try:
            return cls._read(data)
        except Bad as bad:
            raise GateFileError(f"{source}: not a gate file: {' '.join(str(bad).split())[:300]}") from None
        except _NewerSchema as newer:
            raise GateFileError(f"{source}: {newer}") from None

    @classmethod
    def _read(cls, data: Any) -> Gate:
        if not isinstance(data, dict):
            raise Bad(f"expected a JSON object, found {type_name(data)}")
        if "schema" not in data:
            raise Bad("missing key 'schema' (a gate written by a Lockstep older than schema 1, or not a gate)")
        schema = data["schema"]
        if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
            raise Bad(f"schema: expected a schema version (1 or more), found {schema!r}")
        if schema > SCHEMA:
            raise _NewerSchema(f"schema: version {schema} is newer than this Lockstep reads (up to {SCHEMA}):"
                               " upgrade Lockstep to read this gate")
        decision = read_text(data, "decision")
        if decision not in (GO, NO_GO):
            raise Bad(f"decision: unknown value {decision!r} (expected go or no-go)")
        orgs = read_obj(member(data, "orgs", ""), "orgs")
        reasons = member(data, "reasons", "")
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
            raise Bad("reasons: expected a list of strings")
        return cls(
            schema=schema, decision=decision, run_id=read_text(data, "run_id"),
            release=read_text(data, "release", null=True),
            profile=Profile.from_json(member(data, "profile", ""), "profile"),
            phase=read_one_of(member(data, "phase", ""), "phase", PHASES), started=read_text(data, "started"),
            finished=read_text(data, "finished", null=True), lockstep_version=read_text(data, "lockstep_version"),
            exit_status=read_status(data, "exit_status"), pytest_exit_status=read_status(data, "pytest_exit_status"),
            counts=Counts.from_json(member(data, "counts", ""), "counts"),
            orgs={str(name): OrgGate.from_json(entry, f"orgs.{name}") for name, entry in orgs.items()},
            landscape=Landscape.from_json(member(data, "landscape", ""), "landscape"),
            waivers=read_each(member(data, "waivers", ""), "waivers", WaiverUse.from_json), reasons=tuple(reasons),
            narrowing=Narrowing.from_json(data), deployed_at=read_text(data, "deployed_at", null=True),
            shard=ShardRecord.from_json(data["shard"], "shard") if "shard" in data else None,
            shards=read_each(data["shards"], "shards", ShardRecord.from_json) if "shards" in data else None,
            catalog=CatalogRecord.from_json(data["catalog"]) if "catalog" in data else None)

    def contradictions(self) -> list[str]:
        """What in a "go" contradicts its decision (empty for a consistent go or a no-go)."""
        if not self.go:
            return []
        problems = []
        if self.reasons:
            problems.append(f"decision is go but it lists {len(self.reasons)} reasons ({self.reasons[0]})")
        started, finished = parse_time(self.started), parse_time(self.finished)
        if finished is None:
            problems.append(f"decision is go but the run has no finish time (finished: {self.finished!r})")
        elif started is None:
            problems.append(f"decision is go but the run has no start time (started: {self.started!r})")
        elif finished < started:
            problems.append(f"decision is go but the run finished ({self.finished}) before it started ({self.started})")
        if self.exit_status != 0:
            problems.append(f"decision is go but the exit status is {self.exit_status!r}, not 0")
        counts = self.counts
        if not counts.executed:
            problems.append("decision is go but no check was executed")
        if counts.errors:
            problems.append(f"decision is go but it counts {counts.errors} errors")
        blocking = counts.failed + counts.xfailed + counts.xpassed
        if blocking > counts.warnings + counts.waived:
            problems.append(f"decision is go but it counts {blocking} failed checks, "
                            "more than its warnings and waivers")
        if not self.orgs:
            problems.append("decision is go but it names no org")
        bad = [name for name, org in self.orgs.items()
               if org.decision != GO or not org.reachable or org.failed or org.errors or not org.counts.executed]
        if bad:
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            problems.append(f"decision is go but org {bad[0]} is not{more}")
        if self.landscape.failed or self.landscape.errors:
            problems.append("decision is go but cross-org checks failed")
        return problems


class _NewerSchema(Exception):
    """A gate of a schema version this Lockstep does not know yet."""
