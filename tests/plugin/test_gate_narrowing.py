"""A run that leaves checks out is never the gate of a complete run, whichever way pytest was
told to leave them out: options that drop files before collection (``--lf``, ``--sw``,
``--ignore``, ``--ignore-glob``, ``-o testpaths=...``), and hooks that drop collected tests
without reporting them deselected. Each would otherwise end "go" and be accepted by
``lockstep gate check`` although only some checks ran."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from inprocess import gate_cli, run_pytest
from plugin_helpers import read_gate, write_landscape

ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}]
CATALOG = {
    "test_reachable.py": "def test_reachable(org):\n    assert org.name\n",
    "test_more.py": "def test_second(org):\n    assert org.name\n\ndef test_third(org):\n    assert org.name\n",
    "test_flaky.py": "import os\n\ndef test_flaky(org):\n    assert os.environ.get('LS_FIXED'), 'not fixed yet'\n",
}
EVERY_CHECK = 4 * len(ORGS)  # four checks, each once per org


def project_at(root: Path, ini: str = "") -> Path:
    (root / "checks").mkdir(parents=True)
    (root / "pytest.ini").write_text(f"[pytest]\nlockstep_catalog = none\ntestpaths = checks\n{ini}")
    for name, source in CATALOG.items():
        (root / "checks" / name).write_text(source)
    write_landscape(root, ORGS)
    return root


def pytest_in(root: Path, *args: str, fixed: bool = True) -> subprocess.CompletedProcess[str]:
    return run_pytest(root, "--org-profile=p", "-q", *args, env={"LS_FIXED": "1" if fixed else ""})


def gate_check(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return gate_cli("check", str(root / "reports" / "gate.json"), *args)


def assert_partial(root: Path, narrowing: str, executed: int) -> dict[str, Any]:
    gate = read_gate(root)
    assert gate["counts"]["executed"] == executed
    assert gate["complete"] is False
    refused = gate_check(root)
    assert refused.returncode == 1
    assert f"not the gate of a complete run: a partial run ({narrowing}); pass --allow-partial" in refused.stderr
    assert gate_check(root, "--allow-partial").returncode == 0
    return gate


@pytest.mark.parametrize("rerun", ["--lf", "--sw"])
def test_a_rerun_of_the_last_failures_is_partial(tmp_path: Path, rerun: str) -> None:
    """``--lf`` after a failure collects only the files that failed: the fixed checks pass,
    the others never run, and pytest reports nothing deselected."""
    root = project_at(tmp_path / "project")
    assert pytest_in(root, "-p", "cacheprovider", fixed=False).returncode == 1
    assert read_gate(root)["decision"] == "no-go"
    rerun_result = pytest_in(root, "-p", "cacheprovider", rerun)
    assert rerun_result.returncode == 0, rerun_result.stdout
    gate = read_gate(root)
    assert gate["decision"] == "go" and gate["narrowed_by"] == [rerun]
    assert_partial(root, f"left out before collection by {rerun}", gate["counts"]["executed"])
    if rerun == "--lf":
        assert gate["counts"]["executed"] == len(ORGS)


@pytest.mark.parametrize(("args", "narrowing"), [
    (("--ignore=checks/test_more.py",), "--ignore=checks/test_more.py"),
    (("--ignore", "checks/test_more.py"), "--ignore=checks/test_more.py"),
    (("--ignore-glob=*more*",), "--ignore-glob=*more*"),
    (("-o", "testpaths=checks/test_reachable.py checks/test_flaky.py"),
     "-o testpaths=checks/test_reachable.py checks/test_flaky.py"),
    (("-o", "python_functions=test_r*"), "-o python_functions=test_r*"),
    (("-o", "addopts=--ignore=checks/test_more.py"), "-o addopts=--ignore=checks/test_more.py"),
])
def test_files_left_out_before_collection_make_the_run_partial(tmp_path: Path, args: tuple[str, ...],
                                                                narrowing: str) -> None:
    root = project_at(tmp_path / "project")
    assert pytest_in(root, "-p", "no:cacheprovider", *args).returncode == 0
    gate = read_gate(root)
    assert gate["decision"] == "go" and gate["narrowed_by"] == [narrowing]
    assert_partial(root, f"left out before collection by {narrowing}", gate["counts"]["executed"])
    assert gate["counts"]["executed"] < EVERY_CHECK


def test_the_projects_own_ignores_keep_the_run_complete(tmp_path: Path) -> None:
    """``--ignore`` in the project's ``addopts`` defines its catalog, like ``collect_ignore``."""
    root = project_at(tmp_path / "project", ini="addopts = --ignore=checks/helpers --ignore checks/vendored\n")
    assert pytest_in(root, "-p", "no:cacheprovider").returncode == 0
    gate = read_gate(root)
    assert gate["complete"] is True and gate["narrowed_by"] == []
    assert gate["counts"]["executed"] == EVERY_CHECK
    assert gate_check(root).returncode == 0


DROPPING_CONFTEST = """
def pytest_collection_modifyitems(items):
    items[:] = [item for item in items if "test_more" not in item.nodeid]
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_checks_a_hook_drops_without_deselecting_make_the_run_partial(tmp_path: Path,
                                                                      workers: tuple[str, ...]) -> None:
    root = project_at(tmp_path / "project")
    (root / "checks" / "conftest.py").write_text(DROPPING_CONFTEST)
    assert pytest_in(root, "-p", "no:cacheprovider", *workers).returncode == 0
    gate = read_gate(root)
    assert gate["decision"] == "go" and gate["deselected"] == 2 * len(ORGS)
    assert_partial(root, f"{2 * len(ORGS)} tests deselected", EVERY_CHECK - 2 * len(ORGS))
