"""Salesforce access without pytest: authentication, the org client, errors, SOQL quoting."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lockstep.salesforce.client import OrgClient
    from lockstep.salesforce.errors import SalesforceError
    from lockstep.salesforce.soql import format_soql

__all__ = ["OrgClient", "SalesforceError", "format_soql"]

_HOMES = {"OrgClient": "client", "SalesforceError": "errors", "format_soql": "soql"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"lockstep.salesforce.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
