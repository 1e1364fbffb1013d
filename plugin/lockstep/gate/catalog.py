"""The gate's ``catalog`` entry: which checks a run collected -- the built-in catalog's files
and hash, the team's own check files and hash, and what the team left out or replaced
(:mod:`lockstep.session.collection` records it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lockstep.gate.fields import Bad, member, read_names, read_obj

__all__ = ["CatalogRecord"]


def _text_or_null(data: Any, key: str, where: str) -> str | None:
    value = member(data, key, where)
    if value is None or isinstance(value, str):
        return value
    raise Bad(f"{where}.{key}: expected a string or null, found {value!r}")


@dataclass(frozen=True)
class CatalogRecord:
    lockstep_version: str | None
    builtin: str | None  # "builtin" or "none" (the ini option lockstep_catalog)
    builtin_files: tuple[str, ...]
    builtin_sha256: str | None
    own_files: tuple[str, ...]
    own_sha256: str | None
    left_out: tuple[str, ...] = ()
    replaced: tuple[tuple[str, str], ...] = ()  # (built-in check, the team's check replacing it)

    def to_json(self) -> dict[str, Any]:
        return {"lockstep_version": self.lockstep_version, "builtin": self.builtin,
                "builtin_files": list(self.builtin_files), "builtin_sha256": self.builtin_sha256,
                "own_files": list(self.own_files), "own_sha256": self.own_sha256, "left_out": list(self.left_out),
                "replaced": [{"check": check, "by": by} for check, by in self.replaced]}

    @classmethod
    def from_json(cls, data: Any, where: str = "catalog") -> CatalogRecord:
        data = read_obj(data, where)
        replaced = member(data, "replaced", where)
        if not isinstance(replaced, list) or not all(
                isinstance(r, dict) and isinstance(r.get("check"), str) and isinstance(r.get("by"), str)
                for r in replaced):
            raise Bad(f"{where}.replaced: expected a list of objects with check and by strings")
        return cls(
            lockstep_version=_text_or_null(data, "lockstep_version", where),
            builtin=_text_or_null(data, "builtin", where),
            builtin_files=read_names(data, "builtin_files", where),
            builtin_sha256=_text_or_null(data, "builtin_sha256", where),
            own_files=read_names(data, "own_files", where), own_sha256=_text_or_null(data, "own_sha256", where),
            left_out=read_names(data, "left_out", where),
            replaced=tuple((r["check"], r["by"]) for r in replaced))

    def line(self) -> str:
        """The record in one line, as ``lockstep gate show`` prints it."""
        def files(names: tuple[str, ...], digest: str | None) -> str:
            count = len(names)
            return f"{count} file{'s' if count != 1 else ''}, sha256 {digest[:12]}" if digest else "none"

        builtin, own = files(self.builtin_files, self.builtin_sha256), files(self.own_files, self.own_sha256)
        line = f"lockstep {self.lockstep_version or '?'}, built-in ({builtin}), own checks ({own})"
        if self.left_out:
            line += f", left out: {', '.join(self.left_out)}"
        if self.replaced:
            line += f", replaced: {', '.join(check + ' by ' + by for check, by in self.replaced)}"
        return line
