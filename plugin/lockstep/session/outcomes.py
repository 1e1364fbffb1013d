"""Outcome recording: each report gets its one-line reason and is masked; a refused write and
org trouble a check caught stay the org's errors; the controller's recorder tallies every report."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from lockstep.salesforce.errors import WriteRefused
from lockstep.session.items import is_check, org_param, orgs_of
from lockstep.session.masking import mask_report
from lockstep.session.reasons import annotate_report, collection_reason, report_assertions_by_message
from lockstep.session.recorder import Recorder
from lockstep.session.records import writes_refused
from lockstep.session.setup import RunSetup

__all__ = ["Outcomes"]

_TROUBLES = pytest.StashKey[int]()


class Outcomes:
    """The hooks that see every collection and test report of the run."""

    def __init__(self, setup: RunSetup, recorder: Recorder) -> None:
        self.setup = setup
        self.recorder = recorder

    def refuses_writes(self, item: pytest.Item) -> str | None:
        """The org of a ``writes`` check whose profile does not allow writes, else ``None``."""
        landscape = self.setup.landscape
        org = org_param(item)
        if org is None or org not in landscape.org_set or item.get_closest_marker("writes") is None:
            return None
        return None if landscape.pool.get(org).allow_writes else org

    def _troubles(self, item: pytest.Item) -> int:
        pool, landscape = self.setup.landscape.pool, self.setup.landscape
        return sum(pool.get(name).troubles for name in orgs_of(item, self.setup.org_names, landscape.org_set))

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """A failed assertion is reported by its message (``--tb=long`` and ``--showlocals`` keep the traceback)."""
        option = self.setup.config.option
        if option.tbstyle == "auto" and not option.showlocals:
            for item in session.items:
                report_assertions_by_message(item)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
            self, collector: pytest.Collector) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        call = getattr(report, "call", None)
        if report.failed and call is not None and call.excinfo is not None:
            report.lockstep_reason = collection_reason(call.excinfo.value, report.longrepr)  # type: ignore[attr-defined]
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        exc = call.excinfo.value if call.excinfo is not None else None
        refused = self.refuses_writes(item)
        swallowed = self.setup.landscape.pool.take_refusals()
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
        if not self.setup.is_worker:
            self.recorder.add_test_report(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not self.setup.is_worker:
            self.recorder.add_collect_report(report)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        value = excinfo.value
        message = getattr(value, "msg", None) or str(value)
        self.recorder.interrupted = f"{excinfo.typename}: {message}" if message else excinfo.typename
