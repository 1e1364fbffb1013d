"""The command-line options of a run: its clock, its identity, the gate file, how the run was
narrowed, and the gate written before anything else (so a run that never finishes is a no-go)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CI_RUN_IDS", "catalog_args", "gate_path", "join_option_values", "open_run", "option", "parse_time", "run_id_of",
    "run_start", "selection", "utcnow", "write_unfinished", "writes_gate",
]

# The run id a CI system gives every job of one pipeline run, most specific first.
CI_RUN_IDS = (
    ("GITHUB_RUN_ID", "GitHub Actions"),
    ("CI_PIPELINE_ID", "GitLab CI"),
    ("BUILD_TAG", "Jenkins"),
    ("BUILD_BUILDID", "Azure Pipelines"),
    ("CIRCLE_WORKFLOW_ID", "CircleCI"),
    ("BUILDKITE_BUILD_ID", "Buildkite"),
    ("BITBUCKET_PIPELINE_UUID", "Bitbucket Pipelines"),
)
# Lockstep's options that take a value: given as two tokens, pytest takes the value for a
# test path while it picks the rootdir (before plugin options are known).
_VALUE_OPTIONS = ("--org-profile", "--gate-file", "--orgs", "--org-shard", "--release", "--run-id", "--deployed-at",
                  "--now")
_START = pytest.StashKey[tuple[str, str]]()


def utcnow() -> str:
    """Now, as the gate records times."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def option(config: pytest.Config, name: str) -> Any:
    """An option's value, also before pytest parsed the command line completely (early hooks)."""
    namespace = getattr(config, "known_args_namespace", None)
    if namespace is not None and hasattr(namespace, name):
        return getattr(namespace, name)
    return getattr(config.option, name, None)


def writes_gate(config: pytest.Config) -> bool:
    """Only the controller of a run that executes checks writes a gate (not --collect-only, --help, --markers)."""
    if getattr(config, "workerinput", None) is not None:
        return False
    return not any(option(config, name) for name in ("collectonly", "help", "markers", "version"))


def run_id_of(given: str | None, environ: Mapping[str, str]) -> str:
    """``--run-id``, else the CI's own run id, else a new random one."""
    if given and given.strip():
        return given.strip()
    for variable, _ in CI_RUN_IDS:
        if environ.get(variable, "").strip():
            return environ[variable].strip()
    return uuid.uuid4().hex[:16]


def run_start(config: pytest.Config) -> tuple[str, str]:
    """(started, run id) of this run, fixed by :func:`open_run` (or now, for a config it never saw)."""
    if _START not in config.stash:
        config.stash[_START] = (utcnow(), run_id_of(option(config, "run_id"), os.environ))
    return config.stash[_START]


def open_run(config: pytest.Config) -> None:
    """The first thing a run does, before conftest files are imported: replace the gate by the
    no-go of a run that has not finished, where this run would write it. Refuse a command line
    on which pytest took an option's value for a test path (it would collect the wrong tests
    and put the gate elsewhere), and a run outside any project (it would collect that folder)."""
    if not writes_gate(config):
        return
    started, _ = run_start(config)
    root, inipath = _intended_setup(config)
    refusal = None
    if inipath is None and not config.known_args_namespace.file_or_dir and not option(config, "rootdir"):
        refusal = (f"no pytest configuration in {config.invocation_params.dir} or above, so no check catalog:"
                   " run pytest in your Lockstep project (where pyproject.toml or pytest.ini sets testpaths)"
                   " or name the check files")
        if not option(config, "gate_file"):
            raise pytest.UsageError(refusal)
    elif root != Path(config.rootpath):
        refusal = _moved_rootdir(config)
    write_unfinished(config, gate_path(config, root), refusal or f"run started {started} and did not finish", started)
    if refusal:
        raise pytest.UsageError(refusal)


def write_unfinished(config: pytest.Config, path: Path, reason: str, started: str) -> None:
    """Write the no-go gate of a run that has not finished (``reason``: why), replacing any older gate."""
    from lockstep import __version__
    from lockstep.gate import unfinished_gate
    from lockstep.report import write_gate
    from lockstep.salesforce.errors import one_line

    given = str(option(config, "org_profile") or "")
    name = Path(given).stem if given.endswith((".yaml", ".yml")) or "/" in given else given
    gate = unfinished_gate(
        one_line(reason), release=option(config, "release"), profile_name=name,
        markexpr=option(config, "markexpr") or "", started=started, version=__version__,
        run_id=run_start(config)[1], extra={**selection(config), "complete": False},
    )
    try:
        write_gate(path, gate)
    except OSError as exc:
        raise pytest.UsageError(f"--gate-file: cannot write {path}: {exc.strerror or exc}") from None


def join_option_values(config: pytest.Config) -> None:
    """Hand xdist workers Lockstep's options as ``--option=value``: they parse the controller's
    arguments again, after the unfinished gate exists, and would take a separate value that is
    now an existing path (``--gate-file PATH``) for a test path, moving their rootdir."""
    args = list(config.invocation_params.args)
    joined, index = [], 0
    while index < len(args):
        if args[index] in _VALUE_OPTIONS and index + 1 < len(args):
            joined.append(f"{args[index]}={args[index + 1]}")
            index += 2
        else:
            joined.append(args[index])
            index += 1
    if joined != args:
        config.invocation_params = dataclasses.replace(config.invocation_params, args=tuple(joined))


def selection(config: pytest.Config) -> dict[str, Any]:
    """How the run was narrowed, as recorded in the gate."""
    return {
        "selection": option(config, "orgs"),
        "org_shard": option(config, "org_shard"),
        "keyword": option(config, "keyword") or "",
        "markexpr": option(config, "markexpr") or "",
        "paths": narrowing_paths(config),
    }


def narrowing_paths(config: pytest.Config) -> list[str]:
    """The test files or node ids the run was limited to (folders run a whole catalog)."""
    if not config.args or config.args_source != pytest.Config.ArgsSource.ARGS:
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


def _intended_setup(config: pytest.Config) -> tuple[Path, Path | None]:
    """The rootdir and configuration file pytest picks once Lockstep's option values are not
    taken for test paths."""
    if option(config, "rootdir"):
        return Path(config.rootpath), config.inipath
    from _pytest.config.findpaths import determine_setup

    namespace = config.known_args_namespace
    rootdir, inipath, _, _ = determine_setup(
        inifile=namespace.inifilename, override_ini=namespace.override_ini, args=namespace.file_or_dir,
        rootdir_cmd_arg=None, invocation_dir=config.invocation_params.dir,
    )
    return Path(rootdir), inipath


def _moved_rootdir(config: pytest.Config) -> str:
    args = list(config.invocation_params.args)
    for index, arg in enumerate(args[:-1]):
        value = args[index + 1]
        if arg in _VALUE_OPTIONS and (config.invocation_params.dir / value).exists():
            return (f"{arg} {value}: pytest took the value for a test path and moved the rootdir to"
                    f" {config.rootpath}; write {arg}={value}")
    return (f"pytest took an option value for a test path and moved the rootdir to {config.rootpath};"
            " write Lockstep's options as --option=value")


def catalog_args(config: pytest.Config) -> None:
    """Run from a subfolder of the project without test paths, pytest would collect only that
    folder: collect the project's catalog (the ``testpaths`` of its configuration) instead."""
    if config.args_source != pytest.Config.ArgsSource.INVOCATION_DIR or option(config, "pyargs"):
        return
    root = Path(config.rootpath)
    found = [match for pattern in config.getini("testpaths") for match in sorted(glob.iglob(str(root / pattern),
                                                                                               recursive=True))]
    if found:
        config.args[:] = found
        config.args_source = pytest.Config.ArgsSource.TESTPATHS


def gate_path(config: pytest.Config, root: Path | None = None) -> Path:
    given = option(config, "gate_file")
    return Path(given) if given else Path(root or config.rootpath) / "reports" / "gate.json"
