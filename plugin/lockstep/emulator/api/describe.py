"""Global and per-object describe results built from the schema."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lockstep.emulator.schema.registry import SCHEMA, WRITABLE, SObject, extend_with_custom_fields

__all__ = ["describe_global", "describe_object", "sobject_basic"]

_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date",
    "datetime": "xsd:dateTime", "address": "urn:address", "complexvalue": "xsd:anyType",
}
_LENGTHS = {"id": 18, "reference": 18, "string": 255, "textarea": 32000, "picklist": 255, "url": 255,
            "email": 80, "phone": 40}


def _label(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


def _urls(obj: SObject, prefix: str) -> dict[str, str]:
    base = f"{prefix}/sobjects/{obj.name}"
    if obj.name in WRITABLE:
        return {
            "compactLayouts": f"{base}/describe/compactLayouts", "rowTemplate": f"{base}/{{ID}}",
            "approvalLayouts": f"{base}/describe/approvalLayouts", "listviews": f"{base}/listviews",
            "describe": f"{base}/describe", "quickActions": f"{base}/quickActions",
            "layouts": f"{base}/describe/layouts", "sobject": base,
        }
    return {"rowTemplate": f"{base}/{{ID}}", "describe": f"{base}/describe", "sobject": base}


def sobject_basic(obj: SObject, prefix: str) -> dict[str, Any]:
    writable = obj.name in WRITABLE
    label = _label(obj.name)
    return {
        "activateable": False, "associateEntityType": None, "associateParentEntity": None,
        "createable": writable, "custom": obj.name.endswith("__c"), "customSetting": False,
        "deepCloneable": False, "deletable": writable, "deprecatedAndHidden": False,
        "feedEnabled": writable, "hasSubtypes": False, "isInterface": False, "isSubtype": False,
        "keyPrefix": obj.key_prefix, "label": label, "labelPlural": label + "s", "layoutable": writable,
        "mergeable": obj.name in ("Account", "Contact", "Lead", "Case"), "mruEnabled": writable,
        "name": obj.name, "queryable": True, "replicateable": writable, "retrieveable": True,
        "searchable": writable, "triggerable": writable, "undeletable": writable, "updateable": writable,
        "urls": _urls(obj, prefix),
    }


def describe_global(api: str, prefix: str) -> dict[str, Any]:
    objects = [sobject_basic(obj, prefix) for name, obj in sorted(SCHEMA.items()) if api in obj.apis]
    return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objects}


def _picklist(values: list[str]) -> list[dict[str, Any]]:
    return [{"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v} for v in values]


def _record_types(obj: SObject, prefix: str, tables: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The object's active record types from the org's ``RecordType`` records, then Master, as Salesforce lists them."""
    def info(record_id: str, name: str, developer_name: str, master: bool) -> dict[str, Any]:
        return {"active": True, "available": True, "defaultRecordTypeMapping": master, "developerName": developer_name,
                "master": master, "name": name, "recordTypeId": record_id,
                "urls": {"layout": f"{prefix}/sobjects/{obj.name}/describe/layouts/{record_id}"}}

    rows = [r for r in tables.get("RecordType", []) if r.get("SobjectType") == obj.name and r.get("IsActive", True)
            and not r.get("IsDeleted")]
    infos = [info(r["Id"], str(r.get("Name") or r.get("DeveloperName")), str(r.get("DeveloperName") or r.get("Name")),
                  False) for r in sorted(rows, key=lambda r: str(r.get("Name")))]
    if not infos and obj.name not in WRITABLE:
        return []
    return [*infos, info("012000000000000AAA", "Master", "Master", True)]


def _field(obj: SObject, name: str, ftype: str) -> dict[str, Any]:
    relationship = next((rel for rel, (lookup, _t) in obj.parents.items() if lookup == name), None)
    targets: list[str] = []
    if relationship:
        target = obj.parents[relationship][1]
        targets = list(target) if isinstance(target, tuple) else [target]
    system = name in ("Id", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                      "SystemModstamp", "IsDeleted")
    editable = obj.name in WRITABLE and not system
    length = _LENGTHS.get(ftype, 0)
    return {
        "autoNumber": False, "byteLength": length * 3 if ftype not in ("id", "reference") else length,
        "calculated": False, "caseSensitive": False, "createable": editable, "custom": name.endswith("__c"),
        "defaultValue": None, "defaultedOnCreate": system or ftype == "boolean", "digits": 0,
        "externalId": False, "filterable": True, "groupable": ftype not in ("textarea", "double", "currency"),
        "idLookup": name == "Id", "label": _label(name.removesuffix("Id") if relationship else name),
        "length": length, "name": name, "nameField": name == "Name", "nillable": not system and ftype != "boolean",
        "picklistValues": [], "precision": 18 if ftype in ("double", "currency", "percent") else 0,
        "referenceTo": targets, "relationshipName": relationship,
        "scale": 2 if ftype in ("double", "currency", "percent") else 0,
        "soapType": _SOAP_TYPES.get(ftype, "xsd:string"), "sortable": ftype != "textarea",
        "type": ftype, "unique": False, "updateable": editable,
    }


def describe_object(obj: SObject, prefix: str, api: str = "data", tables: Mapping[str, Any] | None = None) -> dict[str,
                                                                                                                   Any]:
    """The object's describe; ``tables`` (the org's records) add its custom fields, picklist values, record types."""
    tables = tables or {}
    if api == "data":
        obj = extend_with_custom_fields({obj.name: obj}, {obj.name: tables.get(obj.name, [])})[obj.name]
    result = sobject_basic(obj, prefix)
    rows = [r for r in tables.get(obj.name, []) if not r.get("IsDeleted")]
    fields = []
    for name in obj.field_names(api):
        field = _field(obj, name, obj.fields[name].type)
        if field["type"] in ("picklist", "multipicklist"):
            field["picklistValues"] = _picklist(sorted({str(r[name]) for r in rows if r.get(name) not in (None, "")}))
        fields.append(field)
    result["fields"] = fields
    result["childRelationships"] = [
        {"cascadeDelete": False, "childSObject": child, "deprecatedAndHidden": False, "field": lookup,
         "relationshipName": rel, "restrictedDelete": False}
        for rel, (child, lookup) in obj.children.items()
    ]
    result["recordTypeInfos"] = _record_types(obj, prefix, tables) if api == "data" else []
    result["supportedScopes"] = [{"label": "All " + result["labelPlural"].lower(), "name": "everything"}]
    result["networkScopeFieldName"] = None
    return result
