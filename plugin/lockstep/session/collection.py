"""Which checks a run collects: the built-in catalog beside the project's own checks.

A project that installs Lockstep runs the built-in catalog (``lockstep.catalog``) with its own
check files in the same run, unless its pytest configuration says ``lockstep_catalog = none``.
It leaves built-in checks out by name (``lockstep_catalog_skip``: ``test_api_headroom``,
``test_packages.py::*``, ``test_drift.py``) and replaces one by a check of its own with the same
name. Both are the project's declared policy, not a narrowing of the run: the gate records them
under ``catalog`` with the Lockstep version and a content hash of the built-in and of the
project's own check files that were collected, so two gates say whether the same checks ran.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lockstep import __version__
from lockstep.config.errors import ConfigError
from lockstep.config.expectations import builtin_expectations, declared_in, known
from lockstep.config.profile import Profile, check_expectations
from lockstep.config.suggest import did_you_mean
from lockstep.gate.catalog import CatalogRecord
from lockstep.session.bundled import catalog_folder
from lockstep.session.options import narrowing_paths

__all__ = ["CatalogHooks", "add_ini", "builtin_checks", "catalog_record", "check_expectations_of", "files_sha256",
           "select_catalog"]

INI_CATALOG = "lockstep_catalog"
INI_SKIP = "lockstep_catalog_skip"
_CHOICES = ("builtin", "none")
_PLUGIN = "lockstep-catalog"
_WORKER_KEY = "lockstep_catalog"


def add_ini(parser: pytest.Parser) -> None:
    parser.addini(INI_CATALOG, default="builtin",
                  help="Lockstep: run the built-in check catalog beside the project's checks (builtin, the default)"
                       " or only the project's own (none)")
    parser.addini(INI_SKIP, type="args", default=[],
                  help="Lockstep: built-in checks the project leaves out: a check name, FILE.py or FILE.py::NAME"
                       " (globs allowed); recorded in the gate, the run stays complete")


def builtin_checks(folder: Path) -> dict[str, tuple[str, ...]]:
    """The built-in catalog's check names by file: ``test_x`` and ``TestY::test_z``."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(folder.glob("test_*.py")):
        names: list[str] = []
        for node in ast.parse(path.read_bytes(), filename=str(path)).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                names.append(node.name)
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                names += [f"{node.name}::{inner.name}" for inner in node.body
                          if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef))
                          and inner.name.startswith("test")]
        found[path.name] = tuple(names)
    return found


def _matches(pattern: str, file: str, check: str) -> bool:
    if "::" in pattern:
        file_pattern, _, check_pattern = pattern.partition("::")
        return fnmatch.fnmatchcase(file, file_pattern) and fnmatch.fnmatchcase(check, check_pattern)
    if pattern.endswith(".py"):
        return fnmatch.fnmatchcase(file, pattern)
    return fnmatch.fnmatchcase(check.rpartition("::")[2], pattern)


@dataclass
class CatalogHooks:
    """Leaves out and replaces built-in checks as the project declares; records what ran.

    Registered on the controller and on every xdist worker; the workers, who collect, hand
    their record to the controller, who writes the gate."""

    folder: Path | None  # the built-in catalog in this run's collection, or None
    root: Path
    skip: tuple[str, ...]
    mode: str
    record: dict[str, Any] | None = None
    _files: dict[str, set[Path]] = field(default_factory=lambda: {"builtin": set(), "own": set()})

    def _is_builtin(self, item: pytest.Item) -> bool:
        return self.folder is not None and Path(item.path).resolve().is_relative_to(self.folder)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> Iterator[None]:
        """Before anything counts the collection: what the policy removes is neither deselected
        nor dropped, so the run stays complete."""
        own_names: dict[str, str] = {}
        for item in items:
            if not self._is_builtin(item):
                own_names.setdefault(_name(item).rpartition("::")[2], self._shown(item))
        kept: list[pytest.Item] = []
        left_out: set[str] = set()
        replaced: dict[str, str] = {}
        for item in items:
            if not self._is_builtin(item):
                kept.append(item)
                self._files["own"].add(Path(item.path).resolve())
                continue
            check = f"{Path(item.path).name}::{_name(item)}"
            if any(_matches(p, Path(item.path).name, _name(item)) for p in self.skip):
                left_out.add(check)
            elif (by := own_names.get(_name(item).rpartition("::")[2])) is not None:
                replaced[check] = by
            else:
                kept.append(item)
                self._files["builtin"].add(Path(item.path).resolve())
        items[:] = kept
        self.record = self._record(sorted(left_out), replaced)
        return (yield)

    def _shown(self, item: pytest.Item) -> str:
        path = Path(item.path).resolve()
        shown = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.name
        return f"{shown}::{_name(item)}"

    def _record(self, left_out: list[str], replaced: dict[str, str]) -> dict[str, Any]:
        builtin = sorted(self._files["builtin"])
        own = sorted(self._files["own"])
        folder = self.folder
        return {
            "lockstep_version": __version__,
            "builtin": self.mode,
            "builtin_files": [p.name for p in builtin],
            "builtin_sha256": files_sha256((p.relative_to(folder).as_posix(), p) for p in builtin) if folder else None,
            "own_files": [_relative(p, self.root) for p in own],
            "own_sha256": files_sha256((_relative(p, self.root), p) for p in own),
            "left_out": left_out,
            "replaced": [{"check": check, "by": by} for check, by in sorted(replaced.items())],
        }

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        output = getattr(session.config, "workeroutput", None)
        if output is not None and self.record is not None:
            output[_WORKER_KEY] = self.record

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        found = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
        if found is not None and self.record is None:
            self.record = found


def _name(item: pytest.Item) -> str:
    name = getattr(item, "originalname", None) or item.name
    cls = getattr(item, "cls", None)
    return f"{cls.__name__}::{name}" if cls is not None else name


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def files_sha256(files: Iterable[tuple[str, Path]]) -> str | None:
    """One hash of the files' names (as given) and contents, in name order; ``None`` for no file."""
    total, seen = hashlib.sha256(), False
    for name, path in sorted(files):
        seen = True
        total.update(f"{name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return total.hexdigest() if seen else None


def _ini_source(config: pytest.Config) -> str:
    return config.inipath.name if config.inipath is not None else "the pytest configuration"


def _check_skip(config: pytest.Config, skip: tuple[str, ...], index: dict[str, tuple[str, ...]]) -> None:
    candidates = sorted({*index, *(n.rpartition("::")[2] for names in index.values() for n in names),
                         *(f"{f}::{n}" for f, names in index.items() for n in names)})
    for pattern in skip:
        if any(_matches(pattern, file, check) for file, checks in index.items() for check in checks):
            continue
        hint = did_you_mean(pattern, candidates) or f" (built-in files: {', '.join(sorted(index))})"
        raise ConfigError(f"{pattern!r} names no check of the built-in catalog{hint}", file=_ini_source(config),
                          key=INI_SKIP)


def select_catalog(config: pytest.Config) -> CatalogHooks:
    """Read the project's catalog policy (a one-line usage error for a bad value or an unknown
    check name), add the built-in catalog to the collection, and register the hooks.

    The built-in catalog is added when the run collects whole folders (its ``testpaths``, or
    folders named on the command line) that do not already hold it: a check file or node id
    on the command line runs just that, and this repository's own ``checks/`` (the catalog
    itself) is collected once."""
    mode = str(config.getini(INI_CATALOG) or "builtin").strip()
    if mode not in _CHOICES:
        raise ConfigError(f"expected builtin or none, got {mode!r}{did_you_mean(mode.lower(), _CHOICES, 0.8)}",
                          file=_ini_source(config), key=INI_CATALOG)
    skip = tuple(str(p) for p in config.getini(INI_SKIP))
    folder = catalog_folder().resolve()
    if skip:
        _check_skip(config, skip, builtin_checks(folder) if folder.is_dir() else {})
    root = Path(config.rootpath).resolve()
    collected = [Path(config.invocation_params.dir, arg.partition("::")[0]).resolve() for arg in config.args]
    holds = any(folder.is_relative_to(path) or path.is_relative_to(folder) for path in collected)
    if mode == "builtin" and folder.is_dir() and not holds and not narrowing_paths(config) \
            and not getattr(config.option, "pyargs", False):
        config.args.append(str(folder))
        holds = True
    hooks = CatalogHooks(folder if holds else None, root, skip, mode)
    config.pluginmanager.register(hooks, _PLUGIN)
    return hooks


def catalog_record(config: pytest.Config) -> CatalogRecord | None:
    """The gate's ``catalog`` entry, or ``None`` when no check was collected."""
    hooks = config.pluginmanager.get_plugin(_PLUGIN)
    record = getattr(hooks, "record", None)
    return CatalogRecord.from_json(record) if record is not None else None


def check_expectations_of(profile: Profile, items: Iterable[pytest.Item], *, complete: bool = True) -> None:
    """Validate every org's ``expect:`` against the keys the collected check files declare, and
    the built-in catalog's (a key of a built-in check left out stays known): a
    :class:`ConfigError` for a wrong value or a key declared nowhere."""
    modules = {id(module): module for item in items if (module := getattr(item, "module", None)) is not None}
    ordered = sorted(modules.values(), key=lambda module: module.__name__)
    declared = known([*builtin_expectations(), *(item for module in ordered for item in declared_in(module))])
    check_expectations(profile, declared, complete=complete)
