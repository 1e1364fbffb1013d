"""The lag budget shared by package_fleet and fleet: its edges, the histogram, the named laggards."""

from __future__ import annotations

import pytest

from lockstep.helpers.lag import histogram, named, over_budget


@pytest.mark.parametrize(("lagging", "total", "policy", "over"), [
    (20, 1000, {"max_lagging_percent": 2}, []),                      # exactly at the percent: allowed
    (21, 1000, {"max_lagging_percent": 2}, ["2%"]),                  # one more: over
    (5, 10, {"max_lagging": 5}, []),                                 # exactly at the count
    (6, 10, {"max_lagging": 5}, ["5 orgs"]),
    (2, 10, {"max_lagging": 1}, ["1 org"]),
    (3, 100, {"max_lagging_percent": 2, "max_lagging": 5}, ["2%"]),  # both: either exceeded is over
    (6, 1000, {"max_lagging_percent": 2, "max_lagging": 5}, ["5 orgs"]),
    (0, 10, {}, []),                                                 # no budget: none may lag
    (1, 10, {}, ["0 orgs"]),
    (1, 10, {"max_lagging_percent": None, "max_lagging": None}, ["0 orgs"]),
    (0, 0, {"max_lagging_percent": 0}, []),                          # an empty fleet lags nowhere
])
def test_budget_edges(lagging: int, total: int, policy: dict, over: list[str]) -> None:
    assert over_budget(lagging, total, policy) == over


def test_histogram_most_common_first() -> None:
    lines = histogram("acme", {"2.4.0.1": 1, "2.5.0.1": 3}, noun="subscriber")
    assert lines[0].startswith("acme 2.5.0.1      3 subscribers   75.0%")
    assert lines[1].startswith("acme 2.4.0.1      1 subscriber    25.0%")
    assert histogram("acme", {}) == []


def test_named_lists_the_first_then_a_count() -> None:
    assert named(["a", "b"], limit=2) == "a, b"
    assert named([str(i) for i in range(25)], limit=20).endswith("19 and 5 more")
