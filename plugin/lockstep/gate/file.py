"""The gate file: written atomically by a run (:func:`write_gate`), read as a later CI stage does.

:func:`read_gate` returns the :class:`~lockstep.gate.model.Gate` or raises
:class:`GateFileError` (one line) for a missing, unreadable, oversized or malformed file
(the fields are checked by :meth:`Gate.from_json`). :func:`acceptance_problems` adds what a
caller asks for (run id, age).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from lockstep.gate.model import Gate, GateFileError, parse_time
from lockstep.salesforce.errors import redact

__all__ = [
    "GateFileError", "acceptance_problems", "other_run", "parse_age", "read_gate", "unwritten_gate", "write_gate",
]

MAX_BYTES = 256 * 1024 * 1024
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FUTURE_SLACK = dt.timedelta(minutes=5)


def read_gate(path: str | Path) -> Gate:
    """The gate at ``path``; :class:`GateFileError` (one line) for anything that is not one."""
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
    return Gate.from_json(gate, shown)


def other_run(path: str | Path, run_id: str) -> str | None:
    """The run id of another run whose gate is at ``path`` now, or ``None`` (this run's, none,
    or not a gate): a run that finds another's gate where it wrote its own no-go shared the
    file with a concurrent run, and neither result may stand for both."""
    try:
        found = read_gate(path).run_id
    except GateFileError:
        return None
    if found == run_id:
        return None
    return str(found) if found else "(no run id)"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_age(text: str) -> float:
    """Seconds of ``--max-age``: ``90`` or ``90s``, ``30m``, ``12h``, ``2d``; ValueError otherwise."""
    match = _AGE.match(text)
    if not match:
        raise ValueError(f"expected a duration such as 90m, 12h or 2d, got {text!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"expected a positive duration, got {text!r}")
    return seconds


def acceptance_problems(gate: Gate, *, run_id: str | None = None, max_age: float | None = None,
                        now: dt.datetime | None = None) -> list[str]:
    """Why ``gate`` is not the one asked for: another run, or older than ``max_age`` seconds."""
    problems = []
    if run_id is not None and gate.run_id != run_id:
        found = repr(gate.run_id) if gate.run_id else "not recorded"
        problems.append(f"run id is {found}, expected {run_id!r} (the gate of another run)")
    if max_age is not None:
        now = now or dt.datetime.now(dt.UTC)
        finished = parse_time(gate.finished)
        if finished is None:
            problems.append(f"the run has no finish time (finished: {gate.finished!r}), so its age is unknown")
        elif finished - now > _FUTURE_SLACK:
            problems.append(f"the run finished in the future ({gate.finished})")
        elif (now - finished).total_seconds() > max_age:
            age = (now - finished).total_seconds()
            problems.append(f"the gate is {_duration(age)} old (finished {gate.finished}), older than --max-age "
                            f"{_duration(max_age)}")
    return problems


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.0f}s"


def write_gate(path: Path, gate: Gate) -> None:
    """Write the gate JSON atomically: a temporary file in the same folder, then ``os.replace``.
    A symlink is followed: the file it points at (what a later stage reads) is replaced."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    text = redact(json.dumps(gate.to_json(), indent=2, sort_keys=False)) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a later CI stage may read it as another user
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def unwritten_gate(gate: Gate, path: Path, exc: OSError) -> Gate:
    """The gate shown when it could not be written: a no-go saying why (the file on disk is
    the no-go written when the run started, or nothing; never a half-written file)."""
    reason = f"the gate file could not be written: {path}: {exc.strerror or type(exc).__name__}"
    return gate.with_reason(reason)
