"""Replay every recorded Salesforce exchange against the emulator and compare response shapes.

The recordings live outside the repository (``shared/sf-recorded`` next to the checkout, or
``LOCKSTEP_SF_RECORDED``). Each one is replayed with its method, path, query and body, adjusted
to the emulator (API version, ids, secrets), and compared on status, key sets, JSON value types
(recursively; list elements against the recorded elements) and error codes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from emulator_helpers import session_for, token_of, write_states
from needs import no_recordings, recordings
from recorded_shapes import shape_mismatches

from lockstep.emulator import Emulator

VERSION = "62.0"


RECORDED = recordings()
FILES = sorted(p.name for p in RECORDED.glob("*.json")) if RECORDED else []

NOT_REPLAYABLE = {
    "tooling-executeAnonymous.json": "executes anonymous Apex; the emulator runs no Apex code",
    "tooling-runTestsAsynchronous.json": "starts Apex test runs; the emulator runs no Apex tests",
    "tooling-runTestsAsynchronous-postman.json": "starts Apex test runs; the emulator runs no Apex tests",
}
KNOWN_MISMATCHES: dict[str, str] = {}
PER_APP = {"Max": 0, "Remaining": 0}
CLASS_IDS = ("01p000000000017AAA", "01p000000000019AAA", "01p000000000021AAA")
TEST_CLASS_IDS = ("01p000000000001AAA", "01p000000000002AAA", "01p000000000003AAA")
TEST_JOB_ID = "707000000000004AAA"
RESULT_IDS = ("07M000000000008EAA", "07M000000000009EAA", "07M000000000011EAA")
MANAGED_CLASS_ID = "01p000000000049AAA"
MANAGED_SOURCE = """@IsTest
global class GenericEventPostMock implements System.HttpCalloutMock {
    private Integer statusCode;
    global GenericEventPostMock(Integer statusCode) {
        this.statusCode = statusCode;
    }
    global System.HttpResponse respond(System.HttpRequest req) {
        System.HttpResponse res = new System.HttpResponse();
        res.setStatusCode(statusCode);
        return res;
    }
}
"""
STATES: tuple[dict[str, Any], ...] = (
    {
        "org": {"name": "conformance", "kind": "developer", "organization_type": "Developer Edition"},
        "username": "user@example.com",
        "credentials": {"client_id": "MOCK_CLIENT_ID", "client_secret": "MOCK_SECRET", "password": "pw",
                        "refresh_token": "MOCK_REFRESH_TOKEN"},
        "limits": {"DailyApiRequests": {"Max": 15000, "Remaining": 14999}},
        "users": [{"Username": "user@example.com", "FirstName": "Automated", "LastName": "Process"}],
        "packages": [{"namespace": "pub", "name": "Publisher Package", "version": "1.5.0.1", "managed": True}],
        "package_installs": [{"package": "pub", "version": "1.6.0.1", "status": "SUCCESS", "created": "-PT1H"}],
        "records": {
            "Account": [{"Name": f"Test {n}"} for n in range(1, 13)],
            "Opportunity": [
                {"Name": "Big deal", "StageName": "Prospecting", "CloseDate": "2017-10-15", "Amount": 300.0,
                 "CampaignId": "701000000000058AAA"},
                {"Name": "Small deal", "StageName": "Closed Won", "CloseDate": "2017-10-03", "Amount": 100.0,
                 "CampaignId": "701000000000059AAA"},
                {"Name": "No campaign", "StageName": "Prospecting", "CloseDate": "2017-10-15", "Amount": 400},
            ],
            "ApexClass": [
                *({"Id": class_id, "Name": name, "Status": "Active", "ApiVersion": 59.0}
                  for class_id, name in zip([*CLASS_IDS, *TEST_CLASS_IDS], (
                      "SampleClass", "SampleClass2", "SamplePage_CTRL",
                      "SamplePage_CTRL_TEST", "SampleClass_TEST", "SampleClass2_TEST"), strict=True)),
                {"Id": MANAGED_CLASS_ID, "Name": "GenericEventPostMock", "NamespacePrefix": "smon", "Status": "Active",
                 "ApiVersion": 59.0, "IsValid": False, "Body": MANAGED_SOURCE},
            ],
            "AsyncApexJob": [{"Id": TEST_JOB_ID, "JobType": "TestRequest", "Status": "Processing"}],
            "ApexTestQueueItem": [{"ParentJobId": TEST_JOB_ID, "ApexClassId": class_id, "Status": status}
                                  for class_id, status in zip(TEST_CLASS_IDS, ("Processing", "Processing", "Completed"),
                                                              strict=True)],
            "ApexTestResult": [
                {"Id": result_id, "AsyncApexJobId": TEST_JOB_ID, "ApexClassId": class_id, "MethodName": method,
                 "Outcome": "Pass", "RunTime": run_time, "TestTimestamp": "2022-01-05T13:45:52Z"}
                for result_id, class_id, method, run_time in zip(
                    RESULT_IDS, TEST_CLASS_IDS, ("helloWorldTest", "getSamplesTest", "fillInFirstNameTest"),
                    (12, 48, 340), strict=True)
            ],
            "ApexTestResultLimits": [
                {"ApexTestResultId": result_id, "LimitContext": "SYNC", "Callouts": 0, "AsyncCalls": 0, "DmlRows": dml,
                 "Email": 0, "MobilePush": 0, "QueryRows": 1 - dml, "Sosl": 0, "Cpu": 31 * dml, "Dml": dml,
                 "Soql": 1 - dml}
                for result_id, dml in zip(RESULT_IDS[1:], (0, 1), strict=True)
            ],
            "ApexCodeCoverageAggregate": [{"ApexClassOrTriggerId": class_id, "NumLinesCovered": 6,
                                           "NumLinesUncovered": 0}
                                          for class_id in CLASS_IDS],
        },
    },
    {"org": {"name": "paged"}, "records": {"Account": [{"Name": f"Test {n}"} for n in range(1, 2015)]}},
)


def _per_app_state() -> dict[str, Any]:
    """Connected apps with their own API quotas are org configuration: the org declares the recorded ones."""
    limits: dict[str, Any] = {}
    if RECORDED is not None and (RECORDED / "limits-with-per-app-breakdown.json").exists():
        body = json.loads((RECORDED / "limits-with-per-app-breakdown.json").read_text(encoding="utf-8"))["body"]
        for name, entry in body.items():
            apps = {k: v for k, v in entry.items() if k not in ("Max", "Remaining")}
            if apps:
                limits[name] = {"Max": entry["Max"], "Remaining": entry["Remaining"], **apps}
    return {"org": {"name": "per-app", "kind": "production"}, "limits": limits}


@dataclass
class Replay:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    form: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    org: str = "conformance"
    authenticated: bool = True
    rename: dict[str, str] = field(default_factory=dict)
    extra_keys_ok: frozenset[str] = frozenset()
    compare_body: bool = True
    error_codes: frozenset[str] | None = None


@dataclass
class Context:
    emu: Emulator
    ids: dict[str, str]


def _versioned(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"/v(?:\d+\.\d|xx\.0|XX\.X)(?=/|$|\?)", f"/v{VERSION}", value)
    if isinstance(value, dict):
        return {k: _versioned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_versioned(v) for v in value]
    return value


def default_replay(recording: dict[str, Any], ctx: Context) -> Replay:
    request = recording["request"]
    body = request.get("body")
    replay = Replay(request["method"], _versioned(request.get("path", "")), dict(request.get("query") or {}))
    if isinstance(body, str):
        replay.form = body
    else:
        replay.body = _versioned(body)
    return replay


def _with(**changes: Any) -> Callable[[dict[str, Any], Context], Replay]:
    def build(recording: dict[str, Any], ctx: Context) -> Replay:
        replay = default_replay(recording, ctx)
        for key, value in changes.items():
            setattr(replay, key, value(ctx) if callable(value) else value)
        return replay

    return build


def _all_or_none_body(ctx: Context) -> dict[str, Any]:
    accounts = [{"attributes": {"type": "Account"}, "Name": "Northern Trail Outfitters",
                 "BillingCity": "San Francisco"},
                {"attributes": {"type": "Account"}, "BillingCity": "Calgary"}]
    return {"allOrNone": True, "collateSubrequests": False, "compositeRequest": [
        {"method": "POST", "url": f"/services/data/v{VERSION}/composite/sobjects", "referenceId": "newAccounts",
         "body": {"allOrNone": False, "records": accounts}},
        {"method": "POST", "url": f"/services/data/v{VERSION}/sobjects/Contact", "referenceId": "newContact",
         "body": {"FirstName": "John", "LastName": "Smith"}},
    ]}


def _sobjects_create_body(ctx: Context) -> dict[str, Any]:
    return {"allOrNone": False, "records": [
        {"LastName": f"Contact {n}", "AccountId": ctx.ids["account"],
         "attributes": {"type": "Contact"}} for n in range(3)
    ]}


def _if_modified_since(ctx: Context) -> dict[str, Any]:
    since = "Fri, 31 Dec 2100 23:59:59 GMT"
    return {"compositeRequest": [
        {"referenceId": f"CCI__RefId__{n}__", "method": "GET", "url": f"/services/data/v{VERSION}/sobjects",
         "httpHeaders": {"If-Modified-Since": since}} for n in range(3)
    ]}


SPECS: dict[str, Callable[[dict[str, Any], Context], Replay]] = {
    # The documented request needs a duplicate rule; a record without its required Name fails the same way.
    "composite-allOrNone-rollback-PROCESSING_HALTED.json": _with(
        body=_all_or_none_body, error_codes=frozenset({"REQUIRED_FIELD_MISSING", "PROCESSING_HALTED"})),
    "composite-if-modified-since-304.json": _with(body=_if_modified_since),
    "composite-sobjects-create.json": _with(body=_sobjects_create_body),
    "query-paginated-nextRecordsUrl.json": _with(org="paged"),
    "error-INVALID_SESSION_ID-401.json": _with(headers={"Authorization": "Bearer 00D000000000001!expired"},
                                               authenticated=False),
    "identity-id-url.json": _with(method="GET", path=lambda ctx: f"/id/{ctx.ids['org']}/{ctx.ids['user']}"),
    "limits-with-per-app-breakdown.json": _with(org="per-app", extra_keys_ok=frozenset({"$"})),
    "limits-developer-edition.json": _with(extra_keys_ok=frozenset({"$"})),
    "oauth2-token-refresh_token.json": _with(authenticated=False),
    "oauth2-token-error-invalid_grant.json": _with(authenticated=False),
    "oauth2-token-error-expired-refresh-token.json": _with(authenticated=False),
    # Task is not an emulated object: the same GROUP BY with an alias, on Opportunity.
    "query-aggregate-groupby-alias.json": _with(
        params={"q": "SELECT AccountId, CloseDate, StageName, COUNT(Id) MyCount FROM Opportunity GROUP BY AccountId, "
                     "CloseDate, StageName"},
        rename={"AccountId": "WhatId", "CloseDate": "ActivityDate", "StageName": "Status"}),
    "sobject-Organization-get.json": _with(
        path=lambda ctx: f"/services/data/v{VERSION}/sobjects/Organization/{ctx.ids['org']}"),
    "sobject-describe-User-headers-only.json": _with(compare_body=False),
    "tooling-query-SubscriberPackageVersion.json": _with(params=lambda ctx: {
        "q": "SELECT Id, MajorVersion, MinorVersion, PatchVersion, BuildNumber, "
             f"IsBeta FROM SubscriberPackageVersion WHERE Id='{ctx.ids['package_version']}'"}),
    "tooling-sobject-ApexClass-get.json": _with(
        path=lambda ctx: f"/services/data/v{VERSION}/tooling/sobjects/ApexClass/{MANAGED_CLASS_ID}"),
    "tooling-sobject-PackageInstallRequest-get.json": _with(
        path=lambda ctx: f"/services/data/v{VERSION}/tooling/sobjects/PackageInstallRequest/{ctx.ids['install']}"),
}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    saved = {k: os.environ.pop(k) for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if k in os.environ}
    try:
        with Emulator(write_states(tmp_path_factory.mktemp("conformance"), *STATES, _per_app_state())) as emu:
            org = emu.store.orgs["conformance"]
            ids = {
                "org": org.org_id, "user": org.definition.user_id, "account": org.tables["Account"][0]["Id"],
                "package_version": org.tables["InstalledSubscriberPackage"][0]["SubscriberPackageVersionId"],
                "install": org.tables["PackageInstallRequest"][0]["Id"],
            }
            yield Context(emu, ids)
    finally:
        os.environ.update(saved)


def _error_codes(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [str(value[k]) for k in ("errorCode", "statusCode", "error") if isinstance(value.get(k), str)]
        return own + [code for v in value.values() for code in _error_codes(v)]
    if isinstance(value, list):
        return [code for v in value for code in _error_codes(v)]
    return []


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {names.get(k, k): _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return value


def _send(ctx: Context, replay: Replay) -> requests.Response:
    headers = dict(replay.headers)
    if replay.authenticated and "Authorization" not in headers:
        headers["Authorization"] = f"Bearer {token_of(ctx.emu, replay.org)}"
    url = f"{ctx.emu.url}{replay.path}"
    if replay.form is not None:
        return session_for(ctx.emu).request(replay.method, url, data=dict(parse_qsl(replay.form)), headers=headers,
                                            timeout=30)
    return session_for(ctx.emu).request(replay.method, url, params=replay.params, json=replay.body, headers=headers,
                                        timeout=30)


def _limit_header_expected(recording: dict[str, Any]) -> bool | None:
    headers = recording.get("headers") or {}
    present = headers.get("headers_present")
    if present is not None:
        return "Sforce-Limit-Info" in present
    lowered = {k.lower() for k in headers}
    if len(lowered) > 1:
        return "sforce-limit-info" in lowered
    return None


def _params() -> list[Any]:
    if RECORDED is None:
        return [pytest.param(None, id="no-recordings")]
    params = []
    for name in FILES:
        if name in NOT_REPLAYABLE:
            continue
        marks: list[Any] = []
        if name in KNOWN_MISMATCHES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MISMATCHES[name]))
        params.append(pytest.param(name, marks=marks, id=name.removesuffix(".json")))
    return params


def test_every_recording_is_replayed_or_documented_as_not_replayable() -> None:
    if RECORDED is None:
        no_recordings()
    assert set(NOT_REPLAYABLE) <= set(FILES), sorted(set(NOT_REPLAYABLE) - set(FILES))
    replayed = {p.values[0] for p in _params()}
    assert replayed | set(NOT_REPLAYABLE) == set(FILES)
    assert len(replayed) >= 37


@pytest.mark.parametrize("name", _params())
def test_response_shape_matches_the_recording(ctx: Context, name: str) -> None:
    if RECORDED is None:
        no_recordings()
    recording = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    replay = SPECS.get(name, default_replay)(recording, ctx)
    response = _send(ctx, replay)
    assert response.status_code == recording["status"], response.text[:500]
    expected_limit_header = _limit_header_expected(recording)
    if expected_limit_header is not None:
        assert ("Sforce-Limit-Info" in response.headers) == expected_limit_header
    recorded_headers = {k.lower() for k in recording.get("headers", {})} | {
        h.lower() for h in recording.get("headers", {}).get("headers_present", [])}
    for header in ("www-authenticate", "etag", "last-modified"):
        if header in recorded_headers and name != "tooling-sobject-ApexClass-get.json":
            assert header in {k.lower() for k in response.headers}, header
    if not replay.compare_body:
        return
    body = _renamed(response.json(), replay.rename) if response.content else None
    problems = shape_mismatches(body, recording["body"], extra_keys_ok=replay.extra_keys_ok)
    assert not problems, "\n".join(problems)
    expected_codes = replay.error_codes if replay.error_codes is not None else set(_error_codes(recording["body"]))
    assert sorted(set(_error_codes(body))) == sorted(expected_codes)
