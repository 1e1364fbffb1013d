"""``lockstep emulator serve`` in a subprocess: one JSON line, serves, exits 0 on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from emulator_helpers import write_states


def serve(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    return subprocess.Popen(
        [sys.executable, "-m", "lockstep.emulator", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def test_serve_prints_one_json_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    state = write_states(tmp_path / "state", {"org": {"name": "alpha"}}, {"org": {"name": "beta"}})
    process = serve("--state", str(state), "--port", "0", "--latency-ms", "1")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"url", "ca_cert", "orgs"}
        assert [o["name"] for o in info["orgs"]] == ["alpha", "beta"]
        assert set(info["orgs"][0]) == {"name", "org_id", "username", "instance_url", "access_token"}
        session = requests.Session()
        response = session.get(
            f"{info['url']}/services/data/v62.0/query", params={"q": "SELECT Name FROM Organization"},
            headers={"Authorization": f"Bearer {info['orgs'][1]['access_token']}"}, verify=info["ca_cert"], timeout=10,
        )
        assert response.status_code == 200 and response.json()["records"][0]["Name"] == "beta"
        assert Path(info["ca_cert"]).exists()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert out == "", "exactly one line is printed"
    assert not Path(info["ca_cert"]).exists(), "the CA file is removed at stop"


def test_bad_state_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("org:\n  name: x\n  knd: sandbox\n", encoding="utf-8")
    process = serve("--state", str(tmp_path))
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "broken.yaml: org.knd: unknown key (did you mean 'kind'?)" in err
