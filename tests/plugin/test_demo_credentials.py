"""The demo's orgs declare credentials for every login flow the emulator serves: password with a
security token, client credentials, JWT bearer (the demo-only key pair in profiles/demo/certs/)
and refresh token (SFDX auth URL). Each flow logs in to each demo org through Lockstep's own auth
methods, and the demo's values are masked in output like any secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockstep.config.profile import load_profile
from lockstep.emulator import Emulator
from lockstep.session.orgs import Landscape

DEMO = Path(__file__).resolve().parents[2] / "profiles" / "demo"
FLOWS = ("password", "client_credentials", "jwt", "sfdx_url")


def demo_states() -> dict[str, dict[str, Any]]:
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted(DEMO.glob("*.yaml"))}


@pytest.fixture(scope="module")
def demo() -> Iterator[Emulator]:
    with Emulator(DEMO, port=0) as emulator:
        yield emulator


def auth_for(flow: str, name: str, state: dict[str, Any], emulator: Emulator) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``auth:`` of a profile org logging in to demo org ``name`` with ``flow``, and its environment."""
    cred, prefix = state["credentials"], f"DEMO_{name.replace('-', '_').upper()}"
    common = {"ca_file": str(emulator.ca_cert)}
    if flow == "password":
        return ({"method": "password", "client_id": cred["client_id"], "client_secret": f"${{{prefix}_SECRET}}",
                 "username": state["username"], "password": f"${{{prefix}_PASSWORD}}",
                 "security_token": f"${{{prefix}_TOKEN}}", "login_url": emulator.url, **common},
                {f"{prefix}_SECRET": cred["client_secret"], f"{prefix}_PASSWORD": cred["password"],
                 f"{prefix}_TOKEN": cred["security_token"]})
    if flow == "client_credentials":
        return ({"method": "client_credentials", "client_id": cred["client_id"],
                 "client_secret": f"${{{prefix}_SECRET}}", "login_url": emulator.url, **common},
                {f"{prefix}_SECRET": cred["client_secret"]})
    if flow == "jwt":
        key = DEMO / Path(cred["jwt_certificate"]).with_suffix(".key")
        return ({"method": "jwt", "client_id": cred["client_id"], "username": state["username"],
                 "private_key_file": str(key), "login_url": emulator.url, **common}, {})
    served = {o["name"]: o for o in emulator.orgs}[name]
    return ({"method": "sfdx_url", "url": f"${{{prefix}_AUTH_URL}}", **common},
            {f"{prefix}_AUTH_URL": served["sfdx_auth_url"]})


@pytest.mark.parametrize("flow", FLOWS)
def test_every_login_flow_logs_in_to_every_demo_org(flow: str, demo: Emulator, tmp_path: Path) -> None:
    states = demo_states()
    assert sorted(states) == sorted(o["name"] for o in yaml.safe_load((DEMO.parent / "demo.yaml").read_text())["orgs"])
    orgs: list[dict[str, Any]] = []
    environ: dict[str, str] = {}
    for name, state in states.items():
        auth, env = auth_for(flow, name, state, demo)
        orgs.append({"name": f"{name}-by-{flow}", "kind": "sandbox", "auth": auth})
        environ.update(env)
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"orgs": orgs}))
    profile = load_profile(tmp_path / "p.yaml", tmp_path, environ=environ)
    landscape = Landscape(profile, profile.orgs)
    try:
        connected = {org.name: org for org in landscape.pool.connect_all([o["name"] for o in orgs], lambda name: ())}
        for name, state in states.items():
            org = connected[f"{name}-by-{flow}"]
            assert org.unreachable is None, org.unreachable
            expected = state["org"].get("display_name") or name
            assert org.facts.organization.name == expected, (flow, name)
    finally:
        landscape.stop()


def test_a_wrong_demo_secret_is_refused(demo: Emulator, tmp_path: Path) -> None:
    """The demo's credentials are checked, not waved through: a wrong password does not log in."""
    state = demo_states()["qa"]
    auth, env = auth_for("password", "qa", state, demo)
    env = {**env, "DEMO_QA_PASSWORD": "not-the-demo-password"}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"orgs": [{"name": "qa", "kind": "sandbox", "auth": auth}]}))
    profile = load_profile(tmp_path / "p.yaml", tmp_path, environ=env)
    landscape = Landscape(profile, profile.orgs)
    try:
        reason = landscape.pool.connect_all(["qa"], lambda name: ())[0].unreachable
    finally:
        landscape.stop()
    assert reason is not None and "authentication failure" in reason


def test_the_demo_secrets_are_masked_in_output(demo: Emulator, tmp_path: Path) -> None:
    state = demo_states()["staging"]
    auth, env = auth_for("password", "staging", state, demo)
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.yaml").write_text(
        yaml.safe_dump({"orgs": [{"name": "staging", "kind": "sandbox", "auth": auth}]}))
    (tmp_path / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\n")
    (tmp_path / "test_leaky.py").write_text(
        "import os\n\n"
        "def test_leaky(org):\n"
        "    print('password', os.environ['DEMO_STAGING_PASSWORD'], os.environ['DEMO_STAGING_TOKEN'])\n"
        "    assert org.facts.organization.name == 'x', os.environ['DEMO_STAGING_SECRET']\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "--org-profile", "p", "-p", "no:cacheprovider", "-rA"],
                          cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=180)
    output = done.stdout + done.stderr + (tmp_path / "reports" / "gate.json").read_text()
    assert done.returncode == 1 and "test_leaky" in output and "password" in output
    gate = json.loads((tmp_path / "reports" / "gate.json").read_text())
    assert gate["orgs"]["staging"]["counts"]["failed"] == 1  # logged in, the check ran and failed
    for value in (state["credentials"]["password"], state["credentials"]["security_token"],
                  state["credentials"]["client_secret"]):
        assert value not in output
