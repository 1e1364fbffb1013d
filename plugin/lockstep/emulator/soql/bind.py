"""Binding a parsed query to the schema: field paths, lookups and compiled filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lockstep.emulator.schema.registry import Field, SObject, find_object, infer_field_type, key_prefix

from . import nodes as n
from .errors import SoqlError, invalid_field, invalid_type, malformed
from .values import id_key

__all__ = ["Bound", "Context", "Getter", "Predicate", "Step"]

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
        return self.now.astimezone(UTC).date()

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
                raise invalid_field(self.soql, path.pos.line, path.pos.column, part, current[0].name,
                                    kind="relationship")
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
            current: Record = record
            for step in steps:
                found = self.lookup(step.targets, current.get(step.lookup))
                if found is None:
                    return None
                current = found[1]
            return current.get(name)

        return read
