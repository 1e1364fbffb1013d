"""Salesforce access without pytest: authentication, the org client, errors, SOQL quoting."""

from __future__ import annotations

from lockstep.salesforce.client import OrgClient
from lockstep.salesforce.errors import SalesforceError
from lockstep.salesforce.soql import format_soql

__all__ = ["OrgClient", "SalesforceError", "format_soql"]
