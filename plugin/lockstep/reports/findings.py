"""The findings of a gate as people read them, the same on every output (terminal, ``gate
show``, Markdown, step summary): landscape first, then the orgs that are no-go, each finding
one line with its reason; the same reason on many orgs collapsed into one line naming how
many and the first few; the orgs with nothing to say summarized in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lockstep.gate.model import Entry, Gate

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


def _checks(items: Iterable[Entry]) -> dict[str, list[str]]:
    """Reason -> short names of the checks that failed for it (an org in trouble fails many)."""
    by_reason: dict[str, list[str]] = {}
    for item in items:
        by_reason.setdefault(item.reason, []).append(item.check.rsplit("::", 1)[-1])
    return by_reason


def _waiver_note(items: Iterable[Entry], reason: str) -> str:
    for item in items:
        waiver = item.waiver
        if item.reason == reason and waiver is not None:
            return f" [until {(waiver.expires or '')[:10]}: {waiver.reason} ({waiver.owner})]"
    return ""


def _org_order(gate: Gate) -> list[str]:
    orgs = gate.orgs
    return sorted(orgs, key=lambda name: (orgs[name].decision == "go", name))


def finding_lines(gate: Gate) -> list[Line]:
    """Every finding of ``gate``, one line each, identical reasons across orgs collapsed."""
    landscape = gate.landscape
    lines = [Line(f"landscape  cross-org checks left out {name}: {reason}", "errors")
             for name, reason in landscape.left_out.items()]
    for kind in _KINDS:
        items = landscape.entries(kind)
        for reason, checks in _checks(items).items():
            what = checks[0] if len(checks) == 1 else f"{len(checks)} checks"
            lines.append(Line(f"landscape  {what}{_LABEL[kind]}: {reason}{_waiver_note(items, reason)}", kind))
    orgs = gate.orgs
    for kind in _KINDS:
        grouped: dict[tuple[str, str], list[str]] = {}
        notes: dict[tuple[str, str], str] = {}
        for name in _org_order(gate):
            items = orgs[name].entries(kind)
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


def waiver_lines(gate: Gate) -> list[Line]:
    """Waivers that need attention: expired ones and ones that matched nothing (stale)."""
    lines = []
    for use in gate.waivers:
        if use.status in ("stale", "expired"):
            waiver = use.waiver
            what = "matched no failure (stale: remove it)" if use.status == "stale" else "has expired"
            lines.append(Line(f"waiver {waiver.check} on {waiver.orgs} ({waiver.owner}, until "
                              f"{(waiver.expires or '')[:10]}) {what}", "stale"))
    return lines


def passing_orgs(gate: Gate) -> list[str]:
    """The orgs that are "go" with nothing to report."""
    orgs = gate.orgs
    return [name for name in sorted(orgs) if orgs[name].decision == "go"
            and not any(orgs[name].entries(kind) for kind in _KINDS)]


def org_reason_summary(reasons: Iterable[str], orgs: Iterable[str]) -> list[str]:
    """The gate's reasons with the per-org ones ("<org>: 1 failed check") collapsed into one line
    at scale (their findings are listed already)."""
    names = set(orgs)
    per_org = [r for r in reasons if r.split(": ", 1)[0] in names]
    other = [r for r in reasons if r not in per_org]
    if len(per_org) <= 10:
        return [*other, *per_org]
    return [*other, f"{len(per_org)} orgs no-go: {_names([r.split(': ', 1)[0] for r in per_org], 5)}"]
