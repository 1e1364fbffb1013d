"""The SOQL engine reproduces responses recorded from real orgs (``shared/sf-recorded``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from needs import no_recordings, recordings

from lockstep.emulator.schema.registry import make_id
from lockstep.emulator.soql import SoqlError, execute
from lockstep.emulator.soql.shape import query_result

RECORDED = recordings()
DATA = "/services/data/vxx.0/sobjects"
TOOLING = "/services/data/vxx.0/tooling/sobjects"


@pytest.fixture(autouse=True)
def _recordings() -> None:
    if RECORDED is None:
        no_recordings()


def recorded(name: str) -> dict[str, Any]:
    assert RECORDED is not None
    answer: dict[str, Any] = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    return answer


def body(result: Any) -> dict[str, Any]:
    return {"totalSize": result.total_size, "done": True, "records": result.records}


def tooling_body(result: Any, entity: str) -> dict[str, Any]:
    return {
        "size": result.total_size, "totalSize": result.total_size, "done": True,
        "queryLocator": None, "entityTypeName": entity, "records": result.records,
    }


def accounts(count: int) -> list[dict[str, Any]]:
    return [{"Id": make_id("001", i), "Name": f"Account {i}"} for i in range(count)]


def test_bare_count_puts_the_count_in_total_size() -> None:
    exchange = recorded("composite-count-query-and-INVALID_TYPE.json")
    sub = exchange["request"]["body"]["compositeRequest"][0]
    soql = sub["url"].split("?q=", 1)[1]
    expected = exchange["body"]["compositeResponse"][0]["body"]
    assert body(execute(soql, {"Account": accounts(expected["totalSize"])}, url_prefix=DATA)) == expected


def test_unknown_object_error_matches_the_recorded_text() -> None:
    exchange = recorded("composite-count-query-and-INVALID_TYPE.json")
    soql = exchange["request"]["body"]["compositeRequest"][1]["url"].split("?q=", 1)[1]
    [error] = exchange["body"]["compositeResponse"][1]["body"]
    with pytest.raises(SoqlError) as caught:
        execute(soql, {}, url_prefix=DATA)
    assert caught.value.error_code == error["errorCode"]
    assert caught.value.message == error["message"]


def test_count_of_a_field_is_an_expr0_aggregate_row() -> None:
    exchange = recorded("query-aggregate-count-expr0.json")
    expected = exchange["body"]
    result = execute(exchange["request"]["query"]["q"], {"Account": accounts(10)}, url_prefix=DATA)
    assert body(result) == expected
    assert list(result.records[0]) == list(expected["records"][0])


def test_group_by_sum_gives_expr0_rows_in_the_recorded_shape() -> None:
    exchange = recorded("query-aggregate-groupby-expr0.json")
    expected = exchange["body"]
    opportunities: list[dict[str, Any]] = []
    for i, row in enumerate(expected["records"]):
        half = row["expr0"] / 2
        for j in range(2):
            opportunities.append({"Id": make_id("006", i * 2 + j), "CampaignId": row["CampaignId"], "Amount": half})
    result = execute(exchange["request"]["query"]["q"], {"Opportunity": opportunities}, url_prefix=DATA)
    assert body(result) == expected
    assert [list(r) for r in result.records] == [list(r) for r in expected["records"]]


def test_group_by_with_alias_keeps_grouped_names_and_the_alias() -> None:
    expected = recorded("query-aggregate-groupby-alias.json")["body"]
    opportunities: list[dict[str, Any]] = []
    for i, row in enumerate(expected["records"]):
        for j in range(row["MyCount"]):
            opportunities.append({
                "Id": make_id("006", i * 100 + j),
                "AccountId": row["WhatId"],
                "CloseDate": row["ActivityDate"],
                "StageName": row["Status"],
            })
    soql = (
        "SELECT AccountId, CloseDate, StageName, COUNT(Id) MyCount FROM Opportunity "
        "GROUP BY AccountId, CloseDate, StageName"
    )
    result = execute(soql, {"Opportunity": opportunities}, url_prefix=DATA)
    assert result.total_size == expected["totalSize"]
    renamed = [
        {"attributes": r["attributes"], "WhatId": r["AccountId"], "ActivityDate": r["CloseDate"],
         "Status": r["StageName"], "MyCount": r["MyCount"]}
        for r in result.records
    ]
    assert renamed == expected["records"]
    for ours, theirs in zip(result.records, expected["records"], strict=True):
        assert [type(v) for v in ours.values()] == [type(v) for v in theirs.values()]


def test_plain_query_matches_the_recorded_user_query() -> None:
    exchange = recorded("query-User-simple.json")
    expected = exchange["body"]
    first = expected["records"][0]
    users = [
        {"Id": first["attributes"]["url"].rsplit("/", 1)[1], "FirstName": first["FirstName"],
         "LastName": first["LastName"]},
        {"Id": make_id("005", 999), "FirstName": "Other", "LastName": "User"},
    ]
    result = execute(exchange["request"]["query"]["q"], {"User": users}, url_prefix=DATA)
    assert body(result) == expected


def test_query_all_includes_deleted_rows() -> None:
    exchange = recorded("queryAll-Account.json")
    expected = exchange["body"]
    rows = [
        {"Id": r["attributes"]["url"].rsplit("/", 1)[1], "Name": r["Name"], "IsDeleted": i % 3 == 0}
        for i, r in enumerate(expected["records"])
    ]
    prefix = "/services/data/v58.0/sobjects"
    soql = exchange["request"]["query"]["q"]
    assert body(execute(soql, {"Account": rows}, url_prefix=prefix, include_deleted=True)) == expected
    assert execute(soql, {"Account": rows}, url_prefix=prefix).total_size == 8


def test_tooling_installed_package_with_nested_parent() -> None:
    exchange = recorded("tooling-query-InstalledSubscriberPackage.json")
    expected = exchange["body"]
    tables = {
        "InstalledSubscriberPackage": [{
            "Id": "0A3000000000013CAA",
            "SubscriberPackageId": "033000000000014AAA",
            "SubscriberPackageVersionId": "04t000000000015AAA",
        }],
        "SubscriberPackage": [{"Id": "033000000000014AAA", "Name": "Pub", "NamespacePrefix": "pub"}],
    }
    result = execute(exchange["request"]["query"]["q"], tables, api="tooling", url_prefix=TOOLING)
    assert tooling_body(result, "InstalledSubscriberPackage") == expected


def test_tooling_subscriber_package_version_by_id() -> None:
    exchange = recorded("tooling-query-SubscriberPackageVersion.json")
    expected = exchange["body"]
    version = {k: v for k, v in expected["records"][0].items() if k != "attributes"}
    other = {**version, "Id": make_id("04t", 77), "MajorVersion": 9}
    tables = {"SubscriberPackageVersion": [other, version]}
    result = execute(exchange["request"]["query"]["q"], tables, api="tooling", url_prefix=TOOLING)
    assert tooling_body(result, "SubscriberPackageVersion") == expected


def test_tooling_apex_class_like_and_null_namespace() -> None:
    exchange = recorded("tooling-query-ApexClass.json")
    expected = exchange["body"]
    classes = [{"Id": r["Id"], "Name": r["Name"], "NamespacePrefix": None} for r in expected["records"]]
    classes.insert(1, {"Id": make_id("01p", 500), "Name": "SampleClass", "NamespacePrefix": None})
    classes.append({"Id": make_id("01p", 501), "Name": "Vendor_TEST", "NamespacePrefix": "acme"})
    result = execute(exchange["request"]["query"]["q"], {"ApexClass": classes}, api="tooling", url_prefix=TOOLING)
    assert tooling_body(result, "ApexClass") == expected


def test_polymorphic_parent_is_typed_name_with_the_concrete_url() -> None:
    exchange = recorded("tooling-query-ApexCodeCoverageAggregate-polymorphic.json")
    expected = exchange["body"]
    tables: dict[str, list[dict[str, Any]]] = {"ApexCodeCoverageAggregate": [], "ApexClass": [], "ApexTrigger": []}
    for row in reversed(expected["records"]):
        parent = row["ApexClassOrTrigger"]
        kind = parent["attributes"]["url"].split("/")[-2]
        tables[kind].append({"Id": row["ApexClassOrTriggerId"], "Name": parent["Name"]})
        tables["ApexCodeCoverageAggregate"].append({
            "Id": row["attributes"]["url"].rsplit("/", 1)[1],
            "ApexClassOrTriggerId": row["ApexClassOrTriggerId"],
            "NumLinesCovered": row["NumLinesCovered"],
            "NumLinesUncovered": row["NumLinesUncovered"],
        })
    result = execute(exchange["request"]["query"]["q"], tables, api="tooling", url_prefix=TOOLING)
    assert tooling_body(result, "ApexCodeCoverageAggregate") == expected


def test_tooling_child_subquery_has_the_recorded_keys() -> None:
    expected = recorded("tooling-query-ApexTestResult-with-child-subquery.json")["body"]
    recorded_child = next(r["ApexTestResults"] for r in expected["records"] if r["ApexTestResults"])
    tables = {
        "PermissionSet": [{"Id": make_id("0PS", 1), "Name": "Ops"}, {"Id": make_id("0PS", 2), "Name": "Empty"}],
        "ObjectPermissions": [{"Id": make_id("110", 1), "ParentId": make_id("0PS", 1), "SobjectType": "Case"}],
    }
    soql = "SELECT Name, (SELECT SobjectType FROM ObjectPerms) FROM PermissionSet ORDER BY Name"
    result = execute(soql, tables, api="data")
    child = result.records[1]["ObjectPerms"]
    assert list(child) == ["totalSize", "done", "records"]
    assert result.records[0]["ObjectPerms"] is None
    assert list(query_result([{}], "X", tooling=True)) == list(recorded_child)
