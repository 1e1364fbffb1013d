"""The "lockstep gate" section of pytest's terminal output, and the progress lines of a large run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockstep.gate.model import Gate
from lockstep.gate.upstream import partial_problem
from lockstep.reports.findings import finding_lines, org_reason_summary
from lockstep.reports.table import passing_line, rows, table, table_orgs
from lockstep.salesforce.errors import redact

if TYPE_CHECKING:
    import pytest

__all__ = ["drop_quiet_phase_reports", "progress_printer", "summary_lines", "terminal_summary"]

_MAX_FINDINGS = 30


def summary_lines(gate: Gate, limit: int | None = _MAX_FINDINGS) -> list[tuple[str, str]]:
    """The gate as text lines with a kind (for colour): table, findings, reasons."""
    rowed, quiet = table_orgs(gate)
    out = [(line, "") for line in table(rows(gate, rowed))]
    if quiet:
        out.append((passing_line(quiet), ""))
    findings = finding_lines(gate)
    if findings:
        out.append(("", ""))
    shown = findings if limit is None else findings[:limit]
    out += [(line.text, line.kind) for line in shown]
    if len(findings) > len(shown):
        out.append((f"... and {len(findings) - len(shown)} more in the gate file (lockstep gate show)", ""))
    reasons = org_reason_summary(gate.reasons, gate.orgs)
    if reasons:
        out.append(("", ""))
    out += [(f"  - {reason}", "") for reason in reasons]
    return out


def terminal_summary(terminalreporter: Any, gate: Gate, path: Path | None) -> None:
    """The "lockstep gate" section: the table, each finding with its reason, then the decision."""
    tr = terminalreporter
    tr.write_sep("=", "lockstep gate")
    for line, kind in summary_lines(gate):
        tr.write_line(redact(line), yellow=kind in ("warnings", "waived", "stale"))
    go = gate.go
    reasons = gate.reasons
    final = "GATE: GO" if go else f"GATE: NO-GO ({len(reasons)} reason{'s' if len(reasons) != 1 else ''})"
    partial = partial_problem(gate)
    if partial is not None:
        final += f", from {partial}"
    if path is not None:
        final += f"  ->  {path}"
    tr.write_line(final, green=go, red=not go, bold=True)


def progress_printer(config: pytest.Config, total: int, every: int = 10) -> Callable[[int, int], None] | None:
    """Report the progress of asking every org (facts, planned requests) on the terminal, for
    landscapes of ``every`` orgs or more."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or total < every:
        return None
    step = max(1, total // 10)
    reporter.write_line(f"lockstep: logging in to {total} orgs and asking each for its facts and planned requests")

    def show(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            reporter.write_line(f"lockstep: {done}/{total} orgs ready")

    return show


def drop_quiet_phase_reports(config: pytest.Config) -> None:
    """Forget the passed setup and teardown reports that carry no teardown output. pytest's
    failure summary looks up each failure's teardown output by scanning all of them, once per
    failure: 20 s of CPU at 1,000 orgs with 2,000 findings. What it prints is unchanged."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    stats = getattr(reporter, "stats", None)
    if isinstance(stats, dict) and stats.get(""):
        stats[""] = [report for report in stats[""]
                     if any("teardown" in name for name, _ in getattr(report, "sections", ()))]
