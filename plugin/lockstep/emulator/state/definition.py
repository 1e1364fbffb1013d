"""An org as its state file defines it: identity, credentials, limits, faults and tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockstep.emulator.state.faults import Faults

__all__ = ["Credentials", "OrgDefinition"]


@dataclass(frozen=True)
class Credentials:
    client_id: str | None = None
    client_secret: str | None = None
    password: str | None = None
    security_token: str | None = None
    refresh_token: str | None = None
    jwt_certificate_pem: bytes | None = None


@dataclass
class OrgDefinition:
    name: str
    org_id: str
    display_name: str
    kind: str
    username: str
    user_id: str
    source: Path
    credentials: Credentials
    api_min: str
    api_max: str
    limits: dict[str, dict[str, Any]]
    faults: Faults
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    apex_rest: dict[str, tuple[int, Any]] = field(default_factory=dict)
    automation: list[dict[str, Any]] = field(default_factory=list)
    active_flows: frozenset[str] = frozenset()
    raw: dict[str, Any] = field(default_factory=dict)
