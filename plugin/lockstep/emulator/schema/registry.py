"""The sObjects the emulator knows: fields, relationships, key prefixes and API visibility."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from lockstep.emulator.schema.model import DATA, Field, FieldType, SObject, sobject
from lockstep.emulator.schema.objects import OBJECTS
from lockstep.emulator.schema.packaging import PACKAGING_OBJECTS

__all__ = [
    "SCHEMA",
    "Field",
    "SObject",
    "extend_with_custom_fields",
    "find_object",
    "infer_field_type",
    "key_prefix",
    "make_id",
    "to_18",
]

# The standard objects the REST API writes (create, update, delete, upsert); custom objects too.
WRITABLE = frozenset({"Account", "Contact", "Lead", "Case", "Opportunity"})
_CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def to_18(id15: str) -> str:
    """Append Salesforce's case-safe checksum to a 15-character id."""
    if len(id15) == 18:
        return id15
    if len(id15) != 15:
        raise ValueError(f"not a 15-character id: {id15!r}")
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _CHECKSUM_CHARS[bits]
    return id15 + suffix


def make_id(prefix: str, n_or_seed: int | str) -> str:
    """A deterministic, valid 18-character id with the given 3-character key prefix.

    An integer gives ``<prefix>000…<n>`` (the layout of the recorded fixtures); any other
    seed is hashed into the 12 characters after the prefix.
    """
    if len(prefix) != 3:
        raise ValueError(f"key prefix must be 3 characters: {prefix!r}")
    if isinstance(n_or_seed, int) and 0 <= n_or_seed < 10**12:
        body = str(n_or_seed).zfill(12)
    else:
        number = int.from_bytes(hashlib.sha256(str(n_or_seed).encode()).digest()[:16], "big")
        chars = []
        for _ in range(12):
            number, rem = divmod(number, 62)
            chars.append(_BASE62[rem])
        body = "".join(chars)
    return to_18(prefix + body)


SCHEMA: dict[str, SObject] = {obj.name: obj for obj in (*OBJECTS, *PACKAGING_OBJECTS)}
_LOWER_NAMES = {name.lower(): name for name in SCHEMA}


def find_object(schema: Mapping[str, SObject], name: str) -> SObject | None:
    """Look an object up by name, case-insensitively."""
    obj = schema.get(name)
    if obj is not None:
        return obj
    if schema is SCHEMA:
        canonical = _LOWER_NAMES.get(name.lower())
        return SCHEMA[canonical] if canonical else None
    lowered = name.lower()
    for key, value in schema.items():
        if key.lower() == lowered:
            return value
    return None


def key_prefix(obj: str) -> str:
    """The 3-character key prefix of an object (custom objects get a stable ``a0?``)."""
    found = find_object(SCHEMA, obj)
    if found is not None:
        return found.key_prefix
    digest = hashlib.sha256(obj.lower().encode()).digest()
    return "a0" + _BASE62[10 + digest[0] % 52]


def infer_field_type(values: Iterable[Any]) -> FieldType:
    """The field type suggested by the first non-null Python value."""
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "int"
        if isinstance(value, float):
            return "double"
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, date):
            return "date"
        return "string"
    return "string"


def extend_with_custom_fields(
    schema: Mapping[str, SObject], tables: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, SObject]:
    """A copy of ``schema`` where ``__c`` fields (and ``__c`` objects) present in records exist."""
    out = dict(schema)
    for table, records in tables.items():
        obj = find_object(out, table)
        if obj is None:
            if not table.lower().endswith("__c"):
                continue
            obj = sobject(table, key_prefix(table), DATA, owner=True, string="Name")
        extra: dict[str, Field] = {}
        for record in records:
            for key in record:
                if key.lower().endswith("__c") and obj.find_field(key) is None and key not in extra:
                    extra[key] = Field(key, infer_field_type(r.get(key) for r in records))
        if extra or obj.name not in out:
            out[obj.name] = SObject(
                obj.name, obj.key_prefix, obj.apis, {**obj.fields, **extra},
                obj.parents, obj.children, obj.lookup_keys, obj.open_prefixes,
            )
    return out
