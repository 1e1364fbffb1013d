"""Every fault kind, as simple-salesforce (and httpx) see it."""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

import httpx
import pytest
import requests
from emulator_helpers import StateFactory, admin, answer_of, salesforce, session_for, token_of
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from lockstep.emulator import Emulator

QUERY = "SELECT Id FROM Organization"


def org(name: str, **extra: Any) -> dict[str, Any]:
    return {"org": {"name": name}, **extra}


@pytest.fixture
def emu(start_emulator: StateFactory) -> Emulator:
    return start_emulator(org("calm"), org("slow", faults={"latency_ms": 1000}), org("flaky"))


def test_latency_is_added_per_org_without_blocking_other_orgs(emu: Emulator) -> None:
    async def timed(name: str) -> float:
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
                                     trust_env=False) as client:
            start = time.perf_counter()
            response = await client.get(f"{emu.url}/services/data/v62.0/limits",
                                        headers={"Authorization": f"Bearer {token_of(emu, name)}"})
            assert response.status_code == 200
            return time.perf_counter() - start

    async def both() -> tuple[float, bool]:
        slow = asyncio.create_task(timed("slow"))
        await asyncio.sleep(0.05)
        await asyncio.gather(*(timed("calm") for _ in range(5)))
        overtaken = not slow.done()
        return await slow, overtaken

    slow, overtaken = asyncio.run(both())
    assert slow >= 1.0
    assert overtaken, "latency of one org must not hold back another: the calm org's answers came after the slow one"
    start = time.perf_counter()
    salesforce(emu, "slow").query(QUERY)
    assert time.perf_counter() - start >= 1.0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_raise_general_error(emu: Emulator, status: int) -> None:
    admin(emu, "PATCH", "orgs/flaky/faults", {"error_rate": 1.0, "error_status": status})
    with pytest.raises(SalesforceGeneralError) as raised:
        salesforce(emu, "flaky").query(QUERY)
    assert raised.value.status == status
    code = answer_of(raised.value)[0]["errorCode"]
    assert code == ("SERVER_UNAVAILABLE" if status == 503 else "UNKNOWN_EXCEPTION")


def test_error_rate_is_seeded_and_reproducible(emu: Emulator) -> None:
    def outcomes() -> list[int]:
        admin(emu, "PATCH", "orgs/flaky/faults", {"error_rate": 0.5, "seed": 7})
        session = session_for(emu)
        headers = {"Authorization": f"Bearer {token_of(emu, 'flaky')}"}
        codes = [session.get(f"{emu.url}/services/data/v62.0/limits", headers=headers).status_code for _ in range(20)]
        admin(emu, "PATCH", "orgs/flaky/faults", {"seed": 0})
        return codes

    first, second = outcomes(), outcomes()
    assert first == second
    assert set(first) == {200, 503}


def test_dropped_connection_is_a_connection_error(emu: Emulator) -> None:
    admin(emu, "PATCH", "orgs/flaky/faults", {"drop_rate": 1.0})
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        salesforce(emu, "flaky").query(QUERY)
    verify = ssl.create_default_context(cafile=str(emu.ca_cert))
    with httpx.Client(verify=verify, trust_env=False) as client, pytest.raises(httpx.TransportError):
        client.get(f"{emu.url}/services/data/v62.0/limits",
                   headers={"Authorization": f"Bearer {token_of(emu, 'flaky')}"})
    assert admin(emu, "GET", "orgs/calm")["api_calls"] == 0


def test_session_expires_after_its_ttl(emu: Emulator) -> None:
    admin(emu, "PATCH", "orgs/flaky/faults", {"session_ttl_calls": 2})
    sf = salesforce(emu, "flaky")
    sf.query(QUERY)
    sf.query(QUERY)
    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.query(QUERY)
    assert answer_of(raised.value) == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    fresh = admin(emu, "POST", "orgs/flaky/sessions")
    assert salesforce(emu, "flaky", fresh["access_token"]).query(QUERY)["totalSize"] == 1


def test_request_limit_exceeded_is_refused(emu: Emulator) -> None:
    admin(emu, "PATCH", "orgs/flaky/faults", {"request_limit_exceeded": True})
    with pytest.raises(SalesforceRefusedRequest) as raised:
        salesforce(emu, "flaky").query(QUERY)
    assert answer_of(raised.value) == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_exhausted_daily_allowance_is_refused(start_emulator: StateFactory) -> None:
    emu = start_emulator(org("tight", limits={"DailyApiRequests": {"Max": 100, "Remaining": 2}}))
    sf = salesforce(emu, "tight")
    assert sf.limits()["DailyApiRequests"] == {"Max": 100, "Remaining": 1}
    assert sf.api_usage["api-usage"].used == 99
    sf.query(QUERY)
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query(QUERY)
    assert answer_of(raised.value)[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_org_down_drops_every_request_including_login(emu: Emulator) -> None:
    admin(emu, "PATCH", "orgs/flaky/faults", {"down": True})
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        salesforce(emu, "flaky").query(QUERY)
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        session_for(emu).post(f"{emu.url}/services/oauth2/token", data={
            "grant_type": "password", "username": "admin@flaky.example.com", "password": "x"})
    assert salesforce(emu, "calm").query(QUERY)["totalSize"] == 1
    admin(emu, "PATCH", "orgs/flaky/faults", {"down": False})
    assert salesforce(emu, "flaky").query(QUERY)["totalSize"] == 1
