"""Reading a gate file as a later CI stage does: one shape, checked field by field, and a
"go" that must agree with every other field before anyone acts on it.

:func:`read_gate` returns the document or raises :class:`GateFileError` (one line) for a
missing, unreadable, oversized or malformed file. :func:`go_problems` lists what in a "go"
gate contradicts its decision (no-go orgs, reasons, no finish time, no executed check, a
non-zero exit status); a consistent "go" has none. :func:`acceptance_problems` adds what a
caller asks for (run id, age, release, phase, profile, a complete run).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["GateFileError", "acceptance_problems", "go_problems", "other_run", "parse_age", "read_gate",
           "structure_problem"]

MAX_BYTES = 256 * 1024 * 1024
_DECISIONS = ("go", "no-go")
_LISTS = ("failed", "errors", "warnings", "waived", "skipped")
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FUTURE_SLACK = dt.timedelta(minutes=5)


class GateFileError(Exception):
    """A gate file that cannot be read or is not a gate; the message is one line."""


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def _entries_problem(where: str, value: Any) -> str | None:
    if not isinstance(value, list):
        return f"{where}: expected a list, found {_type(value)}"
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("check", "reason")):
            return f"{where}[{index}]: expected an object with check and reason strings"
    return None


def _counts_problem(where: str, value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"{where}: expected an object, found {_type(value)}"
    for key, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return f"{where}.{key}: expected a count, found {count!r}"
    return None


def structure_problem(gate: Any) -> str | None:
    """The first thing that keeps ``gate`` from being a gate document, or ``None``."""
    if not isinstance(gate, dict):
        return f"expected a JSON object, found {_type(gate)}"
    expected: dict[str, tuple[type, ...]] = {
        "decision": (str,), "profile": (dict,), "phase": (str,), "orgs": (dict,), "counts": (dict,),
        "reasons": (list,), "landscape": (dict,), "started": (str,), "finished": (str, type(None)),
        "exit_status": (int, type(None)), "release": (str, type(None)),
    }
    for key, kinds in expected.items():
        if key not in gate:
            return f"missing key {key!r}"
        if not isinstance(gate[key], kinds) or (isinstance(gate[key], bool) and bool not in kinds):
            return f"{key}: expected {' or '.join(_type(k()) if k is not type(None) else 'null' for k in kinds)}," \
                   f" found {_type(gate[key])}"
    if gate["decision"] not in _DECISIONS:
        return f"decision: unknown value {gate['decision']!r} (expected go or no-go)"
    for key in ("run_id",):
        if key in gate and not isinstance(gate[key], (str, type(None))):
            return f"{key}: expected a string, found {_type(gate[key])}"
    if not all(isinstance(r, str) for r in gate["reasons"]):
        return "reasons: expected a list of strings"
    problem = _counts_problem("counts", gate["counts"])
    if problem:
        return problem
    for name, entry in gate["orgs"].items():
        if not isinstance(entry, dict):
            return f"orgs.{name}: expected an object, found {_type(entry)}"
        if entry.get("decision") not in _DECISIONS:
            return f"orgs.{name}.decision: expected go or no-go, found {entry.get('decision')!r}"
        if not isinstance(entry.get("reachable", True), bool):
            return f"orgs.{name}.reachable: expected a boolean"
        problem = _counts_problem(f"orgs.{name}.counts", entry.get("counts", {}))
        for key in _LISTS:
            problem = problem or _entries_problem(f"orgs.{name}.{key}", entry.get(key, []))
        if problem:
            return problem
    for key in _LISTS:
        problem = _entries_problem(f"landscape.{key}", gate["landscape"].get(key, []))
        if problem:
            return problem
    if not isinstance(gate["landscape"].get("left_out", {}), dict):
        return "landscape.left_out: expected an object"
    return _catalog_problem(gate.get("catalog", {}))


def _catalog_problem(catalog: Any) -> str | None:
    """``catalog`` (optional): which checks ran (:mod:`lockstep.catalog_select`)."""
    if not isinstance(catalog, dict):
        return f"catalog: expected an object, found {_type(catalog)}"
    for key in ("lockstep_version", "builtin", "builtin_sha256", "own_sha256"):
        if not isinstance(catalog.get(key), (str, type(None))):
            return f"catalog.{key}: expected a string or null, found {_type(catalog[key])}"
    for key in ("builtin_files", "own_files", "left_out"):
        value = catalog.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"catalog.{key}: expected a list of strings"
    replaced = catalog.get("replaced", [])
    if not isinstance(replaced, list) or not all(
            isinstance(r, dict) and isinstance(r.get("check"), str) and isinstance(r.get("by"), str) for r in replaced):
        return "catalog.replaced: expected a list of objects with check and by strings"
    return None


def read_gate(path: str | Path) -> dict[str, Any]:
    """The gate document at ``path``; :class:`GateFileError` for anything that is not one."""
    shown = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except FileNotFoundError:
        raise GateFileError(f"{shown}: no such gate file") from None
    except IsADirectoryError:
        raise GateFileError(f"{shown}: not a gate file (a directory)") from None
    except OSError as exc:
        raise GateFileError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise GateFileError(f"{shown}: not a gate file ({kind})")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise GateFileError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise GateFileError(f"{shown}: not a gate file (larger than {MAX_BYTES // (1024 * 1024)} MiB)")
    try:
        gate = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise GateFileError(f"{shown}: not a gate file (JSON nested too deeply)") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise GateFileError(f"{shown}: not a gate file: {' '.join(str(exc).split())[:200]}") from None
    problem = structure_problem(gate)
    if problem is not None:
        raise GateFileError(f"{shown}: not a gate file: {problem}")
    return gate


def other_run(path: str | Path, run_id: str) -> str | None:
    """The run id of another run whose gate is at ``path`` now, or ``None`` (this run's, none,
    or not a gate): a run that finds another's gate where it wrote its own no-go shared the
    file with a concurrent run, and neither result may stand for both."""
    try:
        found = read_gate(path).get("run_id")
    except GateFileError:
        return None
    if found == run_id:
        return None
    return str(found) if found else "(no run id)"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def go_problems(gate: Mapping[str, Any]) -> list[str]:
    """What in a "go" gate contradicts its decision (empty for a consistent go or a no-go)."""
    if gate.get("decision") != "go":
        return []
    problems = []
    if gate.get("reasons"):
        problems.append(f"decision is go but it lists {len(gate['reasons'])} reasons ({gate['reasons'][0]})")
    started, finished = _when(gate.get("started")), _when(gate.get("finished"))
    if finished is None:
        problems.append(f"decision is go but the run has no finish time (finished: {gate.get('finished')!r})")
    elif started is None:
        problems.append(f"decision is go but the run has no start time (started: {gate.get('started')!r})")
    elif finished < started:
        problems.append(f"decision is go but the run finished ({gate['finished']}) before it started ({gate['started']})")
    if gate.get("exit_status") != 0:
        problems.append(f"decision is go but the exit status is {gate.get('exit_status')!r}, not 0")
    counts = gate.get("counts") or {}
    if not counts.get("executed"):
        problems.append("decision is go but no check was executed")
    if counts.get("errors"):
        problems.append(f"decision is go but it counts {counts['errors']} errors")
    blocking = sum(counts.get(key, 0) for key in ("failed", "xfailed", "xpassed"))
    if blocking > counts.get("warnings", 0) + counts.get("waived", 0):
        problems.append(f"decision is go but it counts {blocking} failed checks, more than its warnings and waivers")
    orgs = gate.get("orgs") or {}
    if not orgs:
        problems.append("decision is go but it names no org")
    bad = [name for name, entry in orgs.items()
           if entry.get("decision") != "go" or entry.get("reachable") is False or entry.get("failed")
           or entry.get("errors") or not (entry.get("counts") or {}).get("executed")]
    if bad:
        problems.append(f"decision is go but org {bad[0]} is not" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
    landscape = gate.get("landscape") or {}
    if landscape.get("failed") or landscape.get("errors"):
        problems.append("decision is go but cross-org checks failed")
    return problems


def parse_age(text: str) -> float:
    """Seconds of ``--max-age``: ``90`` or ``90s``, ``30m``, ``12h``, ``2d``; ValueError otherwise."""
    match = _AGE.match(text)
    if not match:
        raise ValueError(f"expected a duration such as 90m, 12h or 2d, got {text!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"expected a positive duration, got {text!r}")
    return seconds


def acceptance_problems(gate: Mapping[str, Any], *, run_id: str | None = None, max_age: float | None = None,
                        now: dt.datetime | None = None) -> list[str]:
    """Why ``gate`` is not the one asked for: another run, or older than ``max_age`` seconds."""
    problems = []
    if run_id is not None and gate.get("run_id") != run_id:
        found = repr(gate.get("run_id")) if gate.get("run_id") else "not recorded"
        problems.append(f"run id is {found}, expected {run_id!r} (the gate of another run)")
    if max_age is not None:
        now = now or dt.datetime.now(dt.timezone.utc)
        finished = _when(gate.get("finished"))
        if finished is None:
            problems.append(f"the run has no finish time (finished: {gate.get('finished')!r}), so its age is unknown")
        elif finished - now > _FUTURE_SLACK:
            problems.append(f"the run finished in the future ({gate['finished']})")
        elif (now - finished).total_seconds() > max_age:
            age = (now - finished).total_seconds()
            problems.append(f"the gate is {_duration(age)} old (finished {gate['finished']}), older than --max-age "
                            f"{_duration(max_age)}")
    return problems


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.0f}s"
