"""Fixtures: the emulator over HTTPS on 127.0.0.1 (port 0), or answering in this process only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import StateFactory, write_states

from lockstep.emulator import Emulator


@pytest.fixture(autouse=True)
def _verify_with_session_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets these variables override Session.verify; the tests verify against the emulator's CA.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def start_emulator(tmp_path: Path) -> Iterator[StateFactory]:
    """Start an emulator for the given org states; every one is stopped at teardown."""
    started: list[Emulator] = []

    def start(*states: dict[str, Any], latency_ms: int = 0) -> Emulator:
        folder = write_states(tmp_path / f"state{len(started)}", *states)
        emulator = Emulator(folder, port=0, latency_ms=latency_ms).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def open_emulator(tmp_path: Path) -> StateFactory:
    """An emulator for the given org states that answers in this process: no socket, no TLS.

    ``session_for`` and ``salesforce`` reach it through ``lockstep.emulator.http.inprocess``; a test
    that checks HTTP status, headers and bodies proves the same as over HTTPS, faster.
    """
    opened = 0

    def open_(*states: dict[str, Any], latency_ms: int = 0) -> Emulator:
        nonlocal opened
        folder = write_states(tmp_path / f"state-in-process{opened}", *states)
        opened += 1
        return Emulator(folder, latency_ms=latency_ms).open_in_process()

    return open_
