"""Expectation keys, declared next to the check that reads them, validated when a profile is used.

A check file declares each ``expect:`` key it reads at module level, the way it declares a
fixture::

    FLOWS = expectation("flows", Each("a mapping of flow API name -> state", ACTIVE))

    def test_flows_active(org):
        expected = FLOWS.of(org)        # the org's value (typed by the schema), or None

The plugin finds the declarations of every collected check file (and always knows the
built-in catalog's), and validates every org's ``expect:`` before the first check: a wrong
value (``version: "abc"``) or a key declared nowhere (``packges``) is a one-line
:class:`~lockstep.config.errors.ConfigError` naming the file, the org and the key. Without a
pytest collection (``lockstep expect``, ``lockstep snapshot``, :func:`load_profile`), the
built-in catalog's declarations validate, and a key close to one of them is refused as a typo.
A null value anywhere means "not declared" (null removes an expectation when merging).
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar

from lockstep.config.errors import ConfigError
from lockstep.config.scalars import api_version
from lockstep.config.schema import Anything, Each, Either, Fields, ListOf, Number, OneOf, Schema, Value
from lockstep.config.suggest import did_you_mean
from lockstep.helpers.versions import parse_version

__all__ = [
    "ACTIVE",
    "API_NAME",
    "API_VERSION",
    "BOOL",
    "EMULATOR_URL",
    "FIELD_VALUES",
    "JSON_FIELDS",
    "MOMENT",
    "PROBE_URL",
    "SCALAR",
    "TEXT",
    "URL",
    "VERSION",
    "VERSION_RULE",
    "Anything",
    "Each",
    "Either",
    "Expectation",
    "Fields",
    "Known",
    "ListOf",
    "Number",
    "OneOf",
    "Schema",
    "Value",
    "builtin_expectations",
    "declared_in",
    "expectation",
    "known",
    "validate_expect",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
CUSTOM_KEY_CUTOFF = 0.85  # without a collection: an undeclared key this close to a known one is a typo
# Keys that belong elsewhere in a profile: inside expect they would silently do nothing.
MISPLACED = {
    **dict.fromkeys(("release", "windows", "freezes", "upstream", "orgs", "emulator", "extends"),
                    "at the top level of the profile"),
    **dict.fromkeys(("auth", "allow_writes", "timeout", "deadline", "kind", "tags"),
                    "in the org's entry, beside expect"),
}
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")
_URL = re.compile(r"^https?://[^/\s]+")
EMULATOR_URL = "${emulator.url}"  # a probe URL on the profile's emulator
_CATALOG = "lockstep.catalog"


class _HasExpect(Protocol):
    @property
    def expect(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, eq=False)
class Expectation(Generic[T]):
    """One ``expect:`` key a check reads: its name, its schema and where it is declared."""

    key: str
    schema: Schema[T]
    origin: str  # file:line of the declaration, to tell one declaration imported twice from two

    def of(self, org: _HasExpect) -> T | None:
        """The org's value of this key (frozen: read-only mappings, tuples), or None when undeclared."""
        value: T | None = org.expect.get(self.key)
        return value


def expectation(key: str, schema: Schema[T]) -> Expectation[T]:
    """Declare that the check file reads ``expect.<key>``, shaped as ``schema``."""
    frame = inspect.stack(context=0)[1]
    return Expectation(key, schema, f"{frame.filename}:{frame.lineno}")


def declared_in(module: ModuleType) -> list[Expectation[Any]]:
    """The expectations a module declares (or imports from the module that declares them)."""
    return [value for value in vars(module).values() if isinstance(value, Expectation)]


Known = Mapping[str, Sequence[Expectation[Any]]]  # key -> its declarations


def known(declarations: Iterable[Expectation[Any]]) -> dict[str, tuple[Expectation[Any], ...]]:
    """Key -> its declarations. One declaration seen twice (imported, or a file imported under two
    module names) counts once; a key two check files declare (a copied or replaced built-in
    check) must fit both."""
    found: dict[str, dict[str, Expectation[Any]]] = {}
    for item in declarations:
        found.setdefault(item.key, {}).setdefault(item.origin, item)
    return {key: tuple(items.values()) for key, items in found.items()}


@cache
def builtin_expectations() -> tuple[Expectation[Any], ...]:
    """The declarations of the built-in check catalog (imported once; it needs pytest)."""
    package = importlib.import_module(_CATALOG)
    modules = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.name.startswith("test_"))
    return tuple(item for name in modules for item in declared_in(importlib.import_module(f"{_CATALOG}.{name}")))


def validate_expect(expect: Mapping[str, Any], declarations: Known | None = None, *,
                    emulator: bool = False, complete: bool = False) -> None:
    """Raise a :class:`ConfigError` (key ``expect...``) for the first mistake in ``expect``.

    ``declarations``: the keys known (default: the built-in catalog's). ``complete``: they are
    every key the run's checks read, so any other key is refused; otherwise only a key close to
    a known one is (a typo), and the rest is left to checks not seen here. ``emulator``: the
    profile is served by the emulator, so probe URLs may use ``${emulator.url}``."""
    declared = known(builtin_expectations()) if declarations is None else declarations
    try:
        for key, value in expect.items():
            if key in MISPLACED:
                raise ConfigError(f"not an expectation: '{key}' belongs {MISPLACED[key]}", key=key, keys=(key,))
            if not isinstance(key, str):  # `true:`, `~:` or a number: never a key a check declares
                raise ConfigError(f"unknown key{did_you_mean(str(key), declared)}", key=str(key), keys=(key,))
            if key not in declared:
                _undeclared(key, declared, complete)
            elif value is not None:
                for item in declared[key]:
                    item.schema.check(value, (key,))
        if not emulator:
            _no_emulator_url(expect)
    except ConfigError as exc:
        raise exc.at(key="expect") from None


def _undeclared(key: str, declared: Known, complete: bool) -> None:
    close = did_you_mean(key, declared, 0.6 if complete else CUSTOM_KEY_CUTOFF)
    if close or complete:
        hint = close or "; no collected check file declares it (expectation(...) next to the check that reads it)"
        raise ConfigError(f"unknown key{hint}", key=key, keys=(key,))


def _no_emulator_url(expect: Mapping[str, Any]) -> None:
    for name, probe in (expect.get("probes") or {}).items():
        url = probe.get("url") if isinstance(probe, Mapping) else None
        for environment, text in (url.items() if isinstance(url, Mapping) else [(None, url)]):
            if isinstance(text, str) and text.startswith(EMULATOR_URL):
                path = ("probes", name, "url") + ((environment,) if environment is not None else ())
                raise ConfigError(f"{EMULATOR_URL} needs a profile served by the emulator (emulator: <state folder>)",
                                  key=".".join(str(part) for part in path), keys=path)


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
    return _is_url(value) or (isinstance(value, str) and value.startswith(EMULATOR_URL))


# Value shapes the catalog's declarations share; a team's check file may use them too.
BOOL: Value[bool] = Value("true or false", lambda value: isinstance(value, bool))
TEXT: Value[str] = Value("a string", lambda value: isinstance(value, str) and bool(value.strip()))
SCALAR: Value[Any] = Value("a plain value (text, number, true/false)")
VERSION: Value[str] = Value('a version string like "2.5.0.1" (quoted)', _is_version)
VERSION_RULE = Fields("a version rule", version=VERSION, min_version=VERSION, max_version=VERSION)
URL: Value[str] = Value("an http(s) URL", _is_url)
PROBE_URL: Value[str] = Value("an http(s) URL (or ${emulator.url}/...)", _is_probe_url)
API_NAME: Value[str] = Value("an object or field API name like Case or Account.Rating",
                             lambda value: isinstance(value, str) and bool(_API_NAME.match(value)))
API_VERSION: Value[str] = Value('an API version like "62.0"', lambda value: api_version(value) is not None)
MOMENT: Value[Any] = Value("an ISO-8601 time like 2026-11-26T04:00:00+00:00", _is_moment)
FIELD_VALUES = Each("a mapping of field API name -> value", SCALAR, key=API_NAME)
JSON_FIELDS = Each("a mapping of dotted JSON path -> expected value", Anything())
ACTIVE = Either(BOOL, Fields("a mapping like {active: true}", active=BOOL))
