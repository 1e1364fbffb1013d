"""The naive suite's setup: the orgs of the benchmark's profile, one simple-salesforce
connection each, made when an org is first needed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from simple_salesforce import Salesforce

_PROFILE = yaml.safe_load(Path(os.environ["NAIVE_PROFILE"]).read_text(encoding="utf-8"))
_SHARED = _PROFILE.get("expect") or {}
ORGS = [org["name"] for org in _PROFILE["orgs"]]
_CONNECTIONS: dict[str, Salesforce] = {}


def expect_of(name: str) -> dict[str, Any]:
    own = next(org for org in _PROFILE["orgs"] if org["name"] == name).get("expect") or {}
    merged = {**_SHARED, **own}
    return {key: value for key, value in merged.items() if value is not None}


def kind_of(name: str) -> str:
    kind: str = next(org for org in _PROFILE["orgs"] if org["name"] == name)["kind"]
    return kind


def connect(name: str) -> Salesforce:
    if name not in _CONNECTIONS:
        auth = next(org for org in _PROFILE["orgs"] if org["name"] == name)["auth"]
        session = requests.Session()
        session.verify = auth["ca_file"]
        session.trust_env = False
        token = session.post(f"{auth['url']}/__emulator__/orgs/{name}/sessions").json()
        _CONNECTIONS[name] = Salesforce(instance_url=token.get("instance_url") or auth["url"],
                                        session_id=token["access_token"], session=session, version="60.0")
    return _CONNECTIONS[name]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "org" in metafunc.fixturenames:
        metafunc.parametrize("org", ORGS)


@pytest.fixture
def sf(org: str) -> Salesforce:
    return connect(org)


@pytest.fixture
def expect(org: str) -> dict[str, Any]:
    return expect_of(org)


@pytest.fixture
def every_org() -> list[tuple[str, Salesforce]]:
    return [(name, connect(name)) for name in ORGS]
