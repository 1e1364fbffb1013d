"""One Lockstep run in one pytest process, composed of pieces with one job each, registered as
pytest plugins only when ``--org-profile`` is given (by :func:`start`):

- :class:`~lockstep.session.setup.RunSetup`: the options, the profile, the selected orgs;
- :class:`~lockstep.session.signals.SigtermHandler`: SIGTERM ends the run like Ctrl-C;
- :class:`~lockstep.session.planning.FactPlanning`: facts and planned requests, gathered before the first check;
- :class:`~lockstep.session.outcomes.Outcomes` and :class:`~lockstep.session.deselection.Deselection`:
  what happened to every test;
- :class:`~lockstep.session.gate_assembly.GateAssembly`: the gate, written and shown.

The hooks and fixtures reach the run through :func:`lockstep.session.active_run.current`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lockstep.config.errors import ConfigError
from lockstep.config.profile import Profile
from lockstep.gate.model import Gate
from lockstep.reports.html import HtmlHooks
from lockstep.reports.junit import JunitHooks
from lockstep.session.collection import select_catalog
from lockstep.session.deselection import Deselection
from lockstep.session.gate_assembly import GateAssembly
from lockstep.session.items import ORG_PARAM
from lockstep.session.options import (
    catalog_args,
    gate_path,
    join_option_values,
    run_start,
    write_unfinished,
    writes_gate,
)
from lockstep.session.orgs import Landscape
from lockstep.session.outcomes import Outcomes
from lockstep.session.planning import FactPlanning
from lockstep.session.recorder import Recorder
from lockstep.session.scheduling import XdistHooks
from lockstep.session.setup import RunSetup
from lockstep.session.shards import ShardHooks
from lockstep.session.signals import SigtermHandler

__all__ = ["Run", "start"]


def start(config: pytest.Config) -> Run:
    """Load and validate the profile, start its emulator (controller only), register the hooks.

    The gate file already holds the no-go of a run that has not finished (:func:`open_run`);
    a usage error from here on replaces its reason by the error.
    """
    controller = writes_gate(config)
    started, _ = run_start(config)
    path = gate_path(config)
    if controller:
        join_option_values(config)
    catalog_args(config)
    try:
        try:
            select_catalog(config)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        run = Run(RunSetup.load(config, path, started))
        if not run.is_worker and not config.getoption("collectonly", False):
            _start_emulator(run.setup)
    except pytest.UsageError as exc:
        if controller:
            write_unfinished(config, path, str(exc), started)
        raise
    run.register()
    return run


def _start_emulator(setup: RunSetup) -> None:
    """Serve the profile's emulated orgs; any failure to start is one usage error line."""
    try:
        setup.landscape.start_emulator()
    except LookupError as exc:
        raise pytest.UsageError(f"{_shown(setup.profile.path, setup.config)}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any failure to start becomes one usage error line
        message = " ".join(str(exc).split())
        where = _shown(setup.profile.path, setup.config)
        raise pytest.UsageError(f"{where}: emulator: cannot start: {message}") from None


class Run:
    """Everything Lockstep keeps for one pytest process: its setup and the pieces that do the work."""

    def __init__(self, setup: RunSetup) -> None:
        self.setup = setup
        self.recorder = Recorder()
        self.recorder.started = setup.started
        self.signals = SigtermHandler(setup.is_worker)
        self.planning = FactPlanning(setup, self.recorder)
        self.deselection = Deselection(setup.config)
        self.outcomes = Outcomes(setup, self.recorder)
        self.assembly = GateAssembly(setup, self.recorder, self.deselection, self.signals)

    def register(self) -> None:
        """Register the pieces' hooks, and those of the optional plugins present."""
        setup, manager = self.setup, self.setup.config.pluginmanager
        for name, piece in (("signals", self.signals), ("planning", self.planning),
                            ("deselection", self.deselection), ("outcomes", self.outcomes),
                            ("gate", self.assembly)):
            manager.register(piece, f"lockstep-{name}")
        if setup.shard is not None:
            manager.register(ShardHooks(setup.shard, ORG_PARAM), "lockstep-shard")
        if manager.hasplugin("xdist"):
            manager.register(XdistHooks(setup, self.recorder), "lockstep-xdist")
        if manager.hasplugin("html") and not setup.is_worker:
            tags = {org.name: org.tags for org in setup.landscape.selected}
            manager.register(HtmlHooks(lambda: self.gate, tags), "lockstep-html")
        if getattr(setup.config.option, "xmlpath", None) and not setup.is_worker:
            manager.register(JunitHooks(lambda: self.gate), "lockstep-junit")

    @property
    def is_worker(self) -> bool:
        return self.setup.is_worker

    @property
    def landscape(self) -> Landscape:
        return self.setup.landscape

    @property
    def profile(self) -> Profile:
        return self.setup.profile

    @property
    def org_names(self) -> tuple[str, ...]:
        return self.setup.org_names

    @property
    def now(self) -> dt.datetime | None:
        return self.setup.now

    @property
    def deployed_at(self) -> dt.datetime | None:
        return self.setup.deployed_at

    @property
    def gate(self) -> Gate | None:
        """The gate of this run, once the session has finished (controller only)."""
        return self.assembly.gate

    def refuse_collection(self, message: str) -> None:
        """Stop the run with a usage error, recorded in the gate: the collected tests are not a catalog."""
        self.recorder.collection_errors.append(("session", message))
        raise pytest.UsageError(f"lockstep: {message}")

    def stop(self) -> None:
        """Put the SIGTERM handler back and stop the emulator (when pytest unconfigures)."""
        self.signals.restore()
        self.landscape.stop()


def _shown(path: Path, config: pytest.Config) -> str:
    try:
        return path.relative_to(Path(config.rootpath).resolve()).as_posix()
    except ValueError:
        return str(path)
