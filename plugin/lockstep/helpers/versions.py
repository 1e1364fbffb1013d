"""Package version numbers (major.minor.patch.build) and the rules profiles state about them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Version", "VersionRule", "parse_version"]


class Version(tuple[int, int, int, int]):
    """A package version; missing parts count as 0, so "2.5" == "2.5.0.0"."""

    def __str__(self) -> str:
        return ".".join(str(part) for part in self)


def parse_version(text: object) -> Version:
    parts = str(text).strip().split(".")
    if not 1 <= len(parts) <= 4 or not all(part.isdigit() for part in parts):
        raise ValueError(f"not a package version (major.minor.patch.build): {text!r}")
    numbers = [int(part) for part in parts] + [0] * (4 - len(parts))
    return Version(numbers)


class VersionRule:
    """`{version: X}` (exact), `{min_version: X}`, `{max_version: Y}` or both (a range)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        unknown = set(spec) - {"version", "min_version", "max_version"}
        if unknown:
            raise ValueError(f"unknown version rule key(s): {', '.join(sorted(unknown))}")
        self.exact = parse_version(spec["version"]) if spec.get("version") else None
        self.minimum = parse_version(spec["min_version"]) if spec.get("min_version") else None
        self.maximum = parse_version(spec["max_version"]) if spec.get("max_version") else None

    def accepts(self, version: Version) -> bool:
        if self.exact is not None and version != self.exact:
            return False
        if self.minimum is not None and version < self.minimum:
            return False
        return self.maximum is None or version <= self.maximum

    def __str__(self) -> str:
        if self.exact is not None:
            return str(self.exact)
        bounds = []
        if self.minimum is not None:
            bounds.append(f">= {self.minimum}")
        if self.maximum is not None:
            bounds.append(f"<= {self.maximum}")
        return ", ".join(bounds) or "any version"
