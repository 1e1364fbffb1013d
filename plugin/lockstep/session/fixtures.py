"""Every fixture a check can take: ``org``, ``orgs``, ``profile``, ``planned``, ``records``,
``endpoint_probes``, ``lockstep_release``, ``lockstep_now``, ``lockstep_deployed_at``. They reach the
run's state one way, :func:`lockstep.session.active_run.current`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from lockstep.session.active_run import current
from lockstep.session.records import Records

if TYPE_CHECKING:
    from lockstep.config.profile import Profile
    from lockstep.facts.plan import Planned
    from lockstep.helpers.endpoints import Probe, ProbeResult
    from lockstep.session.orgs import Org
    from lockstep.session.run import Run

__all__ = ["EndpointProbes", "endpoint_probes", "lockstep_deployed_at", "lockstep_now", "lockstep_release", "org",
           "orgs", "planned", "profile", "records"]


_NEEDS_PROFILE = ("lockstep: this test needs Salesforce orgs; "
                  "pass --org-profile NAME (profiles/NAME.yaml) or a profile path")


def _state(config: pytest.Config) -> Run:
    run = current(config)
    if run is None:
        pytest.fail(_NEEDS_PROFILE, pytrace=False)
    return run


@pytest.fixture
def records(org: Org) -> Iterator[Records]:
    """Create records in the org (``records.create``); all are deleted after the check, pass or fail.

    Needs ``@pytest.mark.writes``; on an org that does not allow writes the first ``create``
    fails the check with ``<org>: writes refused: ...`` (nothing reaches the org).
    A record that cannot be deleted makes the check's teardown an error naming it.
    """
    tracker = Records(org)
    try:
        yield tracker
    finally:
        leftovers = tracker.cleanup()
        if leftovers:
            pytest.fail("\n".join(leftovers), pytrace=False)


class EndpointProbes:
    """Probes every endpoint of every selected org once, concurrently, on first use."""

    def __init__(self, state: Run) -> None:
        self._state = state
        self._probes: dict[str, list[Probe] | str] | None = None
        self._results: dict[Any, ProbeResult] = {}

    def _gather(self) -> None:
        # httpx (the probes' client) loads only when a check probes endpoints: the plugin
        # imports this module in every pytest session
        from lockstep.helpers.endpoints import environment_of, parse_probes, probe_all

        emulator = self._state.landscape.emulator
        url, ca = (emulator.url, emulator.ca_cert) if emulator is not None else (None, None)
        self._probes = {}
        for config in self._state.landscape.selected:
            try:
                self._probes[config.name] = parse_probes(
                    config.expect.get("probes"), environment_of(config.kind, config.expect), url, ca)
            except ValueError as exc:
                self._probes[config.name] = str(exc)
        self._results = probe_all(p for ps in self._probes.values() if isinstance(ps, list) for p in ps)

    def for_org(self, org: Org) -> list[tuple[Probe, ProbeResult]]:
        """The probes declared for ``org`` (its environment) with their results."""
        if self._probes is None:
            self._gather()
        assert self._probes is not None
        probes = self._probes.get(org.name, [])
        if isinstance(probes, str):
            pytest.fail(f"{org.name}: expect.{probes}", pytrace=False)
        return [(probe, self._results[probe.key]) for probe in probes]


@pytest.fixture(scope="session")
def endpoint_probes(request: pytest.FixtureRequest) -> EndpointProbes:
    """External endpoints of ``expect.probes``, probed once per run for every selected org."""
    return EndpointProbes(_state(request.config))


@pytest.fixture(scope="session")
def lockstep_release(request: pytest.FixtureRequest) -> str | None:
    """The ``--release`` id of this run, or ``None``."""
    release = request.config.getoption("release", None)
    return str(release) if release is not None else None


@pytest.fixture
def planned(request: pytest.FixtureRequest, org: Org) -> Planned:
    """The answers to what this check planned for its org (``@pytest.mark.plan(planner)``):
    ``planned[name]`` is the answer to the request the planner named ``name``; reading a
    request that failed raises the org's error for it (see :mod:`lockstep.facts.plan`)."""
    return _state(request.config).planning.planned_for(org, request.node)


@pytest.fixture
def _lockstep_org(request: pytest.FixtureRequest) -> str:
    if current(request.config) is None or not hasattr(request, "param"):
        pytest.fail(_NEEDS_PROFILE, pytrace=False)
    return str(request.param)


@pytest.fixture
def org(request: pytest.FixtureRequest, _lockstep_org: str) -> Iterator[Org]:
    """The org this check runs against (one test per org of the profile; id = org name).

    Read-only unless the check is marked ``@pytest.mark.writes`` and the profile allows
    writes on the org. On an org that does not (production and subscriber orgs by default)
    a ``writes`` check still runs, read-only: it skips when the org declares nothing for it,
    and its first write fails it (``<org>: writes refused: ...``) without reaching the org.
    """
    run = _state(request.config)
    connected = run.planning.connected_org(_lockstep_org, request.node)
    if request.node.get_closest_marker("writes") is None or not connected.allow_writes:
        yield connected
        return
    with run.landscape.pool.writes(connected.name):
        yield connected


@pytest.fixture
def orgs(request: pytest.FixtureRequest) -> list[Org]:
    """Every reachable selected org, sorted by name, for cross-org checks."""
    return _state(request.config).planning.connected_orgs(request.node)


@pytest.fixture(scope="session")
def profile(request: pytest.FixtureRequest) -> Profile:
    """The loaded profile (frozen)."""
    return _state(request.config).profile


@pytest.fixture(scope="session")
def lockstep_now(request: pytest.FixtureRequest) -> dt.datetime:
    """The clock of this run: ``--now`` or the current UTC time (timezone-aware)."""
    run = current(request.config)
    return run.now if run is not None and run.now is not None else dt.datetime.now(dt.UTC)


@pytest.fixture(scope="session")
def lockstep_deployed_at(request: pytest.FixtureRequest) -> dt.datetime | None:
    """``--deployed-at`` (timezone-aware) or ``None``."""
    run = current(request.config)
    return run.deployed_at if run is not None else None


