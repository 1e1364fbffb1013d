"""Aggregate queries: GROUP BY, HAVING and COUNT/COUNT_DISTINCT/MIN/MAX/SUM/AVG."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any, Protocol

from lockstep.emulator.schema.registry import SObject

from . import nodes as n
from .bind import Context, Getter
from .conditions import compile_condition
from .functions import is_date_function, row_operand
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


class _Operands:
    """The operands an aggregate query may use: its GROUP BY keys and the aggregate calls it makes."""

    def __init__(self, ctx: Context, obj: SObject, query: n.Query) -> None:
        self.ctx, self.obj = ctx, obj
        self.group_keys: list[str] = []
        self.group_getters: list[Getter] = []
        self.calls: dict[str, tuple[str, Callable[[Row], Any] | None, str]] = {}
        for expr in query.group_by:
            if is_aggregate(expr):
                raise ctx.error(expr.pos, "Aggregate functions are not allowed in GROUP BY")
            self.group_keys.append(_key(ctx, expr))
            self.group_getters.append(row_operand(ctx, obj, expr))

    def register(self, call: n.Call) -> Getter:
        ctx, name = self.ctx, call.name.upper()
        if call.arg is None:
            if name != "COUNT":
                raise ctx.error(call.pos, "unexpected token: ')'")
            read, ftype, key = None, "int", "count()"
        else:
            if not isinstance(call.arg, n.Path):
                raise ctx.error(call.pos, "Nested functions are not supported")
            bound = ctx.bind(self.obj, call.arg)
            read, key = ctx.reader(bound), call.text.casefold()
            ftype = bound.field.type
        out_type = {"COUNT": "int", "COUNT_DISTINCT": "int", "AVG": "double"}.get(name, ftype)
        if name == "SUM" and ftype != "int":
            out_type = "double"
        self.calls[key] = (name, read, ftype)
        return Getter(itemgetter(key), out_type, call.text)

    def operand(self, expr: n.Expr) -> Getter:
        if is_aggregate(expr):
            assert isinstance(expr, n.Call)
            return self.register(expr)
        key = _key(self.ctx, expr)
        if key not in self.group_keys:
            text = expr.text if is_date_function(expr) else path_of(self.ctx, expr).text
            raise self.ctx.error(expr.pos, f"Field must be grouped or aggregated: {text}")
        source = self.group_getters[self.group_keys.index(key)]
        return Getter(itemgetter(key), source.ftype, source.name)

    def columns(self, query: n.Query) -> list[tuple[str, Getter]]:
        """The SELECT list as (output name, getter); unaliased aggregates are expr0, expr1, ..."""
        columns: list[tuple[str, Getter]] = []
        unnamed = 0
        for item in query.select:
            if isinstance(item, n.SubQuery):
                raise self.ctx.error(item.pos, "Child relationship queries are not allowed in aggregate queries")
            getter = self.operand(item.expr)
            name = getter.name
            if is_aggregate(item.expr) or is_date_function(item.expr):
                name = item.alias if item.alias is not None else f"expr{unnamed}"
                unnamed += item.alias is None
            columns.append((name, getter))
        return columns

    def groups(self, rows: list[Row]) -> list[dict[str, Any]]:
        """One row per group: its key values and every aggregate computed over its members."""
        readers = [g.read for g in self.group_getters]
        types = [g.ftype for g in self.group_getters]
        groups: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[Row]]] = {}
        if not self.group_keys:
            groups[()] = ((), rows)
        for row in rows if self.group_keys else ():
            raw = tuple(r(row) for r in readers)
            normalized = tuple(normalize(v, t) for v, t in zip(raw, types, strict=True))
            groups.setdefault(normalized, (raw, []))[1].append(row)
        results: list[dict[str, Any]] = []
        for raw, members in groups.values():
            group: dict[str, Any] = dict(zip(self.group_keys, raw, strict=True))
            for key, (name, read, ftype) in self.calls.items():
                group[key] = _compute(name, read, ftype, members)
            results.append(group)
        return results


def run_aggregate(runner: _Runner, obj: SObject, query: n.Query) -> QueryResult:
    operands = _Operands(runner.ctx, obj, query)
    columns = operands.columns(query)
    having = compile_condition(runner.ctx, query.having, operands.operand) if query.having is not None else None
    order = [(operands.operand(item.expr), item) for item in query.order_by]
    results = operands.groups(runner.filtered(obj, query))
    if having is not None:
        results = [g for g in results if having(g)]
    records = []
    for group in slice_rows(sort_rows(results, order), query):
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for name, getter in columns:
            record[name] = format_value(getter.read(group), getter.ftype)
        records.append(record)
    return QueryResult(records, len(records), obj.name)
