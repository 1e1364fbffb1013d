"""Fixtures for the real-client tests: the installed ``sf`` CLI and an emulator it trusts.

Without the clients these tests skip, naming the install command; under CI (``CI=true``)
they fail instead, so a missing install never passes for a tested feature.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from needs import unavailable
from sf_cli_helpers import INSTALL, cli_bin_path, fresh_home


@pytest.fixture(scope="session")
def sf_bin_path() -> str:
    found = cli_bin_path()
    if found is None:
        reason = f"the Salesforce CLI and Node 22 are not installed; run {INSTALL}"
        unavailable(reason)
    return found


@pytest.fixture
def sf_home(tmp_path: Path) -> Iterator[Path]:
    with fresh_home(tmp_path) as home:
        yield home
