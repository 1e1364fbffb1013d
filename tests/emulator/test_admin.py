"""The admin endpoint: exact API-call counts, the write log, faults, sessions, reset."""

# simple-salesforce types `sf.<Object>` as SFType | SFBulkHandler | SFBulk2Handler, so the way its
# users write a call (`sf.Case.create(...)`) reads to mypy as calling a bulk handler's attribute.
# mypy: disable-error-code="operator"

from __future__ import annotations

import threading
import time

import pytest
from emulator_helpers import StateFactory, admin, salesforce, session_for, token_of
from simple_salesforce.exceptions import SalesforceError

from lockstep.emulator import Emulator


@pytest.fixture
def emu(open_emulator: StateFactory) -> Emulator:
    return open_emulator(
        {"org": {"name": "alpha"}, "records": {"Account": [{"Name": "Initech"}]}},
        {"org": {"name": "beta", "kind": "sandbox"}, "faults": {"latency_ms": 5, "seed": 3}},
    )


def test_orgs_are_listed_with_counts_and_faults(emu: Emulator) -> None:
    orgs = admin(emu, "GET", "orgs")
    assert [o["name"] for o in orgs] == ["alpha", "beta"]
    assert set(orgs[0]) == {"name", "org_id", "api_calls", "in_flight", "faults"}
    assert orgs[1]["faults"]["latency_ms"] == 5 and orgs[1]["faults"]["seed"] == 3
    assert [o["org_id"] for o in orgs] == [o["org_id"] for o in emu.orgs]


def test_api_calls_equal_the_requests_made(emu: Emulator) -> None:
    sf = salesforce(emu, "alpha")
    sf.query("SELECT Id FROM Account")
    sf.limits()
    sf.toolingexecute("query/?q=SELECT+Id+FROM+ApexClass")
    sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "a"},
        {"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+User", "referenceId": "b"},
    ]})
    session_for(emu).get(f"{emu.url}/services/data/")
    with pytest.raises(SalesforceError):
        sf.query("SELECT Nope FROM Account")
    assert admin(emu, "GET", "orgs/alpha")["api_calls"] == 5
    assert admin(emu, "GET", "orgs/beta")["api_calls"] == 0


def test_writes_are_logged_per_org(emu: Emulator) -> None:
    sf = salesforce(emu, "alpha")
    account = sf.Account.create({"Name": "Globex"})["id"]
    sf.Account.update(account, {"Industry": "Energy"})
    sf.Account.delete(account)
    detail = admin(emu, "GET", "orgs/alpha")
    assert detail["writes"] == [
        {"op": "create", "sobject": "Account", "id": account, "fields": {"Name": "Globex"}},
        {"op": "update", "sobject": "Account", "id": account, "fields": {"Industry": "Energy"}},
        {"op": "delete", "sobject": "Account", "id": account, "fields": {}},
    ]
    assert admin(emu, "GET", "orgs/beta")["writes"] == []


def test_fault_patch_merges_and_validates(emu: Emulator) -> None:
    merged = admin(emu, "PATCH", "orgs/beta/faults", {"error_rate": 0.25})
    assert merged["error_rate"] == 0.25 and merged["latency_ms"] == 5
    response = session_for(emu).patch(f"{emu.url}/__emulator__/orgs/beta/faults", json={"error_status": 418})
    assert response.status_code == 400 and "error_status" in response.json()["error"]
    response = session_for(emu).patch(f"{emu.url}/__emulator__/orgs/beta/faults", json={"latency": 1})
    assert response.status_code == 400 and "unknown fault" in response.json()["error"]
    assert session_for(emu).get(f"{emu.url}/__emulator__/orgs/nope").status_code == 404


def test_sessions_and_expiry(emu: Emulator) -> None:
    fresh = admin(emu, "POST", "orgs/alpha/sessions")
    assert set(fresh) == {"access_token", "instance_url", "org_id", "username"}
    assert fresh["instance_url"] == emu.url and fresh["username"] == "admin@alpha.example.com"
    assert salesforce(emu, "alpha", fresh["access_token"]).query("SELECT Id FROM User")["totalSize"] == 1
    assert admin(emu, "POST", "orgs/alpha/expire-sessions")["expired"] >= 2
    for token in (fresh["access_token"], token_of(emu, "alpha")):
        response = session_for(emu).get(f"{emu.url}/services/data/v62.0/limits",
                                        headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert salesforce(emu, "beta").limits()["DailyApiRequests"]["Max"] == 5000000


def test_an_api_call_is_in_flight_until_it_is_answered_and_counted(emu: Emulator) -> None:
    admin(emu, "PATCH", "orgs/beta/faults", {"latency_ms": 3000})  # the time the poll below has to see it
    sf = salesforce(emu, "beta")
    session_for(emu).get(f"{emu.url}/services/data/")  # not an API call: never in flight
    asking = threading.Thread(target=sf.query, args=("SELECT Id FROM Account",), daemon=True)
    asking.start()
    while (detail := admin(emu, "GET", "orgs/beta"))["in_flight"] == 0 and asking.is_alive():
        time.sleep(0.01)
    assert (detail["in_flight"], detail["api_calls"]) == (1, 0)
    asking.join(timeout=60)
    detail = admin(emu, "GET", "orgs/beta")
    assert (detail["in_flight"], detail["api_calls"]) == (0, 1)


def test_reset_restores_the_state_files(emu: Emulator) -> None:
    sf = salesforce(emu, "alpha")
    sf.Account.create({"Name": "Temporary"})
    admin(emu, "PATCH", "orgs/alpha/faults", {"latency_ms": 50})
    admin(emu, "POST", "reset")
    detail = admin(emu, "GET", "orgs/alpha")
    assert (detail["api_calls"], detail["writes"], detail["faults"]["latency_ms"]) == (0, [], 0)
    assert sf.query("SELECT Name FROM Account")["records"][0]["Name"] == "Initech"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_reset_with_a_broken_state_file_keeps_serving(emu: Emulator) -> None:
    state_file = emu.state_path / "alpha.yaml"
    state_file.write_text("org: {name: alpha, kind: galaxy}\n", encoding="utf-8")
    response = session_for(emu).post(f"{emu.url}/__emulator__/reset")
    assert response.status_code == 400 and "alpha.yaml: org.kind" in response.json()["error"]
    assert salesforce(emu, "alpha").query("SELECT Name FROM Account")["records"][0]["Name"] == "Initech"
