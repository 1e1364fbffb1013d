"""The built wheel carries the check catalog and the demo: `pytest --org-profile demo` runs in an
empty folder where Lockstep is installed, and finds what it finds in this repository."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from run_once import once

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def wheel_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the built wheel installed; the dependencies are the
    ones of this environment (no network), reached through a path file. Built once for both xdist
    workers."""
    return Path(once(tmp_path_factory, "wheel-python", lambda: str(_wheel_python(tmp_path_factory.mktemp("wheel")))))


def _wheel_python(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(folder / "dist")],
                   check=True, capture_output=True, timeout=300)
    wheel = next((folder / "dist").glob("lockstep-*.whl"))
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # Plain path lines: this environment's own .pth files (its editable Lockstep) are not run.
    (Path(purelib) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return python


def test_the_wheel_runs_the_demo_in_an_empty_folder(wheel_python: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run = subprocess.run([str(wheel_python), "-m", "pytest", "--org-profile", "demo", "-q", "-p", "no:cacheprovider"],
                         cwd=empty, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1, (run.stdout + run.stderr)[-3000:]
    where = subprocess.run([str(wheel_python), "-c", "import lockstep; print(lockstep.__file__)"],
                           capture_output=True, text=True, check=True).stdout
    assert str(REPO) not in where  # the installed copy ran, not this checkout
    gate = json.loads((empty / "reports" / "gate.json").read_text())
    assert gate["decision"] == "no-go" and gate["complete"] is True
    found = {org: sorted(i["reason"] for i in entry["failed"]) for org, entry in gate["orgs"].items()}
    assert found["dev"] == []
    assert found["prod"] == ["prod: flow Case_Triage: expected active, found inactive (latest version 4)"]
    assert found["sub-initech"] == ["sub-initech: package acme_cpq: expected 2.5.0.1, found 2.4.0.1"]
    assert "staging: named credential ERP: expected the sandbox endpoint https://erp-test.acme.example, found the " \
           "production endpoint https://erp.acme.example/api" in found["staging"]
    assert any(reason.startswith("packaging: package acme_cpq: 122 of 3002 subscribers (4.1%) lag 2.5.0.1")
               for reason in found["packaging"]), found["packaging"]
    assert len(gate["reasons"]) == 7 and sorted(gate["orgs"]) == ["dev", "packaging", "prod", "qa", "staging",
                                                                  "sub-globex", "sub-initech"]
    assert sorted(p.name for p in empty.iterdir()) == ["reports"]  # nothing else written there


def test_inside_a_project_its_own_demo_and_checks_win(wheel_python: Path, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = checks\nlockstep_catalog = none\n")
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_own.py").write_text("def test_own(org):\n    assert org.name == 'solo'\n")
    (tmp_path / "profiles" / "demo").mkdir(parents=True)
    (tmp_path / "profiles" / "demo.yaml").write_text("emulator: demo\norgs:\n  - {name: solo, kind: sandbox}\n")
    (tmp_path / "profiles" / "demo" / "solo.yaml").write_text("org: {name: solo, kind: sandbox}\n")
    run = subprocess.run([str(wheel_python), "-m", "pytest", "--org-profile", "demo", "-q", "-p", "no:cacheprovider"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    gate = json.loads((tmp_path / "reports" / "gate.json").read_text())
    assert list(gate["orgs"]) == ["solo"] and gate["orgs"]["solo"]["counts"]["passed"] == 1


def test_a_team_repository_runs_its_checks_beside_the_installed_catalog(wheel_python: Path, tmp_path: Path) -> None:
    """A team's own repository: profiles/x.yaml, its own checks/, Lockstep installed from the wheel.
    The installed catalog and the team's checks run in one run (here over two processes), one
    built-in check left out and one replaced by the team's, and the gate says which catalog ran."""
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["checks"]\n'
                                             'lockstep_catalog_skip = ["test_api_headroom"]\n')
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_team.py").write_text(
        "def test_team(org):\n    assert org.name in ('a', 'b')\n\n\n"
        "def test_expected_package_versions(org):\n    assert org.name\n")
    (tmp_path / "checks" / "test_packages.py").write_text("def test_own_packages(org):\n    assert org.name\n")
    (tmp_path / "profiles" / "x").mkdir(parents=True)
    (tmp_path / "profiles" / "x.yaml").write_text("emulator: x\norgs:\n  - {name: a, kind: sandbox}\n"
                                                  "  - {name: b, kind: sandbox}\n")
    for name in ("a", "b"):
        (tmp_path / "profiles" / "x" / f"{name}.yaml").write_text(f"org: {{name: {name}, kind: sandbox}}\n")
    run = subprocess.run([str(wheel_python), "-m", "pytest", "--org-profile", "x", "-p", "no:cacheprovider", "-n", "2",
                          "--junitxml=junit.xml"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode in (0, 1), (run.stdout + run.stderr)[-3000:]
    gate = json.loads((tmp_path / "reports" / "gate.json").read_text())
    catalog = gate["catalog"]
    shipped = sorted(p.name for p in (REPO / "checks").glob("test_*.py"))
    assert catalog["builtin_files"] == shipped
    assert catalog["own_files"] == ["checks/test_packages.py", "checks/test_team.py"]
    assert catalog["left_out"] == ["test_readiness.py::test_api_headroom"]
    assert catalog["replaced"] == [{"check": "test_packages.py::test_expected_package_versions",
                                    "by": "checks/test_team.py::test_expected_package_versions"}]
    assert gate["complete"] is True and gate["lockstep_version"] == catalog["lockstep_version"]
    ran = set()
    for case in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        file, _, check = str(props["lockstep.check"]).rpartition("::")
        ran.add((Path(file).name, check, props.get("lockstep.org")))
    for org in ("a", "b"):
        assert {("test_team.py", "test_team", org), ("test_team.py", "test_expected_package_versions", org),
                ("test_packages.py", "test_packages_on_previous_version", org),
                ("test_packages.py", "test_own_packages", org)} <= ran
    assert {f for f, _, _ in ran} == {"test_team.py", *shipped}
    assert not {c for f, c, _ in ran if c == "test_api_headroom" or (f, c) == ("test_packages.py",
                                                                               "test_expected_package_versions")}
    assert gate["counts"]["total"] == len(ran)
    # the installed catalog is this repository's checks/, file for file: the same hash
    from lockstep.session.collection import files_sha256

    assert catalog["builtin_sha256"] == files_sha256((n, REPO / "checks" / n) for n in shipped)


def test_a_folder_without_a_project_is_still_refused_for_other_profiles(wheel_python: Path, tmp_path: Path) -> None:
    run = subprocess.run([str(wheel_python), "-m", "pytest", "--org-profile", "mine", "-q", "-p", "no:cacheprovider"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode != 0 and "no pytest configuration in" in run.stderr


def test_the_package_list_names_every_package_folder() -> None:
    """pyproject.toml lists the packages (the catalog and the demo are mapped in): a new subpackage
    of plugin/lockstep must be listed, or the wheel would leave it out."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(REPO / "plugin").parts) for p in (REPO / "plugin").rglob("__init__.py")}
    assert folders <= listed and {"lockstep.catalog", "lockstep.demo"} <= listed
