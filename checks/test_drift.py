"""Drift: orgs that should be alike still are.

A release is meant to leave the orgs of a stage (or dev, QA, staging and production) in the
same state, but hotfixes made in one org, a deployment that skipped an org or a permission
clicked together by hand make them drift apart, and the next release then behaves
differently per org. This check compares the orgs of the profile item by item: installed
package versions, permission sets with their object and field access, flow active versions,
Apex trigger status and validation rule status. Each org is read once (its facts are shared
with every other check), then the values are lined up in a matrix.

Either every org is compared with every other one (N-way), or each with a baseline org.
Declare the comparison once, in the shared expectations:

    expect:
      drift:
        baseline: prod                 # optional: compare with this org (default: N-way)
        orgs: [tag:internal]           # optional: names, globs or tag:X (default: every org)
        compare: [packages, permission_sets, flows, apex_triggers, validation_rules]  # default: all
        ignore:                        # item keys (globs) to leave out
          - flows:Legacy_*
          - permission_sets:Sandbox_Tools*
    orgs:
      - name: sub-globex
        expect: {drift: null}          # leave one org out of the comparison

Item keys are `<category>:<name>`: `packages:acme_cpq`, `flows:Case_Triage`,
`apex_triggers:CaseTrigger`, `validation_rules:Case.Require_Close_Reason`,
`permission_sets:Sales_Ops` (exists), `permission_sets:Sales_Ops/Account` (object access),
`permission_sets:Sales_Ops/Account.Rating` (field access).

The failure names every differing item with every org's value, one line per item. The whole
matrix (differing or not) is attached to the test report as the `lockstep_drift` property,
for reports to render.
"""

from __future__ import annotations

import fnmatch

import pytest

from lockstep.config.expectations import TEXT, Fields, ListOf, OneOf, expectation
from lockstep.helpers.drift import CATEGORIES, compare, snapshot

pytestmark = [
    pytest.mark.verification,
    pytest.mark.facts("packages", "permission_sets", "flows", "apex_triggers", "validation_rules"),
]

DRIFT = expectation("drift", Fields("a mapping with baseline, orgs, compare, ignore", baseline=TEXT,
                                    orgs=ListOf(TEXT), compare=ListOf(OneOf(*CATEGORIES), "a list of categories"),
                                    ignore=ListOf(TEXT)))


def _selected(org, selectors) -> bool:
    if not selectors:
        return True
    for term in selectors:
        term = str(term)
        if term.startswith("tag:") and term[4:] in org.tags:
            return True
        if fnmatch.fnmatchcase(org.name, term):
            return True
    return False


def test_no_drift_between_orgs(orgs, profile, record_property):
    """Packages, permission sets and automation are the same on every compared org."""
    settings = DRIFT.of(profile)
    if not settings:
        pytest.skip("no drift comparison declared: declare expect.drift (e.g. {baseline: prod}) in the profile")
    categories = tuple(settings.get("compare") or CATEGORIES)  # keys and categories: validated with the profile

    compared = [org for org in orgs if "drift" in org.expect and _selected(org, settings.get("orgs"))]
    baseline = settings.get("baseline")
    if baseline is not None:
        assert baseline in {org.name for org in compared}, (
            f"drift: baseline org {baseline} is not among the compared orgs "
            f"({', '.join(org.name for org in compared) or 'none'}): not selected, unreachable or excluded"
        )
    if len(compared) < 2:
        pytest.skip("drift needs at least two orgs: widen expect.drift.orgs or the org selection")

    matrix = compare({org.name: snapshot(org.facts, categories) for org in compared},
                     baseline=baseline, ignore=settings.get("ignore") or (), categories=categories)
    record_property("lockstep_drift", matrix.as_data())
    differing = matrix.lines()
    assert not differing, f"{matrix.summary()}: {'; '.join(differing)}"
