"""OrgClient against injected faults: bounded retries, one re-authentication, no hammering,
and call counts that match what the emulator charged."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
from plugin_helpers import admin_counts, external_profile, read_gate

from lockstep.emulator import Emulator
from lockstep.facts.fetch import FACT_NAMES, Facts
from lockstep.salesforce.auth import EmulatorAuth
from lockstep.salesforce.client import CallCounter, OrgClient, new_session
from lockstep.salesforce.errors import Cancelled, ConnectionFailed, NotFound, RequestLimitExceeded, ServerError
from lockstep.salesforce.soql import format_soql

SOQL = "SELECT Id, Name FROM Organization"


def client_for(emulator: Emulator, name: str = "alpha") -> OrgClient:
    counter = CallCounter()
    return OrgClient(name, EmulatorAuth(name, emulator.url), new_session(counter, emulator.ca_cert), counter,
                     retry_delays=(0.0, 0.0))


def set_faults(emulator: Emulator, admin: requests.Session, name: str = "alpha", **faults: Any) -> None:
    admin.patch(f"{emulator.url}/__emulator__/orgs/{name}/faults", json=faults).raise_for_status()


def test_server_errors_are_retried_then_reported(emulator: Emulator, admin: requests.Session) -> None:
    client = client_for(emulator)
    set_faults(emulator, admin, error_rate=1.0, error_status=503)
    with pytest.raises(ServerError) as info:
        client.query(SOQL)
    assert str(info.value).startswith("alpha: SERVER_UNAVAILABLE: ")
    assert client.api_calls == 3 == admin_counts(emulator, admin)["alpha"]


def test_transient_errors_recover(emulator: Emulator, admin: requests.Session) -> None:
    client = client_for(emulator)
    set_faults(emulator, admin, error_rate=0.3, seed=1)
    for _ in range(5):
        assert client.query(SOQL)[0]["Name"] == "alpha"
    assert client.api_calls == admin_counts(emulator, admin)["alpha"] > 5


def test_dropped_connections_are_retried_then_reported(emulator: Emulator, admin: requests.Session) -> None:
    client = client_for(emulator)
    set_faults(emulator, admin, drop_rate=1.0)
    with pytest.raises(ConnectionFailed, match=r"^alpha: CONNECTION_FAILED: 127\.0\.0\.1:\d+: "):
        client.query(SOQL)
    assert client.api_calls == 3 == admin_counts(emulator, admin)["alpha"]


def test_expired_session_reauthenticates_once(emulator: Emulator, admin: requests.Session) -> None:
    client = client_for(emulator)
    set_faults(emulator, admin, session_ttl_calls=2)
    for _ in range(5):
        client.query(SOQL)
    assert client.api_calls == 5 == admin_counts(emulator, admin)["alpha"]
    assert client.counter.requests > 5


def test_request_limit_exceeded_is_never_retried(emulator: Emulator, admin: requests.Session) -> None:
    client = client_for(emulator)
    set_faults(emulator, admin, request_limit_exceeded=True)
    with pytest.raises(RequestLimitExceeded) as info:
        client.query(SOQL)
    assert str(info.value) == "alpha: REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."
    assert client.api_calls == 1 == admin_counts(emulator, admin)["alpha"]
    facts = Facts(client)
    with pytest.raises(RequestLimitExceeded):
        facts.prefetch("packages", "flows", "organization")
    with pytest.raises(RequestLimitExceeded):
        _ = facts.organization
    assert client.api_calls == 3 == admin_counts(emulator, admin)["alpha"]


def test_facts_are_batched_and_cached(emulator: Emulator, admin: requests.Session) -> None:
    client = client_for(emulator)
    facts = Facts(client).prefetch("packages", "flows", "apex_triggers", "named_credentials", "organization",
                                   "validation_rules")
    assert client.api_calls == 2
    assert facts.organization.name == "alpha" and facts.flows == () and facts.packages == ()
    assert client.api_calls == 2
    facts.prefetch()  # 4 more data queries, 3 more tooling queries, limits
    assert client.api_calls == 5 == admin_counts(emulator, admin)["alpha"]
    for name in FACT_NAMES:
        getattr(facts, name)
    assert client.api_calls == 5


def test_composite_not_served_falls_back_to_single_queries(emulator: Emulator, admin: requests.Session,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(emulator)

    def refused(subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise NotFound("alpha", None, "The requested resource does not exist", 404)

    monkeypatch.setattr(client, "composite", refused)
    facts = Facts(client).prefetch("organization", "apex_triggers", "named_credentials")
    assert facts.organization.name == "alpha"
    assert client.api_calls == 3


def test_query_pages_and_quoting(emulator: Emulator) -> None:
    client = client_for(emulator)
    rows = client.query(format_soql("SELECT Id FROM Organization WHERE Name = {}", "alpha"))
    assert len(rows) == 1
    assert client.query(format_soql("SELECT Id FROM Organization WHERE Name = {}", "x' OR Name != '")) == []


def test_gate_api_calls_equal_the_emulator_count(emulator: Emulator, admin: requests.Session,
                                                 project: pytest.Pytester) -> None:
    external_profile(project.path, emulator)
    project.makepyfile(test_checks="""
import pytest

@pytest.mark.facts("organization", "flows", "packages")
def test_a(org):
    assert org.facts.organization.name == org.name

def test_b(org):
    assert org.facts.limits["DailyApiRequests"]["Max"] > 0
    assert org.client.query("SELECT Id FROM Account") == []

def test_c(orgs):
    assert [o.facts.packages for o in orgs] == [(), ()]
""")
    result = project.runpytest("--org-profile", "ext", "-p", "no:cacheprovider")
    assert result.ret == 0
    gate = read_gate(project.path)
    counts = admin_counts(emulator, admin)
    assert {n: o["api_calls"] for n, o in gate["orgs"].items()} == {n: counts[n] for n in gate["orgs"]}
    assert gate["orgs"]["alpha"]["api_calls"] == 4

    admin.post(f"{emulator.url}/__emulator__/reset").raise_for_status()
    result = project.runpytest("--org-profile", "ext", "-p", "no:cacheprovider", "-n", "2")
    assert result.ret == 0
    gate = read_gate(project.path)
    counts = admin_counts(emulator, admin)
    assert {n: o["api_calls"] for n, o in gate["orgs"].items()} == {n: counts[n] for n in gate["orgs"]}


def test_a_cancelled_client_sends_nothing_more(emulator: Emulator, admin: requests.Session) -> None:
    cancel = threading.Event()
    counter = CallCounter()
    client = OrgClient("alpha", EmulatorAuth("alpha", emulator.url),
                       new_session(counter, emulator.ca_cert, cancel=cancel, org="alpha"), counter, cancel=cancel)
    assert client.query(SOQL)[0]["Name"] == "alpha"
    requests_before = counter.requests
    cancel.set()
    with pytest.raises(Cancelled, match=r"^alpha: CANCELLED: the run was interrupted"):
        client.query(SOQL)
    with pytest.raises(Cancelled):  # the session itself refuses too (an auth flow's own requests)
        client._session.get(f"{emulator.url}/services/data/")
    assert counter.requests == requests_before and admin_counts(emulator, admin)["alpha"] == 1


def test_cancelling_ends_a_retry_backoff_at_once(emulator: Emulator, admin: requests.Session) -> None:
    cancel = threading.Event()
    counter = CallCounter()
    client = OrgClient("alpha", EmulatorAuth("alpha", emulator.url), new_session(counter, emulator.ca_cert), counter,
                       retry_delays=(300.0, 300.0), cancel=cancel)
    set_faults(emulator, admin, error_rate=1.0, error_status=503)
    outcome: list[BaseException] = []

    def query() -> None:
        try:
            client.query(SOQL)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=query, daemon=True)
    thread.start()
    while client.api_calls < 1 and thread.is_alive():
        time.sleep(0.01)
    cancel.set()
    thread.join(timeout=60)  # a hang detector only: the backoff is 300 s
    assert not thread.is_alive()
    assert [type(e) for e in outcome] == [Cancelled]
    assert admin_counts(emulator, admin)["alpha"] == 1
