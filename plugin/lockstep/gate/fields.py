"""Reading a gate file's JSON field by field: each reader returns the value or raises
:class:`Bad`, whose message starts with the field's path (``orgs.qa.counts.passed``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = [
    "Bad", "member", "read_count", "read_each", "read_flag", "read_names", "read_obj", "read_one_of", "read_status",
    "read_text", "type_name",
]

T = TypeVar("T")


class Bad(Exception):
    """A field that is not what a gate holds: ``problem`` starts with the field's path."""


def type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def read_obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise Bad(f"{where}: expected an object, found {type_name(value)}")
    return value


def member(data: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in data:
        raise Bad(f"{where + ': ' if where else ''}missing key {name!r}")
    return data[name]


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def read_text(data: Mapping[str, Any], key: str, where: str = "", *, null: bool = False) -> Any:
    value = member(data, key, where)
    if isinstance(value, str) or (null and value is None):
        return value
    raise Bad(f"{_at(where, key)}: expected a string{' or null' if null else ''}, found {type_name(value)}")


def read_count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Bad(f"{where}: expected a count, found {value!r}")
    return value


def read_status(data: Mapping[str, Any], key: str, where: str = "") -> int | None:
    value = member(data, key, where)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise Bad(f"{_at(where, key)}: expected an integer or null, found {type_name(value)}")


def read_flag(data: Mapping[str, Any], key: str, where: str = "") -> bool:
    value = member(data, key, where)
    if not isinstance(value, bool):
        raise Bad(f"{_at(where, key)}: expected a boolean, found {type_name(value)}")
    return value


def read_names(data: Mapping[str, Any], key: str, where: str, what: str = "strings") -> tuple[str, ...]:
    value = member(data, key, where)
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise Bad(f"{_at(where, key)}: expected a list of {what}")
    return tuple(value)


def read_one_of(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise Bad(f"{where}: expected {' or '.join(allowed)}, found {value!r}")
    return str(value)


def read_each(value: Any, where: str, read: Callable[[Any, str], T]) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise Bad(f"{where}: expected a list, found {type_name(value)}")
    return tuple(read(item, f"{where}[{index}]") for index, item in enumerate(value))
