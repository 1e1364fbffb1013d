"""Helpers for the plugin's tests: emulated org states and profiles written into a folder."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import requests
import yaml

SHARED_ORGS = ("alpha", "beta")
KIND_OF_STATE = {"production": "production", "subscriber": "production", "dev": "developer"}


def state(name: str, kind: str = "sandbox", **extra: Any) -> dict[str, Any]:
    """A minimal emulator state for one org."""
    data: dict[str, Any] = {
        "org": {"name": name, "kind": KIND_OF_STATE.get(kind, "sandbox")},
        "username": f"admin@{name}.example.com",
    }
    data.update(extra)
    return data


def write_landscape(root: Path, orgs: Iterable[Mapping[str, Any]], *, name: str = "p",
                    states: Iterable[Mapping[str, Any]] | None = None, **profile: Any) -> Path:
    """Write ``profiles/<name>.yaml`` (served by the emulator) and its state folder under ``root``."""
    orgs = [dict(o) for o in orgs]
    folder = root / "profiles" / f"{name}-states"
    folder.mkdir(parents=True, exist_ok=True)
    for data in states if states is not None else [state(o["name"], o.get("kind", "sandbox")) for o in orgs]:
        (folder / f"{data['org']['name']}.yaml").write_text(yaml.safe_dump(dict(data), sort_keys=False))
    body = {"emulator": f"{name}-states", **profile, "orgs": orgs}
    path = root / "profiles" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def read_gate(root: Path) -> dict[str, Any]:
    return json.loads((root / "reports" / "gate.json").read_text())


def reasons(gate: Mapping[str, Any], org: str) -> list[str]:
    entry = gate["orgs"][org]
    return [item["reason"] for item in entry["failed"] + entry["errors"]]


def admin_counts(emulator: Any, session: requests.Session) -> dict[str, int]:
    rows = session.get(f"{emulator.url}/__emulator__/orgs").json()
    return {row["name"]: row["api_calls"] for row in rows}


def external_profile(root: Path, emulator: Any, names: tuple[str, ...] = SHARED_ORGS, **extra: object) -> None:
    """A profile whose orgs live in an already running emulator (auth method ``emulator`` with url/ca_file)."""
    orgs = [{"name": n, "kind": "sandbox",
             "auth": {"method": "emulator", "url": emulator.url, "ca_file": str(emulator.ca_cert)}} for n in names]
    (root / "profiles").mkdir(exist_ok=True)
    (root / "profiles" / "ext.yaml").write_text(yaml.safe_dump({**extra, "orgs": orgs}))


def org_reports(emulator: Any, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What the emulator's admin endpoint reports per org (API calls, write log)."""
    admin = requests.Session()
    admin.verify, admin.trust_env = str(emulator.ca_cert), False
    try:
        return {name: admin.get(f"{emulator.url}/__emulator__/orgs/{name}").json() for name in names}
    finally:
        admin.close()
