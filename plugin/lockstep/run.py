"""One Lockstep run in one pytest process: the profile's orgs, the gate recorder, and the
hooks that exist only when ``--org-profile`` is given (registered by :func:`start`)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lockstep.orgs import Org
    from lockstep.profile import Profile

__all__ = ["ORG_PARAM", "Run", "start"]

ORG_PARAM = "_lockstep_org"


def start(config: pytest.Config) -> Run:
    """Load and validate the profile, start its emulator (controller only), register the hooks."""
    run = Run(config)
    if not run.is_worker and not config.getoption("collectonly", False):
        try:
            run.landscape.start_emulator()
        except LookupError as exc:
            raise pytest.UsageError(f"{_shown(run.profile.path, config)}: {exc}") from None
        except Exception as exc:
            message = " ".join(str(exc).split())
            raise pytest.UsageError(f"{_shown(run.profile.path, config)}: emulator: cannot start: {message}") from None
    config.pluginmanager.register(run, "lockstep-state")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(run), "lockstep-xdist")
    if config.pluginmanager.hasplugin("html") and not run.is_worker:
        from lockstep.report import HtmlHooks

        config.pluginmanager.register(HtmlHooks(lambda: run.gate), "lockstep-html")
    return run


def _parse_time(option: str, value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise pytest.UsageError(f"{option}: not an ISO-8601 date/time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _check_rootdir(config: pytest.Config) -> None:
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


class Run:
    """Everything Lockstep keeps for one pytest process."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        from lockstep.orgs import Landscape, select_orgs
        from lockstep.profile import ProfileError, load_profile
        from lockstep.report import Recorder

        _check_rootdir(config)
        self.now = _parse_time("--now", config.getoption("now"))
        self.deployed_at = _parse_time("--deployed-at", config.getoption("deployed_at"))
        try:
            profile = load_profile(config.getoption("org_profile"), Path(config.rootpath))
            selected = select_orgs(profile, config.getoption("orgs"))
        except ProfileError as exc:
            raise pytest.UsageError(str(exc)) from None
        worker_input = getattr(config, "workerinput", None)
        self.is_worker = worker_input is not None
        self.landscape: Landscape = Landscape(profile, selected, Landscape.emulator_from(worker_input))
        self.recorder = Recorder()
        self.gate: dict[str, Any] | None = None
        self.gate_path = _gate_path(config)
        self.declared_facts: dict[str, tuple[str, ...]] = {}

    @property
    def profile(self) -> Profile:
        return self.landscape.profile

    @property
    def org_names(self) -> tuple[str, ...]:
        return self.landscape.org_names

    def connected_org(self, name: str, node: pytest.Item) -> Org:
        from lockstep.salesforce.errors import OrgUnreachable

        org = self.landscape.pool.get(name)
        try:
            org.connect()
        except OrgUnreachable as exc:
            error = exc
        else:
            org.warm(self.declared_facts.get(name, ()))
            return org
        node.user_properties.append(("lockstep_unreachable", {"org": name, "reason": error.message}))
        pytest.fail(str(error), pytrace=False)

    def connected_orgs(self, node: pytest.Item) -> list[Org]:
        orgs = self.landscape.pool.connect_all(self.org_names, self.declared_facts)
        for org in orgs:
            if org.unreachable is not None:
                node.user_properties.append(("lockstep_unreachable", {"org": org.name, "reason": org.unreachable}))
        reachable = [o for o in orgs if o.unreachable is None]
        if not reachable:
            pytest.fail("lockstep: no org of the selection is reachable", pytrace=False)
        return reachable

    # -- hooks (registered only when --org-profile is given) -----------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.recorder.start()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
        from lockstep.report import annotate_report

        report = yield
        annotate_report(report, call.excinfo.value if call.excinfo is not None else None)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from lockstep.facts import FACT_NAMES

        declared: dict[str, set[str]] = {name: set() for name in self.org_names}
        for item in session.items:
            names = {str(n) for mark in item.iter_markers("facts") for n in mark.args}
            unknown = sorted(names - set(FACT_NAMES))
            if unknown:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.facts: unknown fact {unknown[0]!r}; facts: {', '.join(FACT_NAMES)}"
                )
            callspec = getattr(item, "callspec", None)
            org = callspec.params.get(ORG_PARAM) if callspec is not None else None
            for name in [org] if org in declared else (declared if "orgs" in getattr(item, "fixturenames", ()) else []):
                declared[name] |= names
        self.declared_facts = {name: tuple(sorted(names)) for name, names in declared.items()}
        groups = (getattr(self.config, "workerinput", None) or {}).get("lockstep_groups")
        if groups:
            by_org = {}
            for item in session.items:
                callspec = getattr(item, "callspec", None)
                if callspec is not None and ORG_PARAM in callspec.params:
                    by_org[item.nodeid] = f"org:{callspec.params[ORG_PARAM]}"
            worker = self.config.workerinput["workerid"]  # type: ignore[attr-defined]
            target = Path(groups) / f"{worker}.json"
            target.with_suffix(".tmp").write_text(json.dumps(by_org), encoding="utf-8")
            target.with_suffix(".tmp").replace(target)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Without xdist, log in to every org the checks need and gather their declared facts
        concurrently before the first check, instead of one org after another."""
        if self.is_worker or getattr(self.config.option, "numprocesses", None) or self.config.option.collectonly:
            return
        needed = sorted({org for item in session.items for org in _orgs_of(item, self.org_names)})
        if needed:
            from lockstep.report import progress_printer

            self.landscape.pool.connect_all(needed, self.declared_facts, progress_printer(self.config, len(needed)))

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
            session.config.workeroutput["lockstep_api_calls"] = self.landscape.api_calls()  # type: ignore[attr-defined]
            return
        if self.config.getoption("collectonly", False):
            return
        from lockstep.gate import exit_code
        from lockstep.report import append_step_summary, write_gate

        stopped = session.shouldfail or session.shouldstop
        if stopped and not self.recorder.interrupted:
            self.recorder.interrupted = str(stopped)
        self.gate = self.recorder.gate(
            self.landscape, int(exitstatus),
            release=self.config.getoption("release"),
            markexpr=self.config.getoption("markexpr", "") or "",
            extra={"deployed_at": self.deployed_at.isoformat() if self.deployed_at else None,
                   "selection": self.config.getoption("orgs")},
        )
        write_gate(self.gate_path, self.gate)
        append_step_summary(self.gate)
        session.exitstatus = exit_code(self.gate, int(exitstatus))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.gate is not None:
            from lockstep.report import terminal_summary

            terminal_summary(terminalreporter, self.gate, self.gate_path)


class XdistHooks:
    """Hooks that exist only when pytest-xdist is installed.

    An org's checks must stay on one worker (one login per org). xdist's own ``loadgroup``
    reads an ``@group`` suffix it can no longer add to node ids under pytest 9.2, so the
    controller schedules by org itself: each worker writes its ``{nodeid: org}`` map into a
    folder named in ``workerinput``, and the scheduler groups node ids by that map.
    """

    def __init__(self, state: Run) -> None:
        self.state = state
        self.groups: Path | None = None
        option = state.config.option
        if not state.is_worker and getattr(option, "dist", None) == "loadgroup" and getattr(option, "tx", None):
            self.groups = Path(tempfile.mkdtemp(prefix="lockstep-groups-"))

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput.update(self.state.landscape.worker_input())
        if self.groups is not None:
            node.workerinput["lockstep_groups"] = str(self.groups)

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if self.groups is None:
            return None
        from xdist.scheduler import LoadScopeScheduling

        groups_dir = self.groups

        class OrgScheduling(LoadScopeScheduling):  # type: ignore[misc]
            groups: dict[str, str] | None = None

            def _split_scope(self, nodeid: str) -> str:
                if self.groups is None:
                    self.groups = {}
                    for file in sorted(groups_dir.glob("*.json")):
                        self.groups.update(json.loads(file.read_text(encoding="utf-8")))
                return self.groups.get(nodeid, nodeid)

        return OrgScheduling(config, log)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.groups is not None:
            shutil.rmtree(self.groups, ignore_errors=True)

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.state.recorder.add_worker_output(getattr(node, "workeroutput", None) or {})


def _orgs_of(item: pytest.Item, every_org: tuple[str, ...]) -> tuple[str, ...]:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and ORG_PARAM in callspec.params:
        return (str(callspec.params[ORG_PARAM]),)
    return every_org if "orgs" in getattr(item, "fixturenames", ()) else ()


def _shown(path: Path, config: pytest.Config) -> str:
    try:
        return path.relative_to(Path(config.rootpath).resolve()).as_posix()
    except ValueError:
        return str(path)



def _gate_path(config: pytest.Config) -> Path:
    given = config.getoption("gate_file", None)
    return Path(given) if given else Path(config.rootpath) / "reports" / "gate.json"

