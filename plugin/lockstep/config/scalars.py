"""Numbers and API versions written in a profile: one rule for each, used by every key.

A number is an int or a float that is finite: ``.nan`` and ``.inf`` parse as floats in YAML,
and a NaN compares false with everything, so a bound like ``timeout > 0`` would let it
through and turn the limit off. Booleans are not numbers. An API version is ``NN.0``.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["API_VERSIONS", "api_version", "is_number", "seconds_problem"]

API_VERSIONS = (20, 99)  # the lowest and highest major API version accepted
_API_VERSION = re.compile(r"(\d{2})\.0")


def is_number(value: Any, *, integer: bool = False) -> bool:
    """A finite int or float (an int when ``integer``); never a boolean, NaN or an infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float) if not integer else int):
        return False
    return math.isfinite(value)


def seconds_problem(value: Any, limit: float, unit: str = "seconds") -> str | None:
    """Why ``value`` is not a positive number of ``unit`` up to ``limit`` (None when it is one)."""
    if is_number(value) and 0 < value <= limit:
        return None
    return f"expected a positive number of {unit} up to {limit:g}, got {value!r}"


def api_version(value: Any) -> str | None:
    """``62``, ``62.0`` or ``"62.0"`` -> ``"62.0"``; None for anything else (``abc``, ``62.5``, ``v62.0``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = f"{value}.0"
    elif isinstance(value, float):
        text = f"{value:.1f}" if math.isfinite(value) and value == int(value) else ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    match = _API_VERSION.fullmatch(text)
    if match is None or not API_VERSIONS[0] <= int(match[1]) <= API_VERSIONS[1]:
        return None
    return text
