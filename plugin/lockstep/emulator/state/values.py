"""Field values between YAML/JSON and the Python values of the tables."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from lockstep.emulator.schema.registry import SObject

__all__ = ["BadValue", "coerce_value", "complete_row", "derive_compounds", "format_datetime", "parse_when", "to_json"]

_NUMBERS = ("int", "double", "currency", "percent")
_DURATION = re.compile(
    r"^(?P<sign>[+-])P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


class BadValue(ValueError):
    """A value that does not fit its field's type."""


def parse_when(value: Any, now: dt.datetime) -> dt.datetime | None:
    """A relative ISO-8601 duration (``-PT30M``), an absolute datetime, or None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    text = str(value).strip()
    match = _DURATION.match(text)
    if match and any(match.group(g) for g in "dhms"):
        delta = dt.timedelta(
            days=int(match["d"] or 0), hours=int(match["h"] or 0),
            minutes=int(match["m"] or 0), seconds=int(match["s"] or 0),
        )
        return now - delta if match["sign"] == "-" else now + delta
    cleaned = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text.replace("Z", "+00:00"))
    try:
        parsed = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"expected a datetime or a duration like -PT30M, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def format_datetime(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def coerce_value(field_type: str | None, value: Any, now: dt.datetime) -> Any:
    """``value`` as the tables hold it for a field of ``field_type`` (None: keep as is)."""
    if value is None or field_type is None:
        return value
    if field_type in ("complexvalue", "address"):
        if not isinstance(value, (dict, list)):
            raise BadValue(f"expected an object, got {value!r}")
        return value
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise BadValue(f"expected true or false, got {value!r}")
    if field_type in _NUMBERS:
        if isinstance(value, bool):
            raise BadValue(f"expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return int(value) if field_type == "int" else value
        try:
            number = float(str(value))
        except ValueError:
            raise BadValue(f"expected a number, got {value!r}") from None
        return int(number) if field_type == "int" else number
    if field_type == "datetime":
        try:
            return parse_when(value, now)
        except ValueError as exc:
            raise BadValue(str(exc)) from None
    if field_type == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise BadValue(f"expected a date like 2024-05-01, got {value!r}") from None
    if isinstance(value, (dict, list)):
        raise BadValue(f"expected a single value, got {value!r}")
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def complete_row(obj: SObject | None, row: dict[str, Any]) -> None:
    """Give every field of the object a value: null, or false for checkboxes."""
    if obj is None:
        row.setdefault("IsDeleted", False)
        return
    for name, spec in obj.fields.items():
        if name not in row:
            row[name] = False if spec.type == "boolean" else None
    derive_compounds(obj, row)


_ADDRESS_PARTS = (
    ("city", "City"), ("country", "Country"), ("geocodeAccuracy", "GeocodeAccuracy"), ("latitude", "Latitude"),
    ("longitude", "Longitude"), ("postalCode", "PostalCode"), ("state", "State"), ("street", "Street"),
)


def derive_compounds(obj: SObject, row: dict[str, Any]) -> None:
    """Recompute compound address fields from their components (``BillingAddress`` from ``Billing*``).

    The compound value is null when every component is null, as Salesforce returns it.
    """
    for name, spec in obj.fields.items():
        if spec.type != "address":
            continue
        prefix = name.removesuffix("Address")
        parts = {key: row.get(prefix + column) for key, column in _ADDRESS_PARTS}
        row[name] = parts if any(v is not None for v in parts.values()) else None
