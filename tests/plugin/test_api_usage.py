"""The daily API headroom comes from the usage every answer reports (``Sforce-Limit-Info``):
no ``/limits`` call of its own when other facts are gathered with it, the same numbers."""

from __future__ import annotations

import pytest
from plugin_helpers import read_gate, write_landscape

WITH_OTHERS = """
import pytest

pytestmark = pytest.mark.facts("organization", "api_usage")

def test_usage_matches_limits(org):
    calls = org.api_calls
    usage = org.facts.api_usage
    assert org.api_calls == calls, "reading the gathered usage asked the org again"
    limits = org.client.get("limits/")["DailyApiRequests"]
    assert usage["Max"] == limits["Max"]
    assert usage["Remaining"] - limits["Remaining"] in (0, 1), (usage, limits)  # /limits is one call later
"""
ALONE = """
import pytest

@pytest.mark.facts("api_usage")
def test_usage_alone(org):
    assert org.facts.api_usage["Max"] > org.facts.api_usage["Remaining"] > 0
"""


@pytest.mark.parametrize(("checks", "calls"), [(WITH_OTHERS, 2), (ALONE, 1)], ids=["with-other-facts", "alone"])
def test_api_usage_costs_no_call_of_its_own(project: pytest.Pytester, checks: str, calls: int) -> None:
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}])
    project.makepyfile(test_checks=checks)
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    # with other facts: their composite call and the check's own /limits; alone: /limits once
    assert read_gate(project.path)["orgs"]["qa"]["api_calls"] == calls
