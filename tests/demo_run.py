"""The demo as a newcomer runs it, once per test session: ``pytest --org-profile demo`` in this
repository, in its own process, with the gate file and the HTML report the tests read.

tests/test_demo.py reads its gate and terminal output, tests/test_report_browser.py its HTML
report: one run serves both, on either xdist worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from run_once import once

REPO = Path(__file__).resolve().parents[1]


def _run(folder: Path) -> dict[str, Any]:
    gate, page = folder / "gate.json", folder / "report.html"
    proc = subprocess.run([sys.executable, "-m", "pytest", "--org-profile", "demo", "-p", "no:cacheprovider",
                           "--gate-file", str(gate), f"--html={page}", "--self-contained-html"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert gate.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
            "gate": json.loads(gate.read_text()), "page": str(page)}


def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]:
    """The run's process result, its gate and its HTML report."""
    data = once(tmp_path_factory, "demo-full-run", lambda: _run(tmp_path_factory.mktemp("demo")))
    proc = subprocess.CompletedProcess(["pytest", "--org-profile", "demo"], data["returncode"], data["stdout"],
                                       data["stderr"])
    return proc, data["gate"], Path(data["page"])
