"""The gate in Markdown, for CI job summaries (``$GITHUB_STEP_SUMMARY``) and pull-request comments."""

from __future__ import annotations

import os
import stat

from lockstep.gate.model import Gate
from lockstep.reports.findings import finding_lines, org_reason_summary
from lockstep.reports.table import COLUMNS, passing_line, rows, table_orgs
from lockstep.salesforce.errors import redact

__all__ = ["append_step_summary", "markdown_summary"]


def markdown_summary(gate: Gate, html: str | None = None) -> str:
    """A Markdown rendering of the gate for CI job summaries and pull-request comments: the
    decision, every finding with its reason (landscape first), the table, the reasons."""
    go = gate.go
    out = [f"## Lockstep gate: {'GO' if go else 'NO-GO'}", "",
           f"Profile `{gate.profile.name}`, phase `{gate.phase}`, release "
           f"`{gate.release or '-'}`, run `{gate.run_id or '-'}`."
           + (f" [Full report]({html})" if html else ""), ""]
    findings = finding_lines(gate)
    if findings:
        out += ["### Findings", ""]
        out += [f"- {'⚠️ ' if line.kind in ('warnings', 'stale') else ''}{_md(line.text)}" for line in findings]
        out.append("")
    rowed, quiet = table_orgs(gate)
    out.append("| " + " | ".join(COLUMNS) + " |")
    out.append("|" + "---|" * len(COLUMNS))
    for row in rows(gate, rowed):
        out.append("| " + " | ".join(_md(v) for v in row) + " |")
    if quiet:
        out += ["", _md(passing_line(quiet))]
    reasons = org_reason_summary(gate.reasons, gate.orgs)
    if reasons:
        out += ["", "### Reasons", ""] + [f"- {_md(r)}" for r in reasons]
    return redact("\n".join(out)) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def append_step_summary(gate: Gate, html: str | None = None) -> None:
    """Append the Markdown summary to ``$GITHUB_STEP_SUMMARY`` when a CI job provides one."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO without a reader would block the run's end
                raise OSError(0, "not a regular file")
            handle.write(markdown_summary(gate, html))
