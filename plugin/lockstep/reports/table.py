"""The org table of a gate, shared by the terminal and the Markdown summary: one row per org,
no-go orgs first; in large landscapes the orgs with nothing to report are summed up in one line."""

from __future__ import annotations

from lockstep.gate.model import Gate
from lockstep.reports.findings import passing_orgs

__all__ = ["COLUMNS", "passing_line", "rows", "table", "table_orgs"]

COLUMNS = ("org", "kind", "passed", "failed", "errors", "skipped", "api calls", "decision")

_FULL_TABLE = 20  # orgs; beyond, the table lists the orgs that are not "go" and sums up the others


def rows(gate: Gate, names: list[str]) -> list[tuple[str, ...]]:
    """One row per named org: its kind, counts, API calls and decision."""
    out: list[tuple[str, ...]] = []
    for name in names:
        entry = gate.orgs[name]
        counts = entry.counts
        decision = entry.decision.upper() + ("" if entry.reachable else " (unreachable)")
        out.append((name, entry.kind, str(counts.passed), str(counts.failed), str(counts.errors),
                    str(counts.skipped), str(entry.api_calls), decision))
    return out


def table(body: list[tuple[str, ...]]) -> list[str]:
    """The header and ``body`` as aligned text lines."""
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in body]
    return lines


def table_orgs(gate: Gate) -> tuple[list[str], list[str]]:
    """(orgs with a row, orgs summed up in one line): no-go orgs first; all of them in small landscapes."""
    orgs = gate.orgs
    ordered = sorted(orgs, key=lambda name: (orgs[name].decision == "go", name))
    if len(ordered) <= _FULL_TABLE:
        return ordered, []
    quiet = set(passing_orgs(gate))
    return [n for n in ordered if n not in quiet], [n for n in ordered if n in quiet]


def passing_line(names: list[str]) -> str:
    """The line that stands for the orgs without a row."""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{len(names)} more orgs GO with nothing to report: {shown}"
