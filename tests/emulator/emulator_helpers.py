"""Helpers shared by the emulator tests: state files and clients that verify the emulator's CA."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from lockstep.emulator import Emulator
from lockstep.emulator.http.inprocess import in_process_session

StateFactory = Callable[..., Emulator]


def write_states(folder: Path, *states: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for state in states:
        (folder / f"{state['org']['name']}.yaml").write_text(yaml.dump(state, Dumper=yaml.CSafeDumper, sort_keys=False),
                                                             encoding="utf-8")
    return folder


def session_for(emu: Emulator) -> requests.Session:
    if emu.in_process:
        return in_process_session(emu.app, emu.url)
    session = requests.Session()
    session.verify = str(emu.ca_cert)
    return session


def token_of(emu: Emulator, name: str) -> str:
    return next(o["access_token"] for o in emu.orgs if o["name"] == name)


def salesforce(emu: Emulator, name: str, token: str | None = None) -> Salesforce:
    return Salesforce(instance_url=emu.url, session_id=token or token_of(emu, name), session=session_for(emu))


def admin(emu: Emulator, method: str, path: str, json: Any = None) -> Any:
    response = session_for(emu).request(method, f"{emu.url}/__emulator__/{path}", json=json, timeout=10)
    response.raise_for_status()
    return response.json()


def answer_of(error: SalesforceError) -> Any:
    """The answer a simple-salesforce error carries: the parsed JSON body (its ``content`` is
    annotated ``bytes``, but it holds what ``response.json()`` returned)."""
    return error.content
