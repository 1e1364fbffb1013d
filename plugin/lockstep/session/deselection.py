"""Counting the tests a run left out: a run that deselected checks is not complete, except for
those left out only for lacking the phase of ``-m PHASE`` and shard 1's checks in other shards."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from lockstep.gate.build import PHASES
from lockstep.session.shards import SHARDED_OUT

__all__ = ["Deselection"]


class Deselection:
    """The counts the gate's ``narrowing`` reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.deselected = 0
        self.not_by_phase = 0
        self.reported = 0  # every test reported deselected, also shard 1's checks in other shards

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> Generator[None, None, None]:
        """Tests a hook (a conftest file, a plugin) drops from the collection without reporting
        them deselected count as deselected: the run is not complete."""
        collected, reported = len(items), self.reported
        result = yield
        dropped = collected - len(items) - (self.reported - reported)
        if dropped > 0:
            self.deselected += dropped
            self.not_by_phase += dropped
        return result

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Count deselected tests; those left out only for lacking the phase of ``-m PHASE`` keep the run complete."""
        markexpr = (self.config.getoption("markexpr", "") or "").strip()
        self.reported += len(items)
        for item in items:
            if item.stash.get(SHARDED_OUT, False):  # shard 1's check: not a narrowing
                continue
            self.deselected += 1
            if markexpr not in PHASES or item.get_closest_marker(markexpr) is not None:
                self.not_by_phase += 1
