"""What real clients (the Salesforce CLI, jsforce, SOAP and Bulk tools) send that Lockstep does not:
paths with doubled slashes, ``columns=true`` queries, SOAP and Bulk API 1.0 calls, tooling resources."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
from emulator_helpers import StateFactory, session_for, token_of

from lockstep.emulator import Emulator

V = "/services/data/v62.0"
COLUMN_KEYS = ["aggregate", "apexType", "booleanType", "columnName", "custom", "displayName", "foreignKeyName",
               "insertable", "joinColumns", "numberType", "textType", "updatable"]


@pytest.fixture
def emu(open_emulator: StateFactory) -> Emulator:
    return open_emulator({
        "org": {"name": "acme"},
        "packages": [{"namespace": "acme_cpq", "name": "Acme CPQ", "version": "2.5.0.1", "managed": True}],
        "records": {"Account": [{"Name": "Globex", "Industry": "Energy", "Tier__c": "Gold"}]},
    })


def call(emu: Emulator, method: str, path: str, *, headers: dict[str, str] | None = None,
         **kwargs: Any) -> requests.Response:
    merged = {"Authorization": f"Bearer {token_of(emu, 'acme')}", **(headers or {})}
    return session_for(emu).request(method, emu.url + path, headers=merged, timeout=10, **kwargs)


@pytest.mark.parametrize("path", [f"/{V}/query", f"{V}//query", f"/{V}//query/"])
def test_doubled_slashes_are_served(emu: Emulator, path: str) -> None:
    # `sf org login access-token` stores https://host/ and then asks for //services/data/...
    plain = call(emu, "GET", f"{V}/query", params={"q": "SELECT Name FROM Account"})
    doubled = call(emu, "GET", path, params={"q": "SELECT Name FROM Account"})
    assert doubled.status_code == plain.status_code == 200
    assert doubled.json() == plain.json()
    assert call(emu, "GET", "//services/oauth2/userinfo").json()["organization_id"] == emu.orgs[0]["org_id"]
    assert call(emu, "GET", "//services/data").json()[-1]["version"] == "62.0"


def columns(emu: Emulator, soql: str, tooling: bool = False) -> dict[str, Any]:
    response = call(emu, "GET", f"{V}/{'tooling/' if tooling else ''}query", params={"q": soql, "columns": "true"})
    assert response.status_code == 200, response.text
    described: dict[str, Any] = response.json()
    return described


def test_columns_describe_fields_and_nest_parent_relationships(emu: Emulator) -> None:
    body = columns(emu, "SELECT Id, Name, Tier__c, Owner.Name, Owner.Profile.Name, Owner.Email FROM Account")
    assert list(body) == ["columnMetadata", "entityName", "groupBy", "idSelected", "keyPrefix"]
    assert (body["entityName"], body["groupBy"], body["idSelected"], body["keyPrefix"]) == ("Account", False, True,
                                                                                            "001")
    top = body["columnMetadata"]
    assert all(list(c) == COLUMN_KEYS for c in top)
    assert [c["columnName"] for c in top] == ["Id", "Name", "Tier__c", "Owner"]
    ident, name, tier, owner = top
    assert (ident["apexType"], ident["insertable"], ident["updatable"]) == ("Id", False, False)
    assert (name["apexType"], name["textType"], name["updatable"], name["custom"]) == ("String", True, True, False)
    assert tier["custom"] is True
    assert (owner["aggregate"], owner["apexType"], owner["displayName"]) == (False, None, "Owner")
    assert [(c["columnName"], c["displayName"]) for c in owner["joinColumns"]] == [
        ("Name", "Owner.Name"), ("Profile", "Owner.Profile"), ("Email", "Owner.Email")]
    profile = owner["joinColumns"][1]
    assert [(c["columnName"], c["displayName"]) for c in profile["joinColumns"]] == [("Name", "Owner.Profile.Name")]
    assert all(list(c) == COLUMN_KEYS for c in owner["joinColumns"] + profile["joinColumns"])


def test_columns_of_subqueries_and_aggregates(emu: Emulator) -> None:
    child = columns(emu, "SELECT Name, (SELECT LastName, Email FROM Contacts) FROM Account")
    contacts = child["columnMetadata"][1]
    assert (contacts["columnName"], contacts["aggregate"]) == ("Contacts", True)
    assert [c["columnName"] for c in contacts["joinColumns"]] == ["LastName", "Email"]
    assert child["idSelected"] is False

    grouped = columns(emu, "SELECT Industry, COUNT(Id), MAX(Name) top FROM Account GROUP BY Industry")
    assert grouped["groupBy"] is True
    assert [(c["columnName"], c["displayName"], c["aggregate"], c["apexType"]) for c in grouped["columnMetadata"]] == [
        ("Industry", "Industry", False, "String"), ("expr0", "COUNT(Id)", True, "Integer"),
        ("top", "MAX(Name)", True, "String")]
    assert columns(emu, "SELECT COUNT() FROM Account")["columnMetadata"] == []


def test_tooling_columns_and_errors_match_the_query(emu: Emulator) -> None:
    body = columns(emu, "SELECT Id, SubscriberPackage.Name FROM InstalledSubscriberPackage", tooling=True)
    assert body["entityName"] == "InstalledSubscriberPackage"
    package = body["columnMetadata"][1]
    assert package["columnName"] == "SubscriberPackage"
    assert [c["displayName"] for c in package["joinColumns"]] == ["SubscriberPackage.Name"]
    bad = {"q": "SELECT Nope FROM Account"}
    assert call(emu, "GET", f"{V}/query", params={**bad, "columns": "true"}).json() == \
        call(emu, "GET", f"{V}/query", params=bad).json()


@pytest.mark.parametrize(("path", "namespace"), [
    ("/services/Soap/u/62.0", "urn:fault.partner.soap.sforce.com"),
    ("/services/Soap/m/62.0/00D000000000001", "http://soap.sforce.com/2006/04/metadata"),
    ("/services/Soap/s/62.0", "http://soap.sforce.com/2006/08/apex"),
])
def test_soap_answers_a_fault_saying_it_is_not_served(emu: Emulator, path: str, namespace: str) -> None:
    envelope = ('<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                f'<soapenv:Header><SessionHeader><sessionId>{token_of(emu, "acme")}</sessionId></SessionHeader>'
                "</soapenv:Header><soapenv:Body/></soapenv:Envelope>")
    response = session_for(emu).post(emu.url + path, data=envelope, timeout=10,
                                     headers={"Content-Type": "text/xml", "SOAPAction": '""'})
    assert response.status_code == 500 and response.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    soap = "{http://schemas.xmlsoap.org/soap/envelope/}"
    fault = root.find(f"{soap}Body/{soap}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "sf:FUNCTIONALITY_NOT_ENABLED"
    assert "does not serve the SOAP API" in fault.findtext("faultstring", "")
    assert root.find(f".//{{{namespace}}}exceptionCode") is not None
    assert "INVALID_SESSION_ID" not in response.text


def test_bulk_v1_answers_an_error_saying_it_is_not_served(emu: Emulator) -> None:
    headers = {"X-SFDC-Session": token_of(emu, "acme"), "Content-Type": "application/xml"}
    xml = session_for(emu).post(f"{emu.url}/services/async/62.0/job", data="<jobInfo/>", headers=headers, timeout=10)
    assert xml.status_code == 400
    root = ET.fromstring(xml.content)
    ns = "{http://www.force.com/2009/06/asyncapi/dataload}"
    assert root.tag == f"{ns}error" and root.findtext(f"{ns}exceptionCode") == "FeatureNotEnabled"
    assert "does not serve the Bulk API 1.0" in root.findtext(f"{ns}exceptionMessage", "")
    as_json = session_for(emu).post(f"{emu.url}/services/async/62.0/job", json={"operation": "query"}, timeout=10,
                                    headers={**headers, "Content-Type": "application/json"})
    assert as_json.status_code == 400 and as_json.json()["exceptionCode"] == "FeatureNotEnabled"


def test_every_listed_tooling_resource_is_served(emu: Emulator) -> None:
    listed = call(emu, "GET", f"{V}/tooling").json()
    assert sorted(listed) == ["composite", "query", "sobjects"]
    for name, url in listed.items():
        response = call(emu, "GET", url)
        assert response.status_code != 404, (name, response.text)


@pytest.mark.parametrize("resource", ["tooling/executeAnonymous", "tooling/runTestsAsynchronous",
                                      "tooling/runTestsSynchronous", "search"])
def test_resources_not_served_say_so(emu: Emulator, resource: str) -> None:
    response = call(emu, "GET", f"{V}/{resource}")
    assert response.status_code == 404
    [error] = response.json()
    assert error["errorCode"] == "NOT_FOUND"
    assert f"does not serve the resource {V}/{resource}" in error["message"]
