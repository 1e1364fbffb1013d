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

from collections.abc import Mapping, Sequence
from typing import Any

from lockstep.gate_file import go_problems

__all__ = ["ShardRecordError", "merge_gates"]

_SAME = (("run_id", "run id"), ("release", "release"), ("phase", "phase"), ("selection", "--orgs"),
         ("keyword", "-k"), ("markexpr", "-m"))
_LANDSCAPE = ("failed", "errors", "warnings", "waived", "skipped")


class ShardRecordError(ValueError):
    """A gate whose ``shard`` entry is malformed (one line)."""


def _names(where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ShardRecordError(f"{where}: expected a list of org names")
    return value


def _shard_of(path: str, gate: Mapping[str, Any]) -> dict[str, Any] | None:
    shard = gate.get("shard")
    if shard is None:
        return None
    if not isinstance(shard, dict):
        raise ShardRecordError(f"{path}: not a gate file: shard: expected an object")
    index, count = shard.get("index"), shard.get("count")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (index, count)) or not 1 <= index <= count:
        raise ShardRecordError(f"{path}: not a gate file: shard: expected index and count with 1 <= index <= count")
    for key in ("orgs", "selected", "profile_orgs"):
        _names(f"{path}: not a gate file: shard.{key}", shard.get(key))
    if not isinstance(shard.get("cross_org"), bool) or not isinstance(shard.get("complete"), bool):
        raise ShardRecordError(f"{path}: not a gate file: shard: cross_org and complete must be booleans")
    calls = shard.get("cross_org_api_calls", {})
    if not isinstance(calls, dict) or not all(isinstance(c, int) and not isinstance(c, bool) for c in calls.values()):
        raise ShardRecordError(f"{path}: not a gate file: shard.cross_org_api_calls: expected counts per org")
    return shard


def _label(path: str, shard: Mapping[str, Any] | None, gate: Mapping[str, Any]) -> str:
    if shard is not None:
        return f"shard {shard['index']}/{shard['count']} ({path})"
    return f"shard {gate['org_shard']} ({path})" if gate.get("org_shard") else path


def _agreement(gates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """One reason per field the shards disagree on."""
    reasons = []
    fields: list[tuple[str, Any]] = [("profile", lambda g: (g["profile"].get("name"), g["profile"].get("sha256")))]
    fields += [(name, lambda g, key=key: g.get(key)) for key, name in _SAME]
    fields.append(("shard count", lambda g: (g.get("shard") or {}).get("count")))
    for name, value_of in fields:
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


def _coverage(shards: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Every org of the selection verified exactly once; the cross-org shard present."""
    reasons = []
    owners: dict[str, list[str]] = {}
    for label, shard in shards:
        for name in shard["orgs"]:
            owners.setdefault(name, []).append(label)
    expected = sorted({n for _, shard in shards for n in shard["selected"]})
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
    cross = [label for label, shard in shards if shard["cross_org"]]
    if not cross:
        reasons.append("the cross-org and landscape checks never ran (no gate of shard 1)")
    elif len(cross) > 1:
        reasons.append(f"the cross-org and landscape checks ran more than once ({', '.join(cross)})")
    return reasons


def merge_gates(gates: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The gate of the whole run from ``(path, gate)`` of each shard (gates already read by
    :func:`~lockstep.gate_file.read_gate`); :class:`ShardRecordError` for a malformed shard entry."""
    shards = [(path, gate, _shard_of(path, gate)) for path, gate in gates]
    reasons = _agreement(gates)
    recorded = [(_label(path, shard, gate), shard) for path, gate, shard in shards if shard is not None]
    for path, gate, shard in shards:
        label = _label(path, shard, gate)
        if shard is None:
            first = f": {gate['reasons'][0]}" if gate.get("reasons") else ""
            reasons.append(f"{label}: not the gate of a finished shard (run with --org-shard i/n){first}")
        elif gate["decision"] != "go":
            reasons.append(f"{label}: no-go ({len(gate['reasons'])} reasons)")
        reasons += [f"{label}: {problem}" for problem in go_problems(gate)]
    reasons += _coverage(recorded)
    for _, gate, _ in shards:
        reasons += [str(r) for r in gate["reasons"]]
    merged = _combined([gate for _, gate, _ in shards], [shard for _, _, shard in shards if shard is not None])
    merged["reasons"] = list(dict.fromkeys(reasons))
    merged["decision"], merged["exit_status"] = ("no-go", 1) if merged["reasons"] else ("go", 0)
    merged["reasons"] += go_problems(merged)  # fail closed: a merged go must be a consistent one
    merged["decision"], merged["exit_status"] = ("no-go", 1) if merged["reasons"] else ("go", 0)
    every = sorted({n for shard in merged["shards"] for n in shard["profile_orgs"]})
    selected = sorted({n for shard in merged["shards"] for n in shard["selected"]})
    merged["complete"] = (bool(recorded) and len(recorded) == len(shards)
                          and all(s["complete"] for _, s in recorded) and selected == every)
    return merged


def _combined(gates: Sequence[Mapping[str, Any]], shards: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    first = gates[0]
    counts: dict[str, int] = {}
    orgs: dict[str, Any] = {}
    landscape: dict[str, Any] = {key: [] for key in _LANDSCAPE}
    landscape["left_out"] = {}
    for gate in gates:
        for key, value in gate["counts"].items():
            counts[key] = counts.get(key, 0) + value
        for name, entry in gate["orgs"].items():
            orgs.setdefault(name, dict(entry))
        for key in _LANDSCAPE:
            landscape[key] += gate["landscape"].get(key, [])
        landscape["left_out"].update(gate["landscape"].get("left_out", {}))
    for shard in shards:
        for name, calls in shard.get("cross_org_api_calls", {}).items():
            if name in orgs:
                orgs[name]["api_calls"] = int(orgs[name].get("api_calls", 0)) + calls
    finished = [g["finished"] for g in gates]
    return {
        "decision": "no-go",
        "run_id": first.get("run_id"),
        "release": first.get("release"),
        "profile": {"name": first["profile"].get("name"), "sha256": first["profile"].get("sha256")},
        "phase": first["phase"],
        "started": min(g["started"] for g in gates),
        "finished": None if None in finished else max(finished),
        "lockstep_version": first.get("lockstep_version"),
        "exit_status": 1,
        "pytest_exit_status": max((g.get("pytest_exit_status") or 0) for g in gates),
        "counts": counts,
        "orgs": dict(sorted(orgs.items())),
        "landscape": landscape,
        "waivers": _waivers(gates),
        "reasons": [],
        **{key: first.get(key) for key, _ in _SAME[3:]},
        "paths": sorted({p for g in gates for p in g.get("paths") or []}),
        "deselected": sum(int(g.get("deselected") or 0) for g in gates),
        "complete": False,
        "shards": [{**shard, "decision": gate["decision"]} for gate, shard in zip(
            [g for g in gates if g.get("shard") is not None], shards)],
    }


def _waivers(gates: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The profile's waivers across shards (the same profile, so the same list): matches summed,
    used when any shard used it, stale only when every shard found nothing for it."""
    lists = [g.get("waivers") or [] for g in gates]
    merged = []
    for entries in zip(*lists):
        matched = sum(int(e.get("matched") or 0) for e in entries)
        status = ("expired" if any(e.get("status") == "expired" for e in entries)
                  else "used" if matched else "stale")
        merged.append({**entries[0], "matched": matched, "status": status})
    return merged
