"""Field values: normalising for comparison and sorting, and Salesforce's JSON formats."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

__all__ = [
    "NUMERIC", "TEXT", "format_value", "id_key", "like_matcher", "normalize", "sort_key",
]

TEXT = frozenset({"string", "textarea", "picklist", "url", "email", "phone"})
NUMERIC = frozenset({"int", "double", "currency", "percent"})
IDS = frozenset({"id", "reference"})


def _to_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip().upper().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _to_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def id_key(value: Any) -> str:
    """Ids compare on their case-sensitive 15-character form; other keys case-insensitively."""
    text = str(value)
    if len(text) in (15, 18) and text.isalnum():
        return text[:15]
    return text.casefold()


def normalize(value: Any, ftype: str) -> Any:
    """A comparable form of a record or literal value of the given field type."""
    if value is None:
        return None
    if ftype in TEXT:
        return str(value).casefold()
    if ftype in IDS:
        return id_key(value)
    if ftype == "datetime":
        return _to_datetime(value)
    if ftype == "date":
        return _to_date(value)
    if ftype == "boolean":
        return bool(value)
    if ftype in NUMERIC:
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return value


def sort_key(value: Any, ftype: str) -> Any:
    norm = normalize(value, ftype)
    if isinstance(norm, bool):
        return int(norm)
    if norm is None and value is not None:
        return str(value).casefold()
    return norm


def format_value(value: Any, ftype: str) -> Any:
    """The JSON value Salesforce returns for a field of this type."""
    if value is None:
        return None
    if ftype == "datetime":
        moment = _to_datetime(value)
        if moment is None:
            return value
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
    if ftype == "date":
        day = _to_date(value)
        return day.isoformat() if day is not None else value
    if ftype in ("double", "currency", "percent") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def like_matcher(pattern: str) -> re.Pattern[str]:
    """LIKE pattern (``%`` any run, ``_`` one character, ``\\%``/``\\_`` literal) as a regex."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
