"""The emulator's SOQL engine: selection, relationships, filters, ordering, aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

import lockstep.emulator.soql as soql_package
from lockstep.emulator.schema.registry import make_id
from lockstep.emulator.soql import SoqlError, execute, parse

NOW = datetime(2024, 5, 22, 12, 0, tzinfo=UTC)  # a Wednesday
DATA = "/services/data/v62.0/sobjects"
TOOLING = "/services/data/v62.0/tooling/sobjects"


def uid(prefix: str, n: int) -> str:
    return make_id(prefix, n)


PROFILE = {"Id": uid("00e", 1), "Name": "System Administrator"}
USERS: list[dict[str, Any]] = [
    {"Id": uid("005", 1), "Username": "ada@example.com", "Name": "Ada Admin", "ProfileId": uid("00e", 1),
     "IsActive": True},
    {"Id": uid("005", 2), "Username": "int@example.com", "Name": "Integration", "ProfileId": None, "IsActive": True},
]
ACCOUNTS: list[dict[str, Any]] = [
    {"Id": uid("001", 1), "Name": "Globex", "Industry": "Manufacturing", "AnnualRevenue": 1200000,
     "NumberOfEmployees": 500, "OwnerId": uid("005", 1), "CreatedDate": NOW - timedelta(days=2), "Tier__c": "Gold"},
    {"Id": uid("001", 2), "Name": "acme", "Industry": "Technology", "AnnualRevenue": 350.5,
     "NumberOfEmployees": 20, "OwnerId": uid("005", 2), "CreatedDate": NOW - timedelta(days=40), "Tier__c": None},
    {"Id": uid("001", 3), "Name": "Initech", "Industry": "Technology", "AnnualRevenue": None,
     "NumberOfEmployees": None, "OwnerId": None, "CreatedDate": datetime(2023, 1, 1, tzinfo=UTC), "Tier__c": "Silver"},
    {"Id": uid("001", 4), "Name": "Deleted Co", "Industry": "Technology", "IsDeleted": True},
]
CONTACTS: list[dict[str, Any]] = [
    {"Id": uid("003", 1), "LastName": "Smith", "Email": "smith@globex.example", "AccountId": uid("001", 1),
     "Birthdate": date(1980, 5, 22)},
    {"Id": uid("003", 2), "LastName": "Jones", "Email": None, "AccountId": uid("001", 1), "Birthdate": None},
    {"Id": uid("003", 3), "LastName": "O'Hara", "Email": "oh@acme.example", "AccountId": uid("001", 2),
     "Birthdate": date(1990, 1, 1)},
    {"Id": uid("003", 4), "LastName": "Orphan", "Email": None, "AccountId": None},
]
CASES: list[dict[str, Any]] = [
    {"Id": uid("500", 1), "Subject": "Printer jam", "Status": "New", "Priority": "High", "AccountId": uid("001", 1),
     "ContactId": uid("003", 1), "CreatedDate": NOW - timedelta(hours=1), "Description": "line1\nline2"},
    {"Id": uid("500", 2), "Subject": "50% off?", "Status": "Closed", "Priority": "Low", "AccountId": uid("001", 2),
     "ContactId": None, "CreatedDate": NOW - timedelta(days=1), "Description": "back\\slash"},
    {"Id": uid("500", 3), "Subject": "It's broken", "Status": "New", "Priority": None, "AccountId": None,
     "ContactId": None, "CreatedDate": NOW + timedelta(days=3), "Description": None},
]
TABLES: dict[str, list[dict[str, Any]]] = {
    "Profile": [PROFILE], "User": USERS, "Account": ACCOUNTS, "Contact": CONTACTS, "Case": CASES,
}


def run(soql: str, **kwargs: Any) -> list[dict[str, Any]]:
    kwargs.setdefault("now", NOW)
    return execute(soql, kwargs.pop("tables", TABLES), **kwargs).records


def names(soql: str, key: str = "Name", **kwargs: Any) -> list[Any]:
    return [r[key] for r in run(soql, **kwargs)]


def test_public_api_is_small() -> None:
    assert sorted(soql_package.__all__) == ["QueryResult", "SoqlError", "execute", "parse"]


def test_record_shape_attributes_then_fields_in_select_order() -> None:
    [record] = run("SELECT Name, Id, AnnualRevenue, Industry FROM Account WHERE Name = 'Initech'")
    assert list(record) == ["attributes", "Name", "Id", "AnnualRevenue", "Industry"]
    assert record["attributes"] == {"type": "Account", "url": f"{DATA}/Account/{uid('001', 3)}"}
    assert record["AnnualRevenue"] is None


def test_names_are_case_insensitive_and_come_back_canonical() -> None:
    [record] = run("select id, NAME, industry from ACCOUNT where name = 'globex'")
    assert list(record) == ["attributes", "Id", "Name", "Industry"]
    assert record["attributes"]["type"] == "Account"


def test_value_formats() -> None:
    [record] = run("SELECT CreatedDate, AnnualRevenue, NumberOfEmployees FROM Account WHERE Name = 'Globex'")
    assert record["CreatedDate"] == "2024-05-20T12:00:00.000+0000"
    assert record["AnnualRevenue"] == 1200000.0 and isinstance(record["AnnualRevenue"], float)
    assert record["NumberOfEmployees"] == 500 and isinstance(record["NumberOfEmployees"], int)
    [contact] = run("SELECT Birthdate FROM Contact WHERE LastName = 'Smith'")
    assert contact["Birthdate"] == "1980-05-22"


def test_parent_fields_nest_and_merge() -> None:
    [record] = run("SELECT Owner.Name, Name, Owner.Username, Owner.Profile.Name FROM Account WHERE Name = 'Globex'")
    assert list(record) == ["attributes", "Owner", "Name"]
    owner = record["Owner"]
    assert owner["attributes"] == {"type": "User", "url": f"{DATA}/User/{uid('005', 1)}"}
    assert list(owner) == ["attributes", "Name", "Username", "Profile"]
    assert owner["Profile"]["Name"] == "System Administrator"


def test_null_lookup_is_null_not_an_object_of_nulls() -> None:
    rows = run("SELECT Name, Owner.Name, Owner.Profile.Name FROM Account ORDER BY Name")
    by_name = {r["Name"]: r for r in rows}
    assert by_name["Initech"]["Owner"] is None
    assert by_name["acme"]["Owner"]["Profile"] is None
    assert by_name["acme"]["Owner"]["Name"] == "Integration"


def test_relationship_fields_in_where_and_order_by() -> None:
    assert names("SELECT Name FROM Account WHERE Owner.Profile.Name = 'System Administrator'") == ["Globex"]
    assert names("SELECT Name FROM Account ORDER BY Owner.Name DESC") == ["acme", "Globex", "Initech"]
    assert names("SELECT Subject FROM Case WHERE Account.Owner.Username LIKE 'int%'", "Subject") == ["50% off?"]


def test_child_subquery() -> None:
    rows = run("SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name")
    by_name = {r["Name"]: r for r in rows}
    globex = by_name["Globex"]["Contacts"]
    assert list(globex) == ["totalSize", "done", "records"]
    assert globex["totalSize"] == 2 and globex["done"] is True
    assert [c["LastName"] for c in globex["records"]] == ["Jones", "Smith"]
    assert globex["records"][0]["attributes"]["type"] == "Contact"
    assert by_name["Initech"]["Contacts"] is None


def test_child_subquery_filters_and_limits() -> None:
    [row] = run("SELECT Name, (SELECT LastName FROM Contacts WHERE Email != null LIMIT 1) "
                "FROM Account WHERE Name = 'Globex'")
    assert [c["LastName"] for c in row["Contacts"]["records"]] == ["Smith"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Industry = 'Technology'", ["acme", "Initech"]),
        ("Industry != 'Technology'", ["Globex"]),
        ("Industry <> 'technology'", ["Globex"]),
        ("AnnualRevenue > 350.5", ["Globex"]),
        ("AnnualRevenue >= 350.5", ["Globex", "acme"]),
        ("AnnualRevenue < 1200000", ["acme"]),
        ("AnnualRevenue <= 1200000", ["Globex", "acme"]),
        ("NumberOfEmployees > -1", ["Globex", "acme"]),
        ("Name IN ('globex', 'Initech', 'nobody')", ["Globex", "Initech"]),
        ("Name NOT IN ('globex')", ["acme", "Initech"]),
        ("Name LIKE 'G%'", ["Globex"]),
        ("Name LIKE '%E%'", ["Globex", "acme", "Initech"]),
        ("Name LIKE 'acm_'", ["acme"]),
        ("Name LIKE 'acm'", []),
        ("NOT Name LIKE 'G%'", ["acme", "Initech"]),
        ("Industry = 'Technology' AND AnnualRevenue = null", ["Initech"]),
        ("Industry = 'Manufacturing' OR AnnualRevenue = null", ["Globex", "Initech"]),
        ("(Industry = 'Manufacturing' OR Name = 'acme') AND NOT (AnnualRevenue < 1000)", ["Globex"]),
        ("Owner.Name != null", ["Globex", "acme"]),
        ("OwnerId = null", ["Initech"]),
        ("Tier__c = 'gold'", ["Globex"]),
        ("Id = '" + uid("001", 2)[:15] + "'", ["acme"]),
        ("Id IN ('" + uid("001", 1) + "', '" + uid("001", 3) + "')", ["Globex", "Initech"]),
    ],
)
def test_where_operators(where: str, expected: list[str]) -> None:
    assert sorted(names(f"SELECT Name FROM Account WHERE {where}"), key=str.lower) == sorted(expected, key=str.lower)


def test_not_equal_and_not_in_include_nulls() -> None:
    assert names("SELECT Name FROM Account WHERE Tier__c != 'Gold' ORDER BY Name") == ["acme", "Initech"]
    assert names("SELECT Name FROM Account WHERE Tier__c NOT IN ('Gold') ORDER BY Name") == ["acme", "Initech"]


def test_booleans() -> None:
    assert len(run("SELECT Id FROM User WHERE IsActive = true")) == 2
    assert run("SELECT Id FROM User WHERE IsActive = FALSE") == []


def test_string_escapes() -> None:
    assert names("SELECT LastName FROM Contact WHERE LastName = 'O\\'Hara'", "LastName") == ["O'Hara"]
    assert names("SELECT Subject FROM Case WHERE Description = 'line1\\nline2'", "Subject") == ["Printer jam"]
    assert names("SELECT Subject FROM Case WHERE Description = 'back\\\\slash'", "Subject") == ["50% off?"]
    assert names("SELECT Subject FROM Case WHERE Subject LIKE '50\\%%'", "Subject") == ["50% off?"]
    assert names("SELECT Subject FROM Case WHERE Subject LIKE '50\\% o%'", "Subject") == ["50% off?"]
    assert names("SELECT Subject FROM Case WHERE Subject LIKE '5\\_%'", "Subject") == []


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("CreatedDate = TODAY", ["Printer jam"]),
        ("CreatedDate = YESTERDAY", ["50% off?"]),
        ("CreatedDate < TODAY", ["50% off?"]),
        ("CreatedDate > TODAY", ["It's broken"]),
        ("CreatedDate = LAST_N_DAYS:2", ["Printer jam", "50% off?"]),
        ("CreatedDate = NEXT_N_DAYS:3", ["It's broken"]),
        ("CreatedDate = THIS_WEEK", ["Printer jam", "50% off?", "It's broken"]),
        ("CreatedDate = THIS_MONTH", ["Printer jam", "50% off?", "It's broken"]),
        ("CreatedDate = LAST_MONTH", []),
        ("CreatedDate > 2024-05-22T11:00:00Z", ["It's broken"]),
        ("CreatedDate > 2024-05-22T10:59:59Z", ["Printer jam", "It's broken"]),
        ("CreatedDate >= 2024-05-22T11:00:00.000+0000", ["Printer jam", "It's broken"]),
        ("CreatedDate < 2024-05-22T11:30:00+01:00", ["50% off?"]),
        ("CreatedDate < 2024-05-22T12:30:00+01:00", ["50% off?", "Printer jam"]),
        ("CreatedDate > 2024-05-22", ["Printer jam", "It's broken"]),
    ],
)
def test_date_literals_and_datetime_values(where: str, expected: list[str]) -> None:
    assert sorted(names(f"SELECT Subject FROM Case WHERE {where}", "Subject")) == sorted(expected)


def test_date_fields() -> None:
    assert names("SELECT LastName FROM Contact WHERE Birthdate = 1980-05-22", "LastName") == ["Smith"]
    assert names("SELECT LastName FROM Contact WHERE Birthdate < 1985-01-01", "LastName") == ["Smith"]
    assert names("SELECT LastName FROM Contact WHERE Birthdate = LAST_N_YEARS:40 ORDER BY LastName",
                 "LastName") == ["O'Hara"]


def test_order_by_multiple_keys_and_null_placement() -> None:
    assert names("SELECT Subject FROM Case ORDER BY Status, Subject DESC", "Subject") == ["50% off?", "Printer jam",
                                                                                          "It's broken"]
    assert names("SELECT Subject FROM Case ORDER BY Priority", "Subject") == ["It's broken", "Printer jam", "50% off?"]
    assert names("SELECT Subject FROM Case ORDER BY Priority DESC", "Subject") == ["50% off?", "Printer jam",
                                                                                   "It's broken"]
    assert names("SELECT Subject FROM Case ORDER BY Priority ASC NULLS LAST", "Subject") == ["Printer jam", "50% off?",
                                                                                             "It's broken"]
    assert names("SELECT Subject FROM Case ORDER BY Priority DESC NULLS FIRST",
                 "Subject") == ["It's broken", "50% off?", "Printer jam"]


def test_string_order_is_case_insensitive() -> None:
    assert names("SELECT Name FROM Account ORDER BY Name") == ["acme", "Globex", "Initech"]


def test_limit_and_offset() -> None:
    assert names("SELECT Name FROM Account ORDER BY Name LIMIT 2") == ["acme", "Globex"]
    assert names("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1") == ["Globex", "Initech"]
    result = execute("SELECT Name FROM Account LIMIT 1", TABLES)
    assert result.total_size == 1


def test_count_star_shape() -> None:
    result = execute("SELECT COUNT() FROM Account", TABLES)
    assert (result.total_size, result.records) == (3, [])
    assert execute("select count() from Case where Status = 'New'", TABLES).total_size == 2
    assert execute("SELECT COUNT() FROM Account LIMIT 2", TABLES).total_size == 2


def test_aggregates_without_group_by() -> None:
    [row] = run(
        "SELECT COUNT(Id), COUNT(AnnualRevenue), COUNT_DISTINCT(Industry), MIN(Name), MAX(CreatedDate), "
        "SUM(NumberOfEmployees), AVG(AnnualRevenue) avgRevenue FROM Account"
    )
    assert row == {
        "attributes": {"type": "AggregateResult"},
        "expr0": 3, "expr1": 2, "expr2": 2, "expr3": "acme",
        "expr4": "2024-05-20T12:00:00.000+0000", "expr5": 520, "avgRevenue": (1200000 + 350.5) / 2,
    }


def test_aggregates_over_no_rows() -> None:
    [row] = run("SELECT COUNT(Id), SUM(AnnualRevenue) FROM Account WHERE Name = 'nobody'")
    assert row == {"attributes": {"type": "AggregateResult"}, "expr0": 0, "expr1": None}
    assert run("SELECT Industry, COUNT(Id) FROM Account WHERE Name = 'nobody' GROUP BY Industry") == []


def test_group_by_with_alias_having_and_order() -> None:
    rows = run("SELECT Industry, COUNT(Id) n, SUM(AnnualRevenue) FROM Account "
               "GROUP BY Industry ORDER BY COUNT(Id) DESC")
    assert rows == [
        {"attributes": {"type": "AggregateResult"}, "Industry": "Technology", "n": 2, "expr0": 350.5},
        {"attributes": {"type": "AggregateResult"}, "Industry": "Manufacturing", "n": 1, "expr0": 1200000.0},
    ]
    having = run("SELECT Industry FROM Account GROUP BY Industry HAVING COUNT(Id) > 1")
    assert having == [{"attributes": {"type": "AggregateResult"}, "Industry": "Technology"}]


def test_group_by_relationship_field_is_flat() -> None:
    rows = run("SELECT Account.Name, COUNT(Id) FROM Case WHERE AccountId != null GROUP BY Account.Name "
               "ORDER BY Account.Name")
    assert rows == [
        {"attributes": {"type": "AggregateResult"}, "Name": "acme", "expr0": 1},
        {"attributes": {"type": "AggregateResult"}, "Name": "Globex", "expr0": 1},
    ]


def test_query_all_includes_deleted_rows() -> None:
    assert execute("SELECT COUNT() FROM Account", TABLES).total_size == 3
    assert execute("SELECT COUNT() FROM Account", TABLES, include_deleted=True).total_size == 4
    assert "Deleted Co" in names("SELECT Name FROM Account WHERE IsDeleted = true", include_deleted=True)


def test_semi_join_and_anti_join() -> None:
    assert names("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact) ORDER BY Name") == ["acme",
                                                                                                           "Globex"]
    assert names("SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Case WHERE Status = 'New')"
                 " ORDER BY Name") == ["acme", "Initech"]


def test_optional_clauses_are_accepted() -> None:
    assert len(run("SELECT Id FROM Account WITH SECURITY_ENFORCED ORDER BY Name LIMIT 10 FOR VIEW")) == 3
    assert len(run("SELECT Id FROM Account USING SCOPE Everything FOR UPDATE")) == 3
    assert names("SELECT toLabel(Industry) FROM Account WHERE Name = 'acme'", "Industry") == ["Technology"]


def test_multiline_query() -> None:
    assert names("\nSELECT Name\n  FROM Account\n WHERE Name = 'acme'\n") == ["acme"]


def test_custom_fields_and_objects() -> None:
    assert names("SELECT Name, tier__c FROM Account WHERE Tier__c != null ORDER BY Name", "Tier__c") == ["Gold",
                                                                                                         "Silver"]
    tables = {"Widget__c": [{"Id": "a00000000000001AAA", "Name": "W", "Size__c": 3.5}]}
    [row] = run("SELECT Name, Size__c FROM Widget__c WHERE Size__c > 3", tables=tables)
    assert row["Size__c"] == 3.5 and row["attributes"]["type"] == "Widget__c"


def test_open_permission_columns_on_permission_sets() -> None:
    tables = {"PermissionSet": [{"Id": uid("0PS", 1), "Name": "Ops", "PermissionsModifyAllData": True,
                                 "PermissionsManageCustomThing": True}]}
    [row] = run("SELECT Name, PermissionsModifyAllData, PermissionsManageCustomThing FROM PermissionSet", tables=tables)
    assert row["PermissionsModifyAllData"] is True and row["PermissionsManageCustomThing"] is True


def test_permission_set_assignment_paths() -> None:
    tables = {
        **TABLES,
        "PermissionSet": [{"Id": uid("0PS", 1), "Name": "Sales_Ops", "IsOwnedByProfile": False}],
        "PermissionSetAssignment": [
            {"Id": uid("0Pa", 1), "AssigneeId": uid("005", 1), "PermissionSetId": uid("0PS", 1)},
        ],
    }
    [row] = run("SELECT Assignee.Username, Assignee.Profile.Name, PermissionSet.Name FROM PermissionSetAssignment "
                "WHERE PermissionSet.IsOwnedByProfile = false", tables=tables)
    assert row["Assignee"]["Username"] == "ada@example.com"
    assert row["Assignee"]["Profile"]["Name"] == "System Administrator"
    assert row["PermissionSet"]["Name"] == "Sales_Ops"
    [ps] = run("SELECT Name, (SELECT Assignee.Username FROM Assignments) FROM PermissionSet", tables=tables)
    assert ps["Assignments"]["records"][0]["Assignee"]["Username"] == "ada@example.com"


def test_tooling_and_data_visibility() -> None:
    tables = {"RemoteProxy": [{"Id": make_id("0rp", 1), "SiteName": "ERP", "IsActive": True}],
              "ApexClass": [{"Id": make_id("01p", 1), "Name": "CaseService"}]}
    [site] = run("SELECT SiteName FROM RemoteProxy", tables=tables, api="tooling", url_prefix=TOOLING)
    assert site["attributes"]["url"] == f"{TOOLING}/RemoteProxy/{make_id('0rp', 1)}"
    with pytest.raises(SoqlError) as caught:
        run("SELECT SiteName FROM RemoteProxy", tables=tables)
    assert caught.value.error_code == "INVALID_TYPE"
    assert len(run("SELECT Name FROM ApexClass", tables=tables)) == 1
    assert len(run("SELECT Name FROM ApexClass", tables=tables, api="tooling")) == 1
    with pytest.raises(SoqlError):
        run("SELECT Name FROM PermissionSet", tables=tables, api="tooling")


def test_flow_definition_versions_and_null_active_version() -> None:
    tables = {
        "FlowDefinition": [
            {"Id": make_id("300", 1), "DeveloperName": "Case_Triage", "ActiveVersionId": make_id("301", 3),
             "LatestVersionId": make_id("301", 3)},
            {"Id": make_id("300", 2), "DeveloperName": "Draft_Flow", "ActiveVersionId": None,
             "LatestVersionId": make_id("301", 4)},
        ],
        "Flow": [{"Id": make_id("301", 3), "VersionNumber": 3, "DefinitionId": make_id("300", 1)},
                 {"Id": make_id("301", 4), "VersionNumber": 1, "DefinitionId": make_id("300", 2)}],
    }
    rows = run("SELECT Id, ActiveVersion.VersionNumber, LatestVersion.VersionNumber, DeveloperName FROM FlowDefinition "
               "WHERE DeveloperName IN ('Case_Triage', 'Draft_Flow') ORDER BY DeveloperName",
               tables=tables, api="tooling", url_prefix=TOOLING)
    assert rows[0]["ActiveVersion"]["VersionNumber"] == 3
    assert rows[1]["ActiveVersion"] is None and rows[1]["LatestVersion"]["VersionNumber"] == 1
    [flow] = run("SELECT Definition.DeveloperName FROM Flow WHERE VersionNumber = 3", tables=tables, api="tooling")
    assert flow["Definition"]["DeveloperName"] == "Case_Triage"


def test_entity_definition_lookup_by_api_name() -> None:
    tables = {
        "ValidationRule": [{"Id": make_id("03d", 1), "ValidationName": "Require_Reason", "Active": True,
                            "EntityDefinitionId": "Case"}],
        "EntityDefinition": [{"Id": make_id("000", 1), "DurableId": "Case", "QualifiedApiName": "Case"}],
    }
    [row] = run("SELECT ValidationName, EntityDefinition.QualifiedApiName FROM ValidationRule WHERE Active = true",
                tables=tables, api="tooling")
    assert row["EntityDefinition"]["QualifiedApiName"] == "Case"


def test_cron_trigger_job_detail() -> None:
    tables = {"CronTrigger": [{"Id": make_id("08e", 1), "CronJobDetailId": make_id("08a", 1), "State": "WAITING"}],
              "CronJobDetail": [{"Id": make_id("08a", 1), "Name": "Nightly Sync", "JobType": "7"}]}
    [row] = run("SELECT CronJobDetail.Name, CronJobDetail.JobType, "
                "State FROM CronTrigger WHERE CronJobDetail.JobType = '7'", tables=tables)
    assert row["CronJobDetail"]["Name"] == "Nightly Sync" and row["State"] == "WAITING"


def test_records_may_hold_datetime_strings() -> None:
    tables = {"Case": [{"Id": uid("500", 9), "Subject": "s", "CreatedDate": "2024-05-01T10:00:00.000+0000"}]}
    [row] = run("SELECT CreatedDate FROM Case WHERE CreatedDate < 2024-05-02T00:00:00Z", tables=tables)
    assert row["CreatedDate"] == "2024-05-01T10:00:00.000+0000"


def test_parse_is_cached() -> None:
    text = "SELECT Id FROM Account WHERE Name = 'cache-probe'"
    assert parse(text) is parse(text)


def test_fields_function_expands_columns() -> None:
    [row] = run("SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'acme' LIMIT 200")
    assert list(row)[:3] == ["attributes", "Id", "CreatedById"] and "Tier__c" not in row
    [custom] = run("SELECT FIELDS(CUSTOM) FROM Account WHERE Name = 'Globex' LIMIT 200")
    assert custom == {"attributes": custom["attributes"], "Tier__c": "Gold"}
    [every] = run("SELECT FIELDS(ALL) FROM Account WHERE Name = 'Globex' LIMIT 200")
    assert every["Name"] == "Globex" and every["Tier__c"] == "Gold"


def test_result_names_the_queried_object() -> None:
    assert execute("select count() from account", TABLES).sobject == "Account"
    assert execute("SELECT COUNT(Id) FROM case", TABLES).sobject == "Case"


def test_date_functions_group_filter_and_name_columns_expr_n() -> None:
    rows = run("SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) n FROM Account "
               "GROUP BY CALENDAR_YEAR(CreatedDate) ORDER BY CALENDAR_YEAR(CreatedDate)")
    assert rows == [
        {"attributes": {"type": "AggregateResult"}, "expr0": 2023, "n": 1},
        {"attributes": {"type": "AggregateResult"}, "expr0": 2024, "n": 2},
    ]
    assert names("SELECT Subject FROM Case WHERE DAY_IN_MONTH(CreatedDate) = 21", "Subject") == ["50% off?"]
    [day] = run("SELECT DAY_ONLY(CreatedDate), COUNT(Id) FROM Case WHERE Status = 'Closed' GROUP BY "
                "DAY_ONLY(CreatedDate)")
    assert day["expr0"] == "2024-05-21" and day["expr1"] == 1
    with pytest.raises(SoqlError, match="Field must be grouped or aggregated"):
        run("SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Case GROUP BY Status")


def test_concurrent_queries_share_the_parser_safely() -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = [f"SELECT Name FROM Account WHERE NumberOfEmployees > {i % 30} ORDER BY Name" for i in range(200)]
    expected = [names(q) for q in queries]
    with ThreadPoolExecutor(max_workers=16) as pool:
        assert list(pool.map(names, queries)) == expected


def test_case_owner_is_polymorphic_user_or_queue() -> None:
    tables = {**TABLES, "Group": [{"Id": make_id("00G", 1), "Name": "Tier 1", "Type": "Queue"}],
              "Case": [{"Id": uid("500", 7), "Subject": "q", "OwnerId": make_id("00G", 1)},
                       {"Id": uid("500", 8), "Subject": "u", "OwnerId": uid("005", 1)}]}
    queue, user = run("SELECT Owner.Name, Owner.Username FROM Case ORDER BY Subject", tables=tables)
    assert queue["Owner"] == {"attributes": {"type": "Name", "url": f"{DATA}/Group/{make_id('00G', 1)}"},
                              "Name": "Tier 1", "Username": None}
    assert user["Owner"]["attributes"] == {"type": "Name", "url": f"{DATA}/User/{uid('005', 1)}"}
