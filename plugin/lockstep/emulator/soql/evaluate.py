"""Running a bound query over in-memory tables: filter, group, sort, slice, shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lockstep.emulator.schema.registry import SObject, find_object

from . import nodes as n
from .aggregate import run_aggregate
from .bind import Bound, Context, Getter
from .conditions import compile_condition
from .errors import SoqlError, invalid_field
from .functions import row_operand
from .rows import QueryResult, is_aggregate, path_of, slice_rows, sort_rows
from .shape import ChildPlan, Item, shape_record
from .values import id_key, normalize

__all__ = ["Runner", "run"]

# Tooling columns Salesforce serves only one row at a time (Tooling API guide, e.g. WorkflowRule).
_ONE_ROW_ONLY = frozenset({"FullName", "Metadata"})
_ONE_ROW_MESSAGE = ("When retrieving results with Metadata or FullName fields, the query qualifications must "
                    "specify no more than one row for retrieval. Result size: {size}")

Row = Mapping[str, Any]


class Runner:
    def __init__(self, ctx: Context, url_prefix: str) -> None:
        self.ctx = ctx
        self.url_prefix = url_prefix

    def record_operand(self, obj: SObject) -> Callable[[n.Expr], Getter]:
        return lambda expr: row_operand(self.ctx, obj, expr)

    def semi_join(self, query: n.Query, outer: Getter) -> set[Any]:
        obj = self.ctx.sobject(query.sobject, query.sobject_pos)
        items = list(query.select)
        if len(items) != 1 or not isinstance(items[0], n.SelectItem) or not isinstance(items[0].expr, n.Path):
            raise self.ctx.error(query.sobject_pos, "The inner select field must be a single field")
        bound = self.ctx.bind(obj, items[0].expr)
        read = self.ctx.reader(bound)
        rows = self.filtered(obj, query, nested=False)
        return {v for v in (normalize(read(r), outer.ftype) for r in rows) if v is not None}

    def filtered(self, obj: SObject, query: n.Query, *, nested: bool = True) -> list[Row]:
        rows = self.ctx.live(obj.name)
        if query.where is None:
            return rows
        pred = compile_condition(self.ctx, query.where, self.record_operand(obj), self.semi_join if nested else None)
        return [r for r in rows if pred(r)]

    def order_getters(self, obj: SObject, query: n.Query) -> list[tuple[Getter, n.OrderItem]]:
        operand = self.record_operand(obj)
        return [(operand(item.expr), item) for item in query.order_by]

    def bind_items(self, obj: SObject, query: n.Query, *, allow_children: bool) -> list[Item]:
        items: list[Item] = []
        seen: set[str] = set()
        for item in query.select:
            if isinstance(item, n.SubQuery):
                if not allow_children:
                    raise self.ctx.error(item.pos, "Nesting of child relationship queries is not supported")
                items.append(self.child_plan(obj, item))
                continue
            if isinstance(item.expr, n.Call) and item.expr.name.upper() == "FIELDS":
                items.extend(self.expand_fields(obj, item.expr))
                continue
            bound = self.ctx.bind(obj, path_of(self.ctx, item.expr))
            key = ".".join(s.relationship for s in bound.steps) + "." + bound.field.name
            if key.lower() in seen:
                raise self.ctx.error(bound.path.pos, f"duplicate field selected: {bound.path.text}")
            seen.add(key.lower())
            items.append(bound)
        return items

    def expand_fields(self, obj: SObject, call: n.Call) -> list[Bound]:
        """``FIELDS(ALL | STANDARD | CUSTOM)``: the object's columns in schema order."""
        arg = call.arg
        kind = arg.parts[0].upper() if isinstance(arg, n.Path) and len(arg.parts) == 1 else ""
        if kind not in ("ALL", "STANDARD", "CUSTOM"):
            raise self.ctx.error(call.pos, "FIELDS() takes ALL, STANDARD or CUSTOM")
        assert isinstance(arg, n.Path)
        visible = obj.field_names(self.ctx.api)
        names = [f for f in visible if not f.lower().endswith("__c")] if kind != "CUSTOM" else []
        if kind != "STANDARD":
            customs = {k.lower(): k for r in self.ctx.records(obj.name) for k in r if k.lower().endswith("__c")}
            names += [f for f in visible if f.lower().endswith("__c")]
            names += [k for low, k in sorted(customs.items()) if obj.find_field(low) is None]
        return [self.ctx.bind(obj, n.Path((name,), arg.positions)) for name in names]

    def child_plan(self, parent: SObject, sub: n.SubQuery) -> ChildPlan:
        query = sub.query
        found = parent.find_child(query.sobject)
        if found is None:
            pos = query.sobject_pos
            raise invalid_field(self.ctx.soql, pos.line, pos.column, query.sobject, parent.name, kind="child")
        relationship, (child_name, lookup) = found
        child = find_object(self.ctx.schema, child_name)
        assert child is not None
        items = self.bind_items(child, query, allow_children=False)
        if any(isinstance(i, n.SelectItem) and is_aggregate(i.expr) for i in query.select):
            raise self.ctx.error(query.sobject_pos, "Aggregate functions are not allowed in a child relationship query")
        rows = self.filtered(child, query)
        rows = sort_rows(rows, self.order_getters(child, query))
        grouped: dict[str, list[Row]] = {}
        for row in rows:
            value = row.get(lookup)
            if value is not None:
                grouped.setdefault(id_key(value), []).append(row)
        start = query.offset or 0
        stop = start + query.limit if query.limit is not None else None
        return ChildPlan(relationship, child.name, items, grouped, start, stop)

    def child_rows(self, plan: ChildPlan, record: Row) -> list[Row]:
        return plan.children.get(id_key(record.get("Id")), [])[plan.start:plan.stop]

    def run(self, query: n.Query) -> QueryResult:
        obj = self.ctx.sobject(query.sobject, query.sobject_pos)
        count_all = [i for i in query.select if isinstance(i, n.SelectItem) and isinstance(i.expr, n.Call)
                     and i.expr.name.upper() == "COUNT" and i.expr.arg is None]
        if count_all:
            if len(query.select) > 1 or query.group_by:
                raise self.ctx.error(count_all[0].expr.pos, "COUNT() must be the only element in the SELECT list")
            total = len(slice_rows(self.filtered(obj, query), query))
            return QueryResult([], total, obj.name)
        aggregates = any(isinstance(i, n.SelectItem) and is_aggregate(i.expr) for i in query.select)
        if query.group_by or query.having or aggregates:
            return run_aggregate(self, obj, query)
        items = self.bind_items(obj, query, allow_children=True)
        order = self.order_getters(obj, query)
        rows = slice_rows(sort_rows(self.filtered(obj, query), order), query)
        if len(rows) > 1 and any(isinstance(i, Bound) and not i.steps and i.field.name in _ONE_ROW_ONLY for i in items):
            raise SoqlError("MALFORMED_QUERY", _ONE_ROW_MESSAGE.format(size=len(rows)))
        records = [shape_record(self.ctx, obj.name, r, items, self.url_prefix, self.child_rows) for r in rows]
        return QueryResult(records, len(records), obj.name)



def run(ctx: Context, query: n.Query, url_prefix: str) -> QueryResult:
    return Runner(ctx, url_prefix).run(query)
