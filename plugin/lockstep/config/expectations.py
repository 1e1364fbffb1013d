"""The expectations the check catalog reads, as a schema validated when a profile loads.

Every key a file in ``checks/`` reads from ``org.expect`` has one entry in :data:`CATALOG`
with the shapes that check accepts, so a typo (``packges``, ``actve``) or a wrong value
(``version: "abc"``, ``min_remaining_percent: "ten"``) stops the run before any API call
instead of silently turning a check off. A top-level key close to a catalog key is refused
with a suggestion; any other unknown top-level key is the user's own, for their own checks.
A null value anywhere means "not declared" (null removes an expectation when merging).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from lockstep.config.scalars import api_version, is_number
from lockstep.config.suggest import did_you_mean
from lockstep.helpers.versions import parse_version

__all__ = ["CATALOG", "ExpectationError", "dotted", "validate_expect"]

CUSTOM_KEY_CUTOFF = 0.85
# Keys that belong elsewhere in a profile: inside expect they would silently do nothing.
MISPLACED = {
    **dict.fromkeys(("release", "windows", "freezes", "upstream", "orgs", "emulator", "extends"),
                    "at the top level of the profile"),
    **dict.fromkeys(("auth", "allow_writes", "timeout", "deadline", "kind", "tags"),
                    "in the org's entry, beside expect"),
}
OBJECT_RIGHTS = ("read", "create", "edit", "delete", "view_all", "modify_all")
FIELD_RIGHTS = ("read", "edit")
DRIFT_CATEGORIES = ("packages", "permission_sets", "flows", "apex_triggers", "validation_rules")
ORG_TYPES = ("Production", "Sandbox")  # PackageSubscriber.OrgType and OrgStatus picklists
ORG_STATUSES = ("Active", "Demo", "Free", "Inactive", "Trial")
CRON_STATES = ("WAITING", "ACQUIRED", "EXECUTING", "COMPLETE", "ERROR", "DELETED", "PAUSED", "BLOCKED",
               "PAUSED_BLOCKED")
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")
_URL = re.compile(r"^https?://[^/\s]+")
_EMULATOR_URL = "${emulator.url}"


KeyPath = tuple[Any, ...]  # keys (and list indexes) from the expect section to the value


class ExpectationError(Exception):
    """A mistake in an ``expect:`` section: ``path`` leads to it, ``problem`` is one line."""

    def __init__(self, path: KeyPath, problem: str) -> None:
        super().__init__(f"{dotted(path)}: {problem}")
        self.path, self.problem = path, problem


def dotted(path: KeyPath, prefix: str = "expect") -> str:
    """``("flows", "Case_Triage", "actve")`` -> ``expect.flows.Case_Triage.actve``; indexes as ``[0]``."""
    return prefix + "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path)


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return repr(value) if isinstance(value, str) else str(value)


class Schema:
    """One node of the schema: ``what`` names the shape in errors; ``check`` raises ExpectationError."""

    what = "a value"
    container: type | None = None  # Mapping or list for containers; None for a plain value

    def fits(self, value: Any) -> bool:
        return isinstance(value, self.container) if self.container else not isinstance(value, (Mapping, list))

    def check(self, value: Any, path: KeyPath) -> None:
        if not self.fits(value):
            raise ExpectationError(path, f"expected {self.what}, found {_shown(value)}")


class Value(Schema):
    """A plain value accepted when ``test(value)`` holds."""

    def __init__(self, what: str, test: Callable[[Any], bool] = lambda value: True) -> None:
        self.what, self.test = what, test

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        if not self.test(value):
            raise ExpectationError(path, f"expected {self.what}, found {_shown(value)}")


class Number(Value):
    """A number (or an integer) within optional bounds; the type is named first, then the range."""

    def __init__(self, low: float | None = None, high: float | None = None, *, integer: bool = False) -> None:
        self.noun, self.integer = ("an integer", True) if integer else ("a number", False)
        bounds = "" if low is None else f" from {low:g} to {high:g}" if high is not None else f" of at least {low:g}"
        super().__init__(self.noun + bounds, lambda v: (low is None or v >= low) and (high is None or v <= high))

    def check(self, value: Any, path: KeyPath) -> None:
        if not is_number(value, integer=self.integer):
            raise ExpectationError(path, f"expected {self.noun}, found {_shown(value)}")
        super().check(value, path)


class OneOf(Value):
    def __init__(self, *choices: str) -> None:
        super().__init__(f"one of {', '.join(choices)}", lambda value: value in choices)
        self.choices = choices

    def check(self, value: Any, path: KeyPath) -> None:
        if isinstance(value, str) and value not in self.choices:
            hint = did_you_mean(value, self.choices) or f"; expected {self.what}"
            raise ExpectationError(path, f"unknown value {value!r}{hint}")
        super().check(value, path)


class Fields(Schema):
    """A mapping with fixed keys (each with its schema); ``required`` keys must be there."""

    container = Mapping

    def __init__(self, what: str, required: tuple[str, ...] = (), **fields: Schema) -> None:
        self.what, self.required, self.fields = what, required, fields

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        for key, item in value.items():
            if key not in self.fields:
                hint = did_you_mean(str(key), tuple(self.fields)) or f"; keys: {', '.join(self.fields)}"
                raise ExpectationError((*path, key), f"unknown key{hint}")
            if item is not None:
                self.fields[key].check(item, (*path, key))
        for key in self.required:
            if value.get(key) is None:
                raise ExpectationError(path, f"missing required key {key!r}")


class Each(Schema):
    """A mapping of names the user chooses (flow names, systems, ...) to values of one schema."""

    container = Mapping

    def __init__(self, what: str, item: Schema, key: Value | None = None) -> None:
        self.what, self.item, self.key = what, item, key

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        for key, item in value.items():
            if self.key is not None:
                self.key.check(key, (*path, key))
            if item is not None:
                self.item.check(item, (*path, key))


class ListOf(Schema):
    container = list

    def __init__(self, item: Schema, what: str = "a list of strings") -> None:
        self.item, self.what = item, what

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        for index, item in enumerate(value):
            self.item.check(item, (*path, index))


class Anything(Schema):
    what = "anything"

    def fits(self, value: Any) -> bool:
        return True


class Either(Schema):
    """The first alternative whose kind (plain value, mapping, list) fits the value decides."""

    def __init__(self, *options: Schema) -> None:
        self.options, self.what = options, " or ".join(option.what for option in options)

    def fits(self, value: Any) -> bool:
        return any(option.fits(value) for option in self.options)

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        next(option for option in self.options if option.fits(value)).check(value, path)


def _is_version(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    try:
        parse_version(value)
    except ValueError:
        return False
    return True


def _is_moment(value: Any) -> bool:
    if isinstance(value, (dt.date, dt.datetime)):
        return True
    try:
        dt.datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def _is_probe_url(value: Any) -> bool:
    """An http(s) URL, or one below ``${emulator.url}``: the emulator serving the profile."""
    return _is_url(value) or (isinstance(value, str) and value.startswith(_EMULATOR_URL))


BOOL = Value("true or false", lambda value: isinstance(value, bool))
TEXT = Value("a string", lambda value: isinstance(value, str) and bool(value.strip()))
SCALAR = Value("a plain value (text, number, true/false)")
VERSION = Value('a version string like "2.5.0.1" (quoted)', _is_version)
VERSION_RULE = Fields("a version rule", version=VERSION, min_version=VERSION, max_version=VERSION)
URL = Value("an http(s) URL", _is_url)
PROBE_URL = Value("an http(s) URL (or ${emulator.url}/...)", _is_probe_url)
API_NAME = Value("an object or field API name like Case or Account.Rating",
                 lambda value: isinstance(value, str) and bool(_API_NAME.match(value)))
FIELD_VALUES = Each("a mapping of field API name -> value", SCALAR, key=API_NAME)
JSON_FIELDS = Each("a mapping of dotted JSON path -> expected value", Anything())
ACTIVE = Either(BOOL, Fields("a mapping like {active: true}", active=BOOL))


def _access(rights: tuple[str, ...]) -> Schema:
    """At least the listed rights, or each right stated exactly: ``{read: true, delete: false}``."""
    names = ", ".join(rights)
    return Either(ListOf(OneOf(*rights), f"a list of rights ({names})"),
                  Fields(f"a mapping of right -> true/false ({names})", **dict.fromkeys(rights, BOOL)))


GRANTS = Fields("a mapping with objects and/or fields",
                objects=Each("a mapping of object -> rights", _access(OBJECT_RIGHTS)),
                fields=Each("a mapping of Object.Field -> rights", _access(FIELD_RIGHTS)))

#: Every expectation key the catalog reads, with the shapes its checks accept.
CATALOG: dict[str, Schema] = {
    # checks/test_packages.py
    "packages": Each("a mapping of package namespace (or name) -> version rule", Either(
        VERSION, Fields("a version rule", **VERSION_RULE.fields, before=Either(VERSION, VERSION_RULE)))),
    "package_fleet": Each("a mapping of package namespace -> fleet policy", Fields(
        "a fleet policy", ("target",), target=VERSION, max_lagging_percent=Number(0, 100),
        max_lagging=Number(0, integer=True))),
    # checks/test_fleet.py (read on orgs of kind packaging)
    "fleet": Fields(
        "a fleet (package, target, lag budget, which subscribers count)", ("package", "target"),
        package=TEXT, target=VERSION, max_lagging_percent=Number(0, 100), max_lagging=Number(0, integer=True),
        org_types=ListOf(OneOf(*ORG_TYPES), "a list of org types (Production, Sandbox)"),
        statuses=ListOf(OneOf(*ORG_STATUSES), "a list of org statuses (Active, Demo, Free, Inactive, Trial)"),
        instances=ListOf(TEXT), only=ListOf(TEXT, "a list of org keys or names"),
        exclude=ListOf(TEXT, "a list of org keys or names"), push_grace_minutes=Number(0)),
    # checks/test_permissions.py
    "permission_sets": Each("a mapping of permission set -> access", GRANTS),
    "profiles": Each("a mapping of profile name -> access", GRANTS),
    "permission_assignments": Each("a mapping of permission set -> usernames", ListOf(TEXT)),
    "restricted_permissions": Each("a mapping of system permission -> allowed holders", ListOf(TEXT)),
    # checks/test_automation.py
    "flows": Each("a mapping of flow API name -> state", Either(
        BOOL, Fields("a mapping like {active: true, version: 4}", active=BOOL, version=Number(1, integer=True)))),
    "apex_triggers": Each("a mapping of trigger name -> state", ACTIVE),
    "validation_rules": Each("a mapping of Object.RuleName -> state", ACTIVE),
    "scheduled_jobs": Each("a mapping of scheduled job name -> state", Fields(
        "a mapping like {state: WAITING}",
        state=Either(OneOf(*CRON_STATES), ListOf(OneOf(*CRON_STATES), "a list of states")))),
    "scheduled_job_grace_minutes": Number(0),
    "deployed_at": Value("an ISO-8601 time like 2026-11-26T04:00:00+00:00", _is_moment),
    # checks/test_drift.py
    "drift": Fields("a mapping with baseline, orgs, compare, ignore", baseline=TEXT, orgs=ListOf(TEXT),
                    compare=ListOf(OneOf(*DRIFT_CATEGORIES), "a list of categories"), ignore=ListOf(TEXT)),
    # checks/test_integrations.py
    "environment": TEXT,
    "endpoints": Each("a mapping of system -> URL per environment", Each("a mapping of environment -> URL", URL)),
    "probes": Each("a mapping of probe name -> probe", Fields(
        "a probe", ("url",), url=Either(PROBE_URL, Each("a mapping of environment -> URL", PROBE_URL)),
        status=Number(100, 599, integer=True), max_latency_ms=Number(0), min_cert_days=Number(0),
        json=JSON_FIELDS, timeout_s=Number(0.1, 30), ca_file=TEXT)),
    "event_subscribers": ListOf(TEXT),
    # checks/test_critical_processes.py
    "business_data": Each("a mapping of name -> record count", Fields(
        "a record count", ("object",), object=API_NAME, where=FIELD_VALUES, within_days=Number(1, integer=True),
        min=Number(0, integer=True), max=Number(0, integer=True))),
    "apex_health": Each("a mapping of name -> Apex REST endpoint", Fields(
        "an Apex REST endpoint", ("path",), path=TEXT, json=JSON_FIELDS)),
    "record_automation": Each("a mapping of name -> record to create", Fields(
        "a record to create", ("object",), object=API_NAME, create=FIELD_VALUES, expect=FIELD_VALUES)),
    # checks/test_readiness.py
    "api_headroom": Fields("a mapping with min_remaining_percent and/or min_remaining",
                           min_remaining_percent=Number(0, 100), min_remaining=Number(0, integer=True)),
    "production_api_version": Value('an API version like "62.0"', lambda value: api_version(value) is not None),
}


def validate_expect(expect: Mapping[str, Any], *, emulator: bool = False) -> None:
    """Raise :class:`ExpectationError` for the first mistake in ``expect``; unknown keys far from
    every catalog key are custom expectations, left to the user's own checks. ``emulator``: the
    profile is served by the emulator, so probe URLs may use ``${emulator.url}``."""
    for key, value in expect.items():
        schema = CATALOG.get(key)
        if key in MISPLACED:
            raise ExpectationError((key,), f"not an expectation: '{key}' belongs {MISPLACED[key]}")
        if schema is None:
            close = did_you_mean(str(key), tuple(CATALOG), CUSTOM_KEY_CUTOFF)
            if close:
                raise ExpectationError((key,), f"unknown key{close}")
        elif value is not None:
            schema.check(value, (key,))
    for name, probe in (expect.get("probes") or {}).items():
        url = probe.get("url") if isinstance(probe, Mapping) else None
        for environment, text in (url.items() if isinstance(url, Mapping) else [(None, url)]):
            if not emulator and isinstance(text, str) and text.startswith(_EMULATOR_URL):
                path = ("probes", name, "url") + ((environment,) if environment is not None else ())
                raise ExpectationError(path, f"{_EMULATOR_URL} needs a profile served by the emulator "
                                             "(emulator: <state folder>)")
