"""The command-line options of a run: its clock, the gate file, how the run was narrowed,
and the gate written before anything else (so a run that never finishes is a no-go)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "check_rootdir", "gate_path", "join_gate_file_value", "parse_time", "selection", "utcnow", "write_unfinished",
    "writes_gate",
]


def utcnow() -> str:
    """Now, as the gate records times."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def writes_gate(config: pytest.Config) -> bool:
    """Only the controller of a run that executes checks writes a gate (not --collect-only, --help, --markers)."""
    if getattr(config, "workerinput", None) is not None:
        return False
    option = config.option
    return not any(getattr(option, name, False) for name in ("collectonly", "help", "markers", "version"))


def write_unfinished(config: pytest.Config, path: Path, reason: str, started: str) -> None:
    """Write the no-go gate of a run that has not finished (``reason``: why), replacing any older gate."""
    from lockstep import __version__
    from lockstep.gate import unfinished_gate
    from lockstep.report import write_gate
    from lockstep.salesforce.errors import one_line

    given = str(config.getoption("org_profile", "") or "")
    name = Path(given).stem if given.endswith((".yaml", ".yml")) or "/" in given else given
    gate = unfinished_gate(
        one_line(reason), release=config.getoption("release", None), profile_name=name,
        markexpr=config.getoption("markexpr", "") or "", started=started, version=__version__,
        extra={**selection(config), "complete": False},
    )
    try:
        write_gate(path, gate)
    except OSError as exc:
        raise pytest.UsageError(f"--gate-file: cannot write {path}: {exc.strerror or exc}") from None


def join_gate_file_value(config: pytest.Config) -> None:
    """Hand xdist workers ``--gate-file=PATH`` as one argument: they parse the controller's
    arguments again, after the unfinished gate exists, and would take a separate PATH for a
    test path (moving their rootdir away from the controller's)."""
    args = list(config.invocation_params.args)
    joined, index = [], 0
    while index < len(args):
        if args[index] == "--gate-file" and index + 1 < len(args):
            joined.append(f"--gate-file={args[index + 1]}")
            index += 2
        else:
            joined.append(args[index])
            index += 1
    if joined != args:
        config.invocation_params = dataclasses.replace(config.invocation_params, args=tuple(joined))


def selection(config: pytest.Config) -> dict[str, Any]:
    """How the run was narrowed, as recorded in the gate."""
    return {
        "selection": config.getoption("orgs", None),
        "keyword": config.getoption("keyword", "") or "",
        "markexpr": config.getoption("markexpr", "") or "",
        "paths": narrowing_paths(config),
    }


def narrowing_paths(config: pytest.Config) -> list[str]:
    """The test files or node ids the run was limited to (folders run a whole catalog)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    root = Path(config.invocation_params.dir)
    return [arg for arg in config.args if "::" in arg or not (root / arg).is_dir()]


def parse_time(option: str, value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise pytest.UsageError(f"{option}: not an ISO-8601 date/time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def check_rootdir(config: pytest.Config) -> None:
    """pytest picks the rootdir before plugin options are known, so ``--gate-file /x/gate.json``
    (an existing file, value as a separate argument) can move the rootdir; say so instead of
    running somewhere else."""
    if config.getoption("rootdir", None):
        return
    args = list(config.invocation_params.args)
    invocation = config.invocation_params.dir.resolve()
    root = Path(config.rootpath).resolve()
    if root == invocation or root in invocation.parents:
        return
    for option in ("--gate-file", "--org-profile"):
        for index, arg in enumerate(args[:-1]):
            value = args[index + 1]
            if arg == option and (invocation / value).exists():
                raise pytest.UsageError(
                    f"{option} {value}: pytest took the value for a test path and moved the rootdir to {root};"
                    f" write {option}={value}"
                )


def gate_path(config: pytest.Config) -> Path:
    given = config.getoption("gate_file", None)
    return Path(given) if given else Path(config.rootpath) / "reports" / "gate.json"

