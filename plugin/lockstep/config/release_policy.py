"""Release policy: deployment windows and freezes from a profile's ``release:`` section.

    release:
      timezone: Europe/Berlin                  # default for windows and freezes (default UTC)
      windows:
        - {days: [mon-fri], start: "18:00", end: "22:00", timezone: Europe/Berlin}
        - {days: [sat], start: "08:00", end: "12:00"}
      freezes:
        - {from: 2026-12-20, to: 2027-01-04, reason: year-end freeze}   # whole days, inclusive

A moment is open when it lies inside a window and inside no freeze. Without windows every
moment is open (freezes still apply). A window whose end is not after its start runs past
midnight. :func:`parse_release` validates the section; its errors name the key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lockstep.config.errors import ConfigError
from lockstep.config.schema import check_keys, listed

__all__ = ["Freeze", "ReleasePolicy", "Verdict", "Window", "parse_release"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = {name: index for index, name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
_RELEASE_KEYS = ("timezone", "windows", "freezes", "upstream")
_WINDOW_KEYS = ("days", "start", "end", "timezone")
_FREEZE_KEYS = ("from", "to", "reason", "timezone")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_HORIZON_DAYS = 400



@dataclass(frozen=True)
class Window:
    days: frozenset[int]
    start: dt.time
    end: dt.time
    zone: ZoneInfo

    def opening_on(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The window's (start, end) when it opens on ``day`` (local date), else None."""
        if day.weekday() not in self.days:
            return None
        start = dt.datetime.combine(day, self.start, self.zone)
        end_day = day if self.end > self.start else day + dt.timedelta(days=1)
        return start, dt.datetime.combine(end_day, self.end, self.zone)

    def describe(self) -> str:
        end = "24:00" if self.end == dt.time(0) else f"{self.end:%H:%M}"
        return f"{_describe_days(self.days)} {self.start:%H:%M}-{end} {self.zone.key}"


@dataclass(frozen=True)
class Freeze:
    start: dt.datetime
    end: dt.datetime  # exclusive
    reason: str
    label: str

    def covers(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Verdict:
    open: bool
    reason: str
    next_open: dt.datetime | None = None


@dataclass(frozen=True)
class ReleasePolicy:
    windows: tuple[Window, ...] = ()
    freezes: tuple[Freeze, ...] = ()
    zone: ZoneInfo = ZoneInfo("UTC")

    @property
    def declared(self) -> bool:
        return bool(self.windows or self.freezes)

    def window_at(self, moment: dt.datetime) -> Window | None:
        for window in self.windows:
            local = moment.astimezone(window.zone).date()
            for day in (local - dt.timedelta(days=1), local):
                span = window.opening_on(day)
                if span and span[0] <= moment < span[1]:
                    return window
        return None

    def freeze_at(self, moment: dt.datetime) -> Freeze | None:
        return next((f for f in self.freezes if f.covers(moment)), None)

    def is_open(self, moment: dt.datetime) -> bool:
        in_window = not self.windows or self.window_at(moment) is not None
        return in_window and self.freeze_at(moment) is None

    def next_open(self, now: dt.datetime) -> dt.datetime | None:
        """The first moment at or after ``now`` when a deployment may start (within ~a year)."""
        candidates = {now} | {f.end for f in self.freezes if f.end > now}
        for window in self.windows:
            first = now.astimezone(window.zone).date() - dt.timedelta(days=1)
            for offset in range(_HORIZON_DAYS):
                span = window.opening_on(first + dt.timedelta(days=offset))
                if span and span[1] > now:
                    candidates.add(max(span[0], now))
        return next((c for c in sorted(candidates) if self.is_open(c)), None)

    def verdict(self, now: dt.datetime) -> Verdict:
        """Whether a deployment may start at ``now``, and if not why and when it can."""
        if self.is_open(now):
            window = self.window_at(now)
            return Verdict(True, f"inside window {window.describe()}" if window else "no freeze in effect")
        freeze = self.freeze_at(now)
        reason = f"inside freeze {freeze.label}" if freeze else (
            "outside every release window (" + "; ".join(w.describe() for w in self.windows) + ")")
        return Verdict(False, reason, self.next_open(now))


def _describe_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(DAYS[r[0]] if len(r) == 1 else f"{DAYS[r[0]]}-{DAYS[r[-1]]}" for r in runs)


def _zone(key: str, value: Any) -> ZoneInfo:
    if not isinstance(value, str):
        raise ConfigError(f"expected a time zone name like Europe/Berlin, got {value!r}", key=key)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {value!r}", key=key) from None


def _time(key: str, value: Any) -> dt.time:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 24 * 60:
        hours, minutes = divmod(value, 60)  # YAML 1.1 reads an unquoted 18:00 as 1080
    else:
        match = _TIME.match(str(value).strip()) if isinstance(value, str) else None
        if match is None:
            raise ConfigError(f'expected a time like "18:00", got {value!r}', key=key)
        hours, minutes = int(match[1]), int(match[2])
    if hours == 24 and minutes == 0:
        return dt.time(0)
    if hours > 23 or minutes > 59:
        raise ConfigError(f'expected a time like "18:00", got {value!r}', key=key)
    return dt.time(hours, minutes)


def _day(key: str, text: str) -> int:
    word = text.strip().lower()
    if word in DAYS:
        return DAYS.index(word)
    if word in _FULL_DAYS:
        return _FULL_DAYS[word]
    raise ConfigError(f"unknown day {text!r} (use {', '.join(DAYS)} or ranges like mon-fri)", key=key)


def _days(key: str, value: Any) -> frozenset[int]:
    if value is None:
        return frozenset(range(7))
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise ConfigError("expected a list of days like [mon-fri, sat]", key=key)
    days: set[int] = set()
    for index, item in enumerate(items):
        where = f"{key}[{index}]"
        if not isinstance(item, str):
            raise ConfigError(f"expected a day like mon or a range like mon-fri, got {item!r}", key=where)
        first, sep, last = re.split(r"(\.\.|-)", item, maxsplit=1) if re.search(r"\.\.|-", item) else (item, "", "")
        start = _day(where, first)
        end = _day(where, last) if sep else start
        day = start
        while True:
            days.add(day)
            if day == end:
                break
            day = (day + 1) % 7
    return frozenset(days)


def _date(key: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"expected a date like 2026-12-20, got {value!r}", key=key) from None


def _mapping(key: str, value: Any, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected a mapping, got {type(value).__name__}", key=key)
    check_keys(value, allowed, key, hint=listed)
    return value


def _list(key: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"expected a list, got {type(value).__name__}", key=key)
    return list(value)


def _require(key: str, item: Mapping[str, Any], names: tuple[str, ...]) -> None:
    missing = [name for name in names if name not in item]
    if missing:
        raise ConfigError(f"missing required key {missing[0]!r}", key=key)


def parse_release(data: Mapping[str, Any] | None) -> ReleasePolicy:
    """Validate a ``release:`` section into a :class:`ReleasePolicy` (``upstream`` is read elsewhere)."""
    data = _mapping("release", data or {}, _RELEASE_KEYS)
    zone = _zone("release.timezone", data["timezone"]) if "timezone" in data else ZoneInfo("UTC")
    windows = []
    for index, item in enumerate(_list("release.windows", data.get("windows"))):
        key = f"release.windows[{index}]"
        item = _mapping(key, item, _WINDOW_KEYS)
        _require(key, item, ("start", "end"))
        start, end = _time(f"{key}.start", item["start"]), _time(f"{key}.end", item["end"])
        if start == end and start != dt.time(0):
            raise ConfigError("start and end are the same time (use 00:00-24:00 for a whole day)", key=key)
        window_zone = _zone(f"{key}.timezone", item["timezone"]) if "timezone" in item else zone
        windows.append(Window(_days(f"{key}.days", item.get("days")), start, end, window_zone))
    freezes = []
    for index, item in enumerate(_list("release.freezes", data.get("freezes"))):
        key = f"release.freezes[{index}]"
        item = _mapping(key, item, _FREEZE_KEYS)
        _require(key, item, ("from", "to"))
        first, last = _date(f"{key}.from", item["from"]), _date(f"{key}.to", item["to"])
        if last < first:
            raise ConfigError(f"{last} is before from {first}", key=f"{key}.to")
        freeze_zone = _zone(f"{key}.timezone", item["timezone"]) if "timezone" in item else zone
        reason = str(item.get("reason") or "release freeze")
        freezes.append(Freeze(
            dt.datetime.combine(first, dt.time(0), freeze_zone),
            dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), freeze_zone),
            reason, f"'{reason}' ({first} to {last})",
        ))
    return ReleasePolicy(tuple(windows), tuple(freezes), zone)
