"""Readiness: can the orgs take a deployment right now?

Run before a deployment (`pytest --org-profile staging -m readiness`); a no-go stops the
pipeline before anything changes. An org must answer, have daily API requests to spare and
not be busy with another deployment or package install; the release policy must allow a
deployment now (inside a window, outside every freeze); the stage before this one must have
passed for the same `--release`; and sandboxes on a preview Salesforce release ahead of
production are reported (a warning: tests there may not predict production).

    expect:
      api_headroom: {min_remaining_percent: 10}     # and/or min_remaining: 50000
      production_api_version: "62.0"                # optional: production's release when the
                                                    # profile has no production org
    release:
      windows:                                      # when deployments may start
        - {days: [mon-fri], start: "18:00", end: "22:00", timezone: Europe/Berlin}
      freezes:
        - {from: 2026-12-20, to: 2027-01-04, reason: year-end freeze}
      upstream:                                     # the stage that must have passed first
        profile: staging
        phase: verification
        gate_file: reports/staging-gate.json        # relative to the rootdir
        max_age_hours: 72

The clock is `--now` (ISO-8601) when given, so windows can be rehearsed.
"""

from __future__ import annotations

import pytest

from lockstep.config.expectations import API_VERSION, Fields, Number, expectation
from lockstep.config.release_policy import parse_release
from lockstep.gate.upstream import parse_upstream, upstream_problems

pytestmark = pytest.mark.readiness

BUSY_DEPLOY_STATUSES = {"Pending", "InProgress", "Canceling"}
BUSY_INSTALL_STATUSES = {"IN_PROGRESS"}

API_HEADROOM = expectation("api_headroom", Fields("a mapping with min_remaining_percent and/or min_remaining",
                                                  min_remaining_percent=Number(0, 100),
                                                  min_remaining=Number(0, integer=True)))
PRODUCTION_API_VERSION = expectation("production_api_version", API_VERSION)


@pytest.mark.facts("organization")
def test_org_reachable(org):
    """The org answers and the configured credentials authenticate."""
    assert org.facts.organization.id, f"{org.name}: organization: expected the Organization record, found none"


@pytest.mark.facts("api_usage")
def test_api_headroom(org):
    """Enough daily API requests remain for the deployment and its verification."""
    rule = API_HEADROOM.of(org)
    if not rule:
        pytest.skip("no API headroom threshold: declare expect.api_headroom (min_remaining_percent or min_remaining)")
    daily = org.facts.api_usage
    remaining, maximum = daily["Remaining"], daily["Max"]
    percent = 100.0 * remaining / maximum if maximum else 0.0
    problems = []
    if "min_remaining_percent" in rule and percent < rule["min_remaining_percent"]:
        problems.append(f"{org.name}: daily API requests: expected at least "
                        f"{rule['min_remaining_percent']}% remaining, "
                        f"found {remaining} of {maximum} ({percent:.1f}%)")
    if "min_remaining" in rule and remaining < rule["min_remaining"]:
        problems.append(f"{org.name}: daily API requests: expected at least {rule['min_remaining']} remaining, "
                        f"found {remaining}")
    assert not problems, "\n".join(problems)


@pytest.mark.facts("deployments")
def test_no_deployment_in_progress(org):
    """No metadata deployment is running or queued on the org."""
    busy = [d for d in org.facts.deployments if d.status in BUSY_DEPLOY_STATUSES]
    assert not busy, "\n".join(
        f"{org.name}: deployment {d.id}: expected none in progress, found {d.status} since {d.created}" for d in busy
    )


@pytest.mark.facts("package_installs")
def test_no_package_install_in_progress(org):
    """No package install or upgrade is running on the org."""
    busy = [i for i in org.facts.package_installs if i.status in BUSY_INSTALL_STATUSES]
    assert not busy, "\n".join(
        f"{org.name}: package install {i.id}: expected none in progress, found {i.status} since {i.created}"
        for i in busy
    )


def test_release_window_open(profile, lockstep_now):
    """The release policy allows a deployment now: inside a window, outside every freeze."""
    policy = parse_release(profile.release)
    if not policy.declared:
        pytest.skip("no release policy: declare release.windows and/or release.freezes in the profile")
    verdict = policy.verdict(lockstep_now)
    if verdict.open:
        return
    when = (f"next window opens {verdict.next_open:%a %Y-%m-%d %H:%M %Z}" if verdict.next_open
            else "no window opens within a year")
    pytest.fail(f"release window: expected open at {lockstep_now.isoformat(timespec='minutes')}, "
                f"found {verdict.reason}; {when}", pytrace=False)


@pytest.mark.warning
@pytest.mark.facts("api_version")
def test_sandboxes_not_ahead_of_production(orgs):
    """No sandbox runs a preview Salesforce release ahead of production."""
    declared = next((PRODUCTION_API_VERSION.of(o) for o in orgs if PRODUCTION_API_VERSION.of(o)),
                    None)
    production = {o.name: o.facts.api_version for o in orgs if o.kind == "production"}
    if declared:
        reference, source = str(declared), "declared in expect.production_api_version"
    elif production:
        name = max(production, key=lambda n: float(production[n]))
        reference, source = production[name], name
    else:
        pytest.skip("no production release to compare with: add a production org to the profile "
                    "or declare expect.production_api_version")
    ahead = [o for o in orgs
             if o.kind in ("dev", "sandbox", "staging") and float(o.facts.api_version) > float(reference)]
    assert not ahead, "\n".join(
        f"{o.name}: Salesforce release: expected API {reference} like production ({source}), "
        f"found preview API {o.facts.api_version}" for o in ahead
    )


def test_upstream_stage_passed(profile, lockstep_release, lockstep_now, pytestconfig):
    """The upstream stage passed for this release (its gate file exists, says go and is fresh)."""
    upstream = parse_upstream(profile.release.get("upstream"))
    if upstream is None:
        pytest.skip("no upstream stage: declare release.upstream (profile, phase, gate_file) in the profile")
    problems = upstream_problems(upstream, lockstep_release, lockstep_now, pytestconfig.rootpath)
    assert not problems, "\n".join(problems)
