"""``query``, ``queryAll`` and ``tooling/query``: SOQL results in batches with query locators."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from lockstep.emulator.http.responses import ApiResponse, error
from lockstep.emulator.schema.registry import make_id
from lockstep.emulator.soql import SoqlError, execute
from lockstep.emulator.soql.columns import column_metadata
from lockstep.emulator.state.store import Cursor, Org

__all__ = ["batch_size", "next_page", "run_query"]

DEFAULT_BATCH = 2000
MIN_BATCH = 200


def batch_size(headers: Mapping[str, str]) -> int:
    """The batch size asked for with ``Sforce-Query-Options: batchSize=N`` (200..2000)."""
    options = headers.get("sforce-query-options", "")
    match = re.search(r"batchSize\s*=\s*(\d+)", options, re.IGNORECASE)
    if not match:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(match.group(1))))


def _page(org: Org, version: str, cursor: Cursor, locator_id: str | None, offset: int) -> ApiResponse:
    end = offset + cursor.batch_size
    records = cursor.records[offset:end]
    done = end >= len(cursor.records)
    tooling = cursor.api == "tooling"
    base = f"/services/data/v{version}/{'tooling/' if tooling else ''}query"
    locator = None if done or locator_id is None else f"{locator_id}-{end}"
    body: dict[str, Any] = {}
    if tooling:
        body["size"] = cursor.total_size
    body["totalSize"] = cursor.total_size
    body["done"] = done
    if tooling:
        body["queryLocator"] = locator
    if locator is not None:
        body["nextRecordsUrl"] = f"{base}/{locator}"
    if tooling:
        body["entityTypeName"] = cursor.extras.get("entity")
    body["records"] = records
    return ApiResponse(200, body)


def run_query(org: Org, version: str, soql: str | None, *, api: str, include_deleted: bool, batch: int,
              columns: bool = False) -> ApiResponse:
    """A first page of results, or with ``columns`` (``&columns=true``) the query's column metadata."""
    if soql is None:
        return error("MALFORMED_QUERY", "A query string has to be specified")
    if not soql.strip():
        return error("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    prefix = f"/services/data/v{version}/{'tooling/' if api == 'tooling' else ''}sobjects"
    try:
        result = execute(
            soql, org.tables, api=api, url_prefix=prefix, include_deleted=include_deleted,
            now=dt.datetime.now(dt.UTC),
        )
    except SoqlError as exc:
        return error(exc.error_code, exc.message)
    if columns:
        return ApiResponse(200, column_metadata(soql, org.tables, api=api))
    extras = {"entity": result.sobject} if api == "tooling" else {}
    cursor = Cursor(list(result.records), result.total_size, batch, api, extras)
    locator_id = None
    if len(cursor.records) > batch:
        locator_id = org.add_cursor(cursor, lambda serial: make_id("01g", f"{org.name}/cursor/{serial}"))
    return _page(org, version, cursor, locator_id, 0)


def next_page(org: Org, version: str, locator: str, *, api: str) -> ApiResponse:
    locator_id, _, offset_text = locator.rpartition("-")
    cursor = org.cursors.get(locator_id)
    if cursor is None or not offset_text.isdigit() or cursor.api != api:
        return error("INVALID_QUERY_LOCATOR", "invalid query locator")
    offset = int(offset_text)
    if offset > len(cursor.records):
        return error("INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(org, version, cursor, locator_id, offset)
