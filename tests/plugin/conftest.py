"""Fixtures for the plugin's tests: a shared emulator, and landscapes written into pytester's folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from plugin_helpers import SHARED_ORGS, write_landscape

from lockstep.emulator import Emulator


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator this test module talks to directly (admin counts, faults)."""
    folder = tmp_path_factory.mktemp("states")
    write_landscape(folder, [{"name": n, "kind": "sandbox"} for n in SHARED_ORGS])
    with Emulator(folder / "profiles" / "p-states", host="127.0.0.1", port=0) as emu:
        yield emu


@pytest.fixture
def admin(emulator: Emulator) -> Iterator[requests.Session]:
    """A session for the emulator's admin endpoint (not an org's: those refuse writes); the
    emulator is reset around each test."""
    session = requests.Session()
    session.verify = str(emulator.ca_cert)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the emulator's CA
    session.post(f"{emulator.url}/__emulator__/reset").raise_for_status()
    yield session
    session.post(f"{emulator.url}/__emulator__/reset")
    session.close()


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder that is its own rootdir."""
    pytester.makeini("[pytest]\nlockstep_catalog = none\n")
    return pytester
