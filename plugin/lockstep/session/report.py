"""What a run shows: one-line reasons, the atomically written gate file, the terminal table."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from lockstep.gate.catalog import CatalogRecord
from lockstep.gate.model import Gate, Narrowing, ShardRecord
from lockstep.reports.findings import finding_lines, org_reason_summary, passing_orgs
from lockstep.salesforce.errors import OrgTrouble, SalesforceError, one_line, redact
from lockstep.session.options import utcnow

__all__ = [
    "Recorder", "annotate_report", "append_step_summary", "collection_reason",
    "markdown_summary", "reason_line", "terminal_summary", "unwritten_gate", "write_gate",
]

_OUTCOMES = (pytest.fail.Exception, pytest.skip.Exception, pytest.xfail.Exception, pytest.exit.Exception)
_MAX_FINDINGS = 30
_COLUMNS = ("org", "kind", "passed", "failed", "errors", "skipped", "api calls", "decision")


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def reason_line(exc: BaseException | None, longrepr: Any = None, wasxfail: str | None = None) -> str:
    """The one line a release manager reads for a non-passing test (secrets redacted)."""
    line = ""
    if exc is not None:
        if isinstance(exc, SalesforceError):
            line = str(exc)
        elif isinstance(exc, AssertionError):
            line = _first_line(str(exc)) or "assertion failed"
        elif isinstance(exc, _OUTCOMES):
            line = _first_line(str(getattr(exc, "msg", "") or ""))
        else:
            line = f"{type(exc).__name__}: {_first_line(str(exc))}".rstrip(": ")
    if not line and isinstance(longrepr, tuple) and len(longrepr) == 3:
        line = str(longrepr[2]).removeprefix("Skipped: ")
    if not line and longrepr is not None:
        crash = getattr(getattr(longrepr, "reprcrash", None), "message", None)
        line = _first_line(crash or str(longrepr))
    if wasxfail is not None and exc is None:
        line = line or f"unexpectedly passed (xfail: {wasxfail})"
    return redact(one_line(line))[:2000]


def assertion_message(exc: AssertionError) -> str:
    """A failed check's own message, without pytest's ``assert ...`` introspection below it."""
    lines = []
    for line in str(exc).splitlines():
        if line.startswith("assert "):
            break
        lines.append(line)
    return redact("\n".join(lines).strip() or "assertion failed")


def report_assertions_by_message(item: pytest.Item) -> None:
    """A failed assertion of ``item`` is reported by its message alone (``--tb=long`` and
    ``--showlocals`` keep pytest's traceback): asked of the item itself, so pytest does not first
    format a traceback from the check's source only to have it replaced (about 13 ms a failure)."""
    default = item.repr_failure

    def repr_failure(excinfo: pytest.ExceptionInfo[BaseException], *args: Any, **kwargs: Any) -> Any:
        if isinstance(excinfo.value, AssertionError) and not args and not kwargs:
            return assertion_message(excinfo.value)
        return default(excinfo, *args, **kwargs)

    item.repr_failure = repr_failure  # type: ignore[method-assign]


def drop_quiet_phase_reports(config: pytest.Config) -> None:
    """Forget the passed setup and teardown reports that carry no teardown output. pytest's
    failure summary looks up each failure's teardown output by scanning all of them, once per
    failure: 20 s of CPU at 1,000 orgs with 2,000 findings. What it prints is unchanged."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    stats = getattr(reporter, "stats", None)
    if isinstance(stats, dict) and stats.get(""):
        stats[""] = [report for report in stats[""]
                     if any("teardown" in name for name, _ in getattr(report, "sections", ()))]


def collection_reason(exc: BaseException | None, longrepr: Any = None) -> str:
    """The line a collection error is known by: the exception type and message (``SyntaxError:
    invalid syntax (line 3)``), not the frame of pytest's importer that raised it."""
    cause = exc
    while cause is not None and type(cause).__name__ == "CollectError" and cause.__cause__ is not None:
        cause = cause.__cause__
    line = ""
    if isinstance(cause, SyntaxError):
        line = f"{type(cause).__name__}: {cause.msg}" + (f" (line {cause.lineno})" if cause.lineno else "")
    elif cause is not None and type(cause).__name__ != "CollectError":
        line = reason_line(cause)
    if not line:
        text = str(longrepr if longrepr is not None else exc or "")
        raised = [row[1:].strip() for row in text.splitlines() if row.startswith("E ") and row[1:].strip()]
        line = raised[-1] if raised else _first_line(text)
    return redact(one_line(line))[:500]


def write_gate(path: Path, gate: Gate) -> None:
    """Write the gate JSON atomically: a temporary file in the same folder, then ``os.replace``.
    A symlink is followed: the file it points at (what a later stage reads) is replaced."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    text = redact(json.dumps(gate.to_json(), indent=2, sort_keys=False)) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a later CI stage may read it as another user
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def unwritten_gate(gate: Gate, path: Path, exc: OSError) -> Gate:
    """The gate shown when it could not be written: a no-go saying why (the file on disk is
    the no-go written when the run started, or nothing; never a half-written file)."""
    reason = f"the gate file could not be written: {path}: {exc.strerror or type(exc).__name__}"
    return gate.with_reason(reason)


_FULL_TABLE = 20  # orgs; beyond, the table lists the orgs that are not "go" and sums up the others


def _rows(gate: Gate, names: list[str]) -> list[tuple[str, ...]]:
    rows = []
    for name in names:
        entry = gate.orgs[name]
        counts = entry.counts
        decision = entry.decision.upper() + ("" if entry.reachable else " (unreachable)")
        rows.append((name, entry.kind, str(counts.passed), str(counts.failed), str(counts.errors),
                     str(counts.skipped), str(entry.api_calls), decision))
    return rows


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(_COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return lines


def _table_orgs(gate: Gate) -> tuple[list[str], list[str]]:
    """(orgs with a row, orgs summed up in one line): no-go orgs first; all of them in small landscapes."""
    orgs = gate.orgs
    ordered = sorted(orgs, key=lambda name: (orgs[name].decision == "go", name))
    if len(ordered) <= _FULL_TABLE:
        return ordered, []
    quiet = set(passing_orgs(gate))
    return [n for n in ordered if n not in quiet], [n for n in ordered if n in quiet]


def _passing_line(names: list[str]) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{len(names)} more orgs GO with nothing to report: {shown}"


def summary_lines(gate: Gate, limit: int | None = _MAX_FINDINGS) -> list[tuple[str, str]]:
    """The gate as text lines with a kind (for colour): table, findings, reasons."""
    rowed, quiet = _table_orgs(gate)
    out = [(line, "") for line in _table(_rows(gate, rowed))]
    if quiet:
        out.append((_passing_line(quiet), ""))
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
    from lockstep.gate.upstream import partial_problem

    partial = partial_problem(gate)
    if partial is not None:
        final += f", from {partial}"
    if path is not None:
        final += f"  ->  {path}"
    tr.write_line(final, green=go, red=not go, bold=True)


def progress_printer(config: Any, total: int, every: int = 10) -> Callable[[int, int], None] | None:
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
    rowed, quiet = _table_orgs(gate)
    out.append("| " + " | ".join(_COLUMNS) + " |")
    out.append("|" + "---|" * len(_COLUMNS))
    for row in _rows(gate, rowed):
        out.append("| " + " | ".join(_md(v) for v in row) + " |")
    if quiet:
        out += ["", _md(_passing_line(quiet))]
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


def _props(report: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for entry in getattr(report, "user_properties", None) or ():
        if isinstance(entry, (tuple, list)) and len(entry) == 2 and str(entry[0]).startswith("lockstep_"):
            key, value = entry
            if key in ("lockstep_unreachable", "lockstep_left_out"):
                props.setdefault(key, []).append(value)
            else:
                props[key] = value
    return props


def annotate_report(report: Any, exc: BaseException | None) -> None:
    """Attach the one-line reason to a report and shorten Salesforce errors (the report is
    already masked: :mod:`lockstep.session.masking`)."""
    wasxfail = getattr(report, "wasxfail", None)
    if not report.passed or wasxfail is not None:
        report.user_properties.append(("lockstep_reason", reason_line(exc, report.longrepr, wasxfail)))
        if isinstance(exc, SalesforceError) and report.failed:
            report.longrepr = str(exc)
        if isinstance(exc, OrgTrouble) and report.failed:
            report.user_properties.append(("lockstep_org_error", True))


class Recorder:
    """Turns pytest reports (plain data, also from xdist workers) into the gate."""

    def __init__(self) -> None:
        from lockstep.gate.build import Tally

        self.started = ""
        self.tally = Tally()
        self.unreachable: dict[str, str] = {}
        self.left_out: dict[str, str] = {}
        self.collection_errors: list[tuple[str, str]] = []
        self.refusals: list[str] = []  # configuration mistakes an xdist worker found after collecting
        self.interrupted: str | None = None
        self.worker_api_calls: dict[str, int] = {}
        self.deselected: tuple[int, int] | None = None

    def add_test_report(self, report: Any) -> None:
        props = _props(report)
        for key, found in (("lockstep_unreachable", self.unreachable), ("lockstep_left_out", self.left_out)):
            for item in props.get(key, ()):
                if isinstance(item, Mapping) and item.get("org"):
                    found.setdefault(str(item["org"]), str(item.get("reason", "")))
        wasxfail = getattr(report, "wasxfail", None)
        reason = props.get("lockstep_reason")
        if reason is None and not report.passed:
            reason = reason_line(None, report.longrepr)
        self.tally.add(
            str(props.get("lockstep_test") or report.nodeid),
            report.when,
            report.outcome,
            wasxfail=wasxfail is not None,
            check=props.get("lockstep_check"),
            org=props.get("lockstep_org"),
            reason=reason or "",
            severity=str(props.get("lockstep_severity", "blocker")),
            phases=tuple(props.get("lockstep_phases", ())),
            org_error=bool(props.get("lockstep_org_error")),
        )

    def add_collect_report(self, report: Any) -> None:
        if report.failed:
            reason = getattr(report, "lockstep_reason", None) or collection_reason(None, report.longrepr)
            entry = (report.nodeid or "session", str(reason))
            if entry not in self.collection_errors:
                self.collection_errors.append(entry)

    def add_worker_output(self, output: Mapping[str, Any]) -> None:
        for name, count in (output.get("lockstep_api_calls") or {}).items():
            self.worker_api_calls[name] = self.worker_api_calls.get(name, 0) + int(count)
        for line in output.get("lockstep_refusals") or ():
            if line not in self.refusals:
                self.refusals.append(str(line))
        deselected = output.get("lockstep_deselected")
        if deselected:  # every worker collects (and deselects) the same tests
            mine = (int(deselected[0]), int(deselected[1]))
            self.deselected = max(self.deselected or mine, mine)

    def start(self) -> None:
        self.started = utcnow()

    def gate(self, landscape: Any, exit_status: int, *, release: str | None, markexpr: str,
             narrowing: Narrowing, deployed_at: str | None = None, shard: ShardRecord | None = None,
             refusals: tuple[str, ...] = (), run_id: str = "", now: dt.datetime | None = None,
             catalog: CatalogRecord | None = None) -> Gate:
        """The gate of this run: the recorded results plus the landscape's API call counts."""
        from lockstep import __version__
        from lockstep.gate.build import RunInfo, build_gate

        api_calls = dict(self.worker_api_calls)
        for name, count in landscape.api_calls().items():
            api_calls[name] = api_calls.get(name, 0) + count
        info = RunInfo(
            orgs=landscape.kinds, release=release, profile_name=landscape.profile.name,
            profile_sha256=landscape.profile.sha256, markexpr=markexpr, started=self.started or utcnow(),
            finished=utcnow(), version=__version__, run_id=run_id, exit_status=exit_status,
            interrupted=self.interrupted,
            collection_errors=tuple(self.collection_errors), unreachable=self.unreachable, api_calls=api_calls,
            waivers=landscape.profile.waivers, now=now, left_out=self.left_out,
            narrowing=narrowing, deployed_at=deployed_at, shard=shard, refusals=refusals, catalog=catalog,
        )
        return build_gate(self.tally.results, info)
