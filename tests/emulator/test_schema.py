"""The emulator's object schema: ids, key prefixes, API visibility, relationships."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import lockstep.emulator.schema.registry as schema_module
from lockstep.emulator.schema.registry import (
    SCHEMA,
    extend_with_custom_fields,
    find_object,
    infer_field_type,
    key_prefix,
    make_id,
    to_18,
)

FIELD_TYPES = {
    "id", "reference", "string", "textarea", "boolean", "int", "double", "currency", "percent",
    "date", "datetime", "picklist", "url", "email", "phone", "address", "complexvalue",
}
REQUIRED = {
    "Organization", "User", "Profile", "PermissionSet", "ObjectPermissions", "FieldPermissions",
    "PermissionSetAssignment", "InstalledSubscriberPackage", "SubscriberPackage",
    "SubscriberPackageVersion", "PackageInstallRequest", "FlowDefinitionView", "FlowVersionView",
    "FlowDefinition", "Flow", "ApexTrigger", "ApexClass", "ValidationRule", "EntityDefinition",
    "NamedCredential", "RemoteProxy", "CronTrigger", "CronJobDetail", "AsyncApexJob",
    "EventBusSubscriber", "DeployRequest", "Account", "Contact", "Lead", "Case", "Opportunity",
    "ApexTestQueueItem", "ApexTestResult", "ApexTestResultLimits", "ApexCodeCoverageAggregate",
}


def test_public_api_is_small() -> None:
    assert set(schema_module.__all__) == {
        "SCHEMA", "Field", "SObject", "extend_with_custom_fields", "find_object",
        "infer_field_type", "key_prefix", "make_id", "to_18",
    }


@pytest.mark.parametrize(
    "recorded_id",
    ["0A3000000000013CAA", "04t000000000015AAA", "07M000000000008EAA", "001000000000037AAA", "01q000000000023AAA"],
)
def test_checksum_matches_recorded_ids(recorded_id: str) -> None:
    assert to_18(recorded_id[:15]) == recorded_id


def test_checksum_of_mixed_case_ids() -> None:
    assert to_18("001D000000IRFma") == "001D000000IRFmaIAH"
    assert to_18("001D000000IomaZ")[-3:] != to_18("001D000000Iomaz")[-3:]


def test_make_id_is_deterministic_and_valid() -> None:
    assert make_id("0A3", 13) == "0A3000000000013CAA"
    seeded = make_id("001", "prod-emea/Account/0")
    assert seeded == make_id("001", "prod-emea/Account/0") != make_id("001", "prod-emea/Account/1")
    assert len(seeded) == 18 and seeded.startswith("001") and to_18(seeded[:15]) == seeded
    with pytest.raises(ValueError, match="key prefix must be 3 characters"):
        make_id("01", 1)


def test_every_required_object_exists_with_an_id() -> None:
    assert set(SCHEMA) >= REQUIRED
    for obj in SCHEMA.values():
        assert obj.fields["Id"].type == "id"
        assert {f.type for f in obj.fields.values()} <= FIELD_TYPES
        assert len(obj.key_prefix) == 3
        assert all(name == f.name for name, f in obj.fields.items())


@pytest.mark.parametrize(
    ("name", "prefix"),
    [("Account", "001"), ("Contact", "003"), ("Lead", "00Q"), ("Case", "500"), ("Opportunity", "006"),
     ("User", "005"), ("Profile", "00e"), ("PermissionSet", "0PS"), ("ObjectPermissions", "110"),
     ("FieldPermissions", "01k"), ("PermissionSetAssignment", "0Pa"), ("CronTrigger", "08e"),
     ("CronJobDetail", "08a"), ("NamedCredential", "0XA"), ("RemoteProxy", "0rp"),
     ("ValidationRule", "03d"), ("DeployRequest", "0Af"), ("Organization", "00D"),
     ("InstalledSubscriberPackage", "0A3"), ("SubscriberPackage", "033"), ("SubscriberPackageVersion", "04t"),
     ("PackageInstallRequest", "0Hf"), ("ApexClass", "01p"), ("ApexTrigger", "01q"), ("AsyncApexJob", "707"),
     ("FlowDefinition", "300"), ("Flow", "301"), ("FlowDefinitionView", "300")],
)
def test_key_prefixes(name: str, prefix: str) -> None:
    assert key_prefix(name) == prefix
    assert key_prefix(name.lower()) == prefix


def test_custom_object_prefix_is_stable() -> None:
    assert key_prefix("Widget__c") == key_prefix("Widget__c")
    assert key_prefix("Widget__c").startswith("a0")


@pytest.mark.parametrize(
    ("name", "apis"),
    [("InstalledSubscriberPackage", {"tooling"}), ("RemoteProxy", {"tooling"}), ("ValidationRule", {"tooling"}),
     ("FlowDefinition", {"tooling"}), ("Flow", {"tooling"}), ("DeployRequest", {"tooling"}),
     ("PackageInstallRequest", {"tooling"}), ("SubscriberPackage", {"tooling"}),
     ("SubscriberPackageVersion", {"tooling"}), ("ApexTrigger", {"data", "tooling"}),
     ("ApexClass", {"data", "tooling"}), ("NamedCredential", {"data", "tooling"}),
     ("EntityDefinition", {"data", "tooling"}), ("PermissionSet", {"data"}), ("CronTrigger", {"data"}),
     ("FlowDefinitionView", {"data"}), ("Account", {"data"})],
)
def test_api_visibility(name: str, apis: set[str]) -> None:
    assert SCHEMA[name].apis == apis


def test_relationships_point_at_known_objects_and_lookup_fields() -> None:
    for obj in SCHEMA.values():
        for relationship, (lookup, target) in obj.parents.items():
            assert obj.fields[lookup].type == "reference", (obj.name, relationship)
            for name in target if isinstance(target, tuple) else (target,):
                assert name in SCHEMA, (obj.name, relationship, name)
        for relationship, (child, lookup) in obj.children.items():
            assert SCHEMA[child].fields[lookup].type == "reference", (obj.name, relationship)


@pytest.mark.parametrize(
    ("obj", "relationship", "target"),
    [("InstalledSubscriberPackage", "SubscriberPackage", "SubscriberPackage"),
     ("InstalledSubscriberPackage", "SubscriberPackageVersion", "SubscriberPackageVersion"),
     ("CronTrigger", "CronJobDetail", "CronJobDetail"), ("PermissionSetAssignment", "Assignee", "User"),
     ("PermissionSetAssignment", "PermissionSet", "PermissionSet"), ("ObjectPermissions", "Parent", "PermissionSet"),
     ("FieldPermissions", "Parent", "PermissionSet"), ("User", "Profile", "Profile"),
     ("PermissionSet", "Profile", "Profile"), ("AsyncApexJob", "ApexClass", "ApexClass"),
     ("FlowDefinition", "ActiveVersion", "Flow"), ("FlowDefinition", "LatestVersion", "Flow"),
     ("Flow", "Definition", "FlowDefinition"), ("ValidationRule", "EntityDefinition", "EntityDefinition"),
     ("Case", "Account", "Account"), ("Case", "Contact", "Contact"), ("Contact", "Account", "Account"),
     ("Opportunity", "Account", "Account"), ("Case", "Owner", ("User", "Group")), ("Account", "Owner", "User"),
     ("Account", "CreatedBy", "User"),
     ("Account", "LastModifiedBy", "User")],
)
def test_parent_relationships(obj: str, relationship: str, target: str | tuple[str, ...]) -> None:
    found = SCHEMA[obj].find_parent(relationship.lower())
    assert found is not None and found[0] == relationship and found[1][1] == target


@pytest.mark.parametrize(
    ("obj", "relationship", "child"),
    [("PermissionSet", "ObjectPerms", "ObjectPermissions"), ("PermissionSet", "FieldPerms", "FieldPermissions"),
     ("PermissionSet", "Assignments", "PermissionSetAssignment"), ("Account", "Contacts", "Contact"),
     ("Account", "Cases", "Case"), ("Account", "Opportunities", "Opportunity")],
)
def test_child_relationships(obj: str, relationship: str, child: str) -> None:
    found = SCHEMA[obj].find_child(relationship.upper())
    assert found is not None and found[1][0] == child


def test_permission_set_system_permissions() -> None:
    fields = SCHEMA["PermissionSet"].fields
    for key in ("ModifyAllData", "ViewAllData", "ApiEnabled", "AuthorApex", "CustomizeApplication", "ManageUsers",
                "ViewSetup"):
        assert fields[f"Permissions{key}"].type == "boolean"


def test_find_object_is_case_insensitive() -> None:
    assert find_object(SCHEMA, "permissionsetassignment") is SCHEMA["PermissionSetAssignment"]
    assert find_object(SCHEMA, "Nope") is None
    assert SCHEMA["Account"].find_field("annualrevenue") is SCHEMA["Account"].fields["AnnualRevenue"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [([None, True], "boolean"), ([3], "int"), ([2.5], "double"), (["x"], "string"), ([None], "string"),
     ([datetime(2024, 1, 1, tzinfo=UTC)], "datetime"), ([date(2024, 1, 1)], "date")],
)
def test_infer_field_type(values: list[object], expected: str) -> None:
    assert infer_field_type(values) == expected


def test_extend_with_custom_fields() -> None:
    extended = extend_with_custom_fields(SCHEMA, {
        "Account": [{"Name": "A", "Tier__c": None}, {"Name": "B", "Tier__c": "Gold", "Score__c": 4.5}],
        "Widget__c": [{"Name": "W", "Size__c": 3}],
        "Unknown": [{"Foo__c": 1}],
    })
    assert extended["Account"].fields["Tier__c"].type == "string"
    assert extended["Account"].fields["Score__c"].type == "double"
    assert extended["Widget__c"].fields["Size__c"].type == "int"
    assert extended["Widget__c"].apis == {"data"}
    assert "Unknown" not in extended
    assert "Tier__c" not in SCHEMA["Account"].fields
