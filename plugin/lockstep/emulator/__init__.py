"""Salesforce REST and Tooling API emulator: many orgs over HTTPS, each from a state file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lockstep.emulator.http.server import Emulator

__all__ = ["Emulator"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        # Deferred: importing the package (for its schema or SOQL modules) does not load uvicorn.
        from lockstep.emulator.http.server import Emulator

        return Emulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
