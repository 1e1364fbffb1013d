"""A catalog run shared by the tests of several modules (see run_once.once), as JSON."""

from __future__ import annotations

from typing import Any

from catalog import CatalogRun
from run_once import once

__all__ = ["from_json", "once", "to_json"]


def to_json(run: CatalogRun) -> dict[str, Any]:
    return {"returncode": run.returncode, "output": run.output, "gate": run.gate,
            "outcomes": [[t, o, v] for (t, o), v in run.outcomes.items()],
            "messages": [[t, o, v] for (t, o), v in run.messages.items()]}


def from_json(data: dict[str, Any]) -> CatalogRun:
    return CatalogRun(data["returncode"], data["output"], data["gate"],
                      {(t, o): v for t, o, v in data["outcomes"]}, {(t, o): v for t, o, v in data["messages"]})
