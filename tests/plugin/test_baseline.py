"""``lockstep expect`` prints the expectations an org satisfies now; run as written, they pass."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from inprocess import run_pytest

REPO = Path(__file__).resolve().parents[2]
CHECKS = ("test_packages.py", "test_automation.py", "test_integrations.py")


def _expect(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockstep.cli", "expect", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("org", ["dev", "sub-globex"])
def test_the_printed_baseline_passes_the_catalog(org: str, tmp_path: Path) -> None:
    done = _expect("--org-profile", "demo", "--org", org)
    assert done.returncode == 0, done.stderr
    block = yaml.safe_load(done.stdout)["expect"]
    state = yaml.safe_load((REPO / "profiles" / "demo" / f"{org}.yaml").read_text())
    assert block["packages"] == {p["namespace"] or p["name"]: {"version": p["version"]} for p in state["packages"]}
    assert set(block["flows"]) == {f["api_name"] for f in state["flows"]}

    kind = {"dev": "dev", "sub-globex": "subscriber"}[org]
    profile = tmp_path / "baseline.yaml"
    profile.write_text(yaml.safe_dump({"emulator": str(REPO / "profiles" / "demo"),
                                       "orgs": [{"name": org, "kind": kind, "expect": block}]}))
    junit = tmp_path / "junit.xml"
    run = run_pytest(REPO, *(str(REPO / "checks" / c) for c in CHECKS), f"--org-profile={profile}",
                     f"--junitxml={junit}", "-p", "no:cacheprovider", "-q", "--rootdir", str(REPO), "--gate-file",
                     str(tmp_path / "gate.json"))
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    failed = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
    passed = [c.get("name") for c in cases if c.find("skipped") is None and c.get("name") not in failed]
    assert not failed, run.stdout[-3000:]
    assert len(passed) >= 5, run.stdout[-3000:]


def test_expect_errors_are_one_line(tmp_path: Path) -> None:
    unknown = _expect("--org-profile", "demo", "--org", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr == ("lockstep expect: no org named 'nope' in profile 'demo'; "
                              "orgs: dev, packaging, prod, qa, staging, sub-globex, sub-initech\n")
    missing = _expect("--org-profile", "absent", "--org", "x", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("lockstep expect: ") and missing.stderr.count("\n") == 1


def test_a_remote_site_no_endpoint_covers_is_named() -> None:
    done = _expect("--org-profile", "demo", "--org", "staging")
    assert done.returncode == 0, done.stderr
    assert ("# remote site ERP_Site (https://erp-test.acme.example) is covered by no endpoint: "
            "add its URL to the system it belongs to\n") in done.stdout
    assert yaml.safe_load(done.stdout)["expect"]["endpoints"]["ERP"] == {"sandbox": "https://erp.acme.example/api"}
