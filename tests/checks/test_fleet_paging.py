"""10,000 subscribers verified with at most 10 API calls to the packaging org: the fleet's queries
go out in one composite before the first check and the subscriber list is paged (2,000 rows per
page, each page a counted call), as the emulator's admin endpoint reports them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests
import yaml
from catalog import CHECKS, REPO

from lockstep.emulator import Emulator

SUBSCRIBERS = 10_000
STATE = {
    "org": {"name": "pkg", "kind": "production"},
    "username": "admin@pkg.example.com",
    "packaging": {
        "packages": [{"namespace": "acme_cpq", "name": "Acme CPQ", "versions": ["2.4.0.1", "2.5.0.1"]}],
        "fleet": [{"package": "acme_cpq", "seed": 1, "versions": {"2.5.0.1": 9_900, "2.4.0.1": 100},
                   "statuses": {"Active": 9_950, "Trial": 50}}],
        "push_requests": [{"package": "acme_cpq", "version": "2.5.0.1", "status": "Succeeded", "scheduled": "-PT3H"}],
    },
}


def test_ten_thousand_subscribers_in_at_most_ten_api_calls(tmp_path: Path) -> None:
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "pkg.yaml").write_text(yaml.safe_dump(STATE))
    with Emulator(tmp_path / "states", host="127.0.0.1", port=0) as emulator:
        auth = {"method": "emulator", "url": emulator.url, "ca_file": str(emulator.ca_cert)}
        fleet = {"package": "acme_cpq", "target": "2.5.0.1", "max_lagging_percent": 1}
        (tmp_path / "fleet.yaml").write_text(yaml.safe_dump({"orgs": [
            {"name": "pkg", "kind": "packaging", "auth": auth, "expect": {"fleet": fleet}}]}))
        gate_file = tmp_path / "gate.json"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", str(CHECKS / "test_fleet.py"), "--org-profile",
             str(tmp_path / "fleet.yaml"),
             f"--gate-file={gate_file}", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rP", "--rootdir",
             str(REPO),
             "-k", "not direct_subscribers"],  # the fleet's own calls: no cross-org facts
            cwd=REPO, capture_output=True, text=True, timeout=300)
        admin = requests.Session()
        admin.verify, admin.trust_env = str(emulator.ca_cert), False
        report = admin.get(f"{emulator.url}/__emulator__/orgs/pkg", timeout=10).json()
        admin.close()
    output = proc.stdout + proc.stderr
    gate = json.loads(gate_file.read_text())
    assert gate["orgs"]["pkg"]["decision"] == "go", output[-3000:]
    assert f"pkg: acme_cpq: target 2.5.0.1, 100 of {SUBSCRIBERS} subscribers lagging" in output  # every page read
    # one composite with the five fleet queries, then 4 more pages of 2,000 subscribers
    assert report["api_calls"] == 5, report  # each further page is a call of its own
    assert gate["orgs"]["pkg"]["api_calls"] == report["api_calls"]
