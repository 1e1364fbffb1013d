"""Helpers shared by plain and aggregate queries: result type, sorting, slicing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import nodes as n
from .bind import Context, Getter
from .values import sort_key

__all__ = ["AGGREGATES", "PASSTHROUGH", "QueryResult", "is_aggregate", "path_of", "slice_rows", "sort_rows"]

AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"})
PASSTHROUGH = frozenset({"TOLABEL", "CONVERTCURRENCY", "FORMAT"})


@dataclass
class QueryResult:
    """Shaped records, Salesforce's ``totalSize`` for them, and the queried object's name."""

    records: list[dict[str, Any]]
    total_size: int
    sobject: str = ""


def is_aggregate(expr: n.Expr) -> bool:
    return isinstance(expr, n.Call) and expr.name.upper() in AGGREGATES


def path_of(ctx: Context, expr: n.Expr, where: str = "here") -> n.Path:
    """The field path of an operand; ``toLabel(x)`` and friends read ``x``."""
    if isinstance(expr, n.Path):
        return expr
    if expr.name.upper() in PASSTHROUGH and isinstance(expr.arg, n.Path):
        return expr.arg
    if expr.name.upper() in AGGREGATES:
        raise ctx.error(expr.pos, f"Aggregate functions are not allowed {where}")
    raise ctx.error(expr.pos, f"unexpected token: '{expr.name}'")


def slice_rows(rows: list[Any], query: n.Query) -> list[Any]:
    start = query.offset or 0
    end = start + query.limit if query.limit is not None else None
    return rows[start:end]


def sort_rows(rows: list[Any], keys: list[tuple[Getter, n.OrderItem]]) -> list[Any]:
    """Stable multi-key sort; ASC puts nulls first and DESC last unless NULLS says otherwise."""
    for getter, item in reversed(keys):
        null_flag = 2 if item.nulls_last != item.descending else 0

        def key(row: Any, g: Getter = getter, flag: int = null_flag) -> tuple[int, Any]:
            value = sort_key(g.read(row), g.ftype)
            return (flag, 0) if value is None else (1, value)

        def text_key(row: Any, k: Callable[[Any], tuple[int, Any]] = key) -> tuple[int, str]:
            flag, value = k(row)
            return flag, str(value)

        try:
            rows.sort(key=key, reverse=item.descending)
        except TypeError:
            rows.sort(key=text_key, reverse=item.descending)
    return rows
