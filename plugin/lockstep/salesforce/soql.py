"""Quoting values into SOQL, in the manner of simple-salesforce's ``format_soql``.

    >>> format_soql("SELECT Id FROM Account WHERE Name = {}", "O'Brien")
    "SELECT Id FROM Account WHERE Name = 'O\\\\'Brien'"

Values become SOQL literals: strings are quoted and escaped, ``None`` is ``null``,
booleans ``true``/``false``, dates and datetimes ISO-8601, sequences ``(a,b)``.
The ``:like`` format spec also escapes ``%`` and ``_`` for LIKE patterns, and
``:literal`` inserts a value verbatim (only for trusted text such as field names).
"""

from __future__ import annotations

import datetime as dt
import decimal
import string
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["format_soql", "quote_soql_value"]

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _escape(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def quote_soql_value(value: Any) -> str:
    """Render one Python value as a SOQL literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return f"'{_escape(value)}'"
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        return "(" + ",".join(quote_soql_value(item) for item in value) + ")"
    raise TypeError(f"cannot quote a {type(value).__name__} value into SOQL")


class _SoqlFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "literal":
            return str(value)
        if format_spec == "like":
            if not isinstance(value, str):
                raise TypeError("the ':like' format spec needs a string value")
            escaped = _escape(value).replace("%", "\\%").replace("_", "\\_")
            return f"'{escaped}'"
        if format_spec:
            raise ValueError(f"unknown SOQL format spec {format_spec!r}")
        return quote_soql_value(value)


_formatter = _SoqlFormatter()


def format_soql(query: str, *args: Any, **kwargs: Any) -> str:
    """Insert ``args``/``kwargs`` into the ``{}`` fields of ``query`` as SOQL literals."""
    return _formatter.vformat(query, args, kwargs)
