"""The upstream stage: did the stage before this one pass for the same release?

    release:
      upstream:
        profile: staging               # the upstream profile's name, as recorded in its gate file
        phase: verification            # the phase that must have passed (a run of all phases counts;
                                       # phase: all needs a run of all phases)
        gate_file: reports/staging-gate.json   # relative to the pytest rootdir, or absolute
        max_age_hours: 72              # optional: how old the upstream gate may be
        allow_partial: false           # optional: accept a gate of a narrowed run (--orgs, -k, deselected)

:func:`upstream_problems` reads the gate file and returns one line per thing that is
missing or wrong (an empty list means the upstream stage passed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockstep.config.errors import ConfigError
from lockstep.config.scalars import is_number
from lockstep.config.schema import check_keys, listed
from lockstep.config.suggest import did_you_mean
from lockstep.gate.file import GateFileError, read_gate
from lockstep.gate.model import Gate, parse_time

__all__ = ["Upstream", "parse_upstream", "partial_problem", "upstream_problems"]

_KEYS = ("profile", "phase", "gate_file", "max_age_hours", "allow_partial")
_PHASES = ("readiness", "verification", "all")


@dataclass(frozen=True)
class Upstream:
    profile: str
    phase: str
    gate_file: str
    max_age_hours: float | None = None
    allow_partial: bool = False

    def describe(self) -> str:
        return f"upstream stage {self.profile} ({self.phase})"


def parse_upstream(data: Any) -> Upstream | None:
    """Validate ``release.upstream``; None when the profile names no upstream stage."""
    if data is None:
        return None
    key = "release.upstream"
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a mapping, got {type(data).__name__}", key=key)
    check_keys(data, _KEYS, key, hint=listed)
    for name in ("profile", "gate_file"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise ConfigError("expected a string" if name in data else f"missing required key {name!r}",
                              key=f"{key}.{name}" if name in data else key)
    phase = data.get("phase", "verification")
    if phase not in _PHASES:
        hint = did_you_mean(str(phase), _PHASES) or f" (use {', '.join(_PHASES)})"
        raise ConfigError(f"unknown value {phase!r}{hint}", key=f"{key}.phase")
    age = data.get("max_age_hours")
    if age is not None and (not is_number(age) or age <= 0):
        raise ConfigError(f"expected a positive number of hours, got {age!r}", key=f"{key}.max_age_hours")
    partial = data.get("allow_partial", False)
    if not isinstance(partial, bool):
        raise ConfigError(f"expected true or false, got {partial!r}", key=f"{key}.allow_partial")
    return Upstream(str(data["profile"]), str(phase), str(data["gate_file"]), float(age) if age else None, partial)


def partial_problem(gate: Gate) -> str | None:
    """What ``gate`` is instead of the gate of a complete run (``None`` when it is one): a
    narrowed run (``--orgs``, ``-k``, deselected tests) says nothing about what it left out."""
    how = gate.narrowing
    if how.complete is True:
        return None
    narrowed = [f"{name} {value!r}" for value, name in ((how.selection, "--orgs"), (how.keyword, "-k"),
                                                        (how.markexpr, "-m"))
                if value and not (name == "-m" and value in _PHASES)]
    if how.org_shard:
        narrowed.append(f"shard {how.org_shard} only: merge every shard's gate with lockstep gate merge")
    if any(reason.startswith("run interrupted") for reason in gate.reasons):
        narrowed.append("interrupted")
    if how.paths:
        narrowed.append(f"limited to {', '.join(how.paths)}")
    if how.narrowed_by:
        narrowed.append(f"left out before collection by {' '.join(how.narrowed_by)}")
    if how.deselected:
        narrowed.append(f"{how.deselected} tests deselected")
    return "a partial run" + (f" ({', '.join(narrowed)})" if narrowed else "")


def upstream_problems(upstream: Upstream, release: str | None, now: dt.datetime, rootdir: Path) -> list[str]:
    """What keeps the upstream stage from counting as passed for ``release`` (empty: it passed)."""
    what = upstream.describe()
    if not release:
        return [f"{what}: expected a go for this release, found no --release given to tie the stages together"]
    path = Path(upstream.gate_file).expanduser()
    path = path if path.is_absolute() else rootdir / path
    if not path.exists():
        return [f"{what}: expected a gate file for release {release}, found no file {upstream.gate_file}"]
    try:
        gate = read_gate(path)
    except GateFileError as exc:
        return [f"{what}: expected a readable gate file, found {upstream.gate_file} unreadable"
                f" ({str(exc).removeprefix(str(path) + ': ')})"]
    problems = []
    if gate.release != release:
        problems.append(f"{what}: expected a gate for release {release}, found release {gate.release}")
    profile = gate.profile.name
    if profile != upstream.profile:
        problems.append(f"{what}: expected a gate of profile {upstream.profile}, found profile {profile}")
    phase = gate.phase
    if phase not in ((upstream.phase,) if upstream.phase == "all" else (upstream.phase, "all")):
        wanted = "gate of a run of all phases" if upstream.phase == "all" else f"{upstream.phase} gate"
        problems.append(f"{what}: expected a {wanted}, found phase {phase}")
    partial = None if upstream.allow_partial else partial_problem(gate)
    if partial is not None:
        problems.append(f"{what}: expected the gate of a complete run, found {partial}"
                        " (allow_partial: true in release.upstream accepts it)")
    if not gate.go:
        reasons = "; ".join(gate.reasons[:3])
        problems.append(f"{what}: expected go, found {gate.decision}" + (f" ({reasons})" if reasons else ""))
    problems += [f"{what}: expected a consistent go, found a gate whose {p.removeprefix('decision is go but ')}"
                 for p in gate.contradictions()]
    finished = parse_time(gate.finished)
    if finished is None:
        problems.append(f"{what}: expected a finish time in the gate file, found {gate.finished!r}")
    elif upstream.max_age_hours is not None:
        age = (now - finished).total_seconds() / 3600
        if age > upstream.max_age_hours:
            problems.append(f"{what}: expected a gate at most {upstream.max_age_hours:g} h old, "
                            f"found one finished {finished.isoformat(timespec='minutes')} ({age:.0f} h ago)")
    return problems
