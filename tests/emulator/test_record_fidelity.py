"""Record behaviour a check author meets: unknown custom fields, deleted records, upsert by external id,
the replication resources, and describe filled from the org's state. Driven through simple-salesforce."""

# simple-salesforce types `sf.<Object>` as SFType | SFBulkHandler | SFBulk2Handler, so the way its
# users write a call (`sf.Case.create(...)`) reads to mypy as calling a bulk handler's attribute.
# mypy: disable-error-code="operator"

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from emulator_helpers import StateFactory, admin, answer_of, salesforce, session_for, token_of
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from lockstep.emulator import Emulator

V = "/services/data/v62.0"


@pytest.fixture
def emu(open_emulator: StateFactory) -> Emulator:
    return open_emulator({
        "org": {"name": "acme"},
        "records": {
            "Account": [{"Name": "Globex", "Industry": "Energy", "Tier__c": "Gold", "Ext__c": "G-1"},
                        {"Name": "Initech", "Industry": "Banking", "Ext__c": "DUP"},
                        {"Name": "Hooli", "Industry": "Energy", "Ext__c": "dup"}],
            "RecordType": [{"Name": "Support", "DeveloperName": "Support", "SobjectType": "Case", "IsActive": True},
                           {"Name": "Old", "DeveloperName": "Old", "SobjectType": "Case", "IsActive": False},
                           {"Name": "Partner", "DeveloperName": "Partner", "SobjectType": "Account", "IsActive": True}],
        },
    })


@pytest.fixture
def sf(emu: Emulator) -> Salesforce:
    return salesforce(emu, "acme")


def call(emu: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return session_for(emu).request(method, emu.url + path, timeout=10,
                                    headers={"Authorization": f"Bearer {token_of(emu, 'acme')}"}, **kwargs)


def test_writes_name_unknown_custom_fields_like_salesforce(emu: Emulator, sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Name": "New", "Nope__c": "x"})
    assert answer_of(info.value) == [{"message": "No such column 'Nope__c' on sobject of type Account",
                                   "errorCode": "INVALID_FIELD"}]
    created = sf.Account.create({"Name": "New", "tier__c": "Silver"})  # a field the org's records hold
    assert sf.Account.get(created["id"]) and sf.query(
        f"SELECT Tier__c FROM Account WHERE Id = '{created['id']}'")["records"][0]["Tier__c"] == "Silver"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.update(created["id"], {"Other__c": 1})
    assert [w["op"] for w in admin(emu, "GET", "orgs/acme")["writes"]] == ["create"]


def test_a_deleted_record_reads_as_entity_is_deleted(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Short-lived"})
    sf.Account.delete(created["id"])
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Account.get(created["id"])
    assert answer_of(info.value) == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED"}]
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Account.get("001000000000000AAA")
    assert answer_of(missing.value)[0]["errorCode"] == "NOT_FOUND"


def test_upsert_by_external_id_creates_then_updates(emu: Emulator, sf: Salesforce) -> None:
    assert sf.Account.upsert("Ext__c/N-7", {"Name": "Umbrella"}) == 201
    [row] = sf.query("SELECT Id, Name, Ext__c FROM Account WHERE Ext__c = 'N-7'")["records"]
    assert row["Name"] == "Umbrella"
    second = call(emu, "PATCH", f"{V}/sobjects/Account/Ext__c/N-7", json={"Industry": "Retail"})
    assert (second.status_code, second.json()) == (200,
                                                   {"id": row["Id"], "success": True, "errors": [], "created": False})
    assert sf.Account.get(row["Id"])["Industry"] == "Retail"
    older = call(emu, "PATCH", "/services/data/v45.0/sobjects/Account/Ext__c/G-1", json={"Industry": "Oil"})
    assert older.status_code == 204
    first = call(emu, "PATCH", f"{V}/sobjects/Account/Ext__c/Q-9", json={"Name": "Q"})
    assert first.status_code == 201 and first.json()["created"] is True and first.json()["success"] is True
    assert [w["op"] for w in admin(emu, "GET", "orgs/acme")["writes"]] == ["create", "update", "update", "create"]


def test_upsert_errors(emu: Emulator) -> None:
    several = call(emu, "PATCH", f"{V}/sobjects/Account/Ext__c/dup", json={"Name": "X"})
    assert several.status_code == 300 and len(several.json()) == 2
    assert all(url.startswith(f"{V}/sobjects/Account/001") for url in several.json())
    unknown = call(emu, "PATCH", f"{V}/sobjects/Account/Nope__c/1", json={"Name": "X"})
    assert unknown.status_code == 404 and unknown.json()[0]["errorCode"] == "NOT_FOUND"
    assert call(emu, "GET", f"{V}/sobjects/Account/Ext__c/G-1").status_code == 405


def test_updated_and_deleted_windows(sf: Salesforce) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    kept = sf.Account.create({"Name": "Kept"})["id"]
    gone = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.delete(gone)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    updated = sf.Account.updated(start, end)
    assert kept in updated["ids"] and gone not in updated["ids"]
    assert updated["latestDateCovered"].endswith(":00.000+0000")
    deleted = sf.Account.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert sf.Account.updated(end, end + dt.timedelta(minutes=1))["ids"] == []
    past = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    updated = sf.Account.updated(past, past + dt.timedelta(days=1))
    assert updated == {"ids": [], "latestDateCovered": "2001-01-02T00:00:00.000+0000"}


def test_replication_arguments_are_checked(emu: Emulator) -> None:
    missing = call(emu, "GET", f"{V}/sobjects/Account/updated", params={"end": "2026-01-01T00:00:00Z"})
    assert missing.status_code == 400 and missing.json()[0]["errorCode"] == "MISSING_ARGUMENT"
    backwards = call(emu, "GET", f"{V}/sobjects/Account/updated",
                     params={"start": "2026-01-02T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00"})
    assert backwards.status_code == 400 and backwards.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_describe_lists_the_states_picklist_values_custom_fields_and_record_types(sf: Salesforce) -> None:
    account = sf.Account.describe()
    fields = {f["name"]: f for f in account["fields"]}
    assert [v["value"] for v in fields["Industry"]["picklistValues"]] == ["Banking", "Energy"]
    assert fields["Industry"]["picklistValues"][0] == {"active": True, "defaultValue": False, "label": "Banking",
                                                        "validFor": None, "value": "Banking"}
    assert fields["Tier__c"]["custom"] is True and fields["Ext__c"]["type"] == "string"
    assert [(r["name"], r["master"]) for r in account["recordTypeInfos"]] == [("Partner", False), ("Master", True)]
    case = sf.Case.describe()
    assert [r["developerName"] for r in case["recordTypeInfos"]] == ["Support", "Master"]
    support = case["recordTypeInfos"][0]
    assert support["recordTypeId"].startswith("012") and support["urls"]["layout"].endswith(support["recordTypeId"])
    assert sf.query("SELECT COUNT() FROM RecordType WHERE SobjectType = 'Case'")["totalSize"] == 2


def test_collections_update_retrieve_and_delete_by_ids(emu: Emulator, sf: Salesforce) -> None:
    ids = [sf.Account.create({"Name": name})["id"] for name in ("C1", "C2")]
    updated = call(emu, "PATCH", f"{V}/composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "Id": ids[0], "Industry": "Retail"},
        {"attributes": {"type": "Account"}, "Name": "x"}]})
    assert updated.json() == [{"id": ids[0], "success": True, "errors": []},
                              {"success": False, "errors": [{"statusCode": "MISSING_ARGUMENT",
                                                             "message": "Id not specified in an update call",
                                                             "fields": []}]}]
    got = call(emu, "GET", f"{V}/composite/sobjects/Account", params={"ids": ",".join(ids), "fields": "Name,Industry"})
    assert [(r["Name"], r["Industry"]) for r in got.json()] == [("C1", "Retail"), ("C2", None)]
    sf.Account.delete(ids[1])
    deleted = call(emu, "DELETE", f"{V}/composite/sobjects", params={"ids": ",".join(ids)})
    assert deleted.json() == [{"id": ids[0], "success": True, "errors": []},
                              {"id": ids[1], "success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED",
                                                                           "message": "entity is deleted",
                                                                           "fields": []}]}]
    rolled = call(emu, "DELETE", f"{V}/composite/sobjects", params={"ids": "001000000000000AAA", "allOrNone": "true"})
    assert rolled.json()[0]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
