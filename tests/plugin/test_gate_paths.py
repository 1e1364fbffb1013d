"""A run limited to some check files says so in its gate, and is not accepted as a complete stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inprocess import gate_cli, run_pytest

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str) -> dict:
    gate = tmp_path / "gate.json"
    run_pytest(REPO, "--org-profile", "demo", "-p", "no:cacheprovider", "-q", f"--gate-file={gate}", *args)
    data: dict[str, Any] = json.loads(gate.read_text())
    return data


def test_a_run_limited_to_a_check_file_is_partial(tmp_path: Path) -> None:
    gate = run(tmp_path, "checks/test_packages.py")
    assert gate["paths"] == ["checks/test_packages.py"]
    assert gate["complete"] is False
    refused = gate_cli("check", str(tmp_path / "gate.json"))
    assert "limited to checks/test_packages.py" in refused.stdout + refused.stderr
    assert refused.returncode == 1


def test_a_run_of_the_catalog_folder_records_no_paths(tmp_path: Path) -> None:
    gate = run(tmp_path, "checks")
    assert gate["paths"] == []
    assert gate["complete"] is True
