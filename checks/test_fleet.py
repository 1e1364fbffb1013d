"""Fleet: the release reached every subscriber of the ISV's package, read from the packaging org.

An ISV cannot log in to its customers' orgs, yet a release is only done when the fleet runs
it. The package's owner org (the packaging org, or the Dev Hub for second-generation packages)
reports every installation (`PackageSubscriber`) and every push upgrade job. Declare that org
with `kind: packaging` and its fleet:

    orgs:
      - name: packaging
        kind: packaging
        expect:
          fleet:
            package: acme_cpq                # namespace
            target: "2.5.0.1"                # the version this release ships
            max_lagging_percent: 2           # lag budget (and/or max_lagging: 50); neither: none may lag
            org_types: [Production]          # optional: which subscribers count (default: both types)
            statuses: [Active, Trial]        # optional (default: Active, Demo, Free, Trial)
            instances: [NA211, EU44]         # optional (default: every instance)
            only: [00D5e000000AbCdEAF]       # optional allow-list of org keys or names
            exclude: [Globex Sandbox]        # optional deny-list of org keys or names
            push_grace_minutes: 120          # push jobs may still run this long after the push started

The packaging org is asked five queries, sent together in one composite call; the subscriber
list comes 2,000 rows per page (10,000 subscribers: 5 API calls).

Checks (phase verification): the fleet runs the target version within the lag budget (the
failure shows the version histogram and the laggards by instance, the first 20 of each named);
every job of the release's push request (the latest push to the target version) succeeded,
failed jobs named with their error type and title, and jobs still waiting or running after
the grace period named; subscribers that block push upgrades or are inactive are listed as a
warning (also before the release); and each org of kind `subscriber` that Lockstep logs in to
directly runs the version the packaging org reports for it (matched by org id).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from lockstep.config.expectations import TEXT, VERSION, Fields, ListOf, Number, OneOf, expectation
from lockstep.facts.plan import plan
from lockstep.helpers.fleet import OPEN_STATUSES, FleetSpec, fleet_requests, read_fleet
from lockstep.helpers.lag import histogram, named, over_budget
from lockstep.helpers.versions import parse_version
from lockstep.salesforce.errors import SalesforceError

pytestmark = plan(fleet_requests)

NOT_INSTALLED = "not installed"

ORG_TYPES = ("Production", "Sandbox")  # PackageSubscriber.OrgType and OrgStatus picklists
ORG_STATUSES = ("Active", "Demo", "Free", "Inactive", "Trial")
FLEET = expectation("fleet", Fields(  # read on orgs of kind packaging
    "a fleet (package, target, lag budget, which subscribers count)", ("package", "target"),
    package=TEXT, target=VERSION, max_lagging_percent=Number(0, 100), max_lagging=Number(0, integer=True),
    org_types=ListOf(OneOf(*ORG_TYPES), "a list of org types (Production, Sandbox)"),
    statuses=ListOf(OneOf(*ORG_STATUSES), "a list of org statuses (Active, Demo, Free, Inactive, Trial)"),
    instances=ListOf(TEXT), only=ListOf(TEXT, "a list of org keys or names"),
    exclude=ListOf(TEXT, "a list of org keys or names"), push_grace_minutes=Number(0)))


def _fleet(org, planned):
    spec = FleetSpec.of(org.kind, org.expect)
    if spec is None:
        pytest.skip(f"{org.name}: not a packaging org with a fleet: fleet checks run on the package's owner org "
                    "(kind: packaging, expect.fleet {package: NAMESPACE, target: VERSION})")
    return read_fleet(spec, lambda name: planned[name])


@pytest.mark.verification
def test_fleet_on_target_version(org, planned, record_property):
    """The subscriber fleet runs the release's package version, within the lag budget."""
    fleet = _fleet(org, planned)
    spec, counted = fleet.spec, fleet.counted
    if not counted:
        pytest.skip(f"{org.name}: no subscriber of {spec.package} matches expect.fleet "
                    f"(org_types, statuses, instances, only, exclude)")
    lagging = sorted((s for s in counted if fleet.lags(s)), key=lambda s: (s.instance, s.org_name, s.org_key))
    counts = Counter(s.version for s in counted)
    lines = histogram(spec.package, counts, noun="subscriber")
    print("\n".join([f"{org.name}: {spec.package}: target {spec.target}, {len(lagging)} of {len(counted)} "
                     f"subscribers lagging", *lines]))
    record_property("lockstep_fleet", {"package": spec.package, "target": str(spec.target),
                                       "subscribers": len(counted), "lagging": len(lagging), "histogram": dict(counts)})
    over = over_budget(len(lagging), len(counted), spec.policy)
    if over:
        by_instance = defaultdict(list)
        for subscriber in lagging:
            by_instance[subscriber.instance or "no instance"].append(f"{subscriber.label} on {subscriber.version}")
        percent = 100.0 * len(lagging) / len(counted)
        pytest.fail("\n".join([
            f"{org.name}: package {spec.package}: {len(lagging)} of {len(counted)} subscribers ({percent:.1f}%) "
            f"lag {spec.target}, more than the {' or '.join(over)} allowed",
            *(f"  {line}" for line in lines),
            *(f"  {instance}: {len(names)} lagging: {named(names)}" for instance, names in sorted(by_instance.items())),
        ]), pytrace=False)


@pytest.mark.verification
def test_push_upgrade_succeeded(org, planned, lockstep_now):
    """Every job of the release's push upgrade succeeded (none failed, none stuck past the grace period)."""
    fleet = _fleet(org, planned)
    spec, request = fleet.spec, fleet.push_request
    if request is None:
        pytest.skip(f"{org.name}: no push upgrade of {spec.package} to {spec.target} (no PackagePushRequest "
                    f"for that version): nothing to verify")
    subscribers = fleet.by_key()
    total = sum(fleet.job_counts.values())
    failed, stuck, waiting = [], [], 0
    for job in sorted(fleet.open_jobs, key=lambda j: j.org_key):
        subscriber = subscribers.get(job.org_key[:15])
        if subscriber is not None and not spec.counts(subscriber, any_status=True):
            continue
        label = subscriber.label if subscriber is not None else job.org_key
        if job.status in ("Failed", "Canceled", "Cancelled"):  # older API versions spell it Cancelled
            reasons = "; ".join(f"{kind}: {title}" for kind, title in job.errors) or "no PackagePushError"
            failed.append(f"{label} {job.status.lower()} ({reasons})")
        elif job.status in OPEN_STATUSES:
            started = job.started or fleet.push_scheduled
            if started is None or lockstep_now - started > spec.push_grace:
                since = f"since {started:%Y-%m-%d %H:%M} UTC" if started is not None else "not scheduled"
                stuck.append(f"{label} {job.status} {since}")
            else:
                waiting += 1
    succeeded = fleet.job_counts.get("Succeeded", 0)
    print(f"{org.name}: push upgrade {request.get('Id')} of {spec.package} to {spec.target} "
          f"({request.get('Status')}): {succeeded} of {total} jobs succeeded, {waiting} still within the grace period")
    problems = []
    if failed:
        problems.append(f"{len(failed)} push job{'s' if len(failed) != 1 else ''} failed: {named(failed)}")
    if stuck:
        minutes = spec.push_grace.total_seconds() / 60
        problems.append(f"{len(stuck)} push job{'s' if len(stuck) != 1 else ''} not finished {minutes:g} minutes "
                        f"after starting: {named(stuck)}")
    assert not problems, "\n".join(
        f"{org.name}: push upgrade of {spec.package} to {spec.target}: {problem}" for problem in problems)


@pytest.mark.warning
@pytest.mark.readiness
@pytest.mark.verification
def test_subscribers_accept_push_upgrades(org, planned):
    """No subscriber blocks push upgrades or is inactive (they cannot receive the release by push)."""
    fleet = _fleet(org, planned)
    blocked, inactive = [], []
    for subscriber in sorted(fleet.subscribers, key=lambda s: (s.org_name, s.org_key)):
        if not fleet.spec.counts(subscriber, any_status=True):
            continue
        if subscriber.blocked:
            blocked.append(f"{subscriber.label} on {subscriber.version}")
        if subscriber.status == "Inactive":
            inactive.append(f"{subscriber.label} on {subscriber.version}")
    problems = []
    if blocked:
        problems.append(f"{len(blocked)} subscriber{'s block' if len(blocked) != 1 else ' blocks'} push upgrades "
                        f"(HasRestrictionEnabled): {named(blocked)}")
    if inactive:
        problems.append(f"{len(inactive)} subscriber{'s' if len(inactive) != 1 else ''} inactive "
                        f"(OrgStatus Inactive): {named(inactive)}")
    assert not problems, "\n".join(f"{org.name}: package {fleet.spec.package}: {p}" for p in problems)


@pytest.mark.verification
@pytest.mark.facts("organization", "packages")
def test_fleet_matches_direct_subscribers(orgs):
    """Each subscriber org Lockstep logs in to runs the version its packaging org reports for it."""
    declared = [(o, FleetSpec.of(o.kind, o.expect)) for o in orgs]
    owners = [(o, spec) for o, spec in declared if spec is not None]
    direct = [o for o in orgs if o.kind == "subscriber"]
    if not owners or not direct:
        pytest.skip("needs a packaging org with expect.fleet and orgs of kind subscriber in the profile")
    problems = []
    for owner, spec in owners:
        requests = fleet_requests(owner.config)
        if requests is None:  # not reached: the owner declares expect.fleet
            continue
        try:
            fleet = read_fleet(spec, lambda name: owner.answers.result(requests[name]))  # noqa: B023 - called within this iteration
        except SalesforceError as exc:
            problems.append(f"{owner.name}: the fleet of {spec.package} could not be read: {exc}")
            continue
        reported = fleet.by_key()
        for org in sorted(direct, key=lambda o: o.name):
            own = next((p.version for p in org.facts.packages if (p.namespace or p.name) == spec.package),
                       NOT_INSTALLED)
            record = reported.get(org.facts.organization.id[:15])
            recorded = record.version if record is not None else NOT_INSTALLED
            if own == NOT_INSTALLED and record is None:
                continue
            if own == NOT_INSTALLED or record is None or parse_version(own) != _version(recorded):
                problems.append(f"{org.name} ({org.facts.organization.id}): package {spec.package}: "
                                f"{owner.name} reports {recorded}, the org itself runs {own}")
    assert not problems, "\n".join(problems)


def _version(text):
    try:
        return parse_version(text)
    except ValueError:
        return None
