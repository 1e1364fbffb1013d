"""Automation: flows and Apex triggers are in the state the release needs.

Deployments move metadata but often leave a flow inactive (deployed as a new, inactive
version) or a trigger switched off, and then business processes silently stop. Declare the
expected state in the profile:

    expect:
      flows:
        Case_Triage: {active: true}              # optionally: version: 4 (active version)
        Legacy_Router: {active: false}
      apex_triggers:
        CaseTrigger: {active: true}
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.verification


def test_flows_in_expected_state(org):
    """Flows are active (at the expected version) or inactive as declared."""
    expected = org.expect.get("flows")
    if not expected:
        pytest.skip("no flow expectations: declare expect.flows in the profile")
    flows = {flow.api_name: flow for flow in org.facts.flows}
    problems = []
    for name, spec in sorted(expected.items()):
        flow = flows.get(name)
        want_active = spec.get("active", True)
        if flow is None:
            problems.append(f"{org.name}: flow {name}: expected {'active' if want_active else 'inactive'}, found missing")
            continue
        found = f"active version {flow.active_version}" if flow.active_version else "inactive"
        if want_active and flow.active_version is None:
            problems.append(f"{org.name}: flow {name}: expected active, found inactive (latest version {flow.latest_version})")
        elif not want_active and flow.active_version is not None:
            problems.append(f"{org.name}: flow {name}: expected inactive, found {found}")
        elif want_active and spec.get("version") and flow.active_version != spec["version"]:
            problems.append(f"{org.name}: flow {name}: expected active version {spec['version']}, found {found}")
    assert not problems, "\n".join(problems)


def test_apex_triggers_in_expected_state(org):
    """Apex triggers are active or inactive as declared."""
    expected = org.expect.get("apex_triggers")
    if not expected:
        pytest.skip("no trigger expectations: declare expect.apex_triggers in the profile")
    triggers = {trigger.name: trigger for trigger in org.facts.apex_triggers}
    problems = []
    for name, spec in sorted(expected.items()):
        want = "Active" if spec.get("active", True) else "Inactive"
        trigger = triggers.get(name)
        found = trigger.status if trigger else "missing"
        if found != want:
            problems.append(f"{org.name}: apex trigger {name}: expected {want}, found {found}")
    assert not problems, "\n".join(problems)
