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
    gate: dict[str, Any] = json.loads((root / "reports" / "gate.json").read_text())
    return gate


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


_LISTS = ("failed", "errors", "warnings", "waived", "skipped")
_COUNTS = ("passed", "failed", "errors", "skipped", "xfailed", "xpassed", "warnings", "waived", "total", "executed")


def full_gate(partial: Mapping[str, Any]) -> dict[str, Any]:
    """``partial`` (a few fields of a gate file, ``None`` for an empty list) completed with the
    fields of an empty gate, as Lockstep would write it."""
    from lockstep.gate.model import SCHEMA

    def lists(data: Mapping[str, Any]) -> dict[str, Any]:
        return {kind: list(data.get(kind) or []) for kind in _LISTS}

    def counts(data: Mapping[str, Any] | None) -> dict[str, int]:
        return {key: int((data or {}).get(key, 0)) for key in _COUNTS}

    def waiver(data: Mapping[str, Any]) -> dict[str, Any]:
        orgs = data.get("orgs", "all")
        return {"check": data.get("check", "*"), "orgs": ", ".join(orgs) if isinstance(orgs, list) else orgs,
                "reason": data.get("reason", ""), "owner": data.get("owner", ""), "expires": data.get("expires")}

    def entries(data: Mapping[str, Any]) -> dict[str, Any]:
        return {kind: [{**e, "waiver": waiver(e["waiver"])} if e.get("waiver") else dict(e) for e in items]
                for kind, items in lists(data).items()}

    orgs = {name: {"decision": org.get("decision", "go"), "kind": org.get("kind", "sandbox"),
                   "reachable": org.get("reachable", True), "api_calls": org.get("api_calls", 0),
                   "counts": counts(org.get("counts")), **entries(org)}
            for name, org in (partial.get("orgs") or {}).items()}
    landscape = partial.get("landscape") or {}
    return {
        "schema": SCHEMA, "decision": partial.get("decision", "no-go"), "run_id": partial.get("run_id", ""),
        "release": partial.get("release"),
        "profile": {"name": "", "sha256": "", **(partial.get("profile") or {})}, "phase": partial.get("phase", "all"),
        "started": partial.get("started", ""), "finished": partial.get("finished"),
        "lockstep_version": partial.get("lockstep_version", ""), "exit_status": partial.get("exit_status"),
        "pytest_exit_status": partial.get("pytest_exit_status"), "counts": counts(partial.get("counts")),
        "orgs": orgs, "landscape": {**entries(landscape), "left_out": dict(landscape.get("left_out") or {})},
        "waivers": [{**waiver(w), "matched": w.get("matched", 0), "status": w["status"]}
                    for w in partial.get("waivers") or []],
        "reasons": list(partial.get("reasons") or []), "deployed_at": partial.get("deployed_at"),
        **{key: partial.get(key, default) for key, default in (
            ("selection", None), ("org_shard", None), ("keyword", ""), ("markexpr", ""), ("paths", []),
            ("narrowed_by", []), ("deselected", 0), ("complete", False))},
    }


def gate_from(partial: Mapping[str, Any]) -> Any:
    """The :class:`~lockstep.gate.model.Gate` of :func:`full_gate`."""
    from lockstep.gate.model import Gate

    return Gate.from_json(full_gate(partial), "test gate")
