"""The pytest-html extension: an Org column in the results table, warnings and waived failures
labelled as such, and Lockstep's block (:mod:`lockstep.reports.html_render`) at the top of the report.

Registered by the controller only, and only when pytest-html is active. pytest-html builds a
row per report while the run goes on; the gate exists only at the end, so rows carry the test
they belong to (``data-lockstep-test`` on the Result cell) and the block's script labels them
from the gate.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lockstep.gate.model import Gate
from lockstep.reports.html_render import SeenTest, render

__all__ = ["HtmlHooks"]

DRIFT_PROPERTY = "lockstep_drift"


def _props(report: Any) -> dict[str, Any]:
    """The report's ``lockstep_*`` properties (the last value of each)."""
    return {str(entry[0]): entry[1] for entry in getattr(report, "user_properties", None) or ()
            if isinstance(entry, (tuple, list)) and len(entry) == 2 and str(entry[0]).startswith("lockstep_")}


def _row_id(report: Any) -> str:
    """The id pytest-html gives a report's row (its ``tbody``): the node id, with the phase for
    setup and teardown rows."""
    return report.nodeid if report.when == "call" else f"{report.nodeid}::{report.when}"


class HtmlHooks:
    """pytest-html hooks. ``gate_of`` gives the gate once the run has one; ``tags`` are the
    selected orgs' tags (the matrix filters by them). Every value from an org or a profile
    is escaped."""

    def __init__(self, gate_of: Callable[[], Gate | None],
                 tags: Mapping[str, Iterable[str]] | None = None) -> None:
        self._gate_of = gate_of
        self._tags = {name: tuple(values) for name, values in (tags or {}).items()}
        self._seen: dict[str, SeenTest] = {}
        self._failing_row: set[str] = set()
        self._drift: dict[str, Mapping[str, Any]] = {}

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="org">Org</th>')

    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        if not cells:  # another plugin removed the row
            return
        props = _props(report)
        org = props.get("lockstep_org")
        cells.insert(2, f'<td class="col-org">{html.escape(str(org or ""))}</td>')
        test = props.get("lockstep_test")
        if not test:
            return
        test = str(test)
        if cells[0].startswith('<td class="col-result">'):
            cells[0] = cells[0].replace('<td class="col-result">',
                                        f'<td class="col-result" data-lockstep-test="{html.escape(test)}">', 1)
        shown = report.when == "call" or not report.passed  # pytest-html leaves out passed setup/teardown
        if shown and (test not in self._seen or (not report.passed and test not in self._failing_row)):
            # the row to link to: the first one that did not pass (a setup error, the failing call)
            self._seen[test] = SeenTest(test, str(props.get("lockstep_check") or test),
                                        str(org) if org is not None else None, _row_id(report))
            if not report.passed:
                self._failing_row.add(test)
        drift = props.get(DRIFT_PROPERTY)
        if isinstance(drift, Mapping):
            self._drift[str(props.get("lockstep_check") or test)] = drift

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: Any) -> None:
        gate = self._gate_of()
        if gate is None:
            return
        prefix.append(render(gate, self._seen.values(), tags=self._tags, drift=sorted(self._drift.items())))
