"""The routing table: what the API roots list is what the table routes, and 405s come from it."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from emulator_helpers import StateFactory, admin, session_for, token_of

from lockstep.emulator import Emulator
from lockstep.emulator.http.responses import NOT_FOUND_MESSAGE
from lockstep.emulator.http.routes import ROUTES, routed_families

V = "/services/data/v62.0"
STATE = {"org": {"name": "acme"}, "records": {"Account": [{"Name": "Acme"}]}}


@pytest.fixture
def emu(open_emulator: StateFactory) -> Emulator:
    return open_emulator(STATE)


def get(emu: Emulator, url: str, method: str = "GET") -> requests.Response:
    headers = {"Authorization": f"Bearer {token_of(emu, 'acme')}"}
    return session_for(emu).request(method, url if url.startswith("http") else emu.url + url, headers=headers,
                                    timeout=10)


def error_message(response: requests.Response) -> str:
    body: Any = response.json()
    return str(body[0]["message"]) if isinstance(body, list) and body else ""


def test_every_routed_data_family_is_listed_where_salesforce_lists_it(emu: Emulator) -> None:
    listed = get(emu, V + "/").json()
    assert set(routed_families("data")) - {"tooling"} <= set(listed)
    assert "tooling" in listed


def test_every_listed_data_resource_is_routed_or_answered_as_not_served(emu: Emulator) -> None:
    listed = get(emu, V + "/").json()
    served: list[str] = []
    unserved: list[str] = []
    for name, url in listed.items():
        response = get(emu, url)
        assert error_message(response) != NOT_FOUND_MESSAGE, f"{name}: listed but answered as unknown"
        (unserved if "does not serve" in error_message(response) else served).append(name)
    assert {"query", "queryAll", "limits", "sobjects", "composite", "tooling", "identity"} <= set(served)
    assert not set(unserved) & set(routed_families("data"))


def test_the_tooling_root_lists_exactly_what_the_table_routes(emu: Emulator) -> None:
    listed = get(emu, V + "/tooling/").json()
    assert list(listed) == list(routed_families("tooling")) == ["query", "sobjects", "composite"]
    for name, url in listed.items():
        response = get(emu, url)
        assert error_message(response) != NOT_FOUND_MESSAGE, f"tooling {name}: listed but not routed"
        assert "does not serve" not in error_message(response)


@pytest.mark.parametrize("family", ["executeAnonymous", "runTestsSynchronous", "search", "completions"])
def test_salesforce_tooling_resources_not_routed_say_so(emu: Emulator, family: str) -> None:
    response = get(emu, f"{V}/tooling/{family}")
    assert response.status_code == 404
    assert f"{V}/tooling/{family}" in error_message(response)
    assert "does not serve" in error_message(response)


def test_a_405_names_the_methods_the_table_routes_for_that_path(emu: Emulator) -> None:
    record = get(emu, f"{V}/query?q=SELECT+Id+FROM+Account").json()["records"][0]["Id"]
    cases = {
        f"{V}/sobjects/Account/{record}": "GET,HEAD,PATCH,DELETE",
        f"{V}/sobjects/Account": "GET,HEAD,POST",
        f"{V}/sobjects/Account/ExternalId__c/42": "PATCH",
        f"{V}/tooling/sobjects/ApexClass": "GET,HEAD",
        f"{V}/composite": "POST",
        f"{V}/": "GET,HEAD",
    }
    for url, allowed in cases.items():
        response = get(emu, url, "PUT")
        assert response.status_code == 405, url
        assert error_message(response) == f"HTTP Method 'PUT' not allowed. Allowed are {allowed}"


def test_no_two_rows_route_the_same_method_and_path() -> None:
    seen: set[tuple[str, str, str]] = set()
    for route in ROUTES:
        for method in route.methods:
            key = (route.api, route.pattern, method)
            assert key not in seen, f"{key} is routed twice"
            seen.add(key)


def test_an_unknown_sobject_is_not_found_whatever_the_method(emu: Emulator) -> None:
    for method in ("GET", "POST", "PUT"):
        response = get(emu, f"{V}/sobjects/NoSuchThing__x/describe", method)
        assert response.status_code == 404
        assert error_message(response) == NOT_FOUND_MESSAGE


def test_front_door_requests_are_not_counted_and_api_calls_are(emu: Emulator) -> None:
    def calls() -> int:
        return int(admin(emu, "GET", "orgs/acme")["api_calls"])

    org_id = emu.orgs[0]["org_id"]
    user_id = get(emu, "/services/oauth2/userinfo").json()["user_id"]
    for path in ("/services/data", "/services/data/", "/services/oauth2/userinfo", f"/id/{org_id}/{user_id}",
                 "/services/Soap/u/62.0", "/services/async/62.0/job", "/__emulator__/orgs"):
        before = calls()
        get(emu, path)
        assert calls() == before, f"{path} was counted as an API call"
    before = calls()
    get(emu, f"{V}/limits")
    get(emu, f"{V}/no/such/resource")
    assert calls() == before + 2
