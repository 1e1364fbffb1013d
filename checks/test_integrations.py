"""Integrations: every org talks to the systems of its own environment, and they answer.

A sandbox refreshed from production keeps production's named credentials and remote sites:
its tests then post orders to the live ERP. Production pointing at a test endpoint loses
real business. Both are blockers. Endpoints that belong to no declared system are reported
(a warning), external systems are probed (status, latency, TLS certificate expiry, optional
JSON field), and platform-event subscribers must be running.

An org's environment is `production` for production and subscriber orgs, `sandbox` for
every other org, or `expect.environment` when declared (for example `staging`).

    expect:
      endpoints:                       # system (= named credential name) -> URL per environment
        ERP:
          production: https://erp.acme.example
          sandbox: https://erp-test.acme.example
      probes:                          # external endpoints answered from here (see lockstep.helpers.endpoints)
        ERP health:
          url: {production: https://erp.acme.example/health, sandbox: https://erp-test.acme.example/health}
          status: 200
          max_latency_ms: 2000
          min_cert_days: 14
          json: {status: ok}
      event_subscribers:               # optional: subscribers that must exist (all present must run)
        - OrderEventTrigger
"""

from __future__ import annotations

import pytest

from lockstep.config.expectations import (
    TEXT,
    URL,
    Each,
    ListOf,
    expectation,
)
from lockstep.helpers.endpoints import PROBE, classify, environment_of, matches

pytestmark = [pytest.mark.verification, pytest.mark.readiness]

RUNNING = "Running"

ENVIRONMENT = expectation("environment", TEXT)
ENDPOINTS = expectation("endpoints", Each("a mapping of system -> URL per environment",
                                          Each("a mapping of environment -> URL", URL)))
PROBES = expectation("probes", Each("a mapping of probe name -> probe", PROBE))
EVENT_SUBSCRIBERS = expectation("event_subscribers", ListOf(TEXT))


def _endpoints(org):
    endpoints = ENDPOINTS.of(org)
    if not endpoints:
        pytest.skip("no endpoint expectations: declare expect.endpoints (system -> URL per environment)")
    return endpoints


def _wrong_environment(org, kind, name, url, endpoints, environment, *, origin_only=False):
    """A finding when ``url`` belongs to another environment's endpoint and not to its own."""
    owners = classify(url, endpoints, origin_only=origin_only)
    if not owners or any(env == environment for _, env, _ in owners):
        return None
    system, other, _ = owners[0]
    want = (endpoints.get(system) or {}).get(environment)
    expected = f"the {environment} endpoint {want}" if want else f"an endpoint of the {environment} environment"
    return f"{org.name}: {kind} {name}: expected {expected}, found the {other} endpoint {url}"


@pytest.mark.facts("named_credentials")
def test_named_credentials_point_at_own_environment(org):
    """Named credentials point at the endpoint of the org's own environment."""
    endpoints = _endpoints(org)
    environment = environment_of(org.kind, org.expect)
    credentials = {credential.name: credential for credential in org.facts.named_credentials}
    problems = []
    for name, by_environment in sorted(endpoints.items()):
        want = (by_environment or {}).get(environment)
        credential = credentials.get(name)
        if want is None:
            finding = credential and credential.endpoint and _wrong_environment(
                org, "named credential", name, credential.endpoint, endpoints, environment)
            if finding:
                problems.append(finding)
        elif credential is None:
            problems.append(f"{org.name}: named credential {name}: expected {want}, found missing")
        elif not credential.endpoint or not matches(credential.endpoint, want):
            other = next((env for env, url in by_environment.items()
                          if env != environment and credential.endpoint and matches(credential.endpoint, url)), None)
            found = (f"the {other} endpoint {credential.endpoint}" if other
                     else f"unknown endpoint {credential.endpoint or '(none)'}")
            problems.append(f"{org.name}: named credential {name}: expected the {environment} endpoint {want}, "
                            f"found {found}")
    for name, credential in sorted(credentials.items()):
        if name not in endpoints and credential.endpoint:
            finding = _wrong_environment(org, "named credential", name, credential.endpoint, endpoints, environment)
            if finding:
                problems.append(finding)
    assert not problems, "\n".join(problems)


@pytest.mark.facts("remote_sites")
def test_remote_sites_point_at_own_environment(org):
    """Active remote site settings allow only the endpoints of the org's own environment."""
    endpoints = _endpoints(org)
    environment = environment_of(org.kind, org.expect)
    problems = []
    for site in org.facts.remote_sites:
        if site.active and site.url:
            finding = _wrong_environment(org, "remote site", site.name, site.url, endpoints, environment,
                                         origin_only=True)
            if finding:
                problems.append(finding)
    assert not problems, "\n".join(problems)


@pytest.mark.warning
@pytest.mark.facts("named_credentials", "remote_sites")
def test_no_unknown_endpoints(org):
    """Named credentials and active remote sites point only at endpoints the profile knows."""
    endpoints = _endpoints(org)
    found = [("named credential", c.name, c.endpoint, False) for c in org.facts.named_credentials if c.endpoint]
    found += [("remote site", s.name, s.url, True) for s in org.facts.remote_sites if s.active and s.url]
    problems = [
        f"{org.name}: {kind} {name}: expected an endpoint declared in expect.endpoints, found unknown endpoint {url}"
        for kind, name, url, origin_only in found
        if not classify(url, endpoints, origin_only=origin_only)
    ]
    assert not problems, "\n".join(problems)


def test_external_endpoints_answer(org, endpoint_probes):
    """External endpoints of the org's environment answer: status, latency, TLS certificate, JSON."""
    if not PROBES.of(org):
        pytest.skip("no endpoint probes: declare expect.probes (name -> url, status, max_latency_ms, ...)")
    results = endpoint_probes.for_org(org)
    if not results:
        pytest.skip(f"no probe has a URL for the {environment_of(org.kind, org.expect)} environment")
    problems = [
        f"{org.name}: endpoint {probe.name} {probe.url}: {problem}"
        for probe, result in results
        for problem in result.problems(probe)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.facts("event_subscribers")
def test_event_subscribers_running(org):
    """Platform-event and change-data-capture subscribers are running (not suspended or in error)."""
    subscribers = org.facts.event_subscribers
    required = list(EVENT_SUBSCRIBERS.of(org) or ())
    if not subscribers and not required:
        pytest.skip("no event subscribers on the org: declare expect.event_subscribers to require some")
    problems = [f"{org.name}: event subscriber {s.name} on {s.topic}: expected {RUNNING}, found {s.status}"
                for s in subscribers if s.status != RUNNING]
    present = {s.name for s in subscribers}
    problems += [f"{org.name}: event subscriber {name}: expected {RUNNING}, found missing"
                 for name in required if name not in present]
    assert not problems, "\n".join(problems)
