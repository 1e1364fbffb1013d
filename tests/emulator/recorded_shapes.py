"""Shape comparison of a JSON response with a recorded Salesforce response."""

from __future__ import annotations

from typing import Any

__all__ = ["shape_mismatches"]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_mismatches(actual: Any, recorded: Any, where: str = "$", *,
                     extra_keys_ok: frozenset[str] = frozenset()) -> list[str]:
    """Differences in key sets and JSON value types, recursively; null is compatible with any type.

    Lists: every element of ``actual`` must have the shape of at least one recorded element.
    ``extra_keys_ok`` names paths (like ``$``) where ``actual`` may carry keys the recording lacks.
    """
    kinds = (_kind(actual), _kind(recorded))
    if "null" in kinds:
        return []
    if kinds[0] != kinds[1]:
        return [f"{where}: {kinds[0]} instead of {kinds[1]}"]
    if isinstance(recorded, dict):
        problems = []
        missing = sorted(set(recorded) - set(actual))
        extra = sorted(set(actual) - set(recorded))
        if missing:
            problems.append(f"{where}: missing keys {missing}")
        if extra and where not in extra_keys_ok:
            problems.append(f"{where}: unexpected keys {extra}")
        for key in sorted(set(recorded) & set(actual)):
            problems += shape_mismatches(actual[key], recorded[key], f"{where}.{key}", extra_keys_ok=extra_keys_ok)
        return problems
    if isinstance(recorded, list):
        if not actual and recorded:
            return [f"{where}: empty array where the recording has elements"]
        if not recorded:
            return []
        problems = []
        for index, item in enumerate(actual):
            options = [shape_mismatches(item, candidate, f"{where}[{index}]",
                                        extra_keys_ok=extra_keys_ok) for candidate in recorded]
            best = min(options, key=len)
            problems += best
        return problems
    return []
