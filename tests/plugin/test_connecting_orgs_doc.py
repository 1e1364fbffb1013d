"""docs/connecting-orgs.md works as written: every method's profile snippet loads with Lockstep's
profile loader, and logs in to an emulated org set up as the doc's "Demo:" notes say."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from lockstep.config.auth import METHODS
from lockstep.config.profile import load_profile
from lockstep.emulator import Emulator
from lockstep.session.orgs import Landscape

DOC = Path(__file__).resolve().parents[2] / "docs" / "connecting-orgs.md"
SECRETS = {"SF_CLIENT_ID": "demo-consumer-key", "SF_CLIENT_SECRET": "demo-consumer-secret",
           "SF_PASSWORD": "demo-password", "SF_SECURITY_TOKEN": "demo-security-token"}
REFRESH = "demo-refresh-token-1234"


def snippets() -> dict[str, dict[str, Any]]:
    """Each ```yaml block of the doc, by its org's auth method."""
    found = {}
    for block in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S):
        data = yaml.safe_load(block)
        found[data["orgs"][0]["auth"]["method"]] = data
    return found


def _key_pair(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lockstep-ci")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .sign(key, hashes.SHA256()))
    (folder / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (folder / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder / "server.key", folder / "server.crt"


def test_every_auth_method_has_a_snippet_that_loads(tmp_path: Path) -> None:
    key, _ = _key_pair(tmp_path)
    env = {**SECRETS, "SF_JWT_KEY_FILE": str(key), "SF_AUTH_URL_STAGING": f"force://PlatformCLI::{REFRESH}@acme.example",
           "SF_ACCESS_TOKEN": "00Dxx0000000001!AQ4AQDemoSession"}
    found = snippets()
    assert set(found) == set(METHODS) - {"emulator"}
    for method, data in found.items():
        path = tmp_path / f"{method}.yaml"
        path.write_text(yaml.safe_dump(data))
        profile = load_profile(path, tmp_path, environ=env)
        assert [o.auth.method for o in profile.orgs] == [method]


@pytest.mark.parametrize("method", ["jwt", "client_credentials", "sfdx_url", "password", "access_token"])
def test_each_snippet_logs_in_to_an_emulated_org(method: str, tmp_path: Path) -> None:
    key, cert = _key_pair(tmp_path)
    states = tmp_path / "states"
    states.mkdir()
    cert.rename(states / "server.crt")
    org: dict[str, Any] = {"org": {"name": "demo", "kind": "production"}, "username": "ci@acme.com",
           "credentials": {"client_id": SECRETS["SF_CLIENT_ID"], "client_secret": SECRETS["SF_CLIENT_SECRET"],
                           "password": SECRETS["SF_PASSWORD"], "security_token": SECRETS["SF_SECURITY_TOKEN"],
                           "refresh_token": REFRESH, "jwt_certificate": "server.crt"}}
    if method == "sfdx_url":
        org["credentials"]["client_id"] = "PlatformCLI"
    (states / "demo.yaml").write_text(yaml.safe_dump(org))
    with Emulator(states, port=0) as emulator:
        data = snippets()[method]
        entry = data["orgs"][0]
        entry["auth"]["ca_file"] = str(emulator.ca_cert)
        for url_key in ("login_url", "instance_url"):
            if url_key in entry["auth"]:
                entry["auth"][url_key] = emulator.url
        host = emulator.url.removeprefix("https://")
        env = {**SECRETS, "SF_JWT_KEY_FILE": str(key), "SF_AUTH_URL_STAGING": f"force://PlatformCLI::{REFRESH}@{host}",
               "SF_ACCESS_TOKEN": emulator.orgs[0]["access_token"]}
        (tmp_path / "p.yaml").write_text(yaml.safe_dump(data))
        profile = load_profile(tmp_path / "p.yaml", tmp_path, environ=env)
        landscape = Landscape(profile, profile.orgs)
        try:
            organization = landscape.pool.get(entry["name"]).facts.organization
        finally:
            landscape.stop()
    assert organization.name == "demo"
