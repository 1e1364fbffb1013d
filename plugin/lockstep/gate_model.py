"""The gate file as one typed model: :class:`Gate` and its parts, written with
:meth:`Gate.to_json` and read with :meth:`Gate.from_json`, which checks every field and
raises :class:`GateFileError` (one line naming the field) for anything that is not a gate of
a schema this Lockstep reads. :meth:`Gate.contradictions` lists what in a "go" disagrees
with its other fields (a consistent "go" has none). The fields are described in docs/gate.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "COUNT_KEYS", "Counts", "Entry", "Gate", "GateFileError", "LISTS", "Landscape", "Narrowing", "OrgGate",
    "Profile", "SCHEMA", "ShardRecord", "Waiver", "WaiverUse", "parse_time",
]

SCHEMA = 1  # the version this Lockstep writes; it reads every version up to it
GO, NO_GO = "go", "no-go"
PHASES = ("readiness", "verification", "all")
LISTS = ("failed", "errors", "warnings", "waived", "skipped")
COUNT_KEYS = ("passed", "failed", "errors", "skipped", "xfailed", "xpassed", "warnings", "waived", "total", "executed")
WAIVER_STATUSES = ("used", "stale", "expired")
T = TypeVar("T")


class GateFileError(Exception):
    """A gate file that cannot be read or is not a gate; the message is one line."""


class _Bad(Exception):
    """A field that is not what a gate holds: ``problem`` starts with the field's path."""


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{where}: expected an object, found {_type(value)}")
    return value


def _key(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise _Bad(f"{where + ': ' if where else ''}missing key {key!r}")
    return data[key]


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _text(data: Mapping[str, Any], key: str, where: str = "", *, null: bool = False) -> Any:
    value = _key(data, key, where)
    if isinstance(value, str) or (null and value is None):
        return value
    raise _Bad(f"{_at(where, key)}: expected a string{' or null' if null else ''}, found {_type(value)}")


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Bad(f"{where}: expected a count, found {value!r}")
    return value


def _status(data: Mapping[str, Any], key: str, where: str = "") -> int | None:
    value = _key(data, key, where)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _Bad(f"{_at(where, key)}: expected an integer or null, found {_type(value)}")


def _flag(data: Mapping[str, Any], key: str, where: str = "") -> bool:
    value = _key(data, key, where)
    if not isinstance(value, bool):
        raise _Bad(f"{_at(where, key)}: expected a boolean, found {_type(value)}")
    return value


def _names(data: Mapping[str, Any], key: str, where: str, what: str = "strings") -> tuple[str, ...]:
    value = _key(data, key, where)
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise _Bad(f"{_at(where, key)}: expected a list of {what}")
    return tuple(value)


def _one_of(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _Bad(f"{where}: expected {' or '.join(allowed)}, found {value!r}")
    return str(value)


def _each(value: Any, where: str, read: Callable[[Any, str], T]) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise _Bad(f"{where}: expected a list, found {_type(value)}")
    return tuple(read(item, f"{where}[{index}]") for index, item in enumerate(value))


def parse_time(value: str | None) -> dt.datetime | None:
    """A gate's ISO 8601 time (UTC when it names no zone), ``None`` for none or not a time."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


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
        data = _obj(data, where)
        return cls(*(_text(data, k, where) for k in ("check", "orgs", "reason", "owner")),
                   _text(data, "expires", where, null=True))


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
        data = _obj(data, where)
        return cls(Waiver.from_json(data, where), _count(_key(data, "matched", where), f"{where}.matched"),
                   _one_of(_key(data, "status", where), f"{where}.status", WAIVER_STATUSES))


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
            raise _Bad(f"{where}: expected an object with check and reason strings")
        waiver = data.get("waiver")
        return cls(data["check"], _text(data, "test", where), data["reason"],
                   None if waiver is None else Waiver.from_json(waiver, f"{where}.waiver"))


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
        data = _obj(data, where)
        for key, value in data.items():
            _count(value, f"{where}.{key}")
        return cls(*(_key(data, key, where) for key in COUNT_KEYS))


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
        return {kind: _each(_key(data, kind, where), f"{where}.{kind}", Entry.from_json) for kind in LISTS}


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
        data = _obj(data, where)
        return cls(decision=_one_of(data.get("decision"), f"{where}.decision", (GO, NO_GO)),
                   kind=_text(data, "kind", where), reachable=_flag(data, "reachable", where),
                   api_calls=_count(_key(data, "api_calls", where), f"{where}.api_calls"),
                   counts=Counts.from_json(_key(data, "counts", where), f"{where}.counts"),
                   **cls._lists_from(data, where))


@dataclass(frozen=True)
class Landscape(_Lists):
    """The checks that are not per org (cross-org, landscape) and the orgs they left out."""

    left_out: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**self._lists_json(), "left_out": dict(self.left_out)}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Landscape:
        data = _obj(data, where)
        left_out = _obj(_key(data, "left_out", where), f"{where}.left_out")
        for name, reason in left_out.items():
            if not isinstance(reason, str):
                raise _Bad(f"{where}.left_out.{name}: expected a string, found {_type(reason)}")
        return cls(left_out=dict(left_out), **cls._lists_from(data, where))


@dataclass(frozen=True)
class Profile:
    name: str
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Profile:
        data = _obj(data, where)
        return cls(_text(data, "name", where), _text(data, "sha256", where))


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
        complete = _key(data, "complete", "")
        if complete is not None and not isinstance(complete, bool):
            raise _Bad(f"complete: expected a boolean or null, found {_type(complete)}")
        return cls(_text(data, "selection", null=True), _text(data, "org_shard", null=True),
                   _text(data, "keyword"), _text(data, "markexpr"), _names(data, "paths", ""),
                   _names(data, "narrowed_by", ""), _count(_key(data, "deselected", ""), "deselected"), complete)


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
        data = _obj(data, where)
        index, count = data.get("index"), data.get("count")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (index, count)) or not 1 <= index <= count:
            raise _Bad(f"{where}: expected index and count with 1 <= index <= count")
        lists = [_names(data, key, where, "org names") for key in ("orgs", "selected", "profile_orgs")]
        calls = _obj(_key(data, "cross_org_api_calls", where), f"{where}.cross_org_api_calls")
        for name, value in calls.items():
            _count(value, f"{where}.cross_org_api_calls.{name}")
        decision = data.get("decision")
        return cls(index, count, *lists, _flag(data, "cross_org", where), _flag(data, "complete", where),
                   dict(calls), None if decision is None else _one_of(decision, f"{where}.decision", (GO, NO_GO)))


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
        return data

    @classmethod
    def from_json(cls, data: Any, source: str = "gate") -> Gate:
        """The gate ``data`` holds; :class:`GateFileError` naming ``source`` and the field otherwise."""
        try:
            return cls._read(data)
        except _Bad as bad:
            raise GateFileError(f"{source}: not a gate file: {' '.join(str(bad).split())[:300]}") from None
        except _NewerSchema as newer:
            raise GateFileError(f"{source}: {newer}") from None

    @classmethod
    def _read(cls, data: Any) -> Gate:
        if not isinstance(data, dict):
            raise _Bad(f"expected a JSON object, found {_type(data)}")
        if "schema" not in data:
            raise _Bad("missing key 'schema' (a gate written by a Lockstep older than schema 1, or not a gate)")
        schema = data["schema"]
        if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
            raise _Bad(f"schema: expected a schema version (1 or more), found {schema!r}")
        if schema > SCHEMA:
            raise _NewerSchema(f"gate schema {schema} is newer than this Lockstep reads (up to {SCHEMA}):"
                               " upgrade Lockstep to read it")
        decision = _text(data, "decision")
        if decision not in (GO, NO_GO):
            raise _Bad(f"decision: unknown value {decision!r} (expected go or no-go)")
        orgs = _obj(_key(data, "orgs", ""), "orgs")
        reasons = _key(data, "reasons", "")
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
            raise _Bad("reasons: expected a list of strings")
        shard, shards = data.get("shard"), data.get("shards")
        return cls(
            schema=schema, decision=decision, run_id=_text(data, "run_id"), release=_text(data, "release", null=True),
            profile=Profile.from_json(_key(data, "profile", ""), "profile"),
            phase=_one_of(_key(data, "phase", ""), "phase", PHASES), started=_text(data, "started"),
            finished=_text(data, "finished", null=True), lockstep_version=_text(data, "lockstep_version"),
            exit_status=_status(data, "exit_status"), pytest_exit_status=_status(data, "pytest_exit_status"),
            counts=Counts.from_json(_key(data, "counts", ""), "counts"),
            orgs={str(name): OrgGate.from_json(entry, f"orgs.{name}") for name, entry in orgs.items()},
            landscape=Landscape.from_json(_key(data, "landscape", ""), "landscape"),
            waivers=_each(_key(data, "waivers", ""), "waivers", WaiverUse.from_json), reasons=tuple(reasons),
            narrowing=Narrowing.from_json(data), deployed_at=_text(data, "deployed_at", null=True),
            shard=None if shard is None else ShardRecord.from_json(shard, "shard"),
            shards=None if shards is None else _each(shards, "shards", ShardRecord.from_json))

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
            problems.append(f"decision is go but it counts {blocking} failed checks, more than its warnings and waivers")
        if not self.orgs:
            problems.append("decision is go but it names no org")
        bad = [name for name, org in self.orgs.items()
               if org.decision != GO or not org.reachable or org.failed or org.errors or not org.counts.executed]
        if bad:
            problems.append(f"decision is go but org {bad[0]} is not" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
        if self.landscape.failed or self.landscape.errors:
            problems.append("decision is go but cross-org checks failed")
        return problems


class _NewerSchema(Exception):
    """A gate of a schema version this Lockstep does not know yet."""
