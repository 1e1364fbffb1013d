"""docs/connecting-orgs.md, "Logging in to the demo", works as written: its sf CLI commands
(``sf org login sfdx-url`` with the auth URL the demo serves) and its simple-salesforce snippet,
run as they stand against ``lockstep emulator serve --state profiles/demo``; and what it says of
``REQUESTS_CA_BUNDLE`` is how ``requests`` behaves."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
import requests
from sf_cli_helpers import SfCli

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "connecting-orgs.md").read_text()
SECTION = DOC.split("## Logging in to the demo", 1)[1].split("\n## ", 1)[0]


def block(language: str) -> str:
    found = re.findall(rf"```{language}\n(.*?)```", SECTION, re.S)
    assert len(found) == 1, f"one {language} block expected in the section"
    text: str = found[0]
    return text


def demo_folder(root: Path) -> Path:
    """A folder laid out like this repository: profiles/demo (the doc's path)."""
    shutil.copytree(REPO / "profiles" / "demo", root / "profiles" / "demo")
    return root


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the `lockstep` command
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, object]]:
    """``lockstep emulator serve --state profiles/demo > emulator.json``, as the doc starts it."""
    root = demo_folder(tmp_path / "work")
    with open(root / "emulator.json", "w") as out:
        server = subprocess.Popen(["lockstep", "emulator", "serve", "--state", "profiles/demo"], cwd=root,
                                  stdout=out, env=clean_env())
    try:
        deadline = time.monotonic() + 60
        while not (root / "emulator.json").read_text().endswith("\n"):
            assert server.poll() is None and time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)
        yield {"root": root, **json.loads((root / "emulator.json").read_text())}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_simple_salesforce_snippet_logs_in_to_the_demo(served: dict[str, object]) -> None:
    root = served["root"]
    assert isinstance(root, Path)
    (root / "snippet.py").write_text(block("python"))
    env = {**clean_env(), "REQUESTS_CA_BUNDLE": certifi.where()}  # the snippet points it at the demo's CA
    done = subprocess.run([sys.executable, "snippet.py"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "Globex Corporation"


def test_requests_lets_the_environment_override_session_verify(served: dict[str, object],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{served['url']}/services/data/"
    with requests.Session() as session:
        session.verify = str(served["ca_cert"])
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
        with pytest.raises(requests.exceptions.SSLError):
            session.get(url, timeout=30)
        session.verify = certifi.where()
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(served["ca_cert"]))
        assert session.get(url, timeout=30).status_code == 200


def test_the_sf_cli_commands_log_in_with_the_demo_auth_url(sf_bin_path: str, sf_home: Path, tmp_path: Path) -> None:
    root = demo_folder(tmp_path / "work")
    env = {**SfCli(sf_bin_path, sf_home, Path(os.devnull)).env, "PATH": clean_env()["PATH"]}
    env["PATH"] = f"{sf_bin_path}{os.pathsep}{env['PATH']}"
    env.pop("NODE_EXTRA_CA_CERTS")  # the snippet exports it
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + block("bash")
    done = subprocess.run(["bash", "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Globex Corporation" in done.stdout and "Initech" in done.stdout
    assert (root / "qa.authurl").read_text().startswith("force://demo-qa-consumer-key:")
