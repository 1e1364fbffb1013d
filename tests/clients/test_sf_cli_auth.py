"""Lockstep's ``sf_cli`` auth method on orgs logged in with the real Salesforce CLI.

The demo landscape is served by one emulator; each org is logged in with ``sf org login
access-token`` under its own alias, and the whole catalog runs through the ``sf_cli`` method.
Its outcomes must be those of the same run through the emulator's own sessions.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from sf_cli_helpers import REPO, SfCli, cli_for

from lockstep.emulator import Emulator


@pytest.fixture(scope="module")
def demo() -> Iterator[Emulator]:
    with Emulator(REPO / "profiles" / "demo", port=0) as emu:
        yield emu


def _profile(path: Path, auth: dict[str, Any]) -> Path:
    """The demo profile with every org reached through ``auth`` (``{alias}`` is the org's name)."""
    data = yaml.safe_load((REPO / "profiles" / "demo.yaml").read_text())
    del data["emulator"]
    del data["expect"]["probes"]  # probes the demo's own emulator by ${emulator.url}
    for org in data["orgs"]:
        org["auth"] = {k: (v.format(alias=org["name"]) if isinstance(v, str) else v) for k, v in auth.items()}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# A production org, a sandbox and a subscriber: every kind of org the catalog treats differently.
ORGS = ("dev", "prod", "sub-globex")


def _run_catalog(folder: Path, profile: Path, env: dict[str, str] | None = None) -> tuple[dict[str, Any],
                                                                                          dict[str, str], str]:
    gate_file, junit = folder / "gate.json", folder / "junit.xml"
    command = [sys.executable, "-m", "pytest", str(REPO / "checks"), "--org-profile", str(profile), "--orgs",
               ",".join(ORGS),
               f"--gate-file={gate_file}", f"--junitxml={junit}", "-p", "no:cacheprovider", "-q", "--rootdir",
               str(REPO)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert gate_file.exists(), output[-4000:]
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        tag = next((t for t in ("failure", "error", "skipped") if case.find(t) is not None), "passed")
        outcomes[case.get("name", "")] = tag
    return json.loads(gate_file.read_text()), outcomes, output


def test_the_catalog_runs_through_sf_cli_like_through_the_emulator(
        sf_bin_path: str, sf_home: Path, demo: Emulator, tmp_path: Path) -> None:
    sf: SfCli = cli_for(sf_bin_path, sf_home, demo.ca_cert)
    for org in demo.orgs:
        if org["name"] in ORGS:
            sf.login_access_token(org["name"], demo.url, org["access_token"])
    via_cli = _profile(tmp_path / "via-cli.yaml",
                       {"method": "sf_cli", "alias": "{alias}", "ca_file": str(demo.ca_cert)})
    (tmp_path / "cli").mkdir()
    gate, outcomes, output = _run_catalog(tmp_path / "cli", via_cli, sf.env)
    tokens = [org["access_token"] for org in demo.orgs]
    assert not [t for t in tokens if t in output], "an access token reached the output"

    assert sorted(gate["orgs"]) == sorted(ORGS)
    assert all(entry["reachable"] for entry in gate["orgs"].values()), output[-4000:]
    assert "INVALID_SESSION_ID" not in output and ": sf_cli: " not in output, output[-4000:]
    assert sum(1 for o in outcomes.values() if o == "passed") > 30

    requests.post(f"{demo.url}/__emulator__/reset", verify=str(demo.ca_cert), timeout=30).raise_for_status()
    reference = _profile(tmp_path / "reference.yaml",
                         {"method": "emulator", "url": demo.url, "ca_file": str(demo.ca_cert)})
    (tmp_path / "ref").mkdir()
    ref_gate, ref_outcomes, _ = _run_catalog(tmp_path / "ref", reference)
    assert outcomes == ref_outcomes
    assert gate["decision"] == ref_gate["decision"] == "no-go"
