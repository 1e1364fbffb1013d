"""Per-org fault settings and the seeded dice that decide which calls fail."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from lockstep.config.errors import ConfigError
from lockstep.config.suggest import did_you_mean

__all__ = ["FaultDice", "Faults"]

Outcome = Literal["ok", "error", "drop"]


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    drop_rate: float = 0.0
    session_ttl_calls: int | None = None
    request_limit_exceeded: bool = False
    down: bool = False
    seed: int = 0

    def merged(self, patch: Mapping[str, Any]) -> Faults:
        """A copy with the keys of ``patch`` applied, validated like a state file."""
        known = {f.name for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in patch.items():
            if key not in known:
                hint = did_you_mean(str(key), known) or f" (known: {', '.join(sorted(known))})"
                raise ConfigError(f"unknown fault{hint}", key=f"faults.{key}")
            changes[key] = _coerce(key, value)
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(key: str, value: Any) -> Any:
    def fail(expected: str) -> ConfigError:
        return ConfigError(f"expected {expected}, got {value!r}", key=f"faults.{key}")

    if key in ("latency_ms", "seed"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail("a non-negative integer")
        return value
    if key == "session_ttl_calls":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail("a non-negative integer or null")
        return value
    if key in ("error_rate", "drop_rate"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise fail("a number between 0 and 1")
        return float(value)
    if key == "error_status":
        if value not in (500, 503):
            raise fail("500 or 503")
        return int(value)
    if not isinstance(value, bool):
        raise fail("true or false")
    return value


class FaultDice:
    """The seeded random source of one org: the same seed gives the same failures."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def roll(self, faults: Faults) -> Outcome:
        if faults.drop_rate <= 0 and faults.error_rate <= 0:
            return "ok"
        value = self._random.random()
        if value < faults.drop_rate:
            return "drop"
        if value < faults.drop_rate + faults.error_rate:
            return "error"
        return "ok"
