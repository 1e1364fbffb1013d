"""SOQL date literals (TODAY, LAST_N_DAYS:n, THIS_QUARTER, ...) as half-open date ranges."""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["FIXED_LITERALS", "N_LITERALS", "date_range"]

FIXED_LITERALS = frozenset({
    "YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK",
    "LAST_MONTH", "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS",
    "LAST_QUARTER", "THIS_QUARTER", "NEXT_QUARTER", "LAST_YEAR", "THIS_YEAR", "NEXT_YEAR",
    "LAST_FISCAL_QUARTER", "THIS_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER",
    "LAST_FISCAL_YEAR", "THIS_FISCAL_YEAR", "NEXT_FISCAL_YEAR",
})
N_LITERALS = frozenset({
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS", "N_WEEKS_AGO",
    "LAST_N_MONTHS", "NEXT_N_MONTHS", "N_MONTHS_AGO", "LAST_N_QUARTERS", "NEXT_N_QUARTERS",
    "N_QUARTERS_AGO", "LAST_N_YEARS", "NEXT_N_YEARS", "N_YEARS_AGO",
    "LAST_N_FISCAL_QUARTERS", "NEXT_N_FISCAL_QUARTERS", "N_FISCAL_QUARTERS_AGO",
    "LAST_N_FISCAL_YEARS", "NEXT_N_FISCAL_YEARS", "N_FISCAL_YEARS_AGO",
})


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _unit_start(today: date, unit: str) -> date:
    if unit == "DAY":
        return today
    if unit == "WEEK":
        return today - timedelta(days=(today.weekday() + 1) % 7)
    if unit == "MONTH":
        return today.replace(day=1)
    if unit == "QUARTER":
        return date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return date(today.year, 1, 1)


def _shift(start: date, unit: str, count: int) -> date:
    if unit == "DAY":
        return start + timedelta(days=count)
    if unit == "WEEK":
        return start + timedelta(days=7 * count)
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
    return _add_months(start, months * count)


def _unit(name: str) -> str:
    for unit in ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"):
        if unit in name:
            return unit
    raise ValueError(name)


def date_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """The half-open range ``[start, end)`` of days a date literal stands for."""
    name = name.upper()
    if name in ("YESTERDAY", "TODAY", "TOMORROW"):
        start = today + timedelta(days={"YESTERDAY": -1, "TODAY": 0, "TOMORROW": 1}[name])
        return start, start + timedelta(days=1)
    if name == "LAST_90_DAYS":
        name, n = "LAST_N_DAYS", 90
    elif name == "NEXT_90_DAYS":
        name, n = "NEXT_N_DAYS", 90
    unit = _unit(name)
    current = _unit_start(today, unit)
    count = n or 0
    if name.startswith("THIS_"):
        return current, _shift(current, unit, 1)
    if name.startswith("LAST_N_"):
        if unit == "DAY":
            return today - timedelta(days=count), today + timedelta(days=1)
        return _shift(current, unit, -count), current
    if name.startswith("NEXT_N_"):
        start = _shift(current, unit, 1)
        return start, _shift(start, unit, count)
    if name.startswith("N_"):
        start = _shift(current, unit, -count)
        return start, _shift(start, unit, 1)
    if name.startswith("LAST_"):
        return _shift(current, unit, -1), current
    start = _shift(current, unit, 1)
    return start, _shift(start, unit, 1)
