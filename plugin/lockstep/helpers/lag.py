"""The lag budget of a package across a fleet: how many installations may still run an older
version, a version histogram, and laggards named up to a limit.

Shared by the ``package_fleet`` expectation (orgs Lockstep logs in to, checks/test_packages.py)
and the ``fleet`` expectation (the subscribers a packaging org reports, checks/test_fleet.py):
``max_lagging_percent`` and/or ``max_lagging`` (an org count); neither means none may lag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["HISTOGRAM_WIDTH", "MAX_NAMED", "histogram", "named", "over_budget"]

MAX_NAMED = 20
HISTOGRAM_WIDTH = 30


def over_budget(lagging: int, total: int, policy: Mapping[str, Any]) -> list[str]:
    """The limits of ``policy`` that ``lagging`` of ``total`` exceeds, as text (``["2%", "5 orgs"]``);
    empty when the lag is within the budget."""
    allowed_percent = policy.get("max_lagging_percent")
    allowed_count = policy.get("max_lagging")
    if allowed_percent is None and allowed_count is None:
        allowed_count = 0
    over = []
    if allowed_percent is not None and total and 100.0 * lagging / total > float(allowed_percent):
        over.append(f"{allowed_percent}%")
    if allowed_count is not None and lagging > int(allowed_count):
        over.append(f"{allowed_count} org{'s' if int(allowed_count) != 1 else ''}")
    return over


def histogram(key: str, counts: Mapping[str, int], noun: str = "org") -> list[str]:
    """One line per version, most common first: ``acme_cpq 2.5.0.1   2900 orgs   96.7%  #####``."""
    total = sum(counts.values())
    if not total:
        return []
    width = max(len(version) for version in counts)
    return [f"{key} {version:<{width}}  {count:>5} {noun}{'s' if count != 1 else ' '}  {100.0 * count / total:5.1f}%  "
            f"{'#' * max(1, round(HISTOGRAM_WIDTH * count / total))}"
            for version, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))]


def named(items: Iterable[str], limit: int = MAX_NAMED) -> str:
    """The first ``limit`` items joined by commas, then "and K more"."""
    items = list(items)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more
