"""Without the installed clients the real-client tests skip locally, naming the install script,
and fail under CI: a missing install never passes for a tested feature."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sf_cli_helpers import REPO


@pytest.mark.parametrize(("ci", "outcome"), [("", "1 skipped"), ("true", "1 error")])
def test_missing_clients_skip_locally_and_fail_under_ci(tmp_path: Path, ci: str, outcome: str) -> None:
    env = {**os.environ, "LOCKSTEP_CLIENTS_DIR": str(tmp_path / "nothing-installed"), "CI": ci}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/clients/test_sf_cli.py::test_limits", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-rs", "--rootdir", str(REPO)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert outcome in done.stdout, done.stdout[-3000:]
    assert "tests/clients/install.sh" in done.stdout
