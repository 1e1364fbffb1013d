"""Compute an expensive module fixture once per test session, also under pytest-xdist.

Module fixtures run once per xdist worker, and worksteal spreads one module's tests over both
workers: a fixture that runs a catalog or several pytest runs would run twice. :func:`once` stores
the first worker's result as JSON in the session's shared temporary folder; the other workers wait
for it and read it. Files the producer writes under its ``tmp_path_factory`` folders outlive it and
may be named in the result.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_WAIT_S = 300.0


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(tmp_path_factory: pytest.TempPathFactory, name: str, produce: Callable[[], Any]) -> Any:
    """``produce()`` (JSON-able) computed by one process of the session, shared with the others.
    A producer that fails makes the waiting workers fail at once, naming ``name``."""
    folder = _shared_folder(tmp_path_factory)
    result, failed, lock = folder / f"{name}.json", folder / f"{name}.failed", folder / f"{name}.lock"
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return _wait_for(name, result, failed)
    try:
        value = produce()
    except BaseException:
        failed.touch()
        raise
    partial = result.with_suffix(".tmp")
    partial.write_text(json.dumps(value))
    partial.replace(result)
    return value


def _wait_for(name: str, result: Path, failed: Path) -> Any:
    deadline = time.monotonic() + _WAIT_S
    while not result.exists():
        if failed.exists():
            pytest.fail(f"{name}: the worker that produced it failed (see its error)", pytrace=False)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: another worker did not finish within {_WAIT_S:.0f} s")
        time.sleep(0.05)
    return json.loads(result.read_text())
