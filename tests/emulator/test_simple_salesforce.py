"""simple-salesforce, unchanged, against the emulator: every endpoint it uses."""

# simple-salesforce types `sf.<Object>` as SFType | SFBulkHandler | SFBulk2Handler, so the way its
# users write a call (`sf.Case.create(...)`) reads to mypy as calling a bulk handler's attribute.
# mypy: disable-error-code="operator"

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulator_helpers import StateFactory, admin, salesforce, write_states
from simple_salesforce import Salesforce

from lockstep.emulator import Emulator

ACME: dict[str, Any] = {
    "org": {"name": "acme", "kind": "developer", "instance_name": "EU50"},
    "username": "admin@acme.example.com",
    "packages": [{"namespace": "acme_cpq", "name": "Acme CPQ", "version": "2.5.0.1", "managed": True}],
    "flows": [{"api_name": "Case_Triage", "label": "Case Triage", "object": "Case", "versions": 3,
               "active_version": 3}],
    "automation": [{"flow": "Case_Triage", "object": "Case", "on": "create",
                    "set": {"Priority": "High", "Status": "Working"}}],
    "apex_rest": [{"path": "health", "status": 200, "body": {"status": "ok"}}],
    "records": {
        "Account": [{"Name": "Globex", "AnnualRevenue": 1200000}],
        "Case": [{"Subject": "Printer jam", "Status": "New", "Priority": "Medium"}],
    },
}
GLOBEX: dict[str, Any] = {
    "org": {"name": "globex", "kind": "production"},
    "flows": [{"api_name": "Case_Triage", "object": "Case", "versions": 3, "active_version": None}],
    "automation": [{"flow": "Case_Triage", "object": "Case", "on": "create", "set": {"Priority": "High"}}],
}


BIG: dict[str, Any] = {
    "org": {"name": "big"},
    "records": {"Account": [{"Name": f"Account {n:04d}", "AnnualRevenue": n * 1000} for n in range(2450)]},
}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(write_states(tmp_path_factory.mktemp("big"), BIG)) as emulator:
        yield emulator


@pytest.fixture
def emu(open_emulator: StateFactory) -> Emulator:
    return open_emulator(ACME, GLOBEX)


@pytest.fixture
def sf(emu: Emulator) -> Salesforce:
    return salesforce(emu, "acme")


def test_query_returns_salesforce_shaped_records(sf: Salesforce) -> None:
    result = sf.query("SELECT Id, Subject, Priority FROM Case")
    assert result["totalSize"] == 1 and result["done"] is True
    record = result["records"][0]
    assert list(record) == ["attributes", "Id", "Subject", "Priority"]
    assert record["attributes"] == {"type": "Case",
                                    "url": f"/services/data/v{sf.sf_version}/sobjects/Case/{record['Id']}"}


def test_query_all_follows_next_records_url_with_the_default_batch(big: Emulator) -> None:
    sf = salesforce(big, "big")
    calls = admin(big, "GET", "orgs/big")["api_calls"]
    first = sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    assert first["done"] is False and len(first["records"]) == 2000 and first["totalSize"] == 2450
    assert first["nextRecordsUrl"].startswith(f"/services/data/v{sf.sf_version}/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    everything = sf.query_all("SELECT Id, Name FROM Account ORDER BY Name")
    names = [r["Name"] for r in everything["records"]]
    assert len(names) == 2450 and names == sorted(names) and len(set(names)) == 2450
    assert admin(big, "GET", "orgs/big")["api_calls"] == calls + 3


def test_batch_size_header_sets_the_page_size(big: Emulator) -> None:
    sf = salesforce(big, "big")
    pages = list(sf.query_all_iter("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=500"}))
    assert len(pages) == 2450
    first = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=50"})
    assert len(first["records"]) == 200, "the minimum batch size is 200"
    more = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(more["records"]) == 200 and more["totalSize"] == 2450


def test_tooling_query_through_toolingexecute_and_restful(sf: Salesforce) -> None:
    result = sf.toolingexecute(
        "query/?q=SELECT+SubscriberPackage.NamespacePrefix,+SubscriberPackageVersion.MajorVersion+FROM+InstalledSubscriberPackage"
    )
    assert list(result)[:5] == ["size", "totalSize", "done", "queryLocator", "entityTypeName"]
    assert result["entityTypeName"] == "InstalledSubscriberPackage"
    record = result["records"][0]
    url = record["attributes"]["url"]
    assert url.startswith(f"/services/data/v{sf.sf_version}/tooling/sobjects/InstalledSubscriberPackage/0A3")
    assert record["SubscriberPackage"]["NamespacePrefix"] == "acme_cpq"
    assert record["SubscriberPackageVersion"]["MajorVersion"] == 2
    flows = sf.restful("tooling/query",
                       params={"q": "SELECT DeveloperName, ActiveVersion.VersionNumber FROM FlowDefinition"})
    assert flows is not None
    assert flows["records"][0]["ActiveVersion"]["VersionNumber"] == 3


def test_limits_count_down_with_every_call(sf: Salesforce) -> None:
    before = sf.limits()["DailyApiRequests"]
    after = sf.limits()["DailyApiRequests"]
    assert before["Max"] == 15000
    assert after["Remaining"] == before["Remaining"] - 1
    assert sf.api_usage["api-usage"].used == 15000 - after["Remaining"]


def test_composite_queries_count_as_one_call(sf: Salesforce, emu: Emulator) -> None:
    version = sf.sf_version
    body = {"compositeRequest": [
        {"method": "GET", "url": f"/services/data/v{version}/query?q=SELECT+COUNT()+FROM+Case", "referenceId": "cases"},
        {"method": "GET", "url": f"/services/data/v{version}/limits", "referenceId": "limits"},
        {"method": "GET", "url": f"/services/data/v{version}/query?q=SELECT+Id+FROM+XYZZY", "referenceId": "bad"},
    ]}
    result = sf.restful("composite", method="POST", json=body)
    assert result is not None
    items = {i["referenceId"]: i for i in result["compositeResponse"]}
    assert items["cases"]["httpStatusCode"] == 200 and items["cases"]["body"]["totalSize"] == 1
    assert items["cases"]["body"]["records"] == []
    assert items["bad"]["httpStatusCode"] == 400 and items["bad"]["body"][0]["errorCode"] == "INVALID_TYPE"
    assert admin(emu, "GET", "orgs/acme")["api_calls"] == 1


def test_create_runs_the_active_flow_and_delete_is_logged(sf: Salesforce, emu: Emulator) -> None:
    created = sf.Case.create({"Subject": "Smoke test", "Status": "New"})
    assert created["success"] is True and created["id"].startswith("500") and len(created["id"]) == 18
    case = sf.Case.get(created["id"])
    assert (case["Priority"], case["Status"]) == ("High", "Working")
    assert sf.Case.delete(created["id"]) == 204
    writes = admin(emu, "GET", "orgs/acme")["writes"]
    assert [(w["op"], w["sobject"], w["id"]) for w in writes] == [
        ("create", "Case", created["id"]), ("delete", "Case", created["id"]),
    ]
    assert writes[0]["fields"] == {"Subject": "Smoke test", "Status": "New"}


def test_inactive_flow_leaves_a_created_record_untouched(emu: Emulator) -> None:
    sf = salesforce(emu, "globex")
    created = sf.Case.create({"Subject": "Smoke test", "Priority": "Low"})
    assert sf.Case.get(created["id"])["Priority"] == "Low"


def test_update_and_apex_rest(sf: Salesforce) -> None:
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    assert sf.Account.update(account, {"Rating": "Hot"}) == 204
    assert sf.Account.get(account)["Rating"] == "Hot"
    assert sf.apexecute("health", method="GET") == {"status": "ok"}
