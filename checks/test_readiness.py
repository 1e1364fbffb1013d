"""Readiness: can this org take a deployment right now?

Run before a deployment (`pytest --org-profile staging -m readiness`); a no-go stops the
pipeline before anything changes on the org. Thresholds come from the profile:

    expect:
      api_headroom: {min_remaining_percent: 10}   # or min_remaining: 50000
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.readiness

BUSY_DEPLOY_STATUSES = {"Pending", "InProgress", "Canceling"}
BUSY_INSTALL_STATUSES = {"IN_PROGRESS"}


def test_org_reachable(org):
    """The org answers and the configured credentials authenticate."""
    assert org.facts.organization.id, f"{org.name}: the Organization record could not be read"


def test_api_headroom(org):
    """Enough daily API requests remain for the deployment and its verification."""
    rule = org.expect.get("api_headroom")
    if not rule:
        pytest.skip("no API headroom threshold: declare expect.api_headroom in the profile")
    daily = org.facts.limits["DailyApiRequests"]
    remaining, maximum = daily["Remaining"], daily["Max"]
    percent = 100.0 * remaining / maximum if maximum else 0.0
    if "min_remaining_percent" in rule:
        assert percent >= rule["min_remaining_percent"], (
            f"{org.name}: daily API requests: expected at least {rule['min_remaining_percent']}% remaining, "
            f"found {remaining} of {maximum} ({percent:.1f}%)"
        )
    if "min_remaining" in rule:
        assert remaining >= rule["min_remaining"], (
            f"{org.name}: daily API requests: expected at least {rule['min_remaining']} remaining, found {remaining}"
        )


def test_no_deployment_in_progress(org):
    """No metadata deployment is running or queued on the org."""
    busy = [d for d in org.facts.deployments if d.status in BUSY_DEPLOY_STATUSES]
    assert not busy, "\n".join(
        f"{org.name}: deployment {d.id}: expected none in progress, found {d.status} since {d.created}" for d in busy
    )


def test_no_package_install_in_progress(org):
    """No package install or upgrade is running on the org."""
    busy = [i for i in org.facts.package_installs if i.status in BUSY_INSTALL_STATUSES]
    assert not busy, "\n".join(
        f"{org.name}: package install {i.id}: expected none in progress, found {i.status} since {i.created}" for i in busy
    )
