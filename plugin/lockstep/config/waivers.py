"""Waivers and severity overrides: accepting a known failure for a while, and a check that
blocks on some orgs and only warns on others.

    waivers:                              # a known failure does not block until it expires
      - check: test_flows_in_expected_state     # a check name, node id or glob (fnmatch)
        orgs: [prod, "sub-*", "tag:emea"]        # optional: names, globs, tag:X, kind:X, landscape
        reason: Case_Triage v5 is switched on after the data migration (CHG-1234)
        owner: jane@acme.example
        expires: 2026-12-15                      # required: through that day (UTC), or an ISO time
    severity:                             # permanent policy: a check's severity on some orgs
      - {check: test_api_headroom, orgs: ["kind:sandbox", "kind:dev"], level: warning}

Both match a check the same way (:class:`Rule`). A waiver covers failed checks only, never
errors (an org in trouble is not a known finding). :func:`parse_rules` validates the
profile's entries (one-line :class:`~lockstep.config.errors.ConfigError` naming the key); :func:`resolve` gives each
failure its waiver (or the expired one that no longer covers it).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockstep.config.errors import ConfigError
from lockstep.config.schema import check_keys, listed
from lockstep.config.suggest import did_you_mean

__all__ = ["LANDSCAPE", "Rule", "parse_rules", "severity_of"]

LANDSCAPE = "landscape"
_WAIVER_KEYS = ("check", "orgs", "reason", "owner", "expires")
_SEVERITY_KEYS = ("check", "orgs", "level")
_LEVELS = ("warning", "blocker")



@dataclass(frozen=True)
class Rule:
    """One ``waivers:`` or ``severity:`` entry: which checks on which orgs (``None``: every org and
    the landscape), and what it says about them."""

    check: str
    orgs: frozenset[str] | None
    reason: str = ""
    owner: str = ""
    expires: dt.datetime | None = None
    level: str = ""
    written: str = ""  # how the entry names its orgs, for reports

    def matches(self, check: str, org: str | None) -> bool:
        if self.orgs is not None and (org if org is not None else LANDSCAPE) not in self.orgs:
            return False
        name = check.rsplit("::", 1)[-1]
        return self.check in (check, name) or fnmatch.fnmatchcase(check, self.check) or fnmatch.fnmatchcase(
            name, self.check)

    def expired(self, now: dt.datetime) -> bool:
        return self.expires is not None and now > self.expires


def _text(where: str, entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        if key in entry:
            raise ConfigError(f"expected a non-empty string, got {value!r}", key=f"{where}.{key}")
        raise ConfigError(f"missing required key {key!r}", key=where)
    return value.strip()


def _expiry(where: str, value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time.max, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            if len(value.strip()) == 10:
                return dt.datetime.combine(parsed.date(), dt.time.max, tzinfo=dt.UTC)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise ConfigError(f"expected a date (2026-12-15) or an ISO time, got {value!r}", key=where)


def _orgs(where: str, value: Any, orgs: Sequence[Mapping[str, Any]]) -> tuple[frozenset[str] | None, str]:
    """The org names an entry's ``orgs`` selects (plus ``landscape``); ``None`` when it has none."""
    if value is None:
        return None, ""
    terms = [value] if isinstance(value, str) else value
    if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
        raise ConfigError(f"expected a list of org names, globs, tag:X, kind:X or landscape, got {value!r}", key=where)
    chosen: set[str] = set()
    for term in (t.strip() for t in terms):
        if term == LANDSCAPE:
            found = {LANDSCAPE}
        elif term.startswith(("tag:", "kind:")):
            field, wanted = term.split(":", 1)
            found = {o["name"] for o in orgs
                     if (wanted in (o.get("tags") or ()) if field == "tag" else o.get("kind") == wanted)}
        else:
            found = {o["name"] for o in orgs if fnmatch.fnmatchcase(o["name"], term)}
        if not found:
            raise ConfigError(f"{term!r} selects no org of the profile", key=where)
        chosen |= found
    return frozenset(chosen), ", ".join(t.strip() for t in terms)


def parse_rules(key: str, entries: Any, orgs: Sequence[Mapping[str, Any]]) -> tuple[Rule, ...]:
    """Validate the profile's ``waivers:`` (``key`` = "waivers") or ``severity:`` entries."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"expected a list of entries, got {type(entries).__name__}", key=key)
    waiver = key == "waivers"
    allowed = _WAIVER_KEYS if waiver else _SEVERITY_KEYS
    rules = []
    for index, entry in enumerate(entries):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"expected a mapping, got {type(entry).__name__}", key=where)
        check_keys(entry, allowed, where, hint=listed)
        check = _text(where, entry, "check")
        selected, written = _orgs(f"{where}.orgs", entry.get("orgs"), orgs)
        if waiver:
            if "expires" not in entry:
                raise ConfigError("missing required key 'expires' (a waiver without an end is a policy:"
                                         " use severity:)", key=where)
            rules.append(Rule(check, selected, _text(where, entry, "reason"), _text(where, entry, "owner"),
                              _expiry(f"{where}.expires", entry["expires"]), written=written))
        else:
            level = entry.get("level")
            if level not in _LEVELS:
                hint = did_you_mean(str(level), _LEVELS)
                raise ConfigError(f"expected one of {', '.join(_LEVELS)}, got {level!r}{hint}" if "level" in entry
                                  else "missing required key 'level'",
                                  key=f"{where}.level" if "level" in entry else where)
            rules.append(Rule(check, selected, level=str(level), written=written))
    return tuple(rules)


def severity_of(rules: Iterable[Rule], check: str, org: str | None, marked: str) -> str:
    """The severity of ``check`` on ``org``: the last matching ``severity:`` entry, else the marker's."""
    level = marked
    for rule in rules:
        if rule.matches(check, org):
            level = rule.level
    return level
