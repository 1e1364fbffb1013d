"""Automation: flows, triggers, validation rules and scheduled jobs are in the state the release needs.

Deployments move metadata but often leave a flow inactive (deployed as a new, inactive
version) or a trigger switched off, a scheduled job paused or stuck, and batch jobs failing
after the new code arrived; then business processes silently stop. Declare the expected
state in the profile:

    expect:
      flows:
        Case_Triage: {active: true, version: 4}   # version: the active version (optional)
        Legacy_Router: {active: false}            # must be off (or absent)
      apex_triggers:
        CaseTrigger: {active: true}
      validation_rules:                           # Object.RuleName (or RuleName on any object)
        Case.Require_Close_Reason: {active: true}
      scheduled_jobs:                             # CronJobDetail name -> expected state
        Nightly ERP Sync: {state: WAITING}        # default WAITING; a list allows several
      scheduled_job_grace_minutes: 15             # a next fire time further in the past is stuck
      deployed_at: "2026-11-26T04:00:00+00:00"    # or pass --deployed-at: async jobs since then

Scheduled jobs are also checked without expectations: none may be stuck (state ERROR,
BLOCKED or PAUSED_BLOCKED, or a next fire time in the past beyond the grace). Failed async
Apex jobs (Failed, or Completed with errors) created since the deployment started mean the
new code breaks in the org. Per-org overrides go under the org's `expect:` (null removes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest

from lockstep.config.expectations import ACTIVE, BOOL, MOMENT, Each, Either, Fields, ListOf, Number, OneOf, expectation

pytestmark = pytest.mark.verification

STUCK_STATES = ("ERROR", "BLOCKED", "PAUSED_BLOCKED")
SCHEDULED_STATES = ("WAITING", "ACQUIRED", "EXECUTING")
DEFAULT_GRACE_MINUTES = 15
CRON_STATES = ("WAITING", "ACQUIRED", "EXECUTING", "COMPLETE", "ERROR", "DELETED", "PAUSED", "BLOCKED",
               "PAUSED_BLOCKED")

FLOWS = expectation("flows", Each("a mapping of flow API name -> state", Either(
    BOOL, Fields("a mapping like {active: true, version: 4}", active=BOOL, version=Number(1, integer=True)))))
APEX_TRIGGERS = expectation("apex_triggers", Each("a mapping of trigger name -> state", ACTIVE))
VALIDATION_RULES = expectation("validation_rules", Each("a mapping of Object.RuleName -> state", ACTIVE))
SCHEDULED_JOBS = expectation("scheduled_jobs", Each("a mapping of scheduled job name -> state", Fields(
    "a mapping like {state: WAITING}",
    state=Either(OneOf(*CRON_STATES), ListOf(OneOf(*CRON_STATES), "a list of states")))))
SCHEDULED_JOB_GRACE_MINUTES = expectation("scheduled_job_grace_minutes", Number(0))
DEPLOYED_AT = expectation("deployed_at", MOMENT)


def _utc(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _spec(value) -> Mapping:
    """`{active: true, ...}`, or a bare true/false for {active: ...}."""
    return value if isinstance(value, Mapping) else {"active": bool(value)}


@pytest.mark.facts("flows")
def test_flows_in_expected_state(org):
    """Flows are active (at the expected version) or inactive as declared."""
    expected = FLOWS.of(org)
    if not expected:
        pytest.skip("no flow expectations: declare expect.flows in the profile")
    flows = {flow.api_name: flow for flow in org.facts.flows}
    problems = []
    for name, spec in sorted(expected.items()):
        spec = _spec(spec)
        flow = flows.get(name)
        want_active = spec.get("active", True)
        want_version = spec.get("version")
        wanted = (f"active version {want_version}" if want_version else "active") if want_active else "inactive"
        if flow is None:
            if want_active:
                problems.append(f"{org.name}: flow {name}: expected {wanted}, found missing")
            continue
        found = f"active version {flow.active_version}" if flow.active_version else "inactive"
        if want_active and flow.active_version is None:
            problems.append(f"{org.name}: flow {name}: expected {wanted}, found inactive "
                            f"(latest version {flow.latest_version})")
        elif not want_active and flow.active_version is not None:
            problems.append(f"{org.name}: flow {name}: expected inactive, found {found}")
        elif want_active and want_version and flow.active_version != int(want_version):
            problems.append(f"{org.name}: flow {name}: expected active version {want_version}, found {found} "
                            f"(latest version {flow.latest_version})")
    assert not problems, "\n".join(problems)


@pytest.mark.facts("apex_triggers")
def test_apex_triggers_in_expected_state(org):
    """Apex triggers are active or inactive as declared."""
    expected = APEX_TRIGGERS.of(org)
    if not expected:
        pytest.skip("no trigger expectations: declare expect.apex_triggers in the profile")
    triggers = {trigger.name: trigger for trigger in org.facts.apex_triggers}
    problems = []
    for name, spec in sorted(expected.items()):
        want = "Active" if _spec(spec).get("active", True) else "Inactive"
        trigger = triggers.get(name)
        found = trigger.status if trigger else "missing"
        if found != want:
            problems.append(f"{org.name}: apex trigger {name}: expected {want}, found {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.facts("validation_rules")
def test_validation_rules_in_expected_state(org):
    """Validation rules are active (or inactive) as declared."""
    expected = VALIDATION_RULES.of(org)
    if not expected:
        pytest.skip("no validation rule expectations: declare expect.validation_rules (Object.RuleName) in the profile")
    rules = org.facts.validation_rules
    problems = []
    for key, spec in sorted(expected.items()):
        obj, _, name = key.rpartition(".")
        found_rules = [r for r in rules if r.name == name and (not obj or r.object == obj)]
        want = "active" if _spec(spec).get("active", True) else "inactive"
        if not found_rules:
            problems.append(f"{org.name}: validation rule {key}: expected {want}, found missing")
            continue
        for rule in found_rules:
            found = "active" if rule.active else "inactive"
            if found != want:
                problems.append(f"{org.name}: validation rule {rule.object}.{rule.name}: "
                                f"expected {want}, found {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.facts("scheduled_jobs")
def test_scheduled_jobs_scheduled(org):
    """Expected scheduled jobs exist in the expected state with a next fire time."""
    expected = SCHEDULED_JOBS.of(org)
    if not expected:
        pytest.skip("no scheduled job expectations: declare expect.scheduled_jobs (job name -> {state}) in the profile")
    jobs: dict[str, list] = {}
    for job in org.facts.scheduled_jobs:
        jobs.setdefault(job.name or "", []).append(job)
    problems = []
    for name, spec in sorted(expected.items()):
        states = (spec or {}).get("state", "WAITING")
        states = (states,) if isinstance(states, str) else tuple(states)
        wanted = " or ".join(states)
        found = jobs.get(name)
        if not found:
            problems.append(f"{org.name}: scheduled job {name}: expected {wanted}, found not scheduled")
            continue
        for job in found:
            if job.state not in states:
                problems.append(f"{org.name}: scheduled job {name}: expected {wanted}, found {job.state}")
            elif job.state in SCHEDULED_STATES and job.next_fire is None:
                problems.append(f"{org.name}: scheduled job {name}: expected a next fire time, found none")
    assert not problems, "\n".join(problems)


@pytest.mark.facts("scheduled_jobs")
def test_no_stuck_scheduled_jobs(org, lockstep_now):
    """No scheduled job is stuck (error or blocked state, or overdue)."""
    minutes = SCHEDULED_JOB_GRACE_MINUTES.of(org)
    grace = dt.timedelta(minutes=float(DEFAULT_GRACE_MINUTES if minutes is None else minutes))
    problems = []
    for job in org.facts.scheduled_jobs:
        name = job.name or "(unnamed)"
        if job.state in STUCK_STATES:
            problems.append(f"{org.name}: scheduled job {name}: expected not stuck, found {job.state}")
        elif job.state in SCHEDULED_STATES and job.next_fire is not None and job.next_fire < lockstep_now - grace:
            late = int((lockstep_now - job.next_fire).total_seconds() // 60)
            problems.append(f"{org.name}: scheduled job {name}: expected to fire at {_utc(job.next_fire)}, "
                            f"found it {late} minutes overdue ({job.state})")
    assert not problems, "\n".join(problems)


def _deployment_start(org, deployed_at: dt.datetime | None) -> dt.datetime | None:
    if deployed_at is not None:
        return deployed_at
    declared = DEPLOYED_AT.of(org)
    if not declared:
        return None
    value = declared if isinstance(declared, dt.datetime) else dt.datetime.fromisoformat(str(declared))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@pytest.mark.facts("async_jobs")
def test_no_failed_async_jobs_since_deployment(org, lockstep_deployed_at):
    """No async Apex job (batch, queueable, future, scheduled) failed since the deployment started."""
    since = _deployment_start(org, lockstep_deployed_at)
    if since is None:
        pytest.skip("no deployment start: pass --deployed-at ISO-TIME or declare expect.deployed_at in the profile")
    problems = []
    for job in org.facts.async_jobs:
        if job.created is None or job.created < since:
            continue
        if job.status == "Failed" or (job.status == "Completed" and job.errors):
            errors = f" with {job.errors} error{'s' if job.errors != 1 else ''}" if job.errors else ""
            detail = f": {' '.join(job.extended_status.split())}" if job.extended_status else ""
            problems.append(f"{org.name}: async job {job.class_name or job.job_type} ({job.job_type} {job.id}): "
                            f"expected no failures since {_utc(since)}, found {job.status}{errors}{detail}")
    assert not problems, "\n".join(problems)
