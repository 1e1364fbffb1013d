"""``sobjects/X/updated`` and ``sobjects/X/deleted``: the ids changed in a time window (replication API)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from lockstep.emulator.http.responses import ApiResponse, error
from lockstep.emulator.state.store import Org
from lockstep.emulator.state.values import format_datetime

__all__ = ["changed"]

_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(_OFFSET.sub(r"\1:\2", text.strip().replace(" ", "+")))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def changed(org: Org, sobject: str, kind: str, params: Mapping[str, str]) -> ApiResponse:
    """``kind`` is ``updated`` (live records modified in [start, end]) or ``deleted``."""
    start, end = _moment(params.get("start")), _moment(params.get("end"))
    for name, value in (("start", start), ("end", end)):
        if value is None:
            shown = params.get(name)
            return error("MISSING_ARGUMENT" if shown is None else "INVALID_REPLICATION_DATE",
                         f"Missing argument: {name}" if shown is None else f"{name} is not a valid date: {shown}")
    assert start is not None and end is not None
    if end < start:
        return error("INVALID_REPLICATION_DATE", "end date must be after the start date")
    now = dt.datetime.now(dt.UTC)
    covered = min(end, now).replace(second=0, microsecond=0)
    rows = [row for row in org.tables.get(sobject, []) if bool(row.get("IsDeleted")) == (kind == "deleted")
            and isinstance(row.get("SystemModstamp"), dt.datetime) and start <= row["SystemModstamp"] <= end]
    if kind == "updated":
        return ApiResponse(200, {"ids": [row["Id"] for row in rows], "latestDateCovered": format_datetime(covered)})
    earliest = (now - dt.timedelta(days=15)).replace(second=0, microsecond=0)
    return ApiResponse(200, {
        "deletedRecords": [{"id": row["Id"], "deletedDate": format_datetime(row["SystemModstamp"])} for row in rows],
        "earliestDateAvailable": format_datetime(earliest), "latestDateCovered": format_datetime(covered),
    })
