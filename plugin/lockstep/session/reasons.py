"""The one line a non-passing test is known by in the gate, the terminal and every report
(secrets redacted), attached to each report as it is made."""

from __future__ import annotations

from typing import Any

import pytest

from lockstep.salesforce.errors import OrgTrouble, SalesforceError, one_line, redact

__all__ = ["annotate_report", "assertion_message", "collection_reason", "reason_line", "report_assertions_by_message"]

_OUTCOMES = (pytest.fail.Exception, pytest.skip.Exception, pytest.xfail.Exception, pytest.exit.Exception)


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
