"""sObject create, retrieve, update and delete on an org's tables, with the write log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lockstep.emulator.http.responses import NOT_FOUND_MESSAGE, ApiResponse, error
from lockstep.emulator.schema.registry import SCHEMA, WRITABLE, SObject, find_object, key_prefix, make_id
from lockstep.emulator.state.store import Org
from lockstep.emulator.state.values import BadValue, coerce_value, complete_row, derive_compounds, to_json

__all__ = ["create", "custom_field", "delete", "find_record", "retrieve", "update", "upsert", "visible_object"]

_REQUIRED = {
    "Account": ("Name",), "Contact": ("LastName",), "Lead": ("LastName", "Company"),
    "Opportunity": ("Name", "StageName", "CloseDate"),
}
_SYSTEM_FIELDS = frozenset({
    "Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
    "SystemModstamp", "Name", "CaseNumber", "IsClosed", "IsWon", "IsConverted", "ExpectedRevenue",
    "LastActivityDate",
})
_NAMED = frozenset({"Contact", "Lead", "User"})


def visible_object(name: str, api: str) -> SObject | None:
    obj = find_object(SCHEMA, name)
    return obj if obj is not None and api in obj.apis else None


def find_record(org: Org, sobject: str, record_id: str) -> dict[str, Any] | None:
    key = record_id[:15]
    if len(record_id) not in (15, 18):
        return None
    for row in org.tables.get(sobject, []):
        if str(row.get("Id", ""))[:15] == key:
            return row
    return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def custom_field(org: Org, sobject: str, name: str) -> str | None:
    """The spelling of a custom field the org's state gives ``sobject`` (its records hold it), or None."""
    lowered = name.lower()
    if not lowered.endswith("__c"):
        return "Name" if lowered == "name" and sobject.endswith("__c") else None
    for row in org.tables.get(sobject, []):
        for key in row:
            if key.lower() == lowered:
                return key
    return None


def _values(org: Org, obj: SObject | None, sobject: str, fields: Mapping[str, Any]) -> dict[str, Any] | ApiResponse:
    values: dict[str, Any] = {}
    locked: list[str] = []
    for name, value in fields.items():
        if name == "attributes":
            continue
        spec = obj.find_field(name, "data") if obj else None
        canonical = spec.name if spec else custom_field(org, sobject, name)
        if canonical is None:
            return error("INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
        if canonical in _SYSTEM_FIELDS and (canonical != "Name" or sobject in _NAMED):
            locked.append(canonical)
            continue
        try:
            values[canonical] = coerce_value(spec.type if spec else None, value, _now())
        except BadValue:
            return error(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {spec.type if spec else 'string'} from value {value!r} "
                "or request may be missing a required field",
            )
    if locked:
        names = ", ".join(locked)
        return error(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {names}. Please check the security settings of this field "
            "and verify that it is read/write for your profile or permission set.",
            fields=locked,
        )
    return values


def _derive(sobject: str, row: dict[str, Any]) -> None:
    if sobject in _NAMED:
        first, last = row.get("FirstName"), row.get("LastName")
        row["Name"] = f"{first} {last}" if first else last
    if sobject == "Case":
        row["IsClosed"] = row.get("Status") == "Closed"
    if sobject == "Opportunity":
        stage = str(row.get("StageName") or "")
        row["IsClosed"] = stage.startswith("Closed")
        row["IsWon"] = stage == "Closed Won"


def create(org: Org, sobject: str, fields: Any, user_id: str, version: str) -> ApiResponse:
    obj = visible_object(sobject, "data")
    custom = obj is None and sobject.endswith("__c") and sobject in org.tables
    if obj is None and not custom:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    name = obj.name if obj else sobject
    if name not in WRITABLE and not custom:
        return error("INVALID_TYPE_FOR_OPERATION", f"entity type {name} does not support insert")
    if not isinstance(fields, dict):
        return error("JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from a non-object value")
    values = _values(org, obj, name, fields)
    if isinstance(values, ApiResponse):
        return values
    missing = [f for f in _REQUIRED.get(name, ()) if values.get(f) in (None, "")]
    if missing:
        return error("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", fields=missing)
    now = _now()
    serial = org.id_serials.get(name, 0) + 1
    org.id_serials[name] = serial
    record_id = make_id(obj.key_prefix if obj else key_prefix(name), f"{org.name}/{name}/created/{serial}")
    row: dict[str, Any] = {
        "Id": record_id, "IsDeleted": False, "CreatedDate": now, "CreatedById": user_id,
        "LastModifiedDate": now, "LastModifiedById": user_id, "SystemModstamp": now, **values,
    }
    if obj is not None and "OwnerId" in obj.fields:
        row.setdefault("OwnerId", user_id)
    if name == "Case":
        row["CaseNumber"] = f"{len(org.tables.get('Case', [])) + 1001:08d}"
    for rule in org.definition.automation:
        if rule["object"] == name and rule["flow"] in org.definition.active_flows:
            for field_name, value in rule["set"].items():
                spec = obj.find_field(field_name) if obj else None
                row[spec.name if spec else field_name] = coerce_value(spec.type if spec else None, value, now)
    _derive(name, row)
    complete_row(obj, row)
    org.tables.setdefault(name, []).append(row)
    org.writes.append({"op": "create", "sobject": name, "id": record_id, "fields": _jsonable(fields)})
    location = f"/services/data/v{version}/sobjects/{name}/{record_id}"
    return ApiResponse(201, {"id": record_id, "success": True, "errors": []}, {"Location": location})


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k != "attributes"}


def retrieve(org: Org, sobject: str, record_id: str, api: str, version: str, wanted: str | None) -> ApiResponse:
    obj = visible_object(sobject, api)
    if obj is None:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    row = find_record(org, obj.name, record_id)
    if row is None:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    if row.get("IsDeleted"):
        return error("ENTITY_IS_DELETED", "entity is deleted")
    names = obj.field_names(api)
    if wanted:
        names = []
        for raw in wanted.split(","):
            spec = obj.find_field(raw.strip(), api)
            if spec is None:
                return error("INVALID_FIELD", f"No such column '{raw.strip()}' on sobject of type {obj.name}")
            names.append(spec.name)
    tooling = "tooling/" if api == "tooling" else ""
    url = f"/services/data/v{version}/{tooling}sobjects/{obj.name}/{row['Id']}"
    body: dict[str, Any] = {"attributes": {"type": obj.name, "url": url}}
    for name in names:
        body[name] = to_json(row.get(name))
    return ApiResponse(200, body)


def _writable_row(org: Org, sobject: str, record_id: str, operation: str) -> tuple[Any, dict[str, Any]] | ApiResponse:
    """The live record an update or delete applies to, or Salesforce's error for it."""
    obj = visible_object(sobject, "data")
    row = find_record(org, obj.name, record_id) if obj is not None else None
    if obj is None or row is None:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    if row.get("IsDeleted"):
        return error("ENTITY_IS_DELETED", "entity is deleted")
    if obj.name not in WRITABLE:
        return error("INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support {operation}")
    return obj, row


def update(org: Org, sobject: str, record_id: str, fields: Any, user_id: str) -> ApiResponse:
    found = _writable_row(org, sobject, record_id, "update")
    if isinstance(found, ApiResponse):
        return found
    obj, row = found
    if not isinstance(fields, dict):
        return error("JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from a non-object value")
    values = _values(org, obj, obj.name, fields)
    if isinstance(values, ApiResponse):
        return values
    now = _now()
    row.update(values)
    row.update({"LastModifiedDate": now, "LastModifiedById": user_id, "SystemModstamp": now})
    _derive(obj.name, row)
    derive_compounds(obj, row)
    org.writes.append({"op": "update", "sobject": obj.name, "id": row["Id"], "fields": _jsonable(fields)})
    return ApiResponse(204)


def delete(org: Org, sobject: str, record_id: str) -> ApiResponse:
    found = _writable_row(org, sobject, record_id, "delete")
    if isinstance(found, ApiResponse):
        return found
    obj, row = found
    row["IsDeleted"] = True
    row["SystemModstamp"] = _now()
    org.writes.append({"op": "delete", "sobject": obj.name, "id": row["Id"], "fields": {}})
    return ApiResponse(204)


def upsert(org: Org, sobject: str, field_name: str, value: str, fields: Any, user_id: str, version: str) -> ApiResponse:
    """``PATCH sobjects/X/<ExternalIdField>/<value>``: create (201) or update (200, 204 before v46) by external id."""
    obj = visible_object(sobject, "data")
    if obj is None:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    spec = obj.find_field(field_name, "data")
    key = spec.name if spec is not None and spec.name == "Id" else custom_field(org, obj.name, field_name)
    if key is None:
        return error("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field_name}")
    if not isinstance(fields, dict):
        return error("JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from a non-object value")
    matches = [row for row in org.tables.get(obj.name, []) if not row.get("IsDeleted")
               and row.get(key) is not None and str(row.get(key)).lower() == value.lower()]
    if len(matches) > 1:
        return ApiResponse(300, [f"/services/data/v{version}/sobjects/{obj.name}/{row['Id']}" for row in matches])
    if not matches:
        if key == "Id":
            return error("NOT_FOUND", NOT_FOUND_MESSAGE)
        created = create(org, obj.name, {**fields, key: value}, user_id, version)
        if created.status == 201:
            created.body["created"] = True
        return created
    updated = update(org, obj.name, matches[0]["Id"], fields, user_id)
    if updated.status != 204 or float(version) < 46:
        return updated
    return ApiResponse(200, {"id": matches[0]["Id"], "success": True, "errors": [], "created": False})
