"""Lockstep: verify every Salesforce org of a release at once, as a fail-closed gate."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lockstep")
except PackageNotFoundError:
    __version__ = "0.0.0"

__all__ = ["__version__"]
