"""Gate assembly at the end of the session (controller only): the recorded outcomes, the run's
narrowing and shard become the gate, written atomically and shown in the terminal; the exit
code follows the decision."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import pytest

from lockstep.gate.build import exit_code
from lockstep.gate.file import other_run, unwritten_gate, write_gate
from lockstep.gate.model import Gate, Narrowing, ShardRecord
from lockstep.reports.markdown import append_step_summary
from lockstep.reports.terminal import drop_quiet_phase_reports, terminal_summary
from lockstep.session.collection import catalog_record
from lockstep.session.deselection import Deselection
from lockstep.session.options import run_start, selection
from lockstep.session.recorder import Recorder
from lockstep.session.setup import RunSetup
from lockstep.session.shards import record
from lockstep.session.signals import SigtermHandler

__all__ = ["GateAssembly"]


class GateAssembly:
    """Builds, writes and shows the gate; on a worker, hands its counts to the controller."""

    def __init__(self, setup: RunSetup, recorder: Recorder, deselection: Deselection,
                 signals: SigtermHandler) -> None:
        self.setup = setup
        self.recorder = recorder
        self.deselection = deselection
        self.signals = signals
        self.gate: Gate | None = None
        self.unwritten: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        setup = self.setup
        if setup.is_worker:
            output = session.config.workeroutput  # type: ignore[attr-defined]
            output["lockstep_api_calls"] = setup.landscape.api_calls()
            output["lockstep_deselected"] = [self.deselection.deselected, self.deselection.not_by_phase]
            return
        if setup.config.getoption("collectonly", False):
            return
        drop_quiet_phase_reports(setup.config)
        stopped = session.shouldfail or session.shouldstop
        if stopped and not self.recorder.interrupted:
            self.recorder.interrupted = str(stopped)
        self.gate = self._gate(int(exitstatus))
        self.signals.restore()
        self._write(self.gate)
        session.exitstatus = exit_code(self.gate.decision, int(exitstatus))
        for line in self.recorder.worker_refusals:  # found by xdist workers: shown as pytest shows a usage error
            sys.stderr.write(f"ERROR: {line}\n")
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _gate(self, exitstatus: int) -> Gate:
        setup, config = self.setup, self.setup.config
        narrowing, complete = self._narrowing()
        run_id = run_start(config)[1]
        other = other_run(setup.gate_path, run_id)
        refusals = () if other is None else (f"run {other} wrote {setup.gate_path} while this run ran: one gate"
                                             " file for two runs; give each run its own --gate-file",)
        return self.recorder.gate(
            setup.landscape, exitstatus, run_id=run_id, now=setup.now,
            release=config.getoption("release"),
            markexpr=config.getoption("markexpr", "") or "",
            narrowing=narrowing,
            deployed_at=setup.deployed_at.isoformat() if setup.deployed_at else None,
            shard=self._shard_record(complete), catalog=catalog_record(config),
            refusals=(*self.recorder.refusals, *self.recorder.worker_refusals, *refusals),
        )

    def _narrowing(self) -> tuple[Narrowing, bool]:
        """How the run was narrowed, and whether it verified everything it was asked to (a shard
        never does on its own: its gate is complete once merged)."""
        counted = (self.deselection.deselected, self.deselection.not_by_phase)
        deselected, not_by_phase = self.recorder.deselected or counted
        narrowing = selection(self.setup.config)
        complete = not (self.setup.narrowed or not_by_phase or narrowing.paths or narrowing.narrowed_by
                        or self.recorder.interrupted)
        narrowing = dataclasses.replace(narrowing, deselected=deselected,
                                        complete=complete and self.setup.shard is None)
        return narrowing, complete

    def _shard_record(self, complete: bool) -> ShardRecord | None:
        setup = self.setup
        if setup.shard is None:
            return None
        calls = dict(self.recorder.worker_api_calls)
        for name, count in setup.landscape.api_calls().items():
            calls[name] = calls.get(name, 0) + count
        return record(setup.shard, setup.org_names, setup.selected_names, [o.name for o in setup.profile.orgs],
                      complete, calls)

    def _write(self, gate: Gate) -> None:
        """Write the gate file and the CI step summary; what cannot be written is said in the terminal."""
        try:
            write_gate(self.setup.gate_path, gate)
        except OSError as exc:
            self.gate = unwritten_gate(gate, self.setup.gate_path, exc)
        try:
            append_step_summary(self.gate or gate, getattr(self.setup.config.option, "htmlpath", None))
        except OSError as exc:
            self.unwritten.append(f"lockstep: cannot append to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not any(arg.startswith("-r") for arg in self.setup.config.invocation_params.args):
            # the gate section lists every failure and error with its reason: no FAILED/ERROR line each
            terminalreporter.reportchars = terminalreporter.reportchars.replace("f", "").replace("E", "")
        if self.gate is not None:
            terminal_summary(terminalreporter, self.gate, self.setup.gate_path)
        for line in self.unwritten:
            terminalreporter.write_line(line, red=True)
