"""``lockstep gate merge``: the gates of the shards of one run (``--org-shard i/n``) become
the gate of the whole run.

The merged gate is "go" only when every shard's gate is a consistent "go", all shards ran
the same profile (name and sha256), release, phase and run, the shard that runs the checks
that are not per org (cross-org, landscape) is among them, and together they verified every
org of the selection exactly once. Otherwise it is a no-go listing every reason. Counts are
summed, orgs united (with the API calls shard 1 made to other shards' orgs added), findings
and reasons concatenated. It is complete (``lockstep gate check`` accepts it) when every
shard did all of its share and the shards split all of the profile's orgs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from lockstep.gate.catalog import CatalogRecord
from lockstep.gate.model import GO, LISTS, NO_GO, Counts, Gate, Landscape, Narrowing, OrgGate, ShardRecord, WaiverUse

__all__ = ["merge_gates"]


def _label(path: str, gate: Gate) -> str:
    if gate.shard is not None:
        return f"shard {gate.shard.index}/{gate.shard.count} ({path})"
    return f"shard {gate.narrowing.org_shard} ({path})" if gate.narrowing.org_shard else path


_SAME: tuple[tuple[str, Callable[[Gate], Any]], ...] = (
    ("profile", lambda g: (g.profile.name, g.profile.sha256)),
    ("run id", lambda g: g.run_id), ("release", lambda g: g.release), ("phase", lambda g: g.phase),
    ("--orgs", lambda g: g.narrowing.selection), ("-k", lambda g: g.narrowing.keyword),
    ("-m", lambda g: g.narrowing.markexpr), ("shard count", lambda g: g.shard.count if g.shard else None),
    ("checks", lambda g: _checks(g.catalog)),
)


def _checks(catalog: CatalogRecord | None) -> str | None:
    """The checks a shard collected, by the hashes of the built-in catalog and the team's own files."""
    if catalog is None:
        return None
    return (f"lockstep {catalog.lockstep_version}, built-in {(catalog.builtin_sha256 or 'none')[:12]}, "
            f"own {(catalog.own_sha256 or 'none')[:12]}")


def _agreement(gates: Sequence[tuple[str, Gate]]) -> list[str]:
    """One reason per field the shards disagree on."""
    reasons = []
    for name, value_of in _SAME:
        values: dict[Any, list[str]] = {}
        for path, gate in gates:
            values.setdefault(_shown(value_of(gate)), []).append(path)
        if len(values) > 1:
            found = "; ".join(f"{value} in {', '.join(paths)}" for value, paths in values.items())
            reasons.append(f"shards disagree on the {name}: {found}")
    return reasons


def _shown(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2:
        return f"{value[0]} (sha256 {str(value[1])[:12]})"
    return repr(value) if value not in (None, "") else "none"


def _coverage(shards: Sequence[tuple[str, ShardRecord]]) -> list[str]:
    """Every org of the selection verified exactly once; the cross-org shard present."""
    reasons = []
    owners: dict[str, list[str]] = {}
    for label, shard in shards:
        for name in shard.orgs:
            owners.setdefault(name, []).append(label)
    expected = sorted({n for _, shard in shards for n in shard.selected})
    missing = [n for n in expected if n not in owners]
    if missing:
        reasons.append(f"orgs verified by no shard: {', '.join(missing)}")
    twice = {n: labels for n, labels in sorted(owners.items()) if len(labels) > 1}
    if twice:
        reasons.append("orgs verified by more than one shard: "
                       + "; ".join(f"{n} ({', '.join(labels)})" for n, labels in twice.items()))
    outside = sorted(set(owners) - set(expected))
    if outside:
        reasons.append(f"orgs verified outside the selection: {', '.join(outside)}")
    cross = [label for label, shard in shards if shard.cross_org]
    if not cross:
        reasons.append("the cross-org and landscape checks never ran (no gate of shard 1)")
    elif len(cross) > 1:
        reasons.append(f"the cross-org and landscape checks ran more than once ({', '.join(cross)})")
    return reasons


def merge_gates(gates: Sequence[tuple[str, Gate]]) -> Gate:
    """The gate of the whole run from ``(path, gate)`` of each shard (gates already read by
    :func:`~lockstep.gate.file.read_gate`, which checks their ``shard`` entries)."""
    reasons = _agreement(gates)
    recorded = [(_label(path, gate), gate.shard) for path, gate in gates if gate.shard is not None]
    for path, gate in gates:
        label = _label(path, gate)
        if gate.shard is None:
            first = f": {gate.reasons[0]}" if gate.reasons else ""
            reasons.append(f"{label}: not the gate of a finished shard (run with --org-shard i/n){first}")
        elif not gate.go:
            reasons.append(f"{label}: no-go ({len(gate.reasons)} reasons)")
        reasons += [f"{label}: {problem}" for problem in gate.contradictions()]
    reasons += _coverage(recorded)
    for _, gate in gates:
        reasons += gate.reasons
    every = sorted({n for _, shard in recorded for n in shard.profile_orgs})
    selected = sorted({n for _, shard in recorded for n in shard.selected})
    complete = (bool(recorded) and len(recorded) == len(gates) and all(s.complete for _, s in recorded)
                and selected == every)
    merged = _combined([gate for _, gate in gates], complete)
    unique = tuple(dict.fromkeys(reasons))
    merged = _decided(merged, unique)
    # fail closed: a merged go must be a consistent one
    return _decided(merged, (*unique, *merged.contradictions()))


def _decided(gate: Gate, reasons: tuple[str, ...]) -> Gate:
    return dataclasses.replace(gate, reasons=reasons, decision=NO_GO if reasons else GO,
                               exit_status=1 if reasons else 0)


def _combined(gates: Sequence[Gate], complete: bool) -> Gate:
    first = gates[0]
    counts = Counts()
    orgs: dict[str, OrgGate] = {}
    lists: dict[str, tuple[Any, ...]] = dict.fromkeys(LISTS, ())
    left_out: dict[str, str] = {}
    for gate in gates:
        counts += gate.counts
        for name, entry in gate.orgs.items():
            orgs.setdefault(name, entry)
        for kind in LISTS:
            lists[kind] += gate.landscape.entries(kind)
        left_out.update(gate.landscape.left_out)
    shards = tuple(dataclasses.replace(gate.shard, decision=gate.decision) for gate in gates if gate.shard is not None)
    for shard in shards:
        for name, calls in shard.cross_org_api_calls.items():
            if name in orgs:
                orgs[name] = dataclasses.replace(orgs[name], api_calls=orgs[name].api_calls + calls)
    finished = [g.finished for g in gates]
    narrowing = Narrowing(
        selection=first.narrowing.selection, keyword=first.narrowing.keyword, markexpr=first.narrowing.markexpr,
        paths=tuple(sorted({p for g in gates for p in g.narrowing.paths})),
        narrowed_by=tuple(dict.fromkeys(n for g in gates for n in g.narrowing.narrowed_by)),
        deselected=sum(g.narrowing.deselected for g in gates), complete=complete)
    return Gate(
        decision=NO_GO, run_id=first.run_id, release=first.release, profile=first.profile, phase=first.phase,
        started=min(g.started for g in gates), finished=None if None in finished else max(f or "" for f in finished),
        lockstep_version=first.lockstep_version, exit_status=1,
        pytest_exit_status=max((g.pytest_exit_status or 0) for g in gates), counts=counts,
        orgs=dict(sorted(orgs.items())), landscape=Landscape(left_out=left_out, **lists),
        waivers=_waivers(gates), reasons=(), narrowing=narrowing, deployed_at=first.deployed_at, shards=shards,
        catalog=first.catalog,
    )


def _waivers(gates: Sequence[Gate]) -> tuple[WaiverUse, ...]:
    """The profile's waivers across shards (the same profile, so the same list): matches summed,
    used when any shard used it, stale only when every shard found nothing for it."""
    merged = []
    # strict=False: a shard gate with another waiver list (another profile) is a reason for no-go
    # elsewhere; it must not end the merge with an exception
    for uses in zip(*(g.waivers for g in gates), strict=False):
        matched = sum(use.matched for use in uses)
        status = "expired" if any(use.status == "expired" for use in uses) else "used" if matched else "stale"
        merged.append(WaiverUse(uses[0].waiver, matched, status))
    return tuple(merged)
