"""The syntax tree of a parsed SOQL query (positions are 1-based, as Salesforce reports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "And", "Call", "Compare", "Condition", "Expr", "In", "Like", "Literal", "Not", "Or",
    "OrderItem", "Path", "Pos", "Query", "SelectItem", "SubQuery",
]


@dataclass(frozen=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]
    positions: tuple[Pos, ...]

    @property
    def pos(self) -> Pos:
        return self.positions[0]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Call:
    name: str
    arg: Expr | None
    pos: Pos

    @property
    def text(self) -> str:
        inner = self.arg.text if self.arg is not None else ""
        return f"{self.name}({inner})"


Expr = Path | Call


@dataclass(frozen=True)
class Literal:
    kind: str  # string | number | datetime | date | true | false | null | date_literal
    value: Any
    pos: Pos


@dataclass(frozen=True)
class Compare:
    expr: Expr
    op: str
    value: Literal


@dataclass(frozen=True)
class Like:
    expr: Expr
    value: Literal


@dataclass(frozen=True)
class In:
    expr: Expr
    values: tuple[Literal, ...] | None
    select: Query | None
    negate: bool
    op: str  # in | includes | excludes


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Compare | Like | In | And | Or | Not


@dataclass(frozen=True)
class SelectItem:
    expr: Expr
    alias: str | None


@dataclass(frozen=True)
class SubQuery:
    query: Query
    pos: Pos


@dataclass(frozen=True)
class OrderItem:
    expr: Expr
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    select: tuple[SelectItem | SubQuery, ...]
    sobject: str
    sobject_pos: Pos
    where: Condition | None = None
    group_by: tuple[Expr, ...] = ()
    having: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
