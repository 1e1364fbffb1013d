"""Binding a parsed query to the schema: field paths, lookups and compiled filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from ..schema import Field, SObject, find_object, infer_field_type, key_prefix
from . import nodes as n
from .dates import date_range
from .errors import SoqlError, invalid_field, invalid_type, malformed
from .values import IDS, NUMERIC, TEXT, id_key, like_matcher, normalize

__all__ = ["Bound", "Context", "Getter", "Predicate", "Step", "compile_condition"]

Record = Mapping[str, Any]
Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class Step:
    relationship: str
    lookup: str
    targets: tuple[str, ...]
    polymorphic: bool


@dataclass(frozen=True)
class Bound:
    """A resolved field path: lookups to follow, then the field read on the last record."""

    steps: tuple[Step, ...]
    field: Field
    path: n.Path


@dataclass
class Getter:
    """How a filter or sort reads one operand: a function of the row, its type, its name."""

    read: Callable[[Any], Any]
    ftype: str
    name: str


@dataclass
class Context:
    soql: str
    tables: Mapping[str, Sequence[Record]]
    schema: Mapping[str, SObject]
    api: str
    include_deleted: bool
    now: datetime
    _tables_lower: dict[str, str] = field(default_factory=dict)
    _index: dict[str, dict[str, Record]] = field(default_factory=dict)
    _custom: dict[tuple[str, str], Field | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tables_lower = {name.lower(): name for name in self.tables}

    @property
    def today(self) -> date:
        return self.now.astimezone(timezone.utc).date()

    def error(self, pos: n.Pos, text: str) -> SoqlError:
        return malformed(self.soql, pos.line, pos.column, text)

    def records(self, obj: str) -> Sequence[Record]:
        name = self._tables_lower.get(obj.lower())
        return self.tables[name] if name is not None else ()

    def live(self, obj: str) -> list[Record]:
        rows = self.records(obj)
        if self.include_deleted:
            return list(rows)
        return [r for r in rows if not r.get("IsDeleted")]

    def sobject(self, name: str, pos: n.Pos) -> SObject:
        obj = find_object(self.schema, name)
        table = self._tables_lower.get(name.lower())
        if obj is None and table is not None and table.lower().endswith("__c"):
            fields = {"Id": Field("Id", "id"), "Name": Field("Name", "string")}
            obj = SObject(table, key_prefix(table), frozenset({"data"}), fields)
        if obj is None or self.api not in obj.apis:
            raise invalid_type(self.soql, pos.line, pos.column, name)
        return obj

    def lookup(self, targets: tuple[str, ...], value: Any) -> tuple[str, Record] | None:
        if value is None:
            return None
        key = id_key(value)
        for target in targets:
            index = self._index.get(target)
            if index is None:
                index = self._build_index(target)
            found = index.get(key)
            if found is not None:
                return target, found
        return None

    def _build_index(self, target: str) -> dict[str, Record]:
        obj = find_object(self.schema, target)
        keys = obj.lookup_keys if obj is not None else ("Id",)
        index: dict[str, Record] = {}
        for record in self.live(target):
            for key in keys:
                value = record.get(key)
                if value is not None:
                    index.setdefault(id_key(value), record)
        self._index[target] = index
        return index

    def find_field(self, obj: SObject, name: str) -> Field | None:
        found = obj.find_field(name, self.api)
        if found is not None:
            return found
        lowered = name.lower()
        if not lowered.endswith("__c") and not any(lowered.startswith(p.lower()) for p in obj.open_prefixes):
            return None
        cache_key = (obj.name, lowered)
        if cache_key not in self._custom:
            self._custom[cache_key] = self._field_from_records(obj.name, name)
        return self._custom[cache_key]

    def _field_from_records(self, obj: str, name: str) -> Field | None:
        lowered = name.lower()
        for record in self.records(obj):
            for key in record:
                if key.lower() == lowered:
                    return Field(key, infer_field_type(r.get(key) for r in self.records(obj)))
        return None

    def bind(self, obj: SObject, path: n.Path) -> Bound:
        steps: list[Step] = []
        current: list[SObject] = [obj]
        for part in path.parts[:-1]:
            rel = None
            for candidate in current:
                rel = candidate.find_parent(part)
                if rel is not None:
                    break
            if rel is None:
                raise invalid_field(self.soql, path.pos.line, path.pos.column, part, current[0].name, kind="relationship")
            relname, (lookup, target) = rel
            targets = target if isinstance(target, tuple) else (target,)
            steps.append(Step(relname, lookup, targets, isinstance(target, tuple)))
            current = [o for o in (find_object(self.schema, t) for t in targets) if o is not None]
        last = path.parts[-1]
        for candidate in current:
            found = self.find_field(candidate, last)
            if found is not None:
                return Bound(tuple(steps), found, path)
        entity = current[0].name if not steps or not steps[-1].polymorphic else "Name"
        raise invalid_field(self.soql, path.pos.line, path.pos.column, path.text if not steps else last, entity)

    def chain(self, record: Record, steps: tuple[Step, ...]) -> list[tuple[str, Record] | None]:
        """The parent records reached by each lookup step (None once a lookup is empty)."""
        out: list[tuple[str, Record] | None] = []
        current: Record | None = record
        for step in steps:
            found = self.lookup(step.targets, current.get(step.lookup)) if current is not None else None
            out.append(found)
            current = found[1] if found is not None else None
        return out

    def reader(self, bound: Bound) -> Callable[[Record], Any]:
        name = bound.field.name
        if not bound.steps:
            return lambda record: record.get(name)
        steps = bound.steps

        def read(record: Record) -> Any:
            current: Record | None = record
            for step in steps:
                found = self.lookup(step.targets, current.get(step.lookup))
                if found is None:
                    return None
                current = found[1]
            return current.get(name)

        return read


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
        return (datetime.combine(start, time(), timezone.utc), datetime.combine(end, time(), timezone.utc))
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
        text = f"value of filter criterion for field '{getter.name}' must be of type {'id' if ftype in IDS else 'string'} and should be enclosed in quotes"
    else:
        word = _TYPE_WORDS.get(ftype, "double" if ftype in NUMERIC else ftype)
        text = f"value of filter criterion for field '{getter.name}' must be of type {word} and should not be enclosed in quotes"
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
        return {"<": value < low, "<=": value < high, ">": value >= high, ">=": value >= low}[op]
    try:
        return {"<": value < target, "<=": value <= target, ">": value > target, ">=": value >= target}[op]
    except TypeError:
        return False


def compile_condition(
    ctx: Context,
    cond: n.Condition,
    operand: Callable[[n.Expr], Getter],
    semi_join: Callable[[n.Query, Getter], set[Any]] | None = None,
) -> Predicate:
    """A predicate over rows for a WHERE or HAVING condition."""
    if isinstance(cond, n.And):
        parts = [compile_condition(ctx, c, operand, semi_join) for c in cond.items]
        return lambda row: all(p(row) for p in parts)
    if isinstance(cond, n.Or):
        parts = [compile_condition(ctx, c, operand, semi_join) for c in cond.items]
        return lambda row: any(p(row) for p in parts)
    if isinstance(cond, n.Not):
        inner = compile_condition(ctx, cond.item, operand, semi_join)
        return lambda row: not inner(row)
    getter = operand(cond.expr)
    read, ftype = getter.read, getter.ftype
    if isinstance(cond, n.Compare):
        target = _literal_value(ctx, getter, cond.value)
        op = cond.op
        if op == "=":
            return lambda row: _equals(normalize(read(row), ftype), target)
        if op == "!=":
            return lambda row: not _equals(normalize(read(row), ftype), target)
        return lambda row: _ordered(op, normalize(read(row), ftype), target)
    if isinstance(cond, n.Like):
        if cond.value.kind != "string":
            raise _mismatch(ctx, getter, cond.value)
        regex = like_matcher(cond.value.value)
        return lambda row: (v := read(row)) is not None and regex.fullmatch(str(v)) is not None
    if cond.select is not None:
        if semi_join is None:
            raise ctx.error(cond.select.sobject_pos, "Nesting of semi join sub-selects is not supported")
        keys = semi_join(cond.select, getter)
        negate = cond.negate
        return lambda row: ((v := normalize(read(row), ftype)) is not None and v in keys) != negate
    assert cond.values is not None
    if cond.op in ("includes", "excludes"):
        wanted = [frozenset(s.strip().casefold() for s in str(v.value).split(";")) for v in cond.values]

        def includes(row: Any) -> bool:
            value = read(row)
            have = frozenset(s.strip().casefold() for s in str(value).split(";")) if value else frozenset()
            return any(w <= have for w in wanted)

        if cond.op == "includes":
            return includes
        return lambda row: not includes(row)
    targets = [_literal_value(ctx, getter, lit) for lit in cond.values]
    negate = cond.negate

    def member(row: Any) -> bool:
        value = normalize(read(row), ftype)
        return any(_equals(value, t) for t in targets) != negate

    return member
