"""Runtime state of the emulated orgs: tables, sessions, API-call accounting, writes."""

from __future__ import annotations

import secrets
import string
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockstep.emulator.state.definition import OrgDefinition
from lockstep.emulator.state.faults import FaultDice, Faults

__all__ = ["Cursor", "Org", "Session", "Store"]

_TOKEN_ALPHABET = string.ascii_letters + string.digits + "._"
_MAX_CURSORS = 200


@dataclass
class Session:
    token: str
    org: str
    user_id: str
    calls: int = 0
    valid: bool = True


@dataclass
class Cursor:
    records: list[dict[str, Any]]
    total_size: int
    batch_size: int
    api: str
    extras: dict[str, Any]


@dataclass
class Org:
    """One org as the server sees it; ``reset`` goes back to its definition."""

    definition: OrgDefinition
    tables: dict[str, list[dict[str, Any]]] = field(init=False)
    api_calls: int = field(init=False, default=0)
    in_flight: int = field(init=False, default=0)  # API calls not yet answered (nor counted)
    writes: list[dict[str, Any]] = field(init=False)
    faults: Faults = field(init=False)
    dice: FaultDice = field(init=False)
    cursors: OrderedDict[str, Cursor] = field(init=False)
    cursor_serial: int = field(init=False, default=0)
    id_serials: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.tables = {name: [dict(row) for row in rows] for name, rows in self.definition.tables.items()}
        self.api_calls = 0
        self.writes = []
        self.faults = self.definition.faults
        self.dice = FaultDice(self.faults.seed)
        self.cursors = OrderedDict()
        self.id_serials = {}

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def org_id(self) -> str:
        return self.definition.org_id

    def set_faults(self, faults: Faults) -> None:
        if faults.seed != self.faults.seed:
            self.dice = FaultDice(faults.seed)
        self.faults = faults

    def api_usage(self) -> tuple[int, int]:
        """(used, max) of DailyApiRequests, as the ``Sforce-Limit-Info`` header reports it."""
        daily = self.definition.limits["DailyApiRequests"]
        maximum = int(daily["Max"])
        used = maximum - int(daily["Remaining"]) + self.api_calls
        return used, maximum

    def limits(self) -> dict[str, Any]:
        result = {name: dict(value) for name, value in self.definition.limits.items()}
        used, maximum = self.api_usage()
        result["DailyApiRequests"]["Remaining"] = max(0, maximum - used)
        return result

    def limit_exhausted(self) -> bool:
        used, maximum = self.api_usage()
        return used >= maximum

    def add_cursor(self, cursor: Cursor, make_locator_id: Callable[[int], str]) -> str:
        self.cursor_serial += 1
        locator_id = make_locator_id(self.cursor_serial)
        self.cursors[locator_id] = cursor
        while len(self.cursors) > _MAX_CURSORS:
            self.cursors.popitem(last=False)
        return locator_id


class Store:
    """Every org of the emulator, found by name, org id or session token."""

    def __init__(self, definitions: list[OrgDefinition], source: Path | None = None) -> None:
        self.source = source
        self.orgs: dict[str, Org] = {}
        self.sessions: dict[str, Session] = {}
        self._load(definitions)

    def _load(self, definitions: list[OrgDefinition]) -> None:
        self.orgs = {d.name: Org(d) for d in sorted(definitions, key=lambda d: d.name)}
        self._by_org_id = {org.org_id[:15]: org for org in self.orgs.values()}
        self._by_username: dict[str, tuple[Org, str]] = {}
        for org in self.orgs.values():
            for user in org.definition.tables.get("User", []):
                self._by_username[str(user["Username"]).lower()] = (org, str(user["Id"]))

    def replace(self, definitions: list[OrgDefinition]) -> None:
        """Load new definitions; sessions of orgs that still exist stay valid."""
        self._load(definitions)
        self.sessions = {t: s for t, s in self.sessions.items() if s.org in self.orgs}

    def org(self, name: str) -> Org | None:
        return self.orgs.get(name)

    def org_by_id(self, org_id: str) -> Org | None:
        return self._by_org_id.get(org_id[:15])

    def user(self, username: str) -> tuple[Org, str] | None:
        return self._by_username.get(username.lower())

    def org_by_client_id(self, client_id: str) -> Org | None:
        for org in self.orgs.values():
            if org.definition.credentials.client_id == client_id:
                return org
        return None

    def org_by_refresh_token(self, refresh_token: str) -> Org | None:
        for org in self.orgs.values():
            if refresh_token and org.definition.credentials.refresh_token == refresh_token:
                return org
        return None

    def new_session(self, org: Org, user_id: str | None = None) -> Session:
        opaque = "AQ" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(94))
        token = f"{org.org_id[:15]}!{opaque}"
        session = Session(token, org.name, user_id or org.definition.user_id)
        self.sessions[token] = session
        return session

    def session(self, token: str) -> Session | None:
        session = self.sessions.get(token)
        if session is None or not session.valid or session.org not in self.orgs:
            return None
        ttl = self.orgs[session.org].faults.session_ttl_calls
        if ttl is not None and session.calls >= ttl:
            session.valid = False
            return None
        return session

    def expire_sessions(self, org: Org) -> int:
        expired = 0
        for session in self.sessions.values():
            if session.org == org.name and session.valid:
                session.valid = False
                expired += 1
        return expired
