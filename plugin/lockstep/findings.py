"""The findings of a gate as people read them, the same on every output (terminal, ``gate
show``, Markdown, step summary): landscape first, then the orgs that are no-go, each finding
one line with its reason; the same reason on many orgs collapsed into one line naming how
many and the first few; the orgs with nothing to say summarized in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Line", "finding_lines", "org_reason_summary", "passing_orgs", "waiver_lines"]

_KINDS = ("failed", "errors", "warnings", "waived")
_LABEL = {"failed": "", "errors": " (error)", "warnings": " (warning, does not block)", "waived": " (waived)"}
FEW = 3


@dataclass(frozen=True)
class Line:
    text: str
    kind: str  # failed | errors | warnings | waived | stale


def _names(names: list[str], few: int = FEW) -> str:
    shown = ", ".join(names[:few])
    return shown + (f" and {len(names) - few} more" if len(names) > few else "")


def _without_org(reason: str, org: str) -> str:
    return reason[len(org) + 2:] if reason.startswith(f"{org}: ") else reason


def _checks(items: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Reason -> short names of the checks that failed for it (an org in trouble fails many)."""
    by_reason: dict[str, list[str]] = {}
    for item in items:
        by_reason.setdefault(str(item.get("reason", "")), []).append(str(item.get("check", "")).rsplit("::", 1)[-1])
    return by_reason


def _waiver_note(items: Iterable[Mapping[str, Any]], reason: str) -> str:
    for item in items:
        waiver = item.get("waiver")
        if str(item.get("reason", "")) == reason and isinstance(waiver, Mapping):
            return f" [until {str(waiver.get('expires', ''))[:10]}: {waiver.get('reason', '')} ({waiver.get('owner', '')})]"
    return ""


def _org_order(gate: Mapping[str, Any]) -> list[str]:
    orgs = gate.get("orgs") or {}
    return sorted(orgs, key=lambda name: (orgs[name].get("decision") == "go", name))


def finding_lines(gate: Mapping[str, Any]) -> list[Line]:
    """Every finding of ``gate``, one line each, identical reasons across orgs collapsed."""
    landscape = gate.get("landscape") or {}
    lines = [Line(f"landscape  cross-org checks left out {name}: {reason}", "errors")
             for name, reason in (landscape.get("left_out") or {}).items()]
    for kind in _KINDS:
        items = landscape.get(kind) or []
        for reason, checks in _checks(items).items():
            what = checks[0] if len(checks) == 1 else f"{len(checks)} checks"
            lines.append(Line(f"landscape  {what}{_LABEL[kind]}: {reason}{_waiver_note(items, reason)}", kind))
    orgs = gate.get("orgs") or {}
    for kind in _KINDS:
        grouped: dict[tuple[str, str], list[str]] = {}
        notes: dict[tuple[str, str], str] = {}
        for name in _org_order(gate):
            items = orgs[name].get(kind) or []
            for reason, checks in _checks(items).items():
                what = checks[0] if len(checks) == 1 else f"{len(checks)} checks"
                key = (what, _without_org(reason, name))
                grouped.setdefault(key, []).append(name)
                notes.setdefault(key, _waiver_note(items, reason))
        for (what, reason), names in grouped.items():
            where = names[0] if len(names) == 1 else f"{len(names)} orgs ({_names(names)})"
            shown = f"{names[0]}: {reason}" if len(names) == 1 else reason
            lines.append(Line(f"{where}  {what}{_LABEL[kind]}: {shown}{notes[(what, reason)]}", kind))
    lines.sort(key=lambda line: (not line.text.startswith("landscape  "), _KINDS.index(line.kind)
                                 if line.kind in _KINDS else len(_KINDS)))
    return lines + waiver_lines(gate)


def waiver_lines(gate: Mapping[str, Any]) -> list[Line]:
    """Waivers that need attention: expired ones and ones that matched nothing (stale)."""
    lines = []
    for waiver in gate.get("waivers") or []:
        status = waiver.get("status")
        if status in ("stale", "expired"):
            what = "matched no failure (stale: remove it)" if status == "stale" else "has expired"
            lines.append(Line(f"waiver {waiver.get('check')} on {waiver.get('orgs')} ({waiver.get('owner')}, until "
                              f"{str(waiver.get('expires', ''))[:10]}) {what}", "stale"))
    return lines


def passing_orgs(gate: Mapping[str, Any]) -> list[str]:
    """The orgs that are "go" with nothing to report."""
    orgs = gate.get("orgs") or {}
    return [name for name in sorted(orgs) if orgs[name].get("decision") == "go"
            and not any(orgs[name].get(kind) for kind in _KINDS)]


def org_reason_summary(reasons: Iterable[str], orgs: Iterable[str]) -> list[str]:
    """The gate's reasons with the per-org ones ("<org>: 1 failed check") collapsed into one line
    at scale (their findings are listed already)."""
    names = set(orgs)
    per_org = [r for r in reasons if r.split(": ", 1)[0] in names]
    other = [r for r in reasons if r not in per_org]
    if len(per_org) <= 10:
        return [*other, *per_org]
    return [*other, f"{len(per_org)} orgs no-go: {_names([r.split(': ', 1)[0] for r in per_org], 5)}"]
