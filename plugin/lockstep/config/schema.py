"""The one validation toolkit for what users write: allowed and required keys, value types,
and the schema nodes that describe a nested value (an expectation, say).

Every failure is a :class:`~lockstep.config.errors.ConfigError` naming the key path (and,
from the caller, the file and org); an unknown key or value gets the "did you mean" of
:func:`~lockstep.config.suggest.did_you_mean`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from lockstep.config.errors import ConfigError
from lockstep.config.scalars import is_number
from lockstep.config.suggest import did_you_mean

__all__ = ["Anything", "Each", "Either", "Fields", "KeyPath", "ListOf", "Number", "OneOf", "Schema", "Value",
           "check_keys", "check_type", "dotted", "listed", "require", "shown", "type_name"]

T = TypeVar("T")
KeyPath = tuple[Any, ...]  # keys (and list indexes) from the section validated to the value


def dotted(path: KeyPath, prefix: str = "") -> str:
    """``("flows", "Case_Triage", "actve")`` -> ``flows.Case_Triage.actve``; indexes as ``[0]``."""
    text = prefix + "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path)
    return text.removeprefix(".")


def type_name(value: Any) -> str:
    """``mapping``, ``list``, ``string``, ``boolean``, ``null`` or the Python type's name."""
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def shown(value: Any) -> str:
    """A value as a message shows it: ``a mapping``, ``a list``, ``true``, ``'text'``, ``4``."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return repr(value) if isinstance(value, str) else str(value)


def check_keys(data: Mapping[Any, Any], allowed: Iterable[str], where: str = "", *,
               hint: Callable[[tuple[str, ...]], str] | None = None) -> None:
    """Refuse the first key of ``data`` not in ``allowed``: ``where.key: unknown key (did you mean ...)``.
    ``hint`` words the fallback when no allowed key is close (default: nothing)."""
    allowed = tuple(allowed)
    for key in data:
        if not isinstance(key, str) or key not in allowed:
            close = did_you_mean(str(key), allowed) or (hint(allowed) if hint else "")
            raise ConfigError(f"unknown key{close}", key=f"{where}.{key}" if where else str(key))


def listed(allowed: tuple[str, ...]) -> str:
    """The fallback hint of :func:`check_keys` that lists the allowed keys."""
    return f" (allowed: {', '.join(allowed)})"


def require(data: Mapping[Any, Any], keys: Iterable[str], where: str = "", suffix: str = "") -> None:
    """Refuse ``data`` without one of ``keys``: ``where: missing required key 'k'``."""
    for key in keys:
        if key not in data:
            raise ConfigError(f"missing required key {key!r}{suffix}", key=where or None)


def check_type(value: Any, kinds: tuple[type, ...], what: str, where: str) -> None:
    """Refuse ``value`` unless it is one of ``kinds`` (a boolean only when ``bool`` is listed)."""
    if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
        raise ConfigError(f"expected {what}, got {type_name(value)}", key=where)


def _fail(path: KeyPath, problem: str) -> ConfigError:
    return ConfigError(problem, key=dotted(path) or None, keys=path)


class Schema(Generic[T]):
    """One node: ``what`` names the shape in errors; ``check`` raises a ConfigError at ``path``.
    ``T`` is what a check reads (frozen: mappings are read-only, lists are tuples)."""

    what = "a value"
    container: type | tuple[type, ...] | None = None  # Mapping or a list type; None for a plain value

    def fits(self, value: Any) -> bool:
        return isinstance(value, self.container) if self.container else not isinstance(value, (Mapping, list, tuple))

    def check(self, value: Any, path: KeyPath) -> None:
        if not self.fits(value):
            raise _fail(path, f"expected {self.what}, found {shown(value)}")


class Value(Schema[T]):
    """A plain value accepted when ``test(value)`` holds."""

    def __init__(self, what: str, test: Callable[[Any], bool] = lambda value: True) -> None:
        self.what, self.test = what, test

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        if not self.test(value):
            raise _fail(path, f"expected {self.what}, found {shown(value)}")


class Number(Value[float]):
    """A number (or an integer) within optional bounds; the type is named first, then the range."""

    def __init__(self, low: float | None = None, high: float | None = None, *, integer: bool = False) -> None:
        self.noun, self.integer = ("an integer", True) if integer else ("a number", False)
        bounds = "" if low is None else f" from {low:g} to {high:g}" if high is not None else f" of at least {low:g}"
        super().__init__(self.noun + bounds, lambda v: (low is None or v >= low) and (high is None or v <= high))

    def check(self, value: Any, path: KeyPath) -> None:
        if not is_number(value, integer=self.integer):
            raise _fail(path, f"expected {self.noun}, found {shown(value)}")
        super().check(value, path)


class OneOf(Value[str]):
    def __init__(self, *choices: str) -> None:
        super().__init__(f"one of {', '.join(choices)}", lambda value: value in choices)
        self.choices = choices

    def check(self, value: Any, path: KeyPath) -> None:
        if isinstance(value, str) and value not in self.choices:
            hint = did_you_mean(value, self.choices) or f"; expected {self.what}"
            raise _fail(path, f"unknown value {value!r}{hint}")
        super().check(value, path)


class Fields(Schema[Mapping[str, Any]]):
    """A mapping with fixed keys (each with its schema); ``required`` keys must be there."""

    container = Mapping

    def __init__(self, what: str, required: tuple[str, ...] = (), /, **fields: Schema[Any]) -> None:
        self.what, self.required, self.fields = what, required, fields

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        for key, item in value.items():
            if key not in self.fields:
                hint = did_you_mean(str(key), tuple(self.fields)) or f"; keys: {', '.join(self.fields)}"
                raise _fail((*path, key), f"unknown key{hint}")
            if item is not None:
                self.fields[key].check(item, (*path, key))
        for key in self.required:
            if value.get(key) is None:
                raise _fail(path, f"missing required key {key!r}")


class Each(Schema[Mapping[str, T]]):
    """A mapping of names the user chooses (flow names, systems, ...) to values of one schema."""

    container = Mapping

    def __init__(self, what: str, item: Schema[T], key: Value[str] | None = None) -> None:
        self.what, self.item, self.key = what, item, key

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        for key, item in value.items():
            if self.key is not None:
                self.key.check(key, (*path, key))
            if item is not None:
                self.item.check(item, (*path, key))


def _plural(what: str) -> str:
    """``a string`` -> ``strings``, ``an integer`` -> ``integers``; longer descriptions as ``items,
    each <description>``: the items a list holds."""
    noun = what.removeprefix("an ").removeprefix("a ")
    return f"{noun}s" if noun != what and noun.isalpha() else f"items, each {what}"


class ListOf(Schema[tuple[T, ...]]):
    """A list (a tuple once the profile is frozen) of values of one schema."""

    container = (list, tuple)

    def __init__(self, item: Schema[T], what: str | None = None) -> None:
        self.item, self.what = item, what or f"a list of {_plural(item.what)}"

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        for index, item in enumerate(value):
            self.item.check(item, (*path, index))


class Anything(Schema[Any]):
    what = "anything"

    def fits(self, value: Any) -> bool:
        return True


class Either(Schema[Any]):
    """The first alternative whose kind (plain value, mapping, list) fits the value decides."""

    def __init__(self, *options: Schema[Any]) -> None:
        self.options, self.what = options, " or ".join(option.what for option in options)

    def fits(self, value: Any) -> bool:
        return any(option.fits(value) for option in self.options)

    def check(self, value: Any, path: KeyPath) -> None:
        super().check(value, path)
        next(option for option in self.options if option.fits(value)).check(value, path)
