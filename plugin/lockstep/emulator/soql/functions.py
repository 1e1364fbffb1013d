"""Row-level operands: field paths, ``toLabel()``-style wrappers and SOQL date functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from lockstep.emulator.schema.registry import SObject

from . import nodes as n
from .bind import Context, Getter
from .rows import path_of

__all__ = ["DATE_FUNCTIONS", "is_date_function", "row_operand"]


def _day(value: date) -> int:
    return value.timetuple().tm_yday


DATE_FUNCTIONS: dict[str, Callable[[datetime], Any]] = {
    "CALENDAR_YEAR": lambda d: d.year,
    "CALENDAR_QUARTER": lambda d: (d.month - 1) // 3 + 1,
    "CALENDAR_MONTH": lambda d: d.month,
    "DAY_IN_MONTH": lambda d: d.day,
    "DAY_IN_WEEK": lambda d: (d.weekday() + 1) % 7 + 1,
    "DAY_IN_YEAR": _day,
    "WEEK_IN_MONTH": lambda d: (d.day - 1) // 7 + 1,
    "WEEK_IN_YEAR": lambda d: (_day(d) - 1) // 7 + 1,
    "FISCAL_YEAR": lambda d: d.year,
    "FISCAL_QUARTER": lambda d: (d.month - 1) // 3 + 1,
    "FISCAL_MONTH": lambda d: d.month,
    "HOUR_IN_DAY": lambda d: d.hour,
    "DAY_ONLY": lambda d: d.date(),
}


def is_date_function(expr: n.Expr) -> bool:
    return isinstance(expr, n.Call) and expr.name.upper() in DATE_FUNCTIONS


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed
    return None


def row_operand(ctx: Context, obj: SObject, expr: n.Expr) -> Getter:
    """How to read ``expr`` from one record of ``obj`` (a field path or a date function)."""
    if is_date_function(expr):
        assert isinstance(expr, n.Call)
        name = expr.name.upper()
        if not isinstance(expr.arg, n.Path):
            raise ctx.error(expr.pos, f"{expr.name}() needs a date or dateTime field")
        bound = ctx.bind(obj, expr.arg)
        if (bound.field.type not in ("date", "datetime")
                or (name in ("HOUR_IN_DAY", "DAY_ONLY") and bound.field.type == "date")):
            raise ctx.error(expr.arg.pos, f"Invalid field type for function {expr.name}: {bound.field.name}")
        read, fn = ctx.reader(bound), DATE_FUNCTIONS[name]

        def compute(row: Any) -> Any:
            moment = _as_datetime(read(row))
            return fn(moment) if moment is not None else None

        return Getter(compute, "date" if name == "DAY_ONLY" else "int", expr.text)
    bound = ctx.bind(obj, path_of(ctx, expr))
    return Getter(ctx.reader(bound), bound.field.type, bound.field.name)
