"""The command-line options of a run: its clock, its identity, the gate file, how the run was
narrowed, and the gate written before anything else (so a run that never finishes is a no-go)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import itertools
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from _pytest.config.findpaths import determine_setup

from lockstep import __version__
from lockstep.gate.build import unfinished_gate
from lockstep.gate.file import write_gate
from lockstep.gate.model import Narrowing
from lockstep.salesforce.errors import one_line
from lockstep.session.bundled import use_bundled_demo

__all__ = [
    "CI_RUN_IDS",
    "DEFAULT_CONCURRENCY",
    "catalog_args",
    "gate_path",
    "join_option_values",
    "narrowed_by",
    "open_run",
    "option",
    "org_concurrency",
    "parse_time",
    "run_id_of",
    "run_start",
    "selection",
    "utcnow",
    "write_unfinished",
    "writes_gate",
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
                  "--now", "--org-concurrency")
_START = pytest.StashKey[tuple[str, str]]()
_BAD_RUN_ID = pytest.StashKey[str]()


DEFAULT_CONCURRENCY = 256  # latency is paid once: 400 orgs at 100 ms per request add 0.2 s (64: 7.9 s)


def org_concurrency(value: str | None) -> int:
    """``--org-concurrency``: a positive integer, or the default when not given. Checked once the
    run has replaced the gate by its no-go, not while pytest parses the command line (an error
    there would leave an older gate standing)."""
    if value is None:
        return DEFAULT_CONCURRENCY
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1 or str(value).strip() != str(value):
        raise pytest.UsageError(f"--org-concurrency: expected a positive integer (orgs at once), got {value!r}")
    return number


def utcnow() -> str:
    """Now, as the gate records times."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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
    """``--run-id``, else the CI's own run id, else a new random one; one line of printable text
    (it is compared by ``gate check --run-id`` and shown on one line)."""
    found = [("--run-id", given or "")] + [(f"${variable}", environ.get(variable, "")) for variable, _ in CI_RUN_IDS]
    for source, value in found:
        if value.strip():
            if not value.strip().isprintable():
                raise pytest.UsageError(f"{source}: a run id is one line of printable text, got {value.strip()!r}")
            return value.strip()
    return uuid.uuid4().hex[:16]


def run_start(config: pytest.Config) -> tuple[str, str]:
    """(started, run id) of this run, fixed by :func:`open_run` (or now, for a config it never saw)."""
    if _START not in config.stash:
        try:
            run_id = run_id_of(option(config, "run_id"), os.environ)
        except pytest.UsageError as exc:  # refused by open_run, after it replaced the gate
            run_id = uuid.uuid4().hex[:16]
            config.stash[_BAD_RUN_ID] = str(exc)
        config.stash[_START] = (utcnow(), run_id)
    return config.stash[_START]


def open_run(config: pytest.Config, args: list[str] | None = None) -> None:
    """The first thing a run does, before conftest files are imported: replace the gate by the
    no-go of a run that has not finished, where this run would write it. Refuse a command line
    on which pytest took an option's value for a test path (it would collect the wrong tests
    and put the gate elsewhere), and a run outside any project (it would collect that folder),
    except the bundled demo's (``--org-profile demo``: :mod:`lockstep.session.bundled`)."""
    if not writes_gate(config):
        return
    started, _ = run_start(config)
    root, inipath = _intended_setup(config)
    refusal = None
    if inipath is None and not config.known_args_namespace.file_or_dir and not option(config, "rootdir"):
        if args is not None and use_bundled_demo(option(config, "org_profile"), config.invocation_params.dir, args):
            write_unfinished(config, gate_path(config, root), f"run started {started} and did not finish", started)
            return
        refusal = (f"no pytest configuration in {config.invocation_params.dir} or above, so no check catalog:"
                   " run pytest in your Lockstep project (where pyproject.toml or pytest.ini sets testpaths)"
                   " or name the check files")
        if not option(config, "gate_file"):
            raise pytest.UsageError(refusal)
    elif root != Path(config.rootpath):
        refusal = _moved_rootdir(config)
    refusal = refusal or config.stash.get(_BAD_RUN_ID, None)
    write_unfinished(config, gate_path(config, root), refusal or f"run started {started} and did not finish", started)
    if refusal:
        raise pytest.UsageError(refusal)


def write_unfinished(config: pytest.Config, path: Path, reason: str, started: str) -> None:
    """Write the no-go gate of a run that has not finished (``reason``: why), replacing any older gate."""
    given = str(option(config, "org_profile") or "")
    name = Path(given).stem if given.endswith((".yaml", ".yml")) or "/" in given else given
    gate = unfinished_gate(
        one_line(reason), release=option(config, "release"), profile_name=name,
        markexpr=option(config, "markexpr") or "", started=started, version=__version__,
        run_id=run_start(config)[1], narrowing=selection(config),
    )
    try:
        write_gate(path, gate)
    except OSError as exc:
        raise pytest.UsageError(f"--gate-file: cannot write {path}: {exc.strerror or exc}") from None


def join_option_values(config: pytest.Config) -> None:
    """Hand xdist workers Lockstep's options as ``--option=value``: they parse the controller's
    arguments again, after the unfinished gate exists, and would take a separate value that is
    now an existing path (``--gate-file PATH``) for a test path, moving their rootdir. They get
    this run's id too: a worker replaces the gate by the no-go of its run before it knows it is
    a worker, and that no-go must not read as another run's."""
    args = list(config.invocation_params.args)
    joined, index = [f"--run-id={run_start(config)[1]}"], 0
    while index < len(args):
        if args[index] in _VALUE_OPTIONS and index + 1 < len(args):
            joined.append(f"{args[index]}={args[index + 1]}")
            index += 2
        else:
            joined.append(args[index])
            index += 1
    if joined != args:
        config.invocation_params = dataclasses.replace(config.invocation_params, args=tuple(joined))


def selection(config: pytest.Config) -> Narrowing:
    """How the run was narrowed, as recorded in the gate (not yet what it deselected)."""
    return Narrowing(selection=option(config, "orgs"), org_shard=option(config, "org_shard"),
                     keyword=option(config, "keyword") or "", markexpr=option(config, "markexpr") or "",
                     paths=tuple(narrowing_paths(config)), narrowed_by=tuple(narrowed_by(config)), complete=False)


# Ways to leave checks out before they are collected (pytest never reports them as
# deselected): a run given one of them is not a complete run. ``--ignore`` in the project's
# own ``addopts`` is part of its catalog, like ``collect_ignore`` in a conftest file.
_RERUNS = (("lf", "--lf"), ("stepwise", "--sw"), ("stepwise_skip", "--sw-skip"))
_IGNORES = (("ignore", "--ignore"), ("ignore_glob", "--ignore-glob"))
_COLLECTION_INI = ("addopts", "testpaths", "python_files", "python_classes", "python_functions", "norecursedirs")


def narrowed_by(config: pytest.Config) -> list[str]:
    """The options of this run that left checks out before collection (``--lf``, ``--ignore``, ...)."""
    found = [flag for name, flag in _RERUNS if option(config, name)]
    project = _ini_addopts(config)
    for name, flag in _IGNORES:
        found += [f"{flag}={value}" for value in option(config, name) or []
                  if f"{flag}={value}" not in project and not _follows(project, flag, str(value))]
    for setting in option(config, "override_ini") or []:
        if str(setting).split("=", 1)[0].strip() in _COLLECTION_INI:
            found.append(f"-o {setting}")
    return found


def _ini_addopts(config: pytest.Config) -> list[str]:
    try:
        return [str(token) for token in config.getini("addopts")]
    except (ValueError, KeyError):
        return []


def _follows(tokens: list[str], flag: str, value: str) -> bool:
    return any(token == flag and after == value for token, after in itertools.pairwise(tokens))


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
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _intended_setup(config: pytest.Config) -> tuple[Path, Path | None]:
    """The rootdir and configuration file pytest picks once Lockstep's option values are not
    taken for test paths."""
    if option(config, "rootdir"):
        return Path(config.rootpath), config.inipath
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
