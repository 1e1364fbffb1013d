"""One API request as the resource handlers see it: the org's call context and the matched route."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockstep.emulator.schema.registry import SObject
from lockstep.emulator.state.store import Org, Session, Store

__all__ = ["Call", "Request"]


@dataclass
class Call:
    """One authenticated API request of an org (or one composite subrequest)."""

    store: Store
    org: Org
    session: Session
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """A routed request: ``args`` are the path's captured segments, ``sobject`` its resolved object."""

    call: Call
    method: str
    version: str
    api: str  # "data" or "tooling" (Apex REST requests carry "data")
    args: Mapping[str, str]
    params: Mapping[str, str]
    body: Any
    sobject: SObject | None = None

    @property
    def org(self) -> Org:
        return self.call.org

    @property
    def prefix(self) -> str:
        """The URL of the API root the request went to: ``/services/data/vNN.0`` (``/tooling``)."""
        return f"/services/data/v{self.version}{'/tooling' if self.api == 'tooling' else ''}"
