"""SOQL for the emulator: parse with a lark grammar, evaluate over in-memory tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lockstep.emulator.schema.registry import SCHEMA, SObject

from .bind import Context
from .errors import SoqlError
from .evaluate import run
from .parser import parse
from .rows import QueryResult

__all__ = ["QueryResult", "SoqlError", "execute", "parse"]


def execute(
    soql: str,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    api: str = "data",
    url_prefix: str = "/services/data/v62.0/sobjects",
    include_deleted: bool = False,
    now: datetime | None = None,
    schema: Mapping[str, SObject] | None = None,
) -> QueryResult:
    """Run one SOQL query over ``tables`` (object name -> flat records) the way Salesforce would.

    ``api`` is ``"data"`` or ``"tooling"`` (which objects exist, and the shape of child
    results); ``include_deleted`` gives queryAll semantics. Raises :class:`SoqlError`.
    """
    if soql is None:
        raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    query = parse(soql)
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ctx = Context(soql, tables, schema if schema is not None else SCHEMA, api, include_deleted, moment)
    return run(ctx, query, url_prefix.rstrip("/"))
