"""Planned requests: what a check needs from each org, asked of every org before the first check.

A check declares, next to itself, a *planner*: a function that receives the org's
configuration (``name``, ``kind``, ``expect``, ...) and returns the named requests the check
needs from that org (:class:`~lockstep.facts.calls.Query`, :class:`~lockstep.facts.calls.ToolingQuery`,
:class:`~lockstep.facts.calls.Get`, :class:`~lockstep.facts.calls.SmokeTest`)::

    def open_cases(org):
        return {"open cases": Query("SELECT COUNT(Id) total FROM Case WHERE IsClosed = false")}

    @plan(open_cases)
    def test_open_cases(org, planned):
        assert planned["open cases"][0]["total"] < 100

``plan(*planners)`` is the marker ``@pytest.mark.plan`` (written ``pytest.mark.plan.with_args(...)``
by hand: pytest takes a lone function argument for the decorated test). At collection finish the
plugin calls every planner for every selected org; the requests are then sent with the org's facts,
concurrently across orgs and batched into composite calls.
The check's ``planned`` fixture maps each name to its answer; reading a failed request raises
the org's error there, in that check and org only. What a planner raises (``pytest.fail``
for a malformed expectation, ``pytest.skip``, a bug) is raised when the check reads
``planned``, so it fails or skips that check for that org only.

Smoke tests write: they are sent only for checks marked ``@pytest.mark.writes``, on orgs that
allow writes, inside the org's write grant; anywhere else reading one raises the refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from lockstep.facts.calls import ApiUsage, ApiVersions, Get, Query, Request, SmokeTest, ToolingQuery
from lockstep.salesforce.errors import SalesforceError, WriteRefused, one_line
from lockstep.salesforce.guard import REFUSED

if TYPE_CHECKING:
    from lockstep.config.profile import OrgConfig
    from lockstep.facts.calls import Answers

__all__ = ["Get", "OrgPlan", "Planned", "Planner", "Query", "SmokeTest", "ToolingQuery", "plan", "plan_checks"]

Planner = Callable[["OrgConfig"], "Mapping[str, Request] | None"]
_REQUESTS = (Query, ToolingQuery, Get, ApiVersions, ApiUsage, SmokeTest)
_OUTCOMES = (pytest.fail.Exception, pytest.skip.Exception)


def plan(*planners: Planner) -> pytest.MarkDecorator:
    """Declare what a check (or, as ``pytestmark``, every check of a module) needs from each org:
    each planner receives the org's configuration and returns ``{name: request}``."""
    return pytest.mark.plan.with_args(*planners)


@dataclass
class CheckPlan:
    """The named requests of one check on one org, or what its planner raised."""

    requests: dict[str, Request] = field(default_factory=dict)
    failure: BaseException | None = None
    writes: bool = False


@dataclass
class OrgPlan:
    """Everything the collected checks planned for one org."""

    checks: dict[str, CheckPlan] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    writable: list[Request] = field(default_factory=list)


def planners_of(item: pytest.Item) -> list[Planner]:
    """The planners of ``@pytest.mark.plan(...)`` on ``item`` (test, class, module); a usage
    error names the test when one is not a function."""
    found: list[Planner] = []
    for mark in item.iter_markers("plan"):
        for planner in mark.args:
            if not callable(planner):
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.plan: expected planner functions "
                                        f"(org -> {{name: request}}), got {planner!r}")
            if planner not in found:
                found.append(planner)
    return found


def _call(planner: Planner, config: OrgConfig) -> CheckPlan:
    label = getattr(planner, "__name__", repr(planner))
    try:
        answer = planner(config)
    except _OUTCOMES as exc:
        return CheckPlan(failure=exc)
    except Exception as exc:  # noqa: BLE001 - a planner's bug fails its check on this org, not the run
        return CheckPlan(failure=pytest.fail.Exception(
            f"{config.name}: plan {label}: {type(exc).__name__}: {one_line(str(exc))[:300]}", pytrace=False))
    if answer is None:
        return CheckPlan()
    if not isinstance(answer, Mapping) or not all(isinstance(k, str) and isinstance(v, _REQUESTS)
                                                  for k, v in answer.items()):
        return CheckPlan(failure=pytest.fail.Exception(
            f"{config.name}: plan {label}: expected a mapping name -> request (Query, ToolingQuery, Get, "
            f"SmokeTest), got {one_line(repr(answer))[:200]}", pytrace=False))
    return CheckPlan(dict(answer))


def plan_checks(items: Iterable[tuple[pytest.Item, OrgConfig]]) -> dict[str, OrgPlan]:
    """Call each planner once per org for the collected per-org checks ``(item, its org's config)``."""
    plans: dict[str, OrgPlan] = {}
    called: dict[tuple[Any, str], CheckPlan] = {}
    for item, config in items:
        planners = planners_of(item)
        if not planners:
            continue
        org = plans.setdefault(config.name, OrgPlan())
        check = CheckPlan()
        for planner in planners:
            key = (planner, config.name)
            if key not in called:
                called[key] = _call(planner, config)
            part = called[key]
            check.failure = check.failure or part.failure
            check.requests.update(part.requests)
        org.checks[item.nodeid] = check
        writes = check.writes = item.get_closest_marker("writes") is not None
        for request in check.requests.values():
            if request not in org.requests:
                org.requests.append(request)
            if writes and isinstance(request, SmokeTest) and request not in org.writable:
                org.writable.append(request)
    return plans


class Planned(Mapping[str, Any]):
    """The answers to what one check planned for its org: ``planned[name]``.

    Reading a request that failed raises the org's error for it; :meth:`error` returns it
    instead. When the check's planner failed or skipped, any read raises that."""

    def __init__(self, org: str, answers: Answers, check: CheckPlan | None) -> None:
        self._org = org
        self._answers = answers
        self._check = check if check is not None else CheckPlan()

    def _planned(self) -> dict[str, Request]:
        if self._check.failure is not None:
            raise self._check.failure
        return self._check.requests

    def __getitem__(self, name: str) -> Any:
        requests = self._planned()
        if name not in requests:
            raise KeyError(f"{self._org}: nothing planned under {name!r}; planned: "
                           f"{', '.join(sorted(requests)) or 'none'}")
        request = requests[name]
        if isinstance(request, SmokeTest) and not self._check.writes:
            raise WriteRefused(self._org, None, f"SmokeTest {request.sobject}: {REFUSED}")
        return self._answers.result(request)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._planned()))

    def __len__(self) -> int:
        return len(self._planned())

    def error(self, name: str) -> SalesforceError | None:
        """The org's error for request ``name``, or ``None`` when it was answered."""
        requests = self._planned()
        if name not in requests:
            raise KeyError(f"{self._org}: nothing planned under {name!r}")
        return self._answers.error(requests[name])
