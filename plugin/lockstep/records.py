"""Records a check creates in an org, tracked so that every one of them is deleted again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lockstep.salesforce.errors import NotFound, SalesforceError

if TYPE_CHECKING:
    from lockstep.orgs import Org

__all__ = ["Records"]


class Records:
    """Create records through the org client and delete them all at :meth:`cleanup`.

    Only usable in checks marked ``@pytest.mark.writes`` (the org client refuses writes
    elsewhere). Records are deleted newest first, so children go before their parents.
    """

    def __init__(self, org: Org) -> None:
        self.org = org
        self.created: list[tuple[str, str]] = []

    def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create one record and remember it for deletion; returns its id."""
        record_id = self.org.client.create(sobject, dict(fields))
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
