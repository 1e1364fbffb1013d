"""Integrations: every org talks to the systems of its own environment.

A sandbox refreshed from production keeps production's endpoints: its tests then post orders
to the live ERP. Production pointing at a test endpoint loses real business. Declare, per named
credential, the endpoint of each environment (production orgs and subscribers use
`production`, every other org `sandbox`):

    expect:
      endpoints:
        ERP:
          production: https://erp.acme.example
          sandbox: https://erp-test.acme.example
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.verification, pytest.mark.readiness]


def _environment(org) -> str:
    return "production" if org.is_production else "sandbox"


def _matches(endpoint: str, base: str) -> bool:
    endpoint, base = endpoint.rstrip("/").lower(), base.rstrip("/").lower()
    return endpoint == base or endpoint.startswith(base + "/")


def test_named_credentials_point_at_own_environment(org):
    """Named credentials point at the endpoint of the org's own environment."""
    expected = org.expect.get("endpoints")
    if not expected:
        pytest.skip("no endpoint expectations: declare expect.endpoints in the profile")
    environment = _environment(org)
    credentials = {credential.name: credential for credential in org.facts.named_credentials}
    problems = []
    for name, by_environment in sorted(expected.items()):
        want = by_environment.get(environment)
        credential = credentials.get(name)
        if want is None:
            continue
        if credential is None:
            problems.append(f"{org.name}: named credential {name}: expected {want}, found missing")
            continue
        if _matches(credential.endpoint, want):
            continue
        other = next(
            (env for env, url in by_environment.items() if env != environment and _matches(credential.endpoint, url)),
            None,
        )
        found = f"the {other} endpoint {credential.endpoint}" if other else f"unknown endpoint {credential.endpoint}"
        problems.append(f"{org.name}: named credential {name}: expected the {environment} endpoint {want}, found {found}")
    assert not problems, "\n".join(problems)
