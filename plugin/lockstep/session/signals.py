"""SIGTERM (a cancelled CI job, a timeout) ends the run like an interrupted one: the gate is
still written, as a no-go naming the signal."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import pytest

__all__ = ["SigtermHandler", "Terminated"]


class Terminated(KeyboardInterrupt):
    """SIGTERM received: pytest ends the session as for Ctrl-C and the gate records why."""


class SigtermHandler:
    """Installs the handler when the session starts (controller, main thread only); :meth:`restore`
    puts the previous one back, so a second SIGTERM ends the process the default way."""

    def __init__(self, is_worker: bool) -> None:
        self.is_worker = is_worker
        self._previous: Any = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.is_worker and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._terminated)

    def _terminated(self, signum: int, frame: FrameType | None) -> None:
        self.restore()
        raise Terminated("SIGTERM received")

    def restore(self) -> None:
        previous, self._previous = self._previous, None
        if previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)
