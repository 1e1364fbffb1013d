"""The in-process seam answers exactly as the HTTPS server does: status, headers and body."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from emulator_helpers import admin, session_for, token_of, write_states

from lockstep.emulator import Emulator

V = "/services/data/v62.0"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
STATE = {
    "org": {"name": "acme"},
    "credentials": {"client_id": "cid", "client_secret": "shh", "password": "pw"},
    "records": {"Account": [{"Name": f"A{n:03d}"} for n in range(250)]},
    "apex_rest": [{"path": "orders/health", "status": 503, "body": {"status": "degraded"}}],
}
# Headers uvicorn adds on the wire that say nothing about the emulator's answer.
WIRE_ONLY = {"date", "server", "connection", "keep-alive", "transfer-encoding"}

# (method, path, headers, body): one of each kind of answer, in an order that writes and reads back.
EXCHANGES: list[tuple[str, str, dict[str, str], Any]] = [
    ("GET", "/services/data/", {}, None),
    ("GET", V + "/", {}, None),
    ("GET", V + "/query?q=SELECT+Id,Name+FROM+Account+ORDER+BY+Name", {"Sforce-Query-Options": "batchSize=200"}, None),
    ("GET", V + "/sobjects", {"If-Modified-Since": "Mon, 02 Mar 2026 09:30:00 GMT"}, None),
    ("GET", V + "/sobjects/Account/describe", {"X-PrettyPrint": "1"}, None),
    ("POST", V + "/sobjects/Account", {}, {"Name": "Created"}),
    ("POST", V + "/sobjects/Account", {}, {"Nope__x": 1}),
    ("PUT", V + "/sobjects/Account", {}, None),
    ("GET", V + "/sobjects/NoSuch", {}, None),
    ("GET", V + "/chatter", {}, None),
    ("GET", V + "/limits", {}, None),
    ("GET", "/services/apexrest/orders/health", {}, None),
    ("POST", V + "/composite", {}, {"compositeRequest": [
        {"method": "GET", "url": V + "/sobjects/Account/describe", "referenceId": "d"}]}),
    ("POST", "/services/Soap/u/62.0", {"Content-Type": "text/xml"}, None),
    ("GET", "/services/oauth2/userinfo", {}, None),
    ("GET", V + "/limits", {"Authorization": "Bearer nope"}, None),
]


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[tuple[Emulator, Emulator]]:
    """The same state served over HTTPS and in this process, at the same instance URL."""
    folder = write_states(tmp_path / "state", STATE)
    served = Emulator(folder, now=NOW).start()
    try:
        yield served, Emulator(folder, now=NOW).open_in_process(served.url)
    finally:
        served.stop()


def exchange(emu: Emulator, method: str, path: str, headers: dict[str, str], body: Any) -> requests.Response:
    sent = {"Authorization": f"Bearer {token_of(emu, 'acme')}", **headers}
    if path.startswith("/services/Soap"):
        return session_for(emu).request(method, emu.url + path, headers=sent, data=b"<x/>", timeout=10)
    return session_for(emu).request(method, emu.url + path, headers=sent, json=body, timeout=10)


def answer(response: requests.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in WIRE_ONLY}
    return response.status_code, headers, response.content


def test_every_kind_of_answer_is_the_same_in_process_and_over_https(twins: tuple[Emulator, Emulator]) -> None:
    served, in_process = twins
    for method, path, headers, body in EXCHANGES:
        over_https = answer(exchange(served, method, path, headers, body))
        assert answer(exchange(in_process, method, path, headers, body)) == over_https, f"{method} {path}"
    assert admin(in_process, "GET", "orgs/acme")["writes"] == admin(served, "GET", "orgs/acme")["writes"]
    assert admin(in_process, "GET", "orgs/acme")["api_calls"] == admin(served, "GET", "orgs/acme")["api_calls"] > 0


def test_a_token_request_is_the_same_in_process_and_over_https(twins: tuple[Emulator, Emulator]) -> None:
    form = {"grant_type": "password", "client_id": "cid", "client_secret": "wrong",
            "username": "admin@acme.example.com",
            "password": "pw"}
    answers = [answer(session_for(emu).post(emu.url + "/services/oauth2/token", data=form, timeout=10))
               for emu in twins]
    assert answers[0] == answers[1]
    assert answers[0][0] == 400


def test_a_dropped_connection_is_a_connection_error_in_process_too(twins: tuple[Emulator, Emulator]) -> None:
    for emu in twins:
        admin(emu, "PATCH", "orgs/acme/faults", {"drop_rate": 1.0})
        with pytest.raises(requests.ConnectionError):
            exchange(emu, "GET", V + "/limits", {}, None)
        admin(emu, "PATCH", "orgs/acme/faults", {"down": True, "drop_rate": 0.0})
        with pytest.raises(requests.ConnectionError):
            exchange(emu, "GET", V + "/limits", {}, None)


def test_an_in_process_emulator_opens_no_socket_and_no_certificate(tmp_path: Path) -> None:
    emu = Emulator(write_states(tmp_path / "state", STATE)).open_in_process()
    assert emu.in_process and emu.ca_cert == Path() and emu.url.startswith("https://")
    response = exchange(emu, "GET", V + "/limits", {}, None)
    assert response.status_code == 200
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")
