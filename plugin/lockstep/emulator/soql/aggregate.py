"""Aggregate queries: GROUP BY, HAVING and COUNT/COUNT_DISTINCT/MIN/MAX/SUM/AVG."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..schema import SObject
from . import nodes as n
from .functions import is_date_function, row_operand
from .bind import Context, Getter
from .conditions import compile_condition
from .rows import QueryResult, is_aggregate, path_of, slice_rows, sort_rows
from .values import format_value, normalize, sort_key

__all__ = ["run_aggregate"]

Row = Mapping[str, Any]


class _Runner(Protocol):
    ctx: Context

    def filtered(self, obj: SObject, query: n.Query, *, nested: bool = True) -> list[Row]: ...


def _compute(name: str, read: Callable[[Row], Any] | None, ftype: str, members: list[Row]) -> Any:
    if read is None:
        return len(members)
    values = [v for v in (read(r) for r in members) if v is not None]
    if name == "COUNT":
        return len(values)
    if name == "COUNT_DISTINCT":
        return len({normalize(v, ftype) for v in values})
    if not values:
        return None
    if name == "MIN":
        return min(values, key=lambda v: sort_key(v, ftype))
    if name == "MAX":
        return max(values, key=lambda v: sort_key(v, ftype))
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not numbers:
        return None
    if name == "SUM":
        total = sum(numbers)
        return total if ftype == "int" else float(total)
    return float(sum(numbers)) / len(numbers)


def _key(ctx: Context, expr: n.Expr) -> str:
    if is_date_function(expr):
        return expr.text.casefold()
    return path_of(ctx, expr).text.casefold()


def run_aggregate(runner: _Runner, obj: SObject, query: n.Query) -> QueryResult:
    ctx = runner.ctx
    group_keys: list[str] = []
    group_getters: list[Getter] = []
    for expr in query.group_by:
        if is_aggregate(expr):
            raise ctx.error(expr.pos, "Aggregate functions are not allowed in GROUP BY")
        group_keys.append(_key(ctx, expr))
        group_getters.append(row_operand(ctx, obj, expr))
    calls: dict[str, tuple[str, Callable[[Row], Any] | None, str]] = {}

    def register(call: n.Call) -> Getter:
        name = call.name.upper()
        if call.arg is None:
            if name != "COUNT":
                raise ctx.error(call.pos, "unexpected token: ')'")
            read, ftype, key = None, "int", "count()"
        else:
            if not isinstance(call.arg, n.Path):
                raise ctx.error(call.pos, "Nested functions are not supported")
            bound = ctx.bind(obj, call.arg)
            read, key = ctx.reader(bound), call.text.casefold()
            ftype = bound.field.type
        out_type = {"COUNT": "int", "COUNT_DISTINCT": "int", "AVG": "double"}.get(name, ftype)
        if name == "SUM" and ftype != "int":
            out_type = "double"
        calls[key] = (name, read, ftype)
        return Getter(lambda g, k=key: g[k], out_type, call.text)

    def operand(expr: n.Expr) -> Getter:
        if is_aggregate(expr):
            assert isinstance(expr, n.Call)
            return register(expr)
        key = _key(ctx, expr)
        if key not in group_keys:
            text = expr.text if is_date_function(expr) else path_of(ctx, expr).text
            pos = expr.pos
            raise ctx.error(pos, f"Field must be grouped or aggregated: {text}")
        source = group_getters[group_keys.index(key)]
        return Getter(lambda g, k=key: g[k], source.ftype, source.name)

    columns: list[tuple[str, Getter]] = []
    unnamed = 0
    for item in query.select:
        if isinstance(item, n.SubQuery):
            raise ctx.error(item.pos, "Child relationship queries are not allowed in aggregate queries")
        getter = operand(item.expr)
        if is_aggregate(item.expr) or is_date_function(item.expr):
            name = item.alias
            if name is None:
                name = f"expr{unnamed}"
                unnamed += 1
        else:
            name = getter.name
        columns.append((name, getter))
    having = compile_condition(ctx, query.having, operand) if query.having is not None else None
    order = [(operand(item.expr), item) for item in query.order_by]

    rows = runner.filtered(obj, query)
    readers = [g.read for g in group_getters]
    types = [g.ftype for g in group_getters]
    groups: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[Row]]] = {}
    if not group_keys:
        groups[()] = ((), rows)
    else:
        for row in rows:
            raw = tuple(r(row) for r in readers)
            key = tuple(normalize(v, t) for v, t in zip(raw, types))
            groups.setdefault(key, (raw, []))[1].append(row)
    results: list[dict[str, Any]] = []
    for raw, members in groups.values():
        group: dict[str, Any] = dict(zip(group_keys, raw))
        for key, (name, read, ftype) in calls.items():
            group[key] = _compute(name, read, ftype, members)
        results.append(group)
    if having is not None:
        results = [g for g in results if having(g)]
    results = slice_rows(sort_rows(results, order), query)
    records = []
    for group in results:
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for name, getter in columns:
            record[name] = format_value(getter.read(group), getter.ftype)
        records.append(record)
    return QueryResult(records, len(records), obj.name)
