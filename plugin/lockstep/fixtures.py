"""Fixtures for checks beyond ``org``/``orgs``/``profile``: planned answers, records, endpoint probes,
the release id."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lockstep.endpoints import Probe, ProbeResult
    from lockstep.orgs import Org
    from lockstep.plan import Planned
    from lockstep.records import Records

__all__ = ["EndpointProbes", "endpoint_probes", "lockstep_release", "planned", "records"]


def _state(config: pytest.Config) -> Any:
    state = config.pluginmanager.get_plugin("lockstep-state")
    if state is None:
        pytest.fail("lockstep: this test needs Salesforce orgs; pass --org-profile NAME", pytrace=False)
    return state


@pytest.fixture
def records(org: Org) -> Iterator[Records]:
    """Create records in the org (``records.create``); all are deleted after the check, pass or fail.

    Needs ``@pytest.mark.writes``; on an org that does not allow writes the first ``create``
    fails the check with ``<org>: writes refused: ...`` (nothing reaches the org).
    A record that cannot be deleted makes the check's teardown an error naming it.
    """
    from lockstep.records import Records

    tracker = Records(org)
    try:
        yield tracker
    finally:
        leftovers = tracker.cleanup()
        if leftovers:
            pytest.fail("\n".join(leftovers), pytrace=False)


class EndpointProbes:
    """Probes every endpoint of every selected org once, concurrently, on first use."""

    def __init__(self, state: Any) -> None:
        self._state = state
        self._probes: dict[str, list[Probe] | str] | None = None
        self._results: dict[Any, ProbeResult] = {}

    def _gather(self) -> None:
        from lockstep.endpoints import environment_of, parse_probes, probe_all

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
    return request.config.getoption("release", None)


@pytest.fixture
def planned(request: pytest.FixtureRequest, org: Org) -> Planned:
    """The answers to what this check planned for its org (``@pytest.mark.plan(planner)``):
    ``planned[name]`` is the answer to the request the planner named ``name``; reading a
    request that failed raises the org's error for it (see :mod:`lockstep.plan`)."""
    planned_for: Callable[[Org, pytest.Item], Planned] = _state(request.config).planned_for
    return planned_for(org, request.node)
