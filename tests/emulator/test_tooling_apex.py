"""Tooling Apex objects: test queue and results, ApexClass Tooling columns, one-row Metadata/FullName."""

from __future__ import annotations

from typing import Any

import pytest

from lockstep.emulator.schema.registry import SCHEMA
from lockstep.emulator.soql import SoqlError, execute
from lockstep.emulator.state.apex import complete_apex_class
from lockstep.emulator.state.values import complete_row

SOURCE = """@IsTest
global class Mock implements System.HttpCalloutMock {
    global Mock(Integer code) {
    }
    global System.HttpResponse respond(System.HttpRequest req) {
        return null;
    }
    public void helper() {}
}
"""


def _classes() -> list[dict[str, Any]]:
    rows = [
        {"Id": "01p000000000001AAA", "Name": "Mine", "Status": "Active", "ApiVersion": 61.0,
         "Body": "public class Mine {\n}"},
        {"Id": "01p000000000002AAA", "Name": "Mock", "NamespacePrefix": "pub", "Status": "Active",
         "ApiVersion": 59.0, "Body": SOURCE},
    ]
    for row in rows:
        complete_row(SCHEMA["ApexClass"], row)
        complete_apex_class(row)
    return rows


def test_managed_class_shows_a_global_stub_and_its_symbol_table() -> None:
    mine, managed = _classes()
    assert managed["FullName"] == "pub__Mock" and managed["ManageableState"] == "installed"
    assert managed["LengthWithoutComments"] == -1 and managed["BodyCrc"] == -1
    assert managed["Body"].startswith("/*\nThis file is generated") and "helper" not in managed["Body"]
    assert "global System.HttpResponse respond(System.HttpRequest req) {\n        return null;" in managed["Body"]
    table = managed["SymbolTable"]
    assert table["id"] == "pub.Mock" and table["interfaces"] == ["System.HttpCalloutMock"]
    assert [c["parameters"] for c in table["constructors"]] == [[{"name": "code", "type": "Integer"}]]
    assert [m["name"] for m in table["methods"]] == ["respond", "helper"]
    assert table["tableDeclaration"]["modifiers"] == ["testMethod", "global"]
    assert mine["Body"] == "public class Mine {\n}" and mine["FullName"] == "Mine"
    assert managed["Metadata"] == {"apiVersion": 59.0, "packageVersions": [], "status": "Active", "urls": None}


def test_tooling_columns_exist_only_in_tooling() -> None:
    tables = {"ApexClass": _classes()}
    with pytest.raises(SoqlError) as caught:
        execute("SELECT SymbolTable FROM ApexClass", tables, api="data")
    assert caught.value.error_code == "INVALID_FIELD"
    [row] = execute("SELECT SymbolTable, FullName FROM ApexClass WHERE Name = 'Mock'", tables, api="tooling").records
    assert row["SymbolTable"]["name"] == "Mock" and row["FullName"] == "pub__Mock"
    with pytest.raises(SoqlError):
        execute("SELECT IsDeleted FROM ApexClass", tables, api="tooling")


@pytest.mark.parametrize("field", ["FullName", "Metadata"])
def test_metadata_and_full_name_need_a_single_row(field: str) -> None:
    tables = {"ApexClass": _classes()}
    with pytest.raises(SoqlError) as caught:
        execute(f"SELECT Id, {field} FROM ApexClass", tables, api="tooling")
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert caught.value.message == (
        "When retrieving results with Metadata or FullName fields, the query qualifications must specify "
        "no more than one row for retrieval. Result size: 2")
    assert len(execute(f"SELECT Id, {field} FROM ApexClass LIMIT 1", tables, api="tooling").records) == 1
    assert len(execute("SELECT Id, Name FROM ApexClass", tables, api="tooling").records) == 2


def test_test_results_with_limits_subquery() -> None:
    tables: dict[str, list[dict[str, Any]]] = {
        "ApexTestResult": [
            {"Id": "07M000000000008EAA", "AsyncApexJobId": "707000000000004AAA", "MethodName": "a", "Outcome": "Pass"},
            {"Id": "07M000000000009EAA", "AsyncApexJobId": "707000000000004AAA", "MethodName": "b", "Outcome": "Fail"},
        ],
        "ApexTestResultLimits": [{"Id": "05n000000000010AAA", "ApexTestResultId": "07M000000000009EAA", "Soql": 1}],
    }
    result = execute(
        "SELECT Id, MethodName, (SELECT Id, Soql FROM ApexTestResults) FROM ApexTestResult "
        "WHERE AsyncApexJobId = '707000000000004'", tables, api="tooling")
    assert result.sobject == "ApexTestResult"
    first, second = result.records
    assert first["ApexTestResults"] is None
    assert second["ApexTestResults"]["entityTypeName"] == "ApexTestResultLimits"
    assert second["ApexTestResults"]["records"][0]["Soql"] == 1
    with pytest.raises(SoqlError):
        execute("SELECT Id FROM ApexTestResultLimits", tables, api="data")


def test_key_prefixes() -> None:
    assert {name: SCHEMA[name].key_prefix for name in ("ApexTestQueueItem", "ApexTestResult",
                                                       "ApexCodeCoverageAggregate",
                                                       "ApexTestResultLimits")} == {
        "ApexTestQueueItem": "709", "ApexTestResult": "07M", "ApexCodeCoverageAggregate": "715",
        "ApexTestResultLimits": "05n"}


def test_organization_has_a_compound_address_and_no_is_deleted() -> None:
    org = SCHEMA["Organization"]
    assert org.find_field("IsDeleted") is None and org.fields["Address"].type == "address"
    row: dict[str, Any] = {"Id": "00D000000000001AAA", "Country": "US"}
    complete_row(org, row)
    assert row["Address"] == {"city": None, "country": "US", "geocodeAccuracy": None, "latitude": None,
                              "longitude": None, "postalCode": None, "state": None, "street": None}
    empty: dict[str, Any] = {"Id": "00D000000000001AAA"}
    complete_row(org, empty)
    assert empty["Address"] is None
