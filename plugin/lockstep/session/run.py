"""One Lockstep run in one pytest process: the profile's orgs, the gate recorder, and the
hooks that exist only when ``--org-profile`` is given (registered by :func:`start`)."""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lockstep.config.errors import ConfigError
from lockstep.config.profile import load_profile
from lockstep.facts.fetch import FACT_NAMES
from lockstep.facts.plan import Planned, plan_checks
from lockstep.gate.build import PHASES, exit_code
from lockstep.gate.file import other_run
from lockstep.reports.html import HtmlHooks
from lockstep.reports.junit import JunitHooks
from lockstep.salesforce.errors import OrgUnreachable, WriteRefused
from lockstep.session.active_run import PLUGIN_NAME
from lockstep.session.collection import catalog_record, check_expectations_of, select_catalog
from lockstep.session.items import ORG_PARAM, is_check, is_cross_org, org_param, orgs_of
from lockstep.session.masking import mask_report
from lockstep.session.options import (
    catalog_args,
    gate_path,
    join_option_values,
    org_concurrency,
    parse_time,
    run_start,
    selection,
    write_unfinished,
    writes_gate,
)
from lockstep.session.orgs import Landscape, select_orgs
from lockstep.session.records import writes_refused
from lockstep.session.report import (
    Recorder,
    annotate_report,
    append_step_summary,
    collection_reason,
    drop_quiet_phase_reports,
    progress_printer,
    report_assertions_by_message,
    terminal_summary,
    unwritten_gate,
    write_gate,
)
from lockstep.session.scheduling import XdistHooks, write_scopes
from lockstep.session.shards import SHARDED_OUT, ShardHooks, parse_shard, record, split

if TYPE_CHECKING:
    from lockstep.config.profile import Profile
    from lockstep.facts.plan import OrgPlan
    from lockstep.gate.model import Gate, ShardRecord
    from lockstep.session.orgs import Org

__all__ = ["Run", "Terminated", "start"]

_TROUBLES = pytest.StashKey[int]()
CROSS_ORG_GROUP = "lockstep:cross-org"


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job, a timeout): the run ends like an interrupted one."""


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
        run = Run(config, path, started)
        if not run.is_worker and not config.getoption("collectonly", False):
            try:
                run.landscape.start_emulator()
            except LookupError as exc:
                raise pytest.UsageError(f"{_shown(run.profile.path, config)}: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - any failure to start becomes one usage error line
                message = " ".join(str(exc).split())
                where = _shown(run.profile.path, config)
                raise pytest.UsageError(f"{where}: emulator: cannot start: {message}") from None
    except pytest.UsageError as exc:
        if controller:
            write_unfinished(config, path, str(exc), started)
        raise
    config.pluginmanager.register(run, PLUGIN_NAME)
    if run.shard is not None:
        config.pluginmanager.register(ShardHooks(run.shard, ORG_PARAM), "lockstep-shard")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(run), "lockstep-xdist")
    if config.pluginmanager.hasplugin("html") and not run.is_worker:
        tags = {org.name: org.tags for org in run.landscape.selected}
        config.pluginmanager.register(HtmlHooks(lambda: run.gate, tags), "lockstep-html")
    if getattr(config.option, "xmlpath", None) and not run.is_worker:
        config.pluginmanager.register(JunitHooks(lambda: run.gate), "lockstep-junit")
    return run


class Run:
    """Everything Lockstep keeps for one pytest process."""

    def __init__(self, config: pytest.Config, gate_path: Path, started: str) -> None:
        self.config = config

        self.now = parse_time("--now", config.getoption("now"))
        self.deployed_at = parse_time("--deployed-at", config.getoption("deployed_at"))
        selector = config.getoption("orgs")
        try:
            # expectations: validated once the check files that declare them are collected
            profile = load_profile(config.getoption("org_profile"), Path(config.rootpath), expectations={})
            selected = select_orgs(profile, selector)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        known = {o.name for o in profile.orgs}
        selected = tuple(c for c in selected if c.name in known)
        if not selected:
            names = ", ".join(sorted(known)) or "none"
            raise pytest.UsageError(f"--orgs {selector!r}: selects no org of profile {profile.name} (orgs: {names})")
        worker_input = getattr(config, "workerinput", None)
        self.is_worker = worker_input is not None
        self.shard = parse_shard(config.getoption("org_shard"))
        self.narrowed = len(selected) < len(profile.orgs)
        self.selected_names = tuple(sorted(c.name for c in selected))
        mine = split(self.shard, selected, profile.name) if self.shard is not None else selected
        cross = selected if self.shard is not None and self.shard.runs_cross_org else mine
        self.landscape: Landscape = Landscape(profile, mine, Landscape.emulator_from(worker_input), cross=cross,
                                              concurrency=org_concurrency(config.getoption("org_concurrency", None)))
        self.recorder = Recorder()
        self.recorder.started = started
        self.gate: Gate | None = None
        self.gate_path = gate_path
        self.declared_facts: dict[str, tuple[str, ...]] = {}
        self.own_facts: dict[str, tuple[str, ...]] = {}
        self.cross_org_facts: tuple[str, ...] = ()
        self.plans: dict[str, OrgPlan] = {}
        self.refusals: tuple[str, ...] = ()  # a configuration mistake found once the checks are collected
        self.deselected = 0
        self.deselected_outside_phase = 0
        self.reported_deselected = 0  # every test reported deselected, also shard 1's checks in other shards
        self.unwritten: list[str] = []
        self._previous_sigterm: Any = None

    @property
    def profile(self) -> Profile:
        return self.landscape.profile

    @property
    def org_names(self) -> tuple[str, ...]:
        return self.landscape.org_names

    def connected_org(self, name: str, node: pytest.Item) -> Org:
        try:
            return self.landscape.pool.warm(name, self.own_facts.get(name, ()), *self._plan_of(name))
        except OrgUnreachable as exc:
            error = exc
        node.user_properties.append(("lockstep_unreachable", {"org": name, "reason": error.message}))
        pytest.fail(str(error), pytrace=False)

    def _plan_of(self, name: str) -> tuple[list[Any], list[Any]]:
        plan = self.plans.get(name)
        return (plan.requests, plan.writable) if plan is not None else ([], [])

    def planned_for(self, org: Org, node: pytest.Item) -> Planned:
        """The answers to what ``node`` planned for ``org``."""
        plan = self.plans.get(org.name)
        return Planned(org.name, org.answers, plan.checks.get(node.nodeid) if plan is not None else None)

    def connected_orgs(self, node: pytest.Item) -> list[Org]:
        """Every selected org for a cross-org check, with only the facts cross-org checks declare.

        Left out, like an unreachable org, is an org whose cross-org facts failed (a 5xx,
        the API limit, a dropped connection): one failing org must not hide the findings
        among the others. The gate names both (``unreachable``; ``landscape.left_out``); the
        org is no-go through its own checks' errors as well."""
        orgs = self.landscape.pool.connect_all(self.landscape.cross_org_names, lambda name: self.cross_org_facts)
        usable = []
        for org in orgs:
            reason = org.unreachable
            if reason is None:
                failed = org.facts.error_of(self.cross_org_facts)
                if failed is None:
                    usable.append(org)
                    continue
                node.user_properties.append(("lockstep_left_out", {"org": org.name, "reason": str(failed)}))
                continue
            node.user_properties.append(("lockstep_unreachable", {"org": org.name, "reason": reason}))
        if not usable:
            pytest.fail("lockstep: no org of the selection is reachable and answered the cross-org facts"
                        if any(o.unreachable is None for o in orgs)
                        else "lockstep: no org of the selection is reachable", pytrace=False)
        return usable

    def refuse_collection(self, message: str) -> None:
        """Stop the run with a usage error, recorded in the gate: the collected tests are not a catalog."""
        self.recorder.collection_errors.append(("session", message))
        raise pytest.UsageError(f"lockstep: {message}")

    def refuse_configuration(self, session: pytest.Session, line: str) -> None:
        """End the run before any check, as a profile mistake does: a usage error, recorded in the
        gate. An xdist worker runs no test and hands the line to the controller, which exits so."""
        self.refusals = (line,)
        if not self.is_worker:
            raise pytest.UsageError(line)
        session.items[:] = []
        self.config.workeroutput["lockstep_refusals"] = [line]  # type: ignore[attr-defined]

    def refuses_writes(self, item: pytest.Item) -> str | None:
        """The org of a ``writes`` check whose profile does not allow writes, else ``None``."""
        org = org_param(item)
        if org is None or org not in self.landscape.org_set or item.get_closest_marker("writes") is None:
            return None
        return None if self.landscape.pool.get(org).allow_writes else org

    # -- hooks (registered only when --org-profile is given) -----------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.is_worker and threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._terminated)

    def _terminated(self, signum: int, frame: Any) -> None:
        self.restore_signals()  # a second SIGTERM ends the process the default way
        raise Terminated("SIGTERM received")

    def restore_signals(self) -> None:
        previous, self._previous_sigterm = self._previous_sigterm, None
        if previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Iterator[Any]:
        report = yield
        call = getattr(report, "call", None)
        if report.failed and call is not None and call.excinfo is not None:
            report.lockstep_reason = collection_reason(call.excinfo.value, report.longrepr)
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
        report = yield
        exc = call.excinfo.value if call.excinfo is not None else None
        refused = self.refuses_writes(item)
        swallowed = self.landscape.pool.take_refusals()
        if swallowed and report.passed:  # a check that catches a refused write still fails
            report.outcome, report.longrepr = "failed", writes_refused(refused) if refused else swallowed[0]
            exc = None
        elif refused is not None and isinstance(exc, WriteRefused):
            report.longrepr = writes_refused(refused)
            exc = None
        annotate_report(report, exc)
        if report.failed and call.when == "call" and self._troubles(item) > item.stash.get(_TROUBLES, 1 << 62):
            # the check caught the org's trouble and reported it as a finding: still the org's error
            report.user_properties.append(("lockstep_org_error", True))
        mask_report(report)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> Iterator[None]:
        """Tests a hook (a conftest file, a plugin) drops from the collection without reporting
        them deselected count as deselected: the run is not complete."""
        collected, reported = len(items), self.reported_deselected
        result = yield
        dropped = collected - len(items) - (self.reported_deselected - reported)
        if dropped > 0:
            self.deselected += dropped
            self.deselected_outside_phase += dropped
        return result

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Count deselected tests; those left out only for lacking the phase of ``-m PHASE`` keep the run complete."""
        markexpr = (self.config.getoption("markexpr", "") or "").strip()
        self.reported_deselected += len(items)
        for item in items:
            if item.stash.get(SHARDED_OUT, False):  # shard 1's check: not a narrowing
                continue
            self.deselected += 1
            if markexpr not in PHASES or item.get_closest_marker(markexpr) is not None:
                self.deselected_outside_phase += 1

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        try:
            check_expectations_of(self.profile, session.items)
        except ConfigError as exc:  # before any planner reads a value
            self.refuse_configuration(session, str(exc))
            return
        own: dict[str, set[str]] = {name: set() for name in self.org_names}
        cross: set[str] = set()
        by_message = self.config.option.tbstyle == "auto" and not self.config.option.showlocals
        for item in session.items:
            if by_message:
                report_assertions_by_message(item)
            names = {str(n) for mark in item.iter_markers("facts") for n in mark.args}
            unknown = sorted(names - set(FACT_NAMES))
            if unknown:
                self.refuse_configuration(session, f"{item.nodeid}: @pytest.mark.facts: unknown fact {unknown[0]!r};"
                                                   f" facts: {', '.join(FACT_NAMES)}")
                return
            org = org_param(item)
            if org in own:
                own[org] |= names
            elif is_cross_org(item):
                cross |= names
        self.own_facts = {name: tuple(sorted(names)) for name, names in own.items()}
        self.cross_org_facts = tuple(sorted(cross))
        self.declared_facts = {name: tuple(sorted(names | cross)) for name, names in own.items()}

        configs = {c.name: c for c in self.landscape.selected}
        self.plans = plan_checks((item, configs[org]) for item in session.items
                                 if (org := org_param(item)) in configs)
        groups = (getattr(self.config, "workerinput", None) or {}).get("lockstep_groups")
        if groups:
            scopes = {item.nodeid: f"org:{org}" if org is not None else CROSS_ORG_GROUP
                      for item in session.items
                      if (org := org_param(item)) is not None or is_cross_org(item)}
            write_scopes(Path(groups), self.config.workerinput["workerid"], scopes)  # type: ignore[attr-defined]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Without xdist, log in to every org the checks need and gather their declared facts
        concurrently before the first check, instead of one org after another."""
        if self.is_worker or getattr(self.config.option, "numprocesses", None) or self.config.option.collectonly:
            return
        needed = sorted({org for item in session.items
                         for org in orgs_of(item, self.org_names, self.landscape.org_set)})
        if needed:
            self.landscape.pool.connect_all(needed, lambda name: self.declared_facts.get(name, ()),
                                            progress_printer(self.config, len(needed)), self._plan_of)

    def _troubles(self, item: pytest.Item) -> int:
        pool = self.landscape.pool
        return sum(pool.get(name).troubles for name in orgs_of(item, self.org_names, self.landscape.org_set))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        """Note the org trouble seen before the check's body runs (fixtures gather facts)."""
        item.stash[_TROUBLES] = self._troubles(item)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Under xdist the controller sees no items: a worker fails each test that is not a check."""
        if not is_check(item):
            pytest.fail(f"lockstep: {item.nodeid} uses no Lockstep fixture (org, orgs, profile, ...): not a check",
                        pytrace=False)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.is_worker:
            self.recorder.add_test_report(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not self.is_worker:
            self.recorder.add_collect_report(report)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        value = excinfo.value
        message = getattr(value, "msg", None) or str(value)
        self.recorder.interrupted = f"{excinfo.typename}: {message}" if message else excinfo.typename

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker:
            output = session.config.workeroutput  # type: ignore[attr-defined]
            output["lockstep_api_calls"] = self.landscape.api_calls()
            output["lockstep_deselected"] = [self.deselected, self.deselected_outside_phase]
            return
        if self.config.getoption("collectonly", False):
            return

        drop_quiet_phase_reports(self.config)

        stopped = session.shouldfail or session.shouldstop
        if stopped and not self.recorder.interrupted:
            self.recorder.interrupted = str(stopped)
        deselected, outside_phase = self.recorder.deselected or (self.deselected, self.deselected_outside_phase)
        narrowing = selection(self.config)
        complete = not (self.narrowed or outside_phase or narrowing.paths or narrowing.narrowed_by
                        or self.recorder.interrupted)
        other = other_run(self.gate_path, run_start(self.config)[1])
        refusals = () if other is None else (f"run {other} wrote {self.gate_path} while this run ran: one gate"
                                             " file for two runs; give each run its own --gate-file",)
        self.gate = self.recorder.gate(
            self.landscape, int(exitstatus), run_id=run_start(self.config)[1], now=self.now,
            release=self.config.getoption("release"),
            markexpr=self.config.getoption("markexpr", "") or "",
            narrowing=dataclasses.replace(narrowing, deselected=deselected, complete=complete and self.shard is None),
            deployed_at=self.deployed_at.isoformat() if self.deployed_at else None,
            shard=self._shard_record(complete), refusals=(*self.refusals, *self.recorder.refusals, *refusals),
            catalog=catalog_record(self.config),
        )
        self.restore_signals()
        try:
            write_gate(self.gate_path, self.gate)
        except OSError as exc:
            self.gate = unwritten_gate(self.gate, self.gate_path, exc)
        try:
            append_step_summary(self.gate, getattr(self.config.option, "htmlpath", None))
        except OSError as exc:
            self.unwritten.append(f"lockstep: cannot append to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}")
        session.exitstatus = exit_code(self.gate.decision, int(exitstatus))
        for line in self.recorder.refusals:  # found by xdist workers: shown as pytest shows a usage error
            sys.stderr.write(f"ERROR: {line}\n")
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _shard_record(self, complete: bool) -> ShardRecord | None:
        if self.shard is None:
            return None

        calls = dict(self.recorder.worker_api_calls)
        for name, count in self.landscape.api_calls().items():
            calls[name] = calls.get(name, 0) + count
        return record(self.shard, self.org_names, self.selected_names, [o.name for o in self.profile.orgs],
                      complete, calls)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not any(arg.startswith("-r") for arg in self.config.invocation_params.args):
            # the gate section lists every failure and error with its reason: no FAILED/ERROR line each
            terminalreporter.reportchars = terminalreporter.reportchars.replace("f", "").replace("E", "")
        if self.gate is not None:
            terminal_summary(terminalreporter, self.gate, self.gate_path)
        for line in self.unwritten:
            terminalreporter.write_line(line, red=True)


def _shown(path: Path, config: pytest.Config) -> str:
    try:
        return path.relative_to(Path(config.rootpath).resolve()).as_posix()
    except ValueError:
        return str(path)
