"""Run an expensive module fixture once per test session, also under pytest-xdist.

Module fixtures run once per xdist worker; a catalog run (a pytest subprocess and an emulator)
is too slow to repeat. :func:`once` stores the first worker's result as JSON in the session's
shared temporary folder; the other workers wait for it and read it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from catalog import CatalogRun

_WAIT_S = 300.0


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(tmp_path_factory: pytest.TempPathFactory, name: str, produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``produce()`` (JSON-able) computed by one process of the session, shared with the others."""
    folder = _shared_folder(tmp_path_factory)
    result, lock = folder / f"{name}.json", folder / f"{name}.lock"
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        deadline = time.monotonic() + _WAIT_S
        while not result.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: another worker did not finish within {_WAIT_S:.0f} s") from None
            time.sleep(0.05)
        produced: dict[str, Any] = json.loads(result.read_text())
        return produced
    value = produce()
    partial = result.with_suffix(".tmp")
    partial.write_text(json.dumps(value))
    partial.replace(result)
    return value


def to_json(run: CatalogRun) -> dict[str, Any]:
    return {"returncode": run.returncode, "output": run.output, "gate": run.gate,
            "outcomes": [[t, o, v] for (t, o), v in run.outcomes.items()],
            "messages": [[t, o, v] for (t, o), v in run.messages.items()]}


def from_json(data: dict[str, Any]) -> CatalogRun:
    return CatalogRun(data["returncode"], data["output"], data["gate"],
                      {(t, o): v for t, o, v in data["outcomes"]}, {(t, o): v for t, o, v in data["messages"]})
