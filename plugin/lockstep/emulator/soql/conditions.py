"""WHERE and HAVING conditions compiled to predicates over rows, literals checked against field types."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from typing import Any

from . import nodes as n
from .bind import Context, Getter, Predicate
from .dates import date_range
from .errors import SoqlError, invalid_field
from .values import IDS, NUMERIC, TEXT, like_matcher, normalize

__all__ = ["compile_condition"]


_TYPE_WORDS = {"datetime": "dateTime", "boolean": "boolean", "date": "date", "int": "int"}


def _literal_value(ctx: Context, getter: Getter, lit: n.Literal) -> Any:
    """The literal converted for comparison with the operand's type (or a SoqlError)."""
    ftype = getter.ftype
    if lit.kind == "null":
        return None
    if lit.kind == "date_literal":
        if ftype not in ("date", "datetime"):
            raise _mismatch(ctx, getter, lit)
        start, end = date_range(lit.value[0], lit.value[1], ctx.today)
        if ftype == "date":
            return (start, end)
        return (datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC))
    if ftype in TEXT or ftype in IDS:
        if lit.kind != "string":
            raise _mismatch(ctx, getter, lit)
        return normalize(lit.value, ftype)
    if ftype in ("date", "datetime"):
        if lit.kind not in ("date", "datetime"):
            raise _mismatch(ctx, getter, lit)
        return normalize(lit.value, ftype)
    if ftype == "boolean":
        if lit.kind not in ("true", "false"):
            raise _mismatch(ctx, getter, lit)
        return lit.value
    if ftype in NUMERIC:
        if lit.kind != "number":
            raise _mismatch(ctx, getter, lit)
        return lit.value
    return lit.value


def _mismatch(ctx: Context, getter: Getter, lit: n.Literal) -> SoqlError:
    ftype = getter.ftype
    if ftype in TEXT or ftype in IDS:
        kind = "id" if ftype in IDS else "string"
        text = (f"value of filter criterion for field '{getter.name}' must be of type {kind} "
                "and should be enclosed in quotes")
    else:
        word = _TYPE_WORDS.get(ftype, "double" if ftype in NUMERIC else ftype)
        text = (f"value of filter criterion for field '{getter.name}' must be of type {word} "
                "and should not be enclosed in quotes")
    return invalid_field(ctx.soql, lit.pos.line, lit.pos.column, text, "", kind="message")


def _equals(value: Any, target: Any) -> bool:
    if isinstance(target, tuple):
        return value is not None and target[0] <= value < target[1]
    if target is None:
        return value is None
    return value is not None and value == target


def _ordered(op: str, value: Any, target: Any) -> bool:
    if value is None or target is None:
        return False
    if isinstance(target, tuple):
        low, high = target
        within: dict[str, bool] = {"<": value < low, "<=": value < high, ">": value >= high, ">=": value >= low}
        return within[op]
    try:
        compared: dict[str, bool] = {
            "<": value < target, "<=": value <= target, ">": value > target, ">=": value >= target
        }
        return compared[op]
    except TypeError:
        return False


def compile_condition(
    ctx: Context,
    cond: n.Condition,
    operand: Callable[[n.Expr], Getter],
    semi_join: Callable[[n.Query, Getter], set[Any]] | None = None,
) -> Predicate:
    """A predicate over rows for a WHERE or HAVING condition."""
    if isinstance(cond, (n.And, n.Or)):
        parts = [compile_condition(ctx, c, operand, semi_join) for c in cond.items]
        if isinstance(cond, n.And):
            return lambda row: all(p(row) for p in parts)
        return lambda row: any(p(row) for p in parts)
    if isinstance(cond, n.Not):
        inner = compile_condition(ctx, cond.item, operand, semi_join)
        return lambda row: not inner(row)
    getter = operand(cond.expr)
    if isinstance(cond, n.Compare):
        return _compare(ctx, getter, cond)
    if isinstance(cond, n.Like):
        return _like(ctx, getter, cond)
    if cond.select is not None:
        if semi_join is None:
            raise ctx.error(cond.select.sobject_pos, "Nesting of semi join sub-selects is not supported")
        return _in_keys(getter, semi_join(cond.select, getter), cond.negate)
    assert cond.values is not None
    if cond.op in ("includes", "excludes"):
        return _includes(getter, cond.values, negate=cond.op == "excludes")
    return _member(getter, [_literal_value(ctx, getter, lit) for lit in cond.values], cond.negate)


def _compare(ctx: Context, getter: Getter, cond: n.Compare) -> Predicate:
    read, ftype = getter.read, getter.ftype
    target = _literal_value(ctx, getter, cond.value)
    op = cond.op
    if op == "=":
        return lambda row: _equals(normalize(read(row), ftype), target)
    if op == "!=":
        return lambda row: not _equals(normalize(read(row), ftype), target)
    return lambda row: _ordered(op, normalize(read(row), ftype), target)


def _like(ctx: Context, getter: Getter, cond: n.Like) -> Predicate:
    if cond.value.kind != "string":
        raise _mismatch(ctx, getter, cond.value)
    regex = like_matcher(cond.value.value)
    read = getter.read
    return lambda row: (v := read(row)) is not None and regex.fullmatch(str(v)) is not None


def _in_keys(getter: Getter, keys: set[Any], negate: bool) -> Predicate:
    """``IN`` / ``NOT IN`` a semi-join sub-select's keys."""
    read, ftype = getter.read, getter.ftype
    return lambda row: ((v := normalize(read(row), ftype)) is not None and v in keys) != negate


def _includes(getter: Getter, values: Sequence[n.Literal], *, negate: bool) -> Predicate:
    """``INCLUDES`` / ``EXCLUDES`` on a multi-select picklist: any wanted set of values all present."""
    read = getter.read
    wanted = [frozenset(s.strip().casefold() for s in str(v.value).split(";")) for v in values]

    def includes(row: Any) -> bool:
        value = read(row)
        have = frozenset(s.strip().casefold() for s in str(value).split(";")) if value else frozenset()
        return any(w <= have for w in wanted) != negate

    return includes


def _member(getter: Getter, targets: list[Any], negate: bool) -> Predicate:
    read, ftype = getter.read, getter.ftype

    def member(row: Any) -> bool:
        value = normalize(read(row), ftype)
        return any(_equals(value, t) for t in targets) != negate

    return member
