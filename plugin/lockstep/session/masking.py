"""No secret in anything pytest writes: the terminal, live logs, log files, reports.

Installed by :func:`mask_output` before pytest starts capturing (so captured, ``-s`` and
``--capture=tee-sys`` output all pass through it), and only with ``--org-profile``:

- ``sys.stdout``/``sys.stderr`` become :class:`MaskedStream`; the terminal reporter writes
  to them, so tracebacks (``--showlocals`` too), captured output sections (``-rA``), live
  logs (``--log-cli-level``), warnings and summaries are masked line by line;
- the handlers of pytest's logging plugin (live log, ``--log-file``, captured logs,
  ``caplog``) format through :class:`MaskedFormatter`, and ``--debug`` traces through masking;
- every test and collection report is masked where it is made, before any reporter
  (terminal, JUnit XML, pytest-html, xdist) reads it; the JUnit XML file is masked once
  more when written, for values checks record straight into it.

What masking means is :func:`lockstep.salesforce.secrets.redact`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest

from lockstep.salesforce.secrets import redact

__all__ = ["MaskedFormatter", "MaskedStream", "mask_output", "mask_report"]


class MaskedStream:
    """A text stream that masks secrets in what it passes on, one complete line at a time
    (a partial line goes out, masked, on ``flush``: pytest's progress output flushes)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending = ""
        self._lock = threading.RLock()

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            if "\n" in self._pending:
                ready, newline, self._pending = self._pending.rpartition("\n")
                self._emit(ready + newline)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, ""
            if pending:
                self._emit(pending)
            self._stream.flush()

    def _emit(self, text: str) -> None:
        masked = redact(text)
        try:
            self._stream.write(masked)
        except UnicodeEncodeError:
            encoding = getattr(self._stream, "encoding", None) or "ascii"
            self._stream.write(masked.encode(encoding, "backslashreplace").decode(encoding))

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, buffer, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._stream, name)


class MaskedFormatter(logging.Formatter):
    """Formats a record with the handler's own formatter, then masks the whole text
    (message, arguments and the traceback of ``exc_info``)."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def mask_output(config: pytest.Config) -> None:
    """Mask ``sys.stdout``/``sys.stderr`` until the end of the run, and register the hooks
    that mask log handlers and reports."""
    originals = (sys.stdout, sys.stderr)
    if sys.stdout is not None and not isinstance(sys.stdout, MaskedStream):
        sys.stdout = MaskedStream(sys.stdout)
    if sys.stderr is not None and not isinstance(sys.stderr, MaskedStream):
        sys.stderr = MaskedStream(sys.stderr)
    masked = (sys.stdout, sys.stderr)

    def restore() -> None:
        for stream in masked:
            if isinstance(stream, MaskedStream):
                stream.flush()
        if sys.stdout is masked[0]:
            sys.stdout = originals[0]
        if sys.stderr is masked[1]:
            sys.stderr = originals[1]

    config.add_cleanup(restore)
    config.pluginmanager.register(_ReportMasking(), "lockstep-masking")


class _ReportMasking:
    def pytest_plugin_registered(self, plugin: Any, plugin_name: str) -> None:
        """pytest's logging plugin, as soon as it exists: its handlers format through masking."""
        if plugin_name != "logging-plugin":
            return
        for name in ("log_cli_handler", "log_file_handler", "report_handler", "caplog_handler"):
            handler = getattr(plugin, name, None)
            if isinstance(handler, logging.Handler) and not isinstance(handler.formatter, MaskedFormatter):
                handler.setFormatter(MaskedFormatter(handler.formatter))

    def pytest_configure(self, config: pytest.Config) -> None:
        """``--debug``: pytest's trace of hook calls (with their arguments) goes through masking."""
        root = config.trace.root
        writer = getattr(root, "_writer", None)
        if writer is not None:
            root.setwriter(lambda text: writer(redact(text)))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The JUnit XML once written: values a check wrote straight into it
        (``record_xml_attribute``, ``record_testsuite_property``) never pass through a report."""
        path = getattr(config.option, "xmlpath", None)
        if not path or hasattr(config, "workerinput"):
            return
        file = Path(os.path.abspath(os.path.expanduser(os.path.expandvars(path))))
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        masked = redact(text)
        if masked != text:
            temporary = file.with_name(f".{file.name}.masking")
            temporary.write_text(masked, encoding="utf-8")
            os.replace(temporary, file)

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outside pytest-html's (tryfirst), which adds the extras
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
        report = yield
        mask_report(report)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Iterator[Any]:
        report = yield
        mask_report(report)
        return report


def mask_report(report: Any) -> None:
    """Mask a test or collection report in place: its traceback (kept as pytest's objects,
    so reporters still find the crash line), captured sections, properties and xfail reason."""
    if report.longrepr is not None:
        report.longrepr = _masked(report.longrepr, set())
        if not isinstance(report.longrepr, (str, tuple)):
            text = str(report.longrepr)
            if redact(text) != text:  # a part this walk does not know: keep only the masked text
                report.longrepr = redact(text)
    report.sections = [(redact(title), redact(content)) for title, content in report.sections]
    report.user_properties = [_masked(entry, set()) for entry in getattr(report, "user_properties", ())]
    for name in ("extras", "extra"):  # pytest-html's extras: links, text, JSON and HTML it writes out
        if isinstance(getattr(report, name, None), list):
            setattr(report, name, _masked(getattr(report, name), set()))
    if isinstance(getattr(report, "wasxfail", None), str):
        report.wasxfail = redact(report.wasxfail)


def _masked(value: Any, seen: set[int]) -> Any:
    """``value`` with every string masked: strings, lists, tuples, mappings, and the
    attributes of pytest's traceback objects (changed in place)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, tuple)):
        items = [_masked(item, seen) for item in value]
        if isinstance(value, list):
            value[:] = items
            return value
        return tuple(items)
    if isinstance(value, dict):
        return {_masked(k, seen): _masked(v, seen) for k, v in value.items()}
    if id(value) in seen or not type(value).__module__.startswith("_pytest."):
        return value
    seen.add(id(value))
    names = ([f.name for f in dataclasses.fields(value)] if dataclasses.is_dataclass(value)
             else list(vars(value)) if hasattr(value, "__dict__") else [])
    for name in names:
        object.__setattr__(value, name, _masked(getattr(value, name), seen))
    return value
