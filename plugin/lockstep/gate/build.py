"""The release gate: test outcomes and session facts in, a fail-closed decision out.

Pure: no pytest objects, no I/O. :class:`Tally` collects one entry per test report
(plain values), :func:`build_gate` turns it and a :class:`RunInfo` into the
:class:`~lockstep.gate.model.Gate`, :func:`exit_code` maps the decision onto the process
exit code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lockstep.config.waivers import Rule
from lockstep.gate.catalog import CatalogRecord
from lockstep.gate.model import (
    COUNT_KEYS,
    GO,
    LISTS,
    NO_GO,
    Counts,
    Entry,
    Gate,
    Landscape,
    Narrowing,
    OrgGate,
    Profile,
    ShardRecord,
    Waiver,
    WaiverUse,
)

__all__ = [
    "CheckResult", "RunInfo", "Tally", "build_gate", "exit_code", "outcome_of", "phase_of", "unfinished_gate",
]

PHASES = ("readiness", "verification")
_RANK = {"passed": 0, "skipped": 1, "xfailed": 2, "xpassed": 3, "failed": 4, "error": 5}
_EXIT_NAMES = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


@dataclass(frozen=True)
class CheckResult:
    """The combined outcome of one test (all of its phases)."""

    test: str
    check: str
    org: str | None
    outcome: str
    reason: str = ""
    severity: str = "blocker"
    phases: tuple[str, ...] = ()
    executed: bool = False
    waiver: Rule | None = None  # the active waiver covering this failure

    @property
    def blocks(self) -> bool:
        if self.outcome == "error":
            return True
        return self.outcome in ("failed", "xfailed", "xpassed") and self.severity != "warning" and self.waiver is None


@dataclass(frozen=True)
class RunInfo:
    """What the session knows besides test outcomes."""

    orgs: Mapping[str, str]
    release: str | None = None
    profile_name: str = ""
    profile_sha256: str = ""
    markexpr: str = ""
    started: str = ""
    finished: str = ""
    version: str = ""
    run_id: str = ""
    exit_status: int = 0
    interrupted: str | None = None
    collection_errors: tuple[tuple[str, str], ...] = ()
    unreachable: Mapping[str, str] = field(default_factory=dict)
    api_calls: Mapping[str, int] = field(default_factory=dict)
    waivers: tuple[Rule, ...] = ()
    now: dt.datetime | None = None  # the run's clock, for waiver expiry
    left_out: Mapping[str, str] = field(default_factory=dict)  # orgs the cross-org checks left out, and why
    narrowing: Narrowing = Narrowing()
    deployed_at: str | None = None
    shard: ShardRecord | None = None
    refusals: tuple[str, ...] = ()  # reasons found outside the results (another run's gate file)
    catalog: CatalogRecord | None = None  # which checks were collected (lockstep.session.collection)


def outcome_of(when: str, outcome: str, wasxfail: bool) -> str | None:
    """Classify one report; ``None`` for reports that say nothing (a passed setup)."""
    if outcome == "failed":
        return "failed" if when == "call" else "error"
    if outcome == "skipped":
        return "xfailed" if wasxfail else "skipped"
    if when == "call":
        return "xpassed" if wasxfail else "passed"
    return None


class Tally:
    """Accumulates report entries into one :class:`CheckResult` per test."""

    def __init__(self) -> None:
        self._results: dict[str, CheckResult] = {}

    def add(
        self,
        test: str,
        when: str,
        outcome: str,
        *,
        wasxfail: bool = False,
        check: str | None = None,
        org: str | None = None,
        reason: str = "",
        severity: str = "blocker",
        phases: Iterable[str] = (),
        org_error: bool = False,
    ) -> None:
        """``org_error``: the failure was the org's (unreachable, 5xx, session, API limit),
        not a finding: it counts as an error, never as a failed check."""
        kind = outcome_of(when, outcome, wasxfail)
        if kind == "failed" and org_error:
            kind = "error"
        previous = self._results.get(test)
        executed = (when == "call" and kind not in (None, "skipped")) or (previous is not None and previous.executed)
        if kind is None:
            if previous is None:
                self._results[test] = CheckResult(test, check or test, org, "passed", "", severity, tuple(phases))
            elif executed and not previous.executed:
                self._results[test] = _replace(previous, executed=True)
            return
        if previous is not None and _RANK[previous.outcome] > _RANK[kind]:
            self._results[test] = _replace(previous, executed=executed)
            return
        self._results[test] = CheckResult(
            test, check or test, org, kind, reason if kind != "passed" else "", severity, tuple(phases), executed
        )

    @property
    def results(self) -> tuple[CheckResult, ...]:
        return tuple(self._results.values())


def _replace(result: CheckResult, **changes: Any) -> CheckResult:
    values = {name: getattr(result, name) for name in result.__dataclass_fields__}
    values.update(changes)
    return CheckResult(**values)


def phase_of(markexpr: str, phases_run: Iterable[str]) -> str:
    """``readiness``/``verification`` when the run was limited to one phase, else ``all``."""
    if markexpr.strip() in PHASES:
        return markexpr.strip()
    seen = {p for p in phases_run if p in PHASES}
    return seen.pop() if len(seen) == 1 else "all"


def _counts(results: Iterable[CheckResult]) -> Counts:
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for result in results:
        counts["total"] += 1
        counts["executed"] += result.executed
        counts["errors" if result.outcome == "error" else result.outcome] += 1
        if result.waiver is not None:
            counts["waived"] += 1
        elif result.severity == "warning" and not result.blocks and result.outcome not in ("passed", "skipped"):
            counts["warnings"] += 1
    return Counts(**counts)


def _waiver(rule: Rule) -> Waiver:
    return Waiver(rule.check, rule.written or "all", rule.reason, rule.owner,
                  rule.expires.isoformat() if rule.expires else None)


def _entry(result: CheckResult) -> Entry:
    return Entry(result.check, result.test, result.reason, None if result.waiver is None else _waiver(result.waiver))


def _lists(results: Iterable[CheckResult]) -> dict[str, tuple[Entry, ...]]:
    lists: dict[str, list[Entry]] = {kind: [] for kind in LISTS}
    for result in sorted(results, key=lambda r: r.test):
        if result.outcome == "error":
            lists["errors"].append(_entry(result))
        elif result.waiver is not None:
            lists["waived"].append(_entry(result))
        elif result.blocks:
            lists["failed"].append(_entry(result))
        elif result.outcome in ("failed", "xfailed", "xpassed"):
            lists["warnings"].append(_entry(result))
        elif result.outcome == "skipped":
            lists["skipped"].append(_entry(result))
    return {kind: tuple(entries) for kind, entries in lists.items()}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _waive(results: tuple[CheckResult, ...], waivers: tuple[Rule, ...],
           now: dt.datetime) -> tuple[tuple[CheckResult, ...], tuple[WaiverUse, ...]]:
    """Each failed check covered by an active waiver is waived; one covered only by an expired
    waiver still blocks and says so. Every waiver is reported: used, stale (matched nothing)
    or expired."""
    matched = [0] * len(waivers)
    out = []
    for result in results:
        failed = result.outcome in ("failed", "xfailed", "xpassed") and result.severity != "warning"
        found = [i for i, rule in enumerate(waivers) if failed and rule.matches(result.check, result.org)]
        for index in found:
            matched[index] += 1
        active = next((waivers[i] for i in found if not waivers[i].expired(now)), None)
        if active is not None:
            result = _replace(result, waiver=active)
        elif found:
            rule = waivers[found[0]]
            expired = f"waiver expired {rule.expires:%Y-%m-%d %H:%M} UTC: {rule.reason} ({rule.owner})"
            result = _replace(result, reason=f"{result.reason} [{expired}]")
        out.append(result)
    report = tuple(WaiverUse(_waiver(rule), count, "expired" if rule.expired(now) else "used" if count else "stale")
                   for rule, count in zip(waivers, matched, strict=True))
    return tuple(out), report


def build_gate(results: Iterable[CheckResult], info: RunInfo) -> Gate:
    """The gate of a finished run, fail-closed."""
    results, waivers = _waive(tuple(results), info.waivers, info.now or dt.datetime.now(dt.UTC))
    reasons: list[str] = []
    if info.interrupted:
        reasons.append(f"run interrupted: {info.interrupted}")
    for where, line in info.collection_errors:
        reasons.append(f"collection error: {where}: {line}" if line else f"collection error: {where}")
    orgs: dict[str, OrgGate] = {}
    for name in sorted(info.orgs):
        orgs[name], problems = _org_gate(name, [r for r in results if r.org == name], info)
        reasons.extend(f"{name}: {p}" for p in problems)
    landscape = _lists(r for r in results if r.org is None or r.org not in info.orgs)
    counts = _counts(results)
    _add_run_reasons(reasons, results, landscape, counts, info)
    decision = NO_GO if reasons else GO
    return Gate(
        decision=decision, run_id=info.run_id, release=info.release,
        profile=Profile(info.profile_name, info.profile_sha256),
        phase=phase_of(info.markexpr, (p for r in results if r.executed for p in r.phases)),
        started=info.started, finished=info.finished, lockstep_version=info.version,
        exit_status=exit_code(decision, info.exit_status), pytest_exit_status=info.exit_status,
        counts=counts, orgs=orgs,
        landscape=Landscape(left_out={n: info.left_out[n] for n in sorted(info.left_out)}, **landscape),
        waivers=waivers, reasons=tuple(reasons), narrowing=info.narrowing, deployed_at=info.deployed_at,
        shard=info.shard, catalog=info.catalog,
    )


def _org_gate(name: str, mine: list[CheckResult], info: RunInfo) -> tuple[OrgGate, list[str]]:
    """One org's entry in the gate and the problems that make it no-go."""
    counts = _counts(mine)
    lists = _lists(mine)
    problems = []
    if name in info.unreachable:
        problems.append(f"unreachable: {info.unreachable[name]}")
    unreachable_only = name in info.unreachable and not lists["failed"]
    if (lists["failed"] or lists["errors"]) and not unreachable_only:
        problems.append(", ".join(
            part for part in (
                _plural(len(lists["failed"]), "failed check") if lists["failed"] else "",
                _plural(len(lists["errors"]), "error") if lists["errors"] else "",
            ) if part
        ))
    if not counts.executed and name not in info.unreachable:
        problems.append(f"no check ran ({_plural(counts.skipped, 'skip')})")
    entry = OrgGate(decision=NO_GO if problems else GO, kind=info.orgs[name],
                    reachable=name not in info.unreachable, api_calls=int(info.api_calls.get(name, 0)),
                    counts=counts, **lists)
    return entry, problems


def _add_run_reasons(reasons: list[str], results: tuple[CheckResult, ...], landscape: Mapping[str, tuple[Entry, ...]],
                     counts: Counts, info: RunInfo) -> None:
    """The run's own reasons after the orgs': landscape findings, nothing executed, a pytest exit
    status the outcomes do not explain (only when nothing else is wrong), the refusals."""
    blocking = len(landscape["failed"]) + len(landscape["errors"])
    if blocking:
        reasons.append(f"landscape: {_plural(blocking, 'failed check')}")
    if not counts.executed:
        reasons.append("no check was executed")
    if not reasons and info.exit_status not in (0, 1):
        name = _EXIT_NAMES.get(info.exit_status, "unexpected")
        reasons.append(f"pytest exit status {info.exit_status} ({name})")
    if not reasons and info.exit_status == 1 and all(r.outcome in ("passed", "skipped") for r in results):
        reasons.append("pytest reported a failure outside the checks")
    reasons += info.refusals


def unfinished_gate(reason: str, *, release: str | None = None, profile_name: str = "", markexpr: str = "",
                    started: str = "", version: str = "", run_id: str = "",
                    narrowing: Narrowing = Narrowing()) -> Gate:
    """A no-go gate for a run that has not (or never) finished: written when the run starts,
    replaced by the real gate at its end, so a killed run never leaves an older "go" behind."""
    return Gate(
        decision=NO_GO, run_id=run_id, release=release, profile=Profile(profile_name, ""),
        phase=phase_of(markexpr, ()), started=started, finished=None, lockstep_version=version,
        exit_status=None, pytest_exit_status=None, counts=Counts(), orgs={}, landscape=Landscape(),
        waivers=(), reasons=(reason,), narrowing=narrowing,
    )


def exit_code(decision: str, pytest_status: int) -> int:
    """Non-zero for a no-go even when pytest alone would exit 0; 0 for a go whose only
    failures are warning-severity checks (a warning must not stop a pipeline)."""
    if decision != GO:
        return pytest_status or 1
    return 0 if pytest_status == 1 else pytest_status
