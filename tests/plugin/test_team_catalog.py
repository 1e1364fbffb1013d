"""A team's own repository: its checks run beside the built-in catalog in one run, it leaves out or
replaces built-in checks by name without making the run partial, and the gate records which
catalog ran (Lockstep version, content hashes)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from inprocess import gate_cli, run_pytest
from plugin_helpers import write_landscape

from lockstep.session.bundled import catalog_folder
from lockstep.session.collection import builtin_checks

REPO = Path(__file__).resolve().parents[2]
ORGS = ({"name": "alpha", "kind": "sandbox"}, {"name": "beta", "kind": "sandbox"})
TEAM_CHECKS = '''
def test_team_owns_this(org):
    """The team's own check."""
    assert org.name in ("alpha", "beta")


def test_flows_in_expected_state(org):
    """The team's version of a built-in check."""
    assert org.name
'''
BUILTIN_FILES = sorted(builtin_checks(catalog_folder()))


def team_project(root: Path, ini: str = "") -> Path:
    (root / "checks").mkdir(parents=True)
    (root / "checks" / "test_team.py").write_text(TEAM_CHECKS)
    (root / "pyproject.toml").write_text(f'[tool.pytest.ini_options]\ntestpaths = ["checks"]\n{ini}')
    write_landscape(root, ORGS)
    return root


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pytest(root, "--org-profile=p", "-q", "-p", "no:cacheprovider", f"--junitxml={root / 'junit.xml'}",
                      *args)


def gate_of(root: Path) -> dict:
    gate: dict[str, Any] = json.loads((root / "reports" / "gate.json").read_text())
    return gate


def ran(root: Path) -> Counter[tuple[str, str]]:
    """(file::check, org) of every check that ran, from the JUnit XML's properties."""
    found: Counter[tuple[str, str]] = Counter()
    for case in ET.parse(root / "junit.xml").getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        path, _, check = str(props["lockstep.check"]).rpartition("::")
        found[(f"{Path(path).name}::{check}", props.get("lockstep.org") or "")] += 1
    return found


def test_the_team_checks_run_beside_the_built_in_catalog(tmp_path: Path) -> None:
    root = team_project(tmp_path)
    result = run(root)
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-2000:]
    checks = ran(root)
    assert checks[("test_team.py::test_team_owns_this", "alpha")] == 1
    assert checks[("test_team.py::test_team_owns_this", "beta")] == 1
    assert sorted({key.split("::")[0] for key, _ in checks} - {"test_team.py"}) == BUILTIN_FILES
    assert checks[("test_packages.py::test_expected_package_versions", "beta")] == 1
    assert max(checks.values()) == 1  # nothing collected twice
    gate = gate_of(root)
    assert gate["counts"]["total"] == sum(checks.values()) and gate["complete"] is True
    catalog = gate["catalog"]
    assert catalog["builtin_files"] == BUILTIN_FILES and catalog["own_files"] == ["checks/test_team.py"]
    assert catalog["lockstep_version"] == gate["lockstep_version"] and catalog["builtin"] == "builtin"
    # a team check with a built-in check's name replaces it: only the team's ran
    assert ("test_automation.py::test_flows_in_expected_state", "alpha") not in checks
    assert checks[("test_team.py::test_flows_in_expected_state", "alpha")] == 1
    assert catalog["replaced"] == [{"check": "test_automation.py::test_flows_in_expected_state",
                                    "by": "checks/test_team.py::test_flows_in_expected_state"}]


def test_checks_left_out_by_the_team_are_recorded_and_the_run_stays_complete(tmp_path: Path) -> None:
    root = team_project(tmp_path, 'lockstep_catalog_skip = ["test_api_headroom", "test_packages.py::*",'
                                  ' "test_drift.py"]\n')
    result = run(root)
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-2000:]
    checks = ran(root)
    files = {key.split("::")[0] for key, _ in checks}
    assert "test_packages.py" not in files and "test_drift.py" not in files and "test_readiness.py" in files
    assert not [key for key, _ in checks if key.endswith("::test_api_headroom")]
    gate = gate_of(root)
    assert gate["complete"] is True and gate["deselected"] == 0 and gate["narrowed_by"] == []
    left_out = gate["catalog"]["left_out"]
    assert "test_readiness.py::test_api_headroom" in left_out
    index = builtin_checks(catalog_folder())
    for file in ("test_packages.py", "test_drift.py"):
        assert {f"{file}::{name}" for name in index[file]} <= set(left_out)
    assert gate["catalog"]["builtin_files"] == [f for f in BUILTIN_FILES
                                                if f not in ("test_drift.py", "test_packages.py")]
    shown = gate_cli("show", str(root / "reports" / "gate.json"))
    line = next(line for line in shown.stdout.splitlines() if line.startswith("catalog:"))
    assert gate["catalog"]["builtin_sha256"][:12] in line and "test_readiness.py::test_api_headroom" in line
    assert f"lockstep {gate['lockstep_version']}" in line and gate["catalog"]["own_sha256"][:12] in line


def test_the_hashes_tell_which_checks_ran(tmp_path: Path) -> None:
    """Two gates compare: the built-in hash changes with the built-in files collected, the team's
    own hash with the team's files, each independently of the other."""
    first = team_project(tmp_path / "first")
    second = team_project(tmp_path / "second")
    (second / "checks" / "test_team.py").write_text(TEAM_CHECKS + "\n\ndef test_one_more(org):\n    pass\n")
    third = team_project(tmp_path / "third", 'lockstep_catalog_skip = ["test_permissions.py"]\n')
    for root in (first, second, third):
        run(root)
    a, b, c = (gate_of(root)["catalog"] for root in (first, second, third))
    assert a["builtin_sha256"] == b["builtin_sha256"] != c["builtin_sha256"]
    assert a["own_sha256"] != b["own_sha256"] and a["own_sha256"] == c["own_sha256"]


def test_a_team_file_named_like_a_built_in_file_collects_beside_it(tmp_path: Path) -> None:
    root = team_project(tmp_path)
    (root / "checks" / "test_packages.py").write_text("def test_our_package_rules(org):\n    assert org.name\n")
    result = run(root)
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-2000:]
    checks = ran(root)
    assert checks[("test_packages.py::test_our_package_rules", "alpha")] == 1
    assert checks[("test_packages.py::test_expected_package_versions", "alpha")] == 1
    gate = gate_of(root)
    assert gate["catalog"]["own_files"] == ["checks/test_packages.py", "checks/test_team.py"]
    assert "test_packages.py" in gate["catalog"]["builtin_files"]
    assert not [reason for reason in gate["reasons"] if "collection error" in reason]


def test_an_unknown_name_to_leave_out_is_one_line_with_a_suggestion(tmp_path: Path) -> None:
    root = team_project(tmp_path, 'lockstep_catalog_skip = ["test_api_headrom"]\n')
    result = run(root)
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == ["ERROR: pyproject.toml: lockstep_catalog_skip: 'test_api_headrom' names no check of the"
                      " built-in catalog (did you mean 'test_api_headroom'?)"]
    gate = gate_of(root)
    assert gate["decision"] == "no-go" and "test_api_headrom" in gate["reasons"][0]


def test_a_wrong_catalog_setting_is_one_line(tmp_path: Path) -> None:
    root = team_project(tmp_path, 'lockstep_catalog = "yes"\n')
    result = run(root)
    assert result.returncode == 4
    assert "ERROR: pyproject.toml: lockstep_catalog: expected builtin or none, got 'yes'" in result.stderr
    assert gate_of(root)["decision"] == "no-go"


def test_catalog_none_runs_only_the_team_checks(tmp_path: Path) -> None:
    root = team_project(tmp_path, 'lockstep_catalog = "none"\n')
    result = run(root)
    assert result.returncode == 0, result.stdout[-3000:]
    assert {key.split("::")[0] for key, _ in ran(root)} == {"test_team.py"}
    catalog = gate_of(root)["catalog"]
    assert catalog["builtin"] == "none" and catalog["builtin_files"] == [] and catalog["builtin_sha256"] is None


def test_a_check_file_named_on_the_command_line_runs_alone(tmp_path: Path) -> None:
    root = team_project(tmp_path)
    result = run(root, "checks/test_team.py")
    assert result.returncode == 0, result.stdout[-3000:]
    assert {key.split("::")[0] for key, _ in ran(root)} == {"test_team.py"}
    assert gate_of(root)["complete"] is False  # a narrowed run, as before


def test_inside_this_repository_the_catalog_is_collected_once() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "--org-profile", "demo", "--collect-only", "-q",
                             "-p", "no:cacheprovider"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    ids = [line for line in result.stdout.splitlines() if "::" in line]
    assert ids and all(i.startswith("checks/") for i in ids)
    assert len(ids) == len(set(ids))
    assert {i.split("::")[0].removeprefix("checks/") for i in ids} == set(BUILTIN_FILES)


def test_a_malformed_catalog_record_is_refused_by_gate_check(tmp_path: Path) -> None:
    root = team_project(tmp_path)
    run(root)
    path = root / "reports" / "gate.json"
    gate = gate_of(root)
    gate["catalog"]["left_out"] = "test_api_headroom"
    path.write_text(json.dumps(gate))
    result = gate_cli("check", str(path))
    assert result.returncode == 2 and "catalog.left_out: expected a list of strings" in result.stderr
