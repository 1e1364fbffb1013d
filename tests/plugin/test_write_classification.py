"""The transport's decision "is this request a write?" (method, path, body, headers), and the
per-thread write grant."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

import lockstep.salesforce.guard
from lockstep.salesforce.errors import WriteRefused
from lockstep.salesforce.guard import WriteGuard, new_guard, write_of

HOST = "https://acme.my.salesforce.com"
V = "/services/data/v62.0"
QUERY = {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Account", "referenceId": "q"}
POST = {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "c", "body": {"Name": "x"}}


def composite(*subs: dict[str, Any]) -> str:
    return json.dumps({"allOrNone": False, "compositeRequest": list(subs)})


READS = [
    ("GET", f"{V}/query?q=SELECT+Id+FROM+Account", None),
    ("GET", f"{V}/tooling/query/?q=SELECT+Id+FROM+ApexClass", None),
    ("HEAD", f"{V}/sobjects/Account/describe", None),
    ("get", f"{V}/sobjects/Account/001000000000001AAA?fields=Name", None),
    ("GET", f"{V}/limits", None),
    ("GET", "/services/data/", None),
    ("GET", "/services/apexrest/health", None),
    ("GET", "/services/oauth2/userinfo", None),
    ("GET", "/id/00D000000000001AAA/005000000000001AAA", None),
    ("POST", "/services/oauth2/token", "grant_type=refresh_token&refresh_token=x"),
    ("POST", "/__emulator__/orgs/acme/sessions", None),
    ("POST", f"{V}/composite", composite(QUERY, {**QUERY, "method": "get", "referenceId": "r"})),
    ("POST", f"{V}/composite/", composite(QUERY)),
    ("POST", f"{V}/tooling/composite",
     composite({"method": "GET", "url": f"{V}/tooling/query/?q=x", "referenceId": "t"})),
    ("POST", f"{V}/composite/batch", json.dumps({"batchRequests": [{"method": "GET", "url": "v62.0/limits"}]})),
    ("POST", f"{V}/composite/graph", json.dumps({"graphs": [{"graphId": "g", "compositeRequest": [QUERY]}]})),
    ("POST", f"{V}/composite", composite({"method": "POST", "url": f"{V}/composite", "referenceId": "n",
                                         "body": {"compositeRequest": [QUERY]}})),
]

WRITES = [
    ("POST", f"{V}/sobjects/Account/", json.dumps({"Name": "x"})),
    ("PATCH", f"{V}/sobjects/Account/001000000000001AAA", json.dumps({"Name": "x"})),
    ("PUT", f"{V}/sobjects/Account/001000000000001AAA", None),
    ("DELETE", f"{V}/sobjects/Account/001000000000001AAA", None),
    ("OPTIONS", f"{V}/query", None),
    ("POST", f"{V}/composite", composite(POST)),
    ("POST", f"{V}/composite", composite(QUERY, {**POST, "method": "post"})),
    ("POST", f"{V}/composite", composite({**QUERY, "method": "PATCH"})),
    ("POST", f"{V}/composite", composite({**QUERY, "method": "DELETE"})),
    ("POST", f"{V}/composite", composite({**QUERY, "url": f"{V}/tooling/executeAnonymous/?anonymousBody=x"})),
    ("POST", f"{V}/composite", composite({**QUERY, "httpHeaders": {"X-HTTP-Method-Override": "DELETE"}})),
    ("POST", f"{V}/composite", composite({"method": "POST", "url": f"{V}/composite", "referenceId": "n",
                                         "body": {"compositeRequest": [POST]}})),
    ("POST", f"{V}/composite", composite()),
    ("POST", f"{V}/composite", json.dumps({"compositeRequest": [{"method": "GET"}]})),
    ("POST", f"{V}/composite", "not json"),
    ("POST", f"{V}/composite", None),
    ("POST", f"{V}/tooling/composite", composite({**POST, "url": f"{V}/tooling/sobjects/ApexClass"})),
    ("POST", f"{V}/composite/batch",
     json.dumps({"batchRequests": [{"method": "PATCH", "url": "v62.0/sobjects/Account/1",
                                                                    "richInput": {"Name": "x"}}]})),
    ("POST", f"{V}/composite/graph", json.dumps({"graphs": [{"graphId": "g", "compositeRequest": [POST]}]})),
    ("POST", f"{V}/composite/tree/Account", json.dumps({"records": []})),
    ("POST", f"{V}/composite/sobjects", json.dumps({"records": []})),
    ("PATCH", f"{V}/composite/sobjects", json.dumps({"records": []})),
    ("DELETE", f"{V}/composite/sobjects?ids=001000000000001AAA", None),
    ("GET", f"{V}/tooling/executeAnonymous/?anonymousBody=delete+[SELECT+Id+FROM+Account];", None),
    ("GET", f"{V}/tooling/execute%41nonymous/?anonymousBody=x", None),
    ("GET", f"{V}/tooling/EXECUTEANONYMOUS/?anonymousBody=x", None),
    ("GET", f"{V}/tooling/runTestsAsynchronous/?classids=01p", None),
    ("POST", f"{V}/tooling/runTestsSynchronous", json.dumps({"tests": []})),
    ("GET", f"{V}/sobjects/Account/001000000000001AAA?_HttpMethod=DELETE", None),
    ("GET", f"{V}/sobjects/../tooling/executeAnonymous/?anonymousBody=x", None),
    ("GET", f"{V}/sobjects/%2e%2e/tooling/executeAnonymous", None),
    # what a server may still route to code: decoded twice, padded, with a format suffix or a NUL
    ("GET", f"{V}/tooling/execute%2541nonymous/?anonymousBody=x", None),
    ("GET", f"{V}/tooling/executeAnonymous%20/?anonymousBody=x", None),
    ("GET", f"{V}/tooling/executeAnonymous%09?anonymousBody=x", None),
    ("GET", f"{V}/tooling/executeAnonymous.json?anonymousBody=x", None),
    ("GET", f"{V}/tooling/RunTestsAsynchronous.xml?classids=01p", None),
    ("GET", f"{V}/tooling/executeAnonymous%00.txt?anonymousBody=x", None),
    ("HEAD", f"{V}/tooling/execute%2541nonymous/?anonymousBody=x", None),
    ("POST", "/services/apexrest/orders", json.dumps({"id": 1})),
    ("PUT", "/services/apexrest/orders", None),
    ("PATCH", "/services/apexrest/orders", None),
    ("DELETE", "/services/apexrest/orders/1", None),
    ("POST", "/services/Soap/u/62.0", "<soapenv:Envelope/>"),
    ("POST", f"{V}/jobs/ingest", json.dumps({"object": "Account", "operation": "delete"})),
    ("GET", "/services/async/62.0/job", None),
    ("POST", "/services/oauth2/revoke", "token=x"),
    ("GET", "/services/oauth2/revoke?token=x", None),
    ("POST", f"{V}/query", None),
    ("POST", "/__emulator__/reset", None),
    ("PATCH", "/__emulator__/orgs/acme/faults", json.dumps({"down": True})),
    ("GET", "/some/other/path", None),
]


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_known_reads_pass(method: str, path: str, body: str | None) -> None:
    assert write_of(method, f"{HOST}{path}", body) is None


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_everything_else_is_a_write(method: str, path: str, body: str | None) -> None:
    assert write_of(method, f"{HOST}{path}", body) == f"{method.upper()} {path.split('?')[0]}"


def test_a_body_that_cannot_be_read_is_a_write() -> None:
    assert write_of("POST", f"{HOST}{V}/composite", iter([composite(QUERY).encode()])) is not None
    assert write_of("POST", f"{HOST}{V}/composite", composite(QUERY).encode()) is None


@pytest.mark.parametrize(("resource", "body"), [
    ("composite", '{"compositeRequest": [{"method": "POST", "url": "%s/sobjects/Account", "referenceId": "a",'
                  ' "method": "GET"}]}'),
    ("composite", '{"compositeRequest": [{"method": "POST", "url": "%s/sobjects/Account", "referenceId": "a"}],'
                  ' "compositeRequest": [{"method": "GET", "url": "%s/limits", "referenceId": "a"}]}'),
    ("composite/batch", '{"batchRequests": [{"method": "DELETE", "url": "v62.0/sobjects/Account/001",'
                        ' "method": "GET"}]}'),
])
def test_a_body_repeating_a_json_key_is_a_write(resource: str, body: str) -> None:
    """Read with the last of each repeated key, the body is all reads; the org's parser may
    take the first, so the body is a write."""
    text = body.replace("%s", V)
    assert write_of("POST", f"{HOST}{V}/{resource}", json.dumps(json.loads(text))) is None
    assert write_of("POST", f"{HOST}{V}/{resource}", text) == f"POST {V}/{resource}"


def test_a_method_override_header_makes_a_read_a_write() -> None:
    assert write_of("GET", f"{HOST}{V}/limits", None, {"X-HTTP-Method-Override": "DELETE"}) == f"GET {V}/limits"


def test_the_refusal_names_org_method_and_path_but_no_query() -> None:
    with pytest.raises(WriteRefused) as info:
        WriteGuard("prod").check("POST", f"{HOST}{V}/composite?secret=abc", composite(POST))
    assert str(info.value) == (f"prod: WRITE_REFUSED: POST {V}/composite: writes are refused outside a check marked "
                               "@pytest.mark.writes on an org that allows writes")


def test_an_org_that_does_not_allow_writes_has_no_grant() -> None:
    guard, grant = new_guard("prod", writable=False)
    assert grant is None
    with pytest.raises(WriteRefused):
        guard.check("DELETE", f"{HOST}{V}/sobjects/Account/001")


def test_the_grant_opens_the_guard_for_the_granted_thread_only() -> None:
    guard, grant = new_guard("qa", writable=True)
    assert grant is not None
    url = f"{HOST}{V}/sobjects/Account/"
    entered, checked = threading.Event(), threading.Event()
    other: list[BaseException | None] = []

    def elsewhere() -> None:
        entered.wait(5)
        try:
            guard.check("POST", url)
            other.append(None)
        except WriteRefused as exc:
            other.append(exc)
        checked.set()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    with grant():
        guard.check("POST", url)  # the granted thread writes
        entered.set()
        assert checked.wait(5)
    thread.join(5)
    assert isinstance(other[0], WriteRefused)
    with pytest.raises(WriteRefused):
        guard.check("POST", url)  # closed again after the block


def test_public_names_are_pinned() -> None:
    assert lockstep.salesforce.guard.__all__ == ["Grant", "WriteGuard", "new_guard", "write_of"]
