"""Resources stay within --org-concurrency however many orgs a profile has: after gathering,
the run holds no connection and no thread per org (measured from inside a check, in a run of
its own against an emulator in this process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from plugin_helpers import state

from lockstep.emulator import Emulator

CHECK = '''
import os
import threading

from lockstep.facts.plan import Query, plan


def sockets():
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def one(org):
    return {"accounts": Query("SELECT COUNT(Id) total FROM Account")}


@plan(one)
def test_resources(org, planned):
    assert planned["accounts"][0]["total"] == 0
    with open("resources.txt", "a") as out:
        out.write(f"{org.name} {threading.active_count()} {sockets()}\\n")
'''


def run(root: Path, emulator: Emulator, orgs: int, concurrency: int) -> list[tuple[int, int]]:
    auth = {"method": "emulator", "url": emulator.url, "ca_file": str(emulator.ca_cert)}
    names = [f"org{n:03d}" for n in range(orgs)]
    (root / "profile.yaml").write_text(yaml.safe_dump({"orgs": [{"name": n, "kind": "sandbox", "auth": auth}
                                                                for n in names]}))
    (root / "resources.txt").unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pytest", "test_resources.py", "--org-profile", "profile.yaml",
                           "-p", "no:cacheprovider", "-q", "-p", "no:xdist", f"--org-concurrency={concurrency}"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = [line.split() for line in (root / "resources.txt").read_text().splitlines()]
    assert len(rows) == orgs
    return [(int(threads), int(sockets)) for _, threads, sockets in rows]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open sockets through /proc")
def test_threads_and_connections_do_not_grow_with_the_number_of_orgs(tmp_path: Path) -> None:
    states = tmp_path / "states"
    states.mkdir()
    for n in range(40):
        (states / f"org{n:03d}.yaml").write_text(yaml.safe_dump(state(f"org{n:03d}")))
    (tmp_path / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\n")
    (tmp_path / "test_resources.py").write_text(CHECK)
    with Emulator(states, host="127.0.0.1", port=0) as emulator:
        few = run(tmp_path, emulator, 8, 4)
        many = run(tmp_path, emulator, 40, 4)
    # during the checks: no gathering thread left, and no connection kept per org
    assert max(t for t, _ in many) <= max(t for t, _ in few) + 1, (few, many)
    assert max(s for _, s in many) <= 4, many
