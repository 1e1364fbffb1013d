"""A run limited to some check files says so in its gate, and is not accepted as a complete stage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str) -> dict:
    gate = tmp_path / "gate.json"
    subprocess.run([sys.executable, "-m", "pytest", "--org-profile", "demo", "-p", "no:cacheprovider", "-q",
                    f"--gate-file={gate}", *args], cwd=REPO, capture_output=True, timeout=300)
    data: dict[str, Any] = json.loads(gate.read_text())
    return data


def test_a_run_limited_to_a_check_file_is_partial(tmp_path: Path) -> None:
    gate = run(tmp_path, "checks/test_packages.py")
    assert gate["paths"] == ["checks/test_packages.py"]
    assert gate["complete"] is False
    refused = subprocess.run([sys.executable, "-m", "lockstep.cli", "gate", "check", str(tmp_path / "gate.json")],
                             capture_output=True, text=True)
    assert "limited to checks/test_packages.py" in refused.stdout + refused.stderr
    assert refused.returncode == 1


def test_a_run_of_the_catalog_folder_records_no_paths(tmp_path: Path) -> None:
    gate = run(tmp_path, "checks")
    assert gate["paths"] == []
    assert gate["complete"] is True
