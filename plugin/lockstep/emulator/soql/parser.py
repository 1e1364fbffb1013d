"""SOQL text -> syntax tree, with a lark LALR grammar (``soql.lark``)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from pathlib import Path as FilePath
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from . import nodes as n
from .dates import FIXED_LITERALS, N_LITERALS
from .errors import SoqlError, malformed

__all__ = ["parse"]

_GRAMMAR = (FilePath(__file__).with_name("soql.lark")).read_text(encoding="utf-8")
_LARK = Lark(_GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _pos(token: Token) -> n.Pos:
    return n.Pos(token.line or 1, token.column or 1)


class _Build(Transformer[Token, n.Query]):
    def __init__(self, soql: str) -> None:
        super().__init__()
        self.soql = soql

    def _fail(self, token: Token, text: str) -> SoqlError:
        return malformed(self.soql, token.line or 1, token.column or 1, text)

    # select list
    def start(self, items: list[Any]) -> n.Query:
        query: n.Query = items[0]
        return query

    def query(self, items: list[Any]) -> n.Query:
        return self._query(items)

    def subquery(self, items: list[Any]) -> n.Query:
        return self._query(items)

    def _query(self, items: list[Any]) -> n.Query:
        select = items[1]
        name: Token = items[3]
        clauses: dict[str, Any] = dict(item for item in items[4:] if isinstance(item, tuple))
        return n.Query(
            select=select,
            sobject=str(name),
            sobject_pos=_pos(name),
            where=clauses.get("where"),
            group_by=clauses.get("group", ()),
            having=clauses.get("having"),
            order_by=clauses.get("order", ()),
            limit=clauses.get("limit"),
            offset=clauses.get("offset"),
        )

    def select_list(self, items: list[Any]) -> tuple[Any, ...]:
        return tuple(items)

    def select_path(self, items: list[Any]) -> n.SelectItem:
        return n.SelectItem(items[0], None)

    def select_call(self, items: list[Any]) -> n.SelectItem:
        return n.SelectItem(items[0], items[1] if len(items) > 1 else None)

    def select_subquery(self, items: list[Any]) -> n.SubQuery:
        query: n.Query = items[0]
        return n.SubQuery(query, query.sobject_pos)

    def alias(self, items: list[Token]) -> str:
        return str(items[0])

    def path(self, items: list[Token]) -> n.Path:
        return n.Path(tuple(str(t) for t in items), tuple(_pos(t) for t in items))

    def call(self, items: list[Any]) -> n.Call:
        return n.Call(str(items[0]), items[1], _pos(items[0]))

    # clauses
    def where_clause(self, items: list[Any]) -> tuple[str, Any]:
        return ("where", items[1])

    def having_clause(self, items: list[Any]) -> tuple[str, Any]:
        return ("having", items[1])

    def group_clause(self, items: list[Any]) -> tuple[str, Any]:
        return ("group", tuple(items[2:]))

    def order_clause(self, items: list[Any]) -> tuple[str, Any]:
        return ("order", tuple(items[2:]))

    def order_item(self, items: list[Any]) -> n.OrderItem:
        descending = "DESC" in items
        nulls_last = descending
        if "NULLS_LAST" in items:
            nulls_last = True
        elif "NULLS_FIRST" in items:
            nulls_last = False
        return n.OrderItem(items[0], descending, nulls_last)

    def direction(self, items: list[Token]) -> str:
        return items[0].type

    def nulls(self, items: list[Token]) -> str:
        return f"NULLS_{items[1].type}"

    def limit_clause(self, items: list[Token]) -> tuple[str, int]:
        return ("limit", int(items[1]))

    def offset_clause(self, items: list[Token]) -> tuple[str, int]:
        return ("offset", int(items[1]))

    def using_clause(self, items: list[Any]) -> None:
        return None

    with_clause = for_clause = update_clause = using_clause

    # conditions
    def and_(self, items: list[Any]) -> n.And:
        return n.And(tuple(i for i in items if not isinstance(i, Token)))

    def or_(self, items: list[Any]) -> n.Or:
        return n.Or(tuple(i for i in items if not isinstance(i, Token)))

    def not_(self, items: list[Any]) -> n.Not:
        return n.Not(items[1])

    def compare(self, items: list[Any]) -> n.Compare:
        op = str(items[1])
        return n.Compare(items[0], "!=" if op == "<>" else op, items[2])

    def like(self, items: list[Any]) -> n.Like:
        return n.Like(items[0], items[2])

    def in_(self, items: list[Any]) -> n.In:
        return n.In(items[0], items[-1], None, False, "in")

    def not_in(self, items: list[Any]) -> n.In:
        return n.In(items[0], items[-1], None, True, "in")

    def in_select(self, items: list[Any]) -> n.In:
        return n.In(items[0], None, items[-1], False, "in")

    def not_in_select(self, items: list[Any]) -> n.In:
        return n.In(items[0], None, items[-1], True, "in")

    def includes(self, items: list[Any]) -> n.In:
        return n.In(items[0], items[-1], None, False, "includes")

    def excludes(self, items: list[Any]) -> n.In:
        return n.In(items[0], items[-1], None, False, "excludes")

    def value_list(self, items: list[n.Literal]) -> tuple[n.Literal, ...]:
        return tuple(items)

    # literals
    def string(self, items: list[Token]) -> n.Literal:
        token = items[0]
        raw = str(token)[1:-1]
        out: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\":
                nxt = raw[i + 1]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                elif nxt in "%_":
                    out.append("\\" + nxt)
                elif nxt == "u" and len(raw) >= i + 6:
                    try:
                        out.append(chr(int(raw[i + 2:i + 6], 16)))
                    except ValueError:
                        raise self._fail(token, "Invalid string literal: illegal escape sequence") from None
                    i += 4
                else:
                    raise self._fail(token, "Invalid string literal: illegal escape sequence")
                i += 2
            else:
                out.append(ch)
                i += 1
        return n.Literal("string", "".join(out), _pos(token))

    def number(self, items: list[Token]) -> n.Literal:
        text = str(items[0])
        value: int | float = float(text) if "." in text else int(text)
        return n.Literal("number", value, _pos(items[0]))

    def datetime(self, items: list[Token]) -> n.Literal:
        text = str(items[0]).upper().replace("Z", "+00:00")
        try:
            value = datetime.fromisoformat(text).astimezone(UTC)
        except ValueError:
            raise self._fail(items[0], f"unexpected token: '{items[0]}'") from None
        return n.Literal("datetime", value, _pos(items[0]))

    def date(self, items: list[Token]) -> n.Literal:
        try:
            value = date.fromisoformat(str(items[0]))
        except ValueError:
            raise self._fail(items[0], f"unexpected token: '{items[0]}'") from None
        return n.Literal("date", value, _pos(items[0]))

    def word(self, items: list[Token]) -> n.Literal:
        token = items[0]
        word = str(token).upper()
        if word in ("TRUE", "FALSE", "NULL"):
            return n.Literal(word.lower(), {"TRUE": True, "FALSE": False, "NULL": None}[word], _pos(token))
        if word in FIXED_LITERALS:
            return n.Literal("date_literal", (word, None), _pos(token))
        raise self._fail(token, f"unexpected token: '{token}'")

    def date_n(self, items: list[Token]) -> n.Literal:
        token = items[0]
        word = str(token).upper()
        if word not in N_LITERALS:
            raise self._fail(token, f"unexpected token: '{token}'")
        return n.Literal("date_literal", (word, int(items[1])), _pos(token))


def _syntax_error(soql: str, exc: UnexpectedInput) -> SoqlError:
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            lines = soql.rstrip().split("\n")
            return malformed(soql, len(lines), len(lines[-1]) + 1, "unexpected token: <EOF>")
        keyword = token.type.isalpha() and token.type == str(token).upper()
        text = f"unexpected token: {token}" if keyword else f"unexpected token: '{token}'"
        return malformed(soql, token.line or 1, token.column or 1, text)
    if isinstance(exc, UnexpectedCharacters):
        # lark declares pos_in_stream as None on the base class; a lexer error always sets it.
        pos: int | None = exc.pos_in_stream
        char = soql[pos] if pos is not None and pos < len(soql) else ""
        if char == "'":
            return malformed(soql, exc.line, exc.column, "unterminated string literal")
        return malformed(soql, exc.line, exc.column, f"unexpected token: '{char}'")
    return malformed(soql, getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1, str(exc))


@functools.lru_cache(maxsize=4096)
def parse(soql: str) -> n.Query:
    """Parse SOQL into a :class:`nodes.Query`; raises :class:`SoqlError` (MALFORMED_QUERY)."""
    if not soql or not soql.strip():
        raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    try:
        tree = _LARK.parse(soql)
        return _Build(soql).transform(tree)
    except UnexpectedInput as exc:
        raise _syntax_error(soql, exc) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, SoqlError):
            raise exc.orig_exc from None
        raise malformed(soql, 1, 1, "unexpected token") from None
    except RecursionError:
        raise malformed(soql, 1, 1, "query is too deeply nested") from None
