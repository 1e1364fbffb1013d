"""Critical processes: the business still works end to end after the release.

Metadata can be complete and active and the business process still broken: a flow at the
wrong version, an Apex REST service failing, integrations no longer writing data. These
smoke tests exercise the processes themselves.

Read-only checks run on every org: recent business data exists (a SOQL count built from the
profile, values escaped) and Apex REST health endpoints answer. The record-automation check
creates records (`@pytest.mark.writes`): on orgs whose profile does not allow writes
(production and subscriber orgs by default) its first write is refused and fails the check,
so a declared expectation is never left unverified; set `record_automation: null` for such
orgs and run it on a production-like sandbox of the same release instead. Every record it
creates is deleted afterwards, also when it fails.

    expect:
      business_data:                   # name -> count of matching records
        Cases arrive by email: {object: Case, where: {Origin: Email}, within_days: 7, min: 1}
      apex_health:                     # name -> Apex REST GET /services/apexrest/<path>
        Order API: {path: health, json: {status: ok}}
      record_automation:               # name -> create a record, expect automation to set fields
        Case triage:
          object: Case
          create: {Subject: Lockstep smoke test, Origin: Web}
          expect: {Priority: High, Status: Working}
"""

from __future__ import annotations

import re

import pytest

from lockstep.config.expectations import API_NAME, FIELD_VALUES, JSON_FIELDS, TEXT, Each, Fields, Number, expectation
from lockstep.facts.plan import Get, Query, SmokeTest, plan
from lockstep.salesforce.errors import OrgTrouble, SalesforceError
from lockstep.salesforce.soql import format_soql

pytestmark = pytest.mark.verification

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")

BUSINESS_DATA = expectation("business_data", Each("a mapping of name -> record count", Fields(
    "a record count", ("object",), object=API_NAME, where=FIELD_VALUES, within_days=Number(1, integer=True),
    min=Number(0, integer=True), max=Number(0, integer=True))))
APEX_HEALTH = expectation("apex_health", Each("a mapping of name -> Apex REST endpoint", Fields(
    "an Apex REST endpoint", ("path",), path=TEXT, json=JSON_FIELDS)))
RECORD_AUTOMATION = expectation("record_automation", Each("a mapping of name -> record to create", Fields(
    "a record to create", ("object",), object=API_NAME, create=FIELD_VALUES, expect=FIELD_VALUES)))


def _name(org, key, value):
    if not isinstance(value, str) or not NAME.match(value):
        pytest.fail(f"{org.name}: expect.{key}: expected an object or field API name, got {value!r}", pytrace=False)
    return value


def _count_query(org, name, spec):
    """``SELECT COUNT(Id) total FROM <object> WHERE ...`` with every value quoted."""
    obj = _name(org, f"business_data.{name}.object", spec.get("object"))
    conditions = [format_soql(f"{_name(org, f'business_data.{name}.where', field)} = {{}}", value)
                  for field, value in sorted((spec.get("where") or {}).items())]
    days = spec.get("within_days")
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            pytest.fail(f"{org.name}: expect.business_data.{name}.within_days: expected a positive integer, "
                        f"got {days!r}", pytrace=False)
        conditions.append(f"CreatedDate = LAST_N_DAYS:{days}")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT COUNT(Id) total FROM {obj}{where}"


def business_data_counts(org):
    """One count query per declared business data item."""
    return {name: Query(_count_query(org, name, spec))
            for name, spec in sorted((BUSINESS_DATA.of(org) or {}).items())}


@plan(business_data_counts)
def test_recent_business_data(org, planned):
    """Recent business records exist (the processes that create them still run)."""
    expected = BUSINESS_DATA.of(org)
    if not expected:
        pytest.skip("no business data expectations: declare expect.business_data (object, where, within_days, min)")
    problems = []
    for name, spec in sorted(expected.items()):
        rows = planned[name]
        count = int(rows[0].get("total") or 0) if rows else 0
        low, high = spec.get("min", 1), spec.get("max")
        recent = f" in the last {spec['within_days']} days" if spec.get("within_days") else ""
        if count < low:
            problems.append(f"{org.name}: business data {name}: expected at least {low} {spec['object']} "
                            f"records{recent}, found {count}")
        elif high is not None and count > high:
            problems.append(f"{org.name}: business data {name}: expected at most {high} {spec['object']} "
                            f"records{recent}, found {count}")
    assert not problems, "\n".join(problems)


def _dig(body, path):
    for part in path.split("."):
        if not isinstance(body, dict) or part not in body:
            return "no such field"
        body = body[part]
    return body


def _health_path(spec):
    return "/services/apexrest/" + str(spec.get("path", "")).strip("/")


def apex_health_gets(org):
    """One Apex REST GET per declared health endpoint."""
    return {name: Get(_health_path(spec)) for name, spec in sorted((APEX_HEALTH.of(org) or {}).items())}


@plan(apex_health_gets)
def test_apex_rest_health(org, planned):
    """Apex REST health endpoints answer with the expected body (read-only GET)."""
    expected = APEX_HEALTH.of(org)
    if not expected:
        pytest.skip("no Apex REST health endpoints: declare expect.apex_health (name -> path, json)")
    problems = []
    for name, spec in sorted(expected.items()):
        path = _health_path(spec)
        try:
            body = planned[name]
        except OrgTrouble:
            raise  # the org is down, overloaded (5xx), refused our session or ran out of API calls: an error
        except SalesforceError as exc:  # the service answered: missing (404), failing (500 APEX_ERROR), ...
            problems.append(f"{org.name}: Apex REST {name} GET {path}: expected HTTP 200, found {exc.answer}")
            continue
        for field, want in sorted((spec.get("json") or {}).items()):
            found = _dig(body, field)
            if found != want:
                problems.append(f"{org.name}: Apex REST {name} GET {path}: expected {field} = {want!r}, "
                                f"found {found!r}")
    assert not problems, "\n".join(problems)


def record_smoke_tests(org):
    """Per smoke test: create the record, read back the expected fields, delete it (one composite)."""
    return {name: SmokeTest(_name(org, f"record_automation.{name}.object", spec.get("object")),
                            create=dict(spec.get("create") or {}), read=sorted(spec.get("expect") or {}))
            for name, spec in sorted((RECORD_AUTOMATION.of(org) or {}).items())}


@pytest.mark.writes
@plan(record_smoke_tests)
def test_record_automation(org, planned):
    """Creating a record runs its automation (fields set as expected); the record is deleted again."""
    expected = RECORD_AUTOMATION.of(org)
    if not expected:
        pytest.skip("no record automation smoke tests: declare expect.record_automation (object, create, expect)")
    problems = []
    for name, spec in sorted(expected.items()):
        found = planned[name]
        problems += [f"{org.name}: process {name}: {spec['object']}.{field} of a new record: expected {value!r}, "
                     f"found {found.get(field)!r}"
                     for field, value in sorted((spec.get("expect") or {}).items()) if found.get(field) != value]
    assert not problems, "\n".join(problems)
