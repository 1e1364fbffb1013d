"""Fact planning and gathering: what each org's checks declare (``@pytest.mark.facts``) and plan
(``@pytest.mark.plan``), read once the tests are collected and gathered for every org
concurrently before the first check; the fixtures connect orgs through it."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from lockstep.config.errors import ConfigError
from lockstep.facts.calls import Request
from lockstep.facts.fetch import FACT_NAMES
from lockstep.facts.plan import OrgPlan, Planned, plan_checks
from lockstep.reports.terminal import progress_printer
from lockstep.salesforce.errors import OrgUnreachable
from lockstep.session.collection import check_expectations_of
from lockstep.session.items import is_cross_org, org_param, orgs_of
from lockstep.session.options import narrowing_paths
from lockstep.session.orgs import Landscape, Org
from lockstep.session.recorder import Recorder
from lockstep.session.scheduling import hand_scopes
from lockstep.session.setup import RunSetup

__all__ = ["FactPlanning"]


class FactPlanning:
    """The facts and planned requests of each org, and the connected orgs the fixtures hand out."""

    def __init__(self, setup: RunSetup, recorder: Recorder) -> None:
        self.setup = setup
        self.recorder = recorder
        self.declared_facts: dict[str, tuple[str, ...]] = {}
        self.own_facts: dict[str, tuple[str, ...]] = {}
        self.cross_org_facts: tuple[str, ...] = ()
        self.plans: dict[str, OrgPlan] = {}
        self.collected: list[pytest.Item] = []  # before -m, -k, --deselect and shards leave any out

    @property
    def landscape(self) -> Landscape:
        return self.setup.landscape

    def connected_org(self, name: str, node: pytest.Item) -> Org:
        """The org ``name`` with its declared facts and planned requests gathered; an unreachable
        org fails ``node`` with the reason (recorded for the gate)."""
        try:
            return self.landscape.pool.warm(name, self.own_facts.get(name, ()), *self.plan_of(name))
        except OrgUnreachable as exc:
            error = exc
        node.user_properties.append(("lockstep_unreachable", {"org": name, "reason": error.message}))
        pytest.fail(str(error), pytrace=False)

    def plan_of(self, name: str) -> tuple[list[Request], list[Request]]:
        """The requests planned for org ``name`` and those of them that may write."""
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

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> Generator[None, None, None]:
        self.collected = list(items)
        return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        try:  # before any planner reads a value
            check_expectations_of(self.setup.profile, self.collected or session.items,
                                  complete=_collected_everything(session))
            self._read_facts(session.items)
        except ConfigError as exc:
            self._refuse(session, str(exc))
            return
        configs = {c.name: c for c in self.landscape.selected}
        self.plans = plan_checks((item, configs[org]) for item in session.items
                                 if (org := org_param(item)) in configs)
        hand_scopes(self.setup.config, session.items)

    def _read_facts(self, items: list[pytest.Item]) -> None:
        """Each org's declared facts, and those of the cross-org checks (an unknown name is a usage error)."""
        own: dict[str, set[str]] = {name: set() for name in self.setup.org_names}
        cross: set[str] = set()
        for item in items:
            names = {str(n) for mark in item.iter_markers("facts") for n in mark.args}
            unknown = sorted(names - set(FACT_NAMES))
            if unknown:
                raise ConfigError(f"unknown fact {unknown[0]!r}; facts: {', '.join(FACT_NAMES)}",
                                  file=item.nodeid, key="@pytest.mark.facts")
            org = org_param(item)
            if org in own:
                own[org] |= names
            elif is_cross_org(item):
                cross |= names
        self.own_facts = {name: tuple(sorted(names)) for name, names in own.items()}
        self.cross_org_facts = tuple(sorted(cross))
        self.declared_facts = {name: tuple(sorted(names | cross)) for name, names in own.items()}

    def _refuse(self, session: pytest.Session, line: str) -> None:
        """End the run before any check, as a profile mistake does: a usage error, recorded in the
        gate. An xdist worker runs no test and hands the line to the controller, which exits so."""
        self.recorder.refusals.append(line)
        if not self.setup.is_worker:
            raise pytest.UsageError(line)
        session.items[:] = []
        self.setup.config.workeroutput["lockstep_refusals"] = [line]  # type: ignore[attr-defined]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Without xdist, log in to every org the checks need and gather their declared facts
        concurrently before the first check, instead of one org after another."""
        config = self.setup.config
        if self.setup.is_worker or getattr(config.option, "numprocesses", None) or config.option.collectonly:
            return
        landscape = self.landscape
        needed = sorted({org for item in session.items
                         for org in orgs_of(item, self.setup.org_names, landscape.org_set)})
        if needed:
            landscape.pool.connect_all(needed, lambda name: self.declared_facts.get(name, ()),
                                       progress_printer(config, len(needed)), self.plan_of)


def _collected_everything(session: pytest.Session) -> bool:
    """Whether every check file of the project was collected, so that an ``expect:`` key no
    collected file declares is read by no check at all. A run limited to some files (named on
    the command line, ``--ignore``, ``--lf``) or whose collection failed may not have seen the
    file that declares a key: then only a key close to a known one (a typo) is refused."""
    config = session.config
    narrowed = (narrowing_paths(config) or config.getoption("ignore", None) or config.getoption("ignore_glob", None)
                or config.getoption("lf", False))
    return not narrowed and not session.testsfailed
