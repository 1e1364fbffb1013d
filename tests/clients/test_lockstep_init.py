"""``lockstep init`` turns the Salesforce CLI's logins into a profile that runs as written."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sf_cli_helpers import REPO, cli_for

from lockstep.commands.init import orgs_from_sf
from lockstep.config.profile import load_profile
from lockstep.emulator import Emulator


@pytest.fixture(scope="module")
def demo() -> Iterator[Emulator]:
    with Emulator(REPO / "profiles" / "demo", port=0) as emu:
        yield emu


def _lockstep(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockstep.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_init_writes_a_profile_of_the_cli_orgs_that_runs(sf_bin_path: str, sf_home: Path, demo: Emulator,
                                                         tmp_path: Path) -> None:
    sf = cli_for(sf_bin_path, sf_home, demo.ca_cert)
    tokens = {o["name"]: o["access_token"] for o in demo.orgs}
    sf.login_access_token("acme-prod", demo.url, tokens["prod"])
    sf.login_access_token("acme-qa", demo.url, tokens["qa"])
    project = tmp_path / "project"
    project.mkdir()
    done = _lockstep(sf.env, project, "init")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "wrote profiles/orgs.yaml: acme-prod, acme-qa\n"
    written = (project / "profiles" / "orgs.yaml").read_text()
    assert not [t for t in tokens.values() if t in written]
    assert yaml.safe_load(written)["orgs"] == [
        {"name": "acme-prod", "kind": "production", "auth": {"method": "sf_cli", "alias": "acme-prod"}},
        {"name": "acme-qa", "kind": "sandbox", "auth": {"method": "sf_cli", "alias": "acme-qa"}}]
    assert [o.name for o in load_profile(project / "profiles" / "orgs.yaml", project).orgs] == ["acme-prod", "acme-qa"]

    again = _lockstep(sf.env, project, "init")
    assert again.returncode == 2
    assert again.stderr == "lockstep init: profiles/orgs.yaml exists; choose another file with -o\n"

    # requests lets REQUESTS_CA_BUNDLE stand in for a ca_file: the profile runs as written.
    env = sf.env | {"REQUESTS_CA_BUNDLE": str(demo.ca_cert)}
    profile = project / "profiles" / "orgs.yaml"
    run = subprocess.run([sys.executable, "-m", "pytest", str(REPO / "checks"), f"--org-profile={profile}", "-q",
                          "-p", "no:cacheprovider", "--gate-file", str(tmp_path / "gate.json")],
                         cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    gate = json.loads((tmp_path / "gate.json").read_text())
    assert sorted(gate["orgs"]) == ["acme-prod", "acme-qa"], (run.stdout + run.stderr)[-3000:]
    assert all(o["reachable"] for o in gate["orgs"].values()), run.stdout[-3000:]
    assert ": sf_cli: " not in run.stdout + run.stderr


def test_init_without_cli_logins_writes_nothing(sf_bin_path: str, sf_home: Path, demo: Emulator,
                                                tmp_path: Path) -> None:
    sf = cli_for(sf_bin_path, sf_home, demo.ca_cert)
    done = _lockstep(sf.env, tmp_path, "init", "-o", "team.yaml")
    assert done.returncode == 2
    assert done.stderr.startswith("lockstep init: the Salesforce CLI is logged in to no org;")
    assert not (tmp_path / "team.yaml").exists()
    missing = _lockstep(sf.env, tmp_path, "init", "--sf", str(tmp_path / "no-such-sf"))
    assert missing.returncode == 2 and "is not on PATH" in missing.stderr


def test_org_entries_from_the_cli_listing() -> None:
    listing = {"nonScratchOrgs": [
        {"username": "ops@acme.com", "isSandbox": False, "orgEdition": "Enterprise Edition"},
        {"username": "dev@acme.com", "alias": "my dev/org", "isSandbox": False, "orgEdition": "Developer Edition"},
        {"username": "uat@acme.com.uat", "alias": "uat", "isSandbox": True},
        {"username": "uat2@acme.com.uat", "alias": "uat", "isSandbox": True},
        {"username": "ops@acme.com", "alias": "dup-of-ops"},
    ], "scratchOrgs": [{"username": "scratch@example.com", "alias": "s"}]}
    assert orgs_from_sf(listing) == [
        {"name": "my-dev-org", "kind": "dev", "auth": {"method": "sf_cli", "alias": "my dev/org"}},
        {"name": "ops-acme.com", "kind": "production", "auth": {"method": "sf_cli", "alias": "ops@acme.com"}},
        {"name": "uat", "kind": "sandbox", "auth": {"method": "sf_cli", "alias": "uat"}},
        {"name": "uat-2", "kind": "sandbox", "auth": {"method": "sf_cli", "alias": "uat"}},
    ]
