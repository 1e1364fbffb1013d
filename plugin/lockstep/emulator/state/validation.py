"""Shape checks for the sections of a state file: each failure is a one-line
:class:`~lockstep.config.errors.ConfigError` naming file and key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lockstep.config import schema
from lockstep.config.errors import ConfigError

__all__ = ["check_keys", "expect_list", "expect_mapping", "state_error"]


def state_error(source: Path, key: str, message: str) -> ConfigError:
    return ConfigError(message, file=str(source), key=key)


def check_keys(source: Path, where: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
    try:
        schema.check_keys(data, known, where)
    except ConfigError as exc:
        raise exc.at(file=str(source)) from None


def expect_mapping(source: Path, key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise state_error(source, key, f"expected a mapping, got {type(value).__name__}")
    return value


def expect_list(source: Path, key: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise state_error(source, key, f"expected a list, got {type(value).__name__}")
    return value
