"""REST details: error bodies and statuses, paging forms, composite limits and rollback, JSON layout."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from emulator_helpers import StateFactory, admin, session_for, token_of

from lockstep.emulator import Emulator

V = "/services/data/v61.0"


@pytest.fixture
def emu(open_emulator: StateFactory) -> Emulator:
    return open_emulator({
        "org": {"name": "acme", "api_versions": {"min": "40.0", "max": "61.0"}},
        "apex_rest": [{"path": "orders/health", "status": 503, "body": {"status": "degraded"}}],
        "records": {"Account": [{"Name": f"A{n:03d}"} for n in range(450)],
                    "Contact": [{"LastName": "Smith"}]},
    })


def call(emu: Emulator, method: str, path: str, *, params: dict[str, str] | None = None, json: Any = None,
         headers: dict[str, str] | None = None) -> requests.Response:
    merged = {"Authorization": f"Bearer {token_of(emu, 'acme')}", **(headers or {})}
    return session_for(emu).request(method, emu.url + path, params=params, json=json,
                                    headers=merged, timeout=10)


def only_error(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    error: dict[str, Any] = body[0]
    return error


@pytest.mark.parametrize(
    ("soql", "code"),
    [("SELECT FROM Account", "MALFORMED_QUERY"), ("SELECT Nope FROM Account", "INVALID_FIELD"),
     ("SELECT Id FROM Nope", "INVALID_TYPE")],
)
def test_soql_errors_are_400_with_the_error_array(emu: Emulator, soql: str, code: str) -> None:
    response = call(emu, "GET", f"{V}/query", params={"q": soql})
    assert response.status_code == 400
    error = only_error(response)
    assert error["errorCode"] == code and set(error) == {"message", "errorCode"}
    assert "ERROR at Row:1:Column:" in error["message"]


def test_not_found_method_not_allowed_and_versions(emu: Emulator) -> None:
    assert only_error(call(emu, "GET", f"{V}/sobjects/Nope/describe")) == {
        "message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    assert call(emu, "GET", f"{V}/sobjects/Account/001000000000000AAA").status_code == 404
    response = call(emu, "DELETE", f"{V}/limits")
    assert response.status_code == 405 and only_error(response)["errorCode"] == "METHOD_NOT_ALLOWED"
    too_new = session_for(emu).get(f"{emu.url}/services/data/v62.0/limits",
                                   headers={"Authorization": f"Bearer {token_of(emu, 'acme')}"})
    assert too_new.status_code == 404
    versions = session_for(emu).get(f"{emu.url}/services/data/",
                                    headers={"Authorization": f"Bearer {token_of(emu, 'acme')}"}).json()
    assert (versions[0]["version"], versions[-1]["version"]) == ("40.0", "61.0")


def test_invalid_session_has_www_authenticate(emu: Emulator) -> None:
    response = session_for(emu).get(f"{emu.url}/services/data/v61.0/limits", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Token"
    assert "Sforce-Limit-Info" not in response.headers


def test_both_locator_forms_page_through_a_query(emu: Emulator) -> None:
    first = call(emu, "GET", f"{V}/query", params={"q": "SELECT Name FROM Account ORDER BY Name"},
                 headers={"Sforce-Query-Options": "batchSize=200"}).json()
    next_url = first["nextRecordsUrl"]
    locator = next_url.rsplit("/", 1)[1]
    assert len(locator) == 18 + 4 and locator.startswith("01g") and locator.endswith("-200")
    by_url = session_for(emu).get(emu.url + next_url,
                                  headers={"Authorization": f"Bearer {token_of(emu, 'acme')}"}).json()
    by_locator = call(emu, "GET", f"{V}/query/{locator}").json()
    assert by_url == by_locator and by_url["records"][0]["Name"] == "A200"
    last = call(emu, "GET", by_url["nextRecordsUrl"]).json()
    assert last["done"] is True and "nextRecordsUrl" not in last and len(last["records"]) == 50
    assert only_error(call(emu, "GET", f"{V}/query/01g000000000000AAA-200"))["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_tooling_query_pages_with_its_extras(emu: Emulator) -> None:
    first = call(emu, "GET", f"{V}/tooling/query", params={"q": "SELECT Id FROM EntityDefinition"}).json()
    assert first["queryLocator"] is None and first["done"] is True and first["size"] == first["totalSize"]


def test_query_all_includes_deleted_records(emu: Emulator) -> None:
    contact = call(emu, "GET", f"{V}/query", params={"q": "SELECT Id FROM Contact"}).json()["records"][0]["Id"]
    assert call(emu, "DELETE", f"{V}/sobjects/Contact/{contact}").status_code == 204
    assert call(emu, "GET", f"{V}/query", params={"q": "SELECT Id FROM Contact"}).json()["totalSize"] == 0
    every = call(emu, "GET", f"{V}/queryAll", params={"q": "SELECT Id, IsDeleted FROM Contact"}).json()
    assert every["records"][0]["IsDeleted"] is True
    assert only_error(call(emu, "DELETE", f"{V}/sobjects/Contact/{contact}"))["errorCode"] == "ENTITY_IS_DELETED"


def test_create_errors(emu: Emulator) -> None:
    response = call(emu, "POST", f"{V}/sobjects/Account", json={"Nope": 1})
    assert response.status_code == 400 and only_error(response)["errorCode"] == "INVALID_FIELD"
    missing = only_error(call(emu, "POST", f"{V}/sobjects/Contact", json={"FirstName": "Ann"}))
    assert missing == {"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING",
                       "fields": ["LastName"]}
    locked = only_error(call(emu, "POST", f"{V}/sobjects/Account",
                             json={"Name": "X", "CreatedDate": "2020-01-01T00:00:00Z"}))
    assert locked["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE" and locked["fields"] == ["CreatedDate"]
    created = call(emu, "POST", f"{V}/sobjects/Account", json={"Name": "X"})
    assert created.status_code == 201
    assert created.headers["Location"] == f"/services/data/v61.0/sobjects/Account/{created.json()['id']}"


def test_composite_references_and_limits(emu: Emulator) -> None:
    body = {"compositeRequest": [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "acct", "body": {"Name": "Parent"}},
        {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "ct",
         "body": {"LastName": "Child", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": f"{V}/query?q=SELECT+Account.Name+FROM+Contact+WHERE+Id='@{{ct.id}}'",
         "referenceId": "q"},
        {"method": "GET", "url": f"{V}/sobjects/Account/@{{missing.id}}", "referenceId": "broken"},
    ]}
    items = call(emu, "POST", f"{V}/composite", json=body).json()["compositeResponse"]
    assert [i["httpStatusCode"] for i in items] == [201, 201, 200, 400]
    assert items[0]["httpHeaders"]["Location"].endswith(items[0]["body"]["id"])
    assert items[2]["body"]["records"][0]["Account"]["Name"] == "Parent"
    assert items[3]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    too_many = {"compositeRequest": [{"method": "GET", "url": f"{V}/limits",
                                      "referenceId": f"r{n}"} for n in range(26)]}
    assert call(emu, "POST", f"{V}/composite", json=too_many).status_code == 400
    queries = {"compositeRequest": [{"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+User", "referenceId": f"r{n}"}
                                    for n in range(6)]}
    assert call(emu, "POST", f"{V}/composite", json=queries).status_code == 400
    assert admin(emu, "GET", "orgs/acme")["api_calls"] == 3


def test_all_or_none_rolls_back_and_leaves_no_writes(emu: Emulator) -> None:
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "ok", "body": {"Name": "Kept?"}},
        {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "bad", "body": {"FirstName": "NoLast"}},
        {"method": "GET", "url": f"{V}/limits", "referenceId": "after"},
    ]}
    items = call(emu, "POST", f"{V}/composite", json=body).json()["compositeResponse"]
    assert [i["httpStatusCode"] for i in items] == [400, 400, 400]
    assert [i["body"][0]["errorCode"] for i in items] == ["PROCESSING_HALTED", "REQUIRED_FIELD_MISSING",
                                                          "PROCESSING_HALTED"]
    count = call(emu, "GET", f"{V}/query", params={"q": "SELECT COUNT() FROM Account WHERE Name = 'Kept?'"}).json()
    assert count["totalSize"] == 0
    assert admin(emu, "GET", "orgs/acme")["writes"] == []


def test_tooling_composite(emu: Emulator) -> None:
    body = {"compositeRequest": [
        {"method": "GET", "url": f"{V}/tooling/query?q=SELECT+Id+FROM+ApexClass", "referenceId": "classes"},
        {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+User", "referenceId": "data"},
    ]}
    items = call(emu, "POST", f"{V}/tooling/composite", json=body).json()["compositeResponse"]
    assert items[0]["httpStatusCode"] == 200 and "entityTypeName" in items[0]["body"]
    assert items[1]["httpStatusCode"] == 404


def test_record_count_describe_and_apex_rest(emu: Emulator) -> None:
    counts = call(emu, "GET", f"{V}/limits/recordCount", params={"sObjects": "Account,Lead"}).json()
    assert counts == {"sObjects": [{"count": 450, "name": "Account"}]}
    describe = call(emu, "GET", f"{V}/sobjects/Account/describe")
    assert describe.status_code == 200 and "ETag" in describe.headers
    fields = {f["name"]: f for f in describe.json()["fields"]}
    assert fields["ParentId"]["referenceTo"] == ["Account"] and fields["ParentId"]["relationshipName"] == "Parent"
    health = call(emu, "GET", "/services/apexrest/orders/health")
    assert health.status_code == 503 and health.json() == {"status": "degraded"}
    assert call(emu, "GET", "/services/apexrest/unknown").status_code == 404


def test_pretty_print_layout(emu: Emulator) -> None:
    pretty = call(emu, "GET", f"{V}/query", params={"q": "SELECT Id FROM Lead"}, headers={"X-PrettyPrint": "1"})
    assert pretty.text == '{\n  "totalSize" : 0,\n  "done" : true,\n  "records" : [ ]\n}'
    compact = call(emu, "GET", f"{V}/query", params={"q": "SELECT Id FROM Lead"})
    assert compact.text == '{"totalSize":0,"done":true,"records":[]}'
