"""The building blocks of the schema: fields, objects and the helper that declares an object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BOTH", "DATA", "TOOLING", "Field", "FieldType", "SObject", "Target", "sobject"]

FieldType = Literal[
    "id", "reference", "string", "textarea", "boolean", "int", "double", "currency",
    "percent", "date", "datetime", "picklist", "url", "email", "phone",
    "address", "complexvalue",
]
Target = str | tuple[str, ...]

DATA = frozenset({"data"})
TOOLING = frozenset({"tooling"})
BOTH = frozenset({"data", "tooling"})


@dataclass(frozen=True)
class Field:
    """One column. ``apis`` narrows where it exists (``None``: wherever its object exists).

    ``address`` fields are compound: their value is an object built from the component
    columns (``Street``, ``City``… with the same prefix). ``complexvalue`` fields hold
    JSON objects (Tooling ``Metadata``, ``SymbolTable``).
    """

    name: str
    type: FieldType
    apis: frozenset[str] | None = None

    def visible_in(self, api: str | None) -> bool:
        return api is None or self.apis is None or api in self.apis


@dataclass(frozen=True)
class SObject:
    name: str
    key_prefix: str
    apis: frozenset[str]
    fields: dict[str, Field]
    parents: dict[str, tuple[str, Target]] = field(default_factory=dict)
    children: dict[str, tuple[str, str]] = field(default_factory=dict)
    lookup_keys: tuple[str, ...] = ("Id",)
    open_prefixes: tuple[str, ...] = ()
    _lower: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._lower["fields"] = {k.lower(): k for k in self.fields}
        self._lower["parents"] = {k.lower(): k for k in self.parents}
        self._lower["children"] = {k.lower(): k for k in self.children}

    def find_field(self, name: str, api: str | None = None) -> Field | None:
        """The field called ``name`` (any case); with ``api``, only if it exists in that API."""
        key = self._lower["fields"].get(name.lower())
        found = self.fields[key] if key is not None else None
        return found if found is not None and found.visible_in(api) else None

    def field_names(self, api: str | None = None) -> list[str]:
        """Field names in schema order (the order a retrieve returns them in)."""
        return [name for name, spec in self.fields.items() if spec.visible_in(api)]

    def find_parent(self, name: str) -> tuple[str, tuple[str, Target]] | None:
        key = self._lower["parents"].get(name.lower())
        return (key, self.parents[key]) if key is not None else None

    def find_child(self, name: str) -> tuple[str, tuple[str, str]] | None:
        key = self._lower["children"].get(name.lower())
        return (key, self.children[key]) if key is not None else None


def _fields(spec: Mapping[str, str], apis: frozenset[str] | None = None) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for ftype, names in spec.items():
        for name in names.split():
            out[name] = Field(name, ftype, apis)  # type: ignore[arg-type]
    return out


_AUDIT = {"datetime": "CreatedDate LastModifiedDate SystemModstamp"}


def sobject(
    name: str,
    prefix: str,
    apis: frozenset[str],
    *,
    audit: bool = True,
    deletable: bool = True,
    owner: bool | tuple[str, ...] = False,
    parents: Mapping[str, tuple[str, Target]] | None = None,
    children: Mapping[str, tuple[str, str]] | None = None,
    lookup_keys: tuple[str, ...] = ("Id",),
    open_prefixes: tuple[str, ...] = (),
    tooling_only: Mapping[str, str] | None = None,
    order: str = "",
    **spec: str,
) -> SObject:
    """Declare an object: ``spec`` maps a field type to space-separated field names.

    ``audit`` adds the Created/LastModified columns and ``IsDeleted`` (unless ``deletable``
    is false: Organization and Apex code have no ``IsDeleted``). ``tooling_only`` fields
    exist only through the Tooling API. ``order`` lists field names in the order Salesforce
    returns them; fields it does not name follow in declaration order.
    """
    fields = {"Id": Field("Id", "id")}
    rels: dict[str, tuple[str, Target]] = {}
    if audit:
        rels["CreatedBy"] = ("CreatedById", "User")
        rels["LastModifiedBy"] = ("LastModifiedById", "User")
    if owner:
        rels["Owner"] = ("OwnerId", owner if isinstance(owner, tuple) else "User")
    rels.update(parents or {})
    for lookup, _target in rels.values():
        fields[lookup] = Field(lookup, "reference")
    fields.update(_fields(spec))
    fields.update(_fields(tooling_only or {}, frozenset({"tooling"})))
    if audit:
        audit_spec = dict(_AUDIT, boolean="IsDeleted") if deletable else _AUDIT
        for fname, spec_field in _fields(audit_spec).items():
            fields.setdefault(fname, spec_field)
    if order:
        named = order.split()
        unknown = [n for n in named if n not in fields]
        if unknown:
            raise ValueError(f"{name}: order names unknown fields {unknown}")
        fields = {**{n: fields[n] for n in named}, **{k: v for k, v in fields.items() if k not in named}}
    return SObject(name, prefix, apis, fields, rels, dict(children or {}), lookup_keys, open_prefixes)
