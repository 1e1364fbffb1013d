"""``query?q=...&columns=true``: the column metadata of a query, as Salesforce describes it.

A field is one column; a parent relationship (``Owner.Name``) is a column named for the
relationship whose ``joinColumns`` hold the fields read through it (nested for longer
paths); a child subquery is an ``aggregate`` column whose ``joinColumns`` are the
subquery's columns; an aggregate function is an ``aggregate`` column named by its alias or
``exprN`` and displayed as written (``COUNT(Id)``). The Salesforce CLI builds its result
table from this answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lockstep.emulator.schema.model import Field
from lockstep.emulator.schema.registry import SCHEMA, WRITABLE, SObject, find_object

from . import nodes as n
from .bind import Bound, Context
from .errors import invalid_field
from .evaluate import Runner
from .functions import is_date_function
from .parser import parse
from .rows import is_aggregate, path_of

__all__ = ["column_metadata"]

_APEX_TYPES = {
    "id": "Id", "reference": "Id", "boolean": "Boolean", "int": "Integer", "double": "Double",
    "currency": "Decimal", "percent": "Double", "date": "Date", "datetime": "Datetime", "address": "Address",
    "string": "String", "textarea": "String", "picklist": "String", "url": "String", "email": "String",
    "phone": "String",
}
_TEXT = frozenset({"string", "textarea", "picklist", "url", "email", "phone"})
_NUMBER = frozenset({"int", "double", "currency", "percent"})
_READ_ONLY = frozenset({"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                        "SystemModstamp"})


def _column(name: str, display: str, *, ftype: str | None = None, aggregate: bool = False,
            writable: bool = False, joins: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "aggregate": aggregate,
        "apexType": _APEX_TYPES.get(ftype or "") if ftype else None,
        "booleanType": ftype == "boolean",
        "columnName": name,
        "custom": name.lower().endswith("__c"),
        "displayName": display,
        "foreignKeyName": None,
        "insertable": writable,
        "joinColumns": joins if joins is not None else [],
        "numberType": ftype in _NUMBER,
        "textType": ftype in _TEXT,
        "updatable": writable,
    }


def _writable(obj_name: str, field: Field) -> bool:
    return obj_name in WRITABLE and field.name not in _READ_ONLY


def _add_path(columns: list[dict[str, Any]], obj: SObject, bound: Bound) -> None:
    """Add a field read directly or through parent relationships (merged per relationship)."""
    level, prefix, owner = columns, "", obj.name
    for step in bound.steps:
        prefix += step.relationship + "."
        found = next((c for c in level if c["columnName"] == step.relationship and c["joinColumns"] is not None
                      and not c["aggregate"] and c["apexType"] is None), None)
        if found is None:
            found = _column(step.relationship, prefix.rstrip("."))
            level.append(found)
        level, owner = found["joinColumns"], step.targets[0] if len(step.targets) == 1 else ""
    level.append(_column(bound.field.name, prefix + bound.field.name, ftype=bound.field.type,
                         writable=_writable(owner, bound.field)))


def _columns(runner: Runner, obj: SObject, query: n.Query) -> list[dict[str, Any]]:
    ctx = runner.ctx
    columns: list[dict[str, Any]] = []
    unnamed = 0
    for item in query.select:
        if isinstance(item, n.SubQuery):
            found = obj.find_child(item.query.sobject)
            if found is None:
                pos = item.query.sobject_pos
                raise invalid_field(ctx.soql, pos.line, pos.column, item.query.sobject, obj.name, kind="child")
            relationship, (child_name, _lookup) = found
            child = find_object(ctx.schema, child_name)
            assert child is not None
            columns.append(_column(relationship, relationship, aggregate=True,
                                   joins=_columns(runner, child, item.query)))
            continue
        expr = item.expr
        if isinstance(expr, n.Call) and expr.name.upper() == "FIELDS":
            for bound in runner.expand_fields(obj, expr):
                _add_path(columns, obj, bound)
            continue
        if is_aggregate(expr) or is_date_function(expr):
            name = item.alias
            if name is None:
                name, unnamed = f"expr{unnamed}", unnamed + 1
            assert isinstance(expr, n.Call)
            ftype = {"COUNT": "int", "COUNT_DISTINCT": "int", "AVG": "double"}.get(expr.name.upper())
            if ftype is None and isinstance(expr.arg, n.Path):
                ftype = ctx.bind(obj, expr.arg).field.type
            columns.append(_column(name, expr.text, ftype=ftype or "int", aggregate=True))
            continue
        _add_path(columns, obj, ctx.bind(obj, path_of(ctx, expr)))
    return columns


def column_metadata(
    soql: str,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    api: str = "data",
    schema: Mapping[str, SObject] | None = None,
) -> dict[str, Any]:
    """The ``columns=true`` answer for a query that is known to be valid."""
    query = parse(soql)
    ctx = Context(soql, tables, schema if schema is not None else SCHEMA, api, False, datetime.now(UTC))
    obj = ctx.sobject(query.sobject, query.sobject_pos)
    count_only = [i for i in query.select if isinstance(i, n.SelectItem) and isinstance(i.expr, n.Call)
                  and i.expr.name.upper() == "COUNT" and i.expr.arg is None]
    columns = [] if count_only else _columns(Runner(ctx, ""), obj, query)
    return {
        "columnMetadata": columns,
        "entityName": obj.name,
        "groupBy": bool(query.group_by),
        "idSelected": any(c["columnName"] == "Id" and not c["aggregate"] for c in columns),
        "keyPrefix": obj.key_prefix,
    }
