"""Shape checks for the sections of a state file: each failure is one line naming file and key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lockstep.config.suggest import did_you_mean

__all__ = ["StateError", "check_keys", "expect_list", "expect_mapping", "state_error"]


class StateError(Exception):
    """A state file that cannot be loaded; ``str()`` is one line naming the file and key."""


def state_error(source: Path, key: str, message: str) -> StateError:
    return StateError(f"{source}: {key}: {message}")


def check_keys(source: Path, where: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            prefix = f"{where}." if where else ""
            raise state_error(source, f"{prefix}{key}", f"unknown key{did_you_mean(str(key), known)}")


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
