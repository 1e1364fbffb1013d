"""The admin endpoint under ``/__emulator__/``: counts, writes, faults, sessions, reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lockstep.config.errors import ConfigError
from lockstep.emulator.state.store import Org, Store

__all__ = ["PREFIX", "handle_admin"]

PREFIX = "/__emulator__/"


def _summary(org: Org) -> dict[str, Any]:
    return {"name": org.name, "org_id": org.org_id, "api_calls": org.api_calls, "in_flight": org.in_flight,
            "faults": org.faults.as_dict()}


def _problem(status: int, message: str) -> tuple[int, Any]:
    return status, {"error": message}


def handle_admin(
    store: Store, base_url: str, method: str, path: str, body: Any, reload: Callable[[], None]
) -> tuple[int, Any]:
    """Answer one admin request with ``(status, JSON body)``."""
    parts = [p for p in path[len(PREFIX):].split("/") if p]
    if parts == ["orgs"] and method == "GET":
        return 200, [_summary(org) for org in store.orgs.values()]
    if parts == ["reset"] and method == "POST":
        try:
            reload()
        except ConfigError as exc:
            return _problem(400, str(exc))
        return 200, [_summary(org) for org in store.orgs.values()]
    if len(parts) < 2 or parts[0] != "orgs":
        return _problem(404, f"no admin resource {path}")
    org = store.org(parts[1])
    if org is None:
        return _problem(404, f"no org named {parts[1]!r}")
    action = parts[2:]
    if not action and method == "GET":
        return 200, {**_summary(org), "writes": list(org.writes)}
    if action == ["faults"] and method == "PATCH":
        if not isinstance(body, dict):
            return _problem(400, "expected a JSON object of faults")
        try:
            org.set_faults(org.faults.merged(body))
        except ConfigError as exc:
            return _problem(400, str(exc))
        return 200, org.faults.as_dict()
    if action == ["faults"] and method == "GET":
        return 200, org.faults.as_dict()
    if action == ["sessions"] and method == "POST":
        session = store.new_session(org)
        return 200, {"access_token": session.token, "instance_url": base_url, "org_id": org.org_id,
                     "username": org.definition.username}
    if action == ["expire-sessions"] and method == "POST":
        return 200, {"expired": store.expire_sessions(org)}
    return _problem(405 if action in (["faults"], ["sessions"], ["expire-sessions"], []) else 404,
                    f"{method} not supported on {path}")
