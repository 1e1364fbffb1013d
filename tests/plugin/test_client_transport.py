"""The org client's failure handling, through its one transport seam (the session's adapter)
and against the emulator's faults: no retried creates, no retried TLS failures, a circuit
breaker and a time budget per org, facts that fail one at a time with one clear line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from plugin_helpers import admin_counts

from lockstep.emulator import Emulator
from lockstep.facts.fetch import FACT_NAMES, Facts
from lockstep.salesforce.auth import AccessTokenAuth, EmulatorAuth
from lockstep.salesforce.client import CallCounter, CountingAdapter, OrgClient, new_session
from lockstep.salesforce.errors import (
    AuthenticationError,
    ConnectionFailed,
    DeadlineExceeded,
    FactError,
    QueryError,
    RequestLimitExceeded,
    Secret,
    ServerError,
    TlsError,
)
from lockstep.salesforce.guard import new_guard

SOQL = "SELECT Id, Name FROM Organization"
Answer = tuple[int, Any]
Answering = Callable[[str, str, str, Any], Answer]


class FakeOrg(CountingAdapter):
    """A Salesforce stand-in behind the client's transport seam: ``answer(method, path, query,
    JSON body)`` returns ``(status, JSON body)`` or raises a transport exception."""

    def __init__(self, counter: CallCounter, answer: Answering) -> None:
        super().__init__(counter)
        self.answer = answer
        self.sent: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.counter.count(request.url or "")
        parts = urlsplit(request.url or "")
        self.sent.append(f"{request.method} {parts.path}")
        sent = json.loads(request.body) if request.body else None
        status, body = self.answer(str(request.method), parts.path, parts.query, sent)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response


def fake_client(answer: Answering, **options: Any) -> tuple[OrgClient, FakeOrg]:
    counter = CallCounter()
    session = requests.Session()
    adapter = FakeOrg(counter, answer)
    session.mount("https://", adapter)
    auth = AccessTokenAuth("fake", Secret("00Dfake!token"), "https://fake.example")
    return OrgClient("fake", auth, session, counter, retry_delays=(0.0, 0.0), **options), adapter


def salesforce(rows: dict[str, list[dict[str, Any]]]) -> Answering:
    """Answers userinfo, versions and single queries (``rows`` by the queried object); no composite."""

    def answer(method: str, path: str, query: str, body: Any) -> Answer:
        if path == "/services/oauth2/userinfo":
            return 200, {"user_id": "005"}
        if path == "/services/data/":
            return 200, [{"version": "62.0", "url": "/services/data/v62.0"}]
        if path.endswith("/query/"):
            soql = parse_qs(query)["q"][0]
            return 200, {"done": True, "totalSize": 0, "records": rows.get(soql.rsplit(" FROM ", 1)[1].split()[0], [])}
        return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]

    return answer


def emulator_client(emulator: Emulator, name: str = "alpha", **options: Any) -> OrgClient:
    counter = CallCounter()
    return OrgClient(name, EmulatorAuth(name, emulator.url), new_session(counter, emulator.ca_cert), counter,
                     retry_delays=(0.0, 0.0), **options)


def set_faults(emulator: Emulator, admin: requests.Session, name: str = "alpha", **faults: Any) -> None:
    admin.patch(f"{emulator.url}/__emulator__/orgs/{name}/faults", json=faults).raise_for_status()


def test_an_empty_organization_answer_is_one_facts_error() -> None:
    client, adapter = fake_client(salesforce({"Organization": []}))
    facts = Facts(client)
    with pytest.raises(FactError) as info:
        facts.prefetch("organization", "apex_triggers")
    assert str(info.value) == "fake: fact organization: unexpected answer: no Organization row"
    assert facts.apex_triggers == ()
    sent = len(adapter.sent)
    for _ in range(2):
        with pytest.raises(FactError, match=r"^fake: fact organization: unexpected answer: no Organization row$"):
            _ = facts.organization
    assert len(adapter.sent) == sent


def test_odd_answers_cost_only_their_fact() -> None:
    def answer(method: str, path: str, query: str, body: Any) -> Answer:
        if path.endswith("/limits/"):
            return 200, ["not", "an", "object"]
        if path.endswith("/query/") and "ApexTrigger" in query:
            return 200, {"done": True, "records": "garbage"}
        if path.endswith("/query/") and "NamedCredential" in query:
            return 200, {"done": True, "records": [["a list, not a record"]]}
        return salesforce({"Organization": [{"Id": "00D", "Name": "fake"}]})(method, path, query, body)

    client, _ = fake_client(answer)
    facts = Facts(client)
    with pytest.raises(FactError):
        facts.prefetch("organization", "limits", "apex_triggers", "named_credentials")
    assert facts.organization.name == "fake"
    with pytest.raises(FactError, match=r"^fake: fact limits: unexpected answer: limits is not a JSON object$"):
        _ = facts.limits
    with pytest.raises(Exception, match=r"^fake: UNEXPECTED_ANSWER: a query answer without a list of records$"):
        _ = facts.apex_triggers
    with pytest.raises(FactError, match=r"^fake: fact named_credentials: unexpected answer: AttributeError: "):
        _ = facts.named_credentials


def test_a_create_answered_with_503_is_not_retried(emulator: Emulator, admin: requests.Session) -> None:
    """The record was written, only the answer was lost: a retry would leave a duplicate."""

    class LostAnswer(CountingAdapter):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            response = super().send(request, **kwargs)
            if request.method == "POST" and "/sobjects/" in (request.url or ""):
                response.status_code = 503
                response._content = b'[{"errorCode":"SERVER_UNAVAILABLE","message":"try again later"}]'
            return response

    counter = CallCounter()
    guard, grant = new_guard("alpha", writable=True)
    assert grant is not None
    session = new_session(counter, emulator.ca_cert, guard=guard)
    session.mount("https://", LostAnswer(counter, str(emulator.ca_cert), guard=guard))
    client = OrgClient("alpha", EmulatorAuth("alpha", emulator.url), session, counter, retry_delays=(0.0, 0.0))
    with grant(), pytest.raises(ServerError) as info:
        client.create("Account", {"Name": "Once"})
    assert str(info.value) == "alpha: SERVER_UNAVAILABLE: try again later"
    writes = admin.get(f"{emulator.url}/__emulator__/orgs/alpha").json()["writes"]
    assert len(writes) == 1
    assert client.api_calls == 1 == admin_counts(emulator, admin)["alpha"]


def test_a_create_failing_with_a_server_error_is_not_retried(emulator: Emulator, admin: requests.Session) -> None:
    guard, grant = new_guard("alpha", writable=True)
    assert grant is not None
    counter = CallCounter()
    client = OrgClient("alpha", EmulatorAuth("alpha", emulator.url),
                       new_session(counter, emulator.ca_cert, guard=guard),
                       counter, retry_delays=(0.0, 0.0))
    set_faults(emulator, admin, error_rate=1.0)
    with grant(), pytest.raises(ServerError):
        client.create("Account", {"Name": "Once"})
    assert client.api_calls == 1 == admin_counts(emulator, admin)["alpha"]


def test_tls_failures_are_not_retried(emulator: Emulator) -> None:
    counter = CallCounter()
    with pytest.raises(TlsError) as info:
        OrgClient("alpha", EmulatorAuth("alpha", emulator.url), new_session(counter, None), counter,
                  retry_delays=(0.0, 0.0))
    assert counter.requests == 1
    assert str(info.value).startswith("alpha: TLS_ERROR: 127.0.0.1:")
    assert ": TLS: certificate verify failed" in str(info.value) and "\n" not in str(info.value)


def test_an_ssl_error_behind_the_seam_is_not_retried() -> None:
    def answer(method: str, path: str, query: str, body: Any) -> Answer:
        if path.endswith("/query/"):
            raise requests.exceptions.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)")
        return salesforce({})(method, path, query, body)

    client, adapter = fake_client(answer)
    with pytest.raises(TlsError, match=r"^fake: TLS_ERROR: TLS: wrong version number$"):
        client.query(SOQL)
    assert sum(line.endswith("/query/") for line in adapter.sent) == 1


def test_a_bad_access_token_is_refused_at_login(emulator: Emulator, admin: requests.Session) -> None:
    counter = CallCounter()
    auth = AccessTokenAuth("alpha", Secret("00Dnot!a-token"), emulator.url)
    with pytest.raises(AuthenticationError) as info:
        OrgClient("alpha", auth, new_session(counter, emulator.ca_cert), counter, retry_delays=(0.0, 0.0))
    assert str(info.value) == "alpha: INVALID_SESSION_ID: the access token was refused (userinfo: HTTP 401)"
    assert counter.api_calls == 0 == admin_counts(emulator, admin)["alpha"]


def test_a_good_access_token_is_verified_without_an_api_call(emulator: Emulator, admin: requests.Session) -> None:
    token = EmulatorAuth("alpha", emulator.url).login(new_session(CallCounter(), emulator.ca_cert))
    counter = CallCounter()
    OrgClient("alpha", AccessTokenAuth("alpha", token.access_token, emulator.url),
              new_session(counter, emulator.ca_cert), counter)
    assert counter.requests == 2 and counter.api_calls == 0 == admin_counts(emulator, admin)["alpha"]


@pytest.mark.parametrize("faults", [{"error_rate": 1.0}, {"drop_rate": 1.0}])
def test_a_failing_composite_batch_is_not_replayed_query_by_query(
        emulator: Emulator, admin: requests.Session, faults: dict[str, Any]) -> None:
    client = emulator_client(emulator)
    set_faults(emulator, admin, **faults)
    facts = Facts(client)
    with pytest.raises((ServerError, ConnectionFailed)) as info:
        facts.prefetch()
    first = str(info.value)
    for name in (n for n in FACT_NAMES if n != "api_version"):  # api_version is known from the login
        with pytest.raises((ServerError, ConnectionFailed)) as again:
            getattr(facts, name)
        assert str(again.value) == first and "HTTP None" not in first
    assert client.api_calls == 3 == admin_counts(emulator, admin)["alpha"]


def test_the_circuit_breaker_remembers_a_failing_org(emulator: Emulator, admin: requests.Session) -> None:
    client = emulator_client(emulator)
    set_faults(emulator, admin, drop_rate=1.0)
    with pytest.raises(ConnectionFailed) as info:
        client.query(SOQL)
    assert str(info.value).endswith(": connection dropped by the server")
    assert info.value.answer.startswith("CONNECTION_FAILED: 127.0.0.1:")
    set_faults(emulator, admin, drop_rate=0.0)
    requests_before = client.counter.requests
    for call in (lambda: client.query(SOQL), client.limits, lambda: client.get("sobjects/")):
        with pytest.raises(ConnectionFailed) as again:
            call()
        assert str(again.value) == str(info.value)
    assert client.counter.requests == requests_before
    assert client.api_calls == 3 == admin_counts(emulator, admin)["alpha"]


def test_answers_between_failures_keep_the_breaker_closed() -> None:
    queries = 0

    def answer(method: str, path: str, query: str, body: Any) -> Answer:
        nonlocal queries
        if path.endswith("/query/"):
            queries += 1
            if queries % 2:
                return 503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "try again later"}]
        return salesforce({"Organization": [{"Id": "00D"}]})(method, path, query, body)

    client, _ = fake_client(answer)
    for _ in range(5):
        assert client.query(SOQL) == [{"Id": "00D"}]
    assert queries == 10


def test_a_read_timeout_is_one_line_and_stops_the_org(emulator: Emulator, admin: requests.Session) -> None:
    client = emulator_client(emulator, timeout=(10.0, 0.3))
    set_faults(emulator, admin, latency_ms=1500)
    facts = Facts(client)
    with pytest.raises(ConnectionFailed) as info:
        facts.prefetch()
    assert str(info.value).endswith(": no answer within 0.3 s (read timeout)")
    assert client.counter.requests <= 2 + 3  # login and versions, then one batch's three attempts


def test_an_org_that_used_its_time_budget_is_refused() -> None:
    sent: list[str] = []

    def answer(method: str, path: str, query: str, body: Any) -> Answer:
        sent.append(path)
        return salesforce({})(method, path, query, body)

    with pytest.raises(DeadlineExceeded) as info:
        fake_client(answer, deadline=0.0)
    assert str(info.value) == ("fake: DEADLINE_EXCEEDED: used up its time budget (0 s of requests); "
                               "its remaining calls are refused")
    assert sent == []


def test_a_failed_limits_answer_is_remembered(emulator: Emulator, admin: requests.Session) -> None:
    client = emulator_client(emulator)
    set_faults(emulator, admin, request_limit_exceeded=True)
    facts = Facts(client)
    for _ in range(3):
        with pytest.raises(RequestLimitExceeded):
            _ = facts.limits
    assert client.api_calls == 1 == admin_counts(emulator, admin)["alpha"]


def test_a_failed_subrequest_is_remembered_not_replayed() -> None:
    def answer(method: str, path: str, query: str, body: Any) -> Answer:
        if path.endswith("/composite"):
            results = []
            for sub in body["compositeRequest"]:
                if "ApexTrigger" in sub["url"]:
                    results.append({"referenceId": sub["referenceId"], "httpStatusCode": 400, "body": [
                        {"errorCode": "INVALID_TYPE", "message": "sObject type 'ApexTrigger' is not supported."}]})
                else:
                    results.append({"referenceId": sub["referenceId"], "httpStatusCode": 200,
                                    "body": {"done": True, "records": [{"Id": "00D", "Name": "fake"}]}})
            return 200, {"compositeResponse": results}
        return salesforce({})(method, path, query, body)

    client, adapter = fake_client(answer)
    facts = Facts(client)
    with pytest.raises(QueryError, match=r"^fake: INVALID_TYPE: sObject type 'ApexTrigger' is not supported\.$"):
        facts.prefetch("organization", "apex_triggers")
    assert facts.organization.name == "fake"
    with pytest.raises(QueryError):
        _ = facts.apex_triggers
    assert [line for line in adapter.sent if "/services/data/v" in line] == ["POST /services/data/v62.0/composite"]
