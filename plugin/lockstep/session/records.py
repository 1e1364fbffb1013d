"""Records a check creates in an org, tracked so that every one of them is deleted again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from lockstep.salesforce.errors import NotFound, SalesforceError, WriteRefused

if TYPE_CHECKING:
    from lockstep.session.orgs import Org

__all__ = ["Records", "writes_refused"]


def writes_refused(org: str) -> str:
    """Why a ``writes`` check failed on an org whose profile does not allow writes."""
    return (f"{org}: writes refused: allow_writes is false for this org; allow writes in the profile "
            "or remove this expectation for the org (null)")


class Records:
    """Create records through the org client and delete them all at :meth:`cleanup`.

    Only usable in checks marked ``@pytest.mark.writes`` (the org's transport refuses writes
    elsewhere). On an org whose profile does not allow writes the first ``create`` fails the
    check (fail-closed: a declared expectation is never silently left unverified), and
    nothing is sent to the org. Records are deleted newest first, so children go before
    their parents.
    """

    def __init__(self, org: Org) -> None:
        self.org = org
        self.created: list[tuple[str, str]] = []

    def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create one record and remember it for deletion; returns its id."""
        try:
            record_id = self.org.client.create(sobject, dict(fields))
        except WriteRefused:
            if self.org.allow_writes:
                raise
            pytest.fail(writes_refused(self.org.name), pytrace=False)
        self.created.append((sobject, record_id))
        return record_id

    def read(self, sobject: str, record_id: str, fields: Sequence[str] = ()) -> dict[str, Any]:
        """The record as the org stores it now (only ``fields`` when given)."""
        query = f"?fields={quote(','.join(fields), safe=',')}" if fields else ""
        return dict(self.org.client.get(f"sobjects/{sobject}/{record_id}{query}"))

    def cleanup(self) -> list[str]:
        """Delete every tracked record; returns one line per record that could not be deleted."""
        leftovers = []
        while self.created:
            sobject, record_id = self.created.pop()
            try:
                self.org.client.delete(sobject, record_id)
            except NotFound:
                continue
            except SalesforceError as exc:
                leftovers.append(f"{self.org.name}: {sobject} {record_id}: expected deleted, found still there ({exc})")
        return leftovers
