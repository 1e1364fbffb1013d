"""Every authentication flow against the emulator's token endpoint, and its failures."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from lockstep.emulator import Emulator
from lockstep.salesforce.auth import (
    AUTH_METHODS,
    AccessTokenAuth,
    ClientCredentialsAuth,
    EmulatorAuth,
    JwtAuth,
    PasswordAuth,
    SfCliAuth,
    SfdxUrlAuth,
    authenticator_for,
)
from lockstep.salesforce.client import CallCounter, OrgClient, new_session
from lockstep.salesforce.errors import AuthenticationError, Secret, SessionExpired

USERNAME = "ci@authy.example.com"
CLIENT_ID = "3MVG9authyClient"
CLIENT_SECRET = "client-secret-value"
REFRESH = "5Aep861authyRefresh"


def _key_and_cert(folder: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lockstep-ci")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    (folder / "ci.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = folder / "ci.key"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return key_file


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, Path]]:
    folder = tmp_path_factory.mktemp("auth")
    key_file = _key_and_cert(folder)
    state = {
        "org": {"name": "authy", "kind": "sandbox"},
        "username": USERNAME,
        "credentials": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "password": "pw",
                        "security_token": "tok", "refresh_token": REFRESH, "jwt_certificate": "ci.crt"},
    }
    (folder / "authy.yaml").write_text(yaml.safe_dump(state))
    with Emulator(folder / "authy.yaml", host="127.0.0.1", port=0) as emu:
        yield emu, key_file


def connect(emu: Emulator, auth: Any) -> OrgClient:
    counter = CallCounter()
    return OrgClient("authy", auth, new_session(counter, emu.ca_cert), counter, retry_delays=(0.0, 0.0))


def org_name(client: OrgClient) -> str:
    return str(client.query("SELECT Name FROM Organization")[0]["Name"])


def test_password_flow(served: tuple[Emulator, Path]) -> None:
    emu, _ = served
    auth = PasswordAuth("authy", CLIENT_ID, USERNAME, Secret("pw"), Secret(CLIENT_SECRET), Secret("tok"), emu.url)
    assert org_name(connect(emu, auth)) == "authy"


def test_client_credentials_flow(served: tuple[Emulator, Path]) -> None:
    emu, _ = served
    assert org_name(connect(emu, ClientCredentialsAuth("authy", CLIENT_ID, Secret(CLIENT_SECRET), emu.url))) == "authy"


def test_jwt_flow_with_a_generated_key(served: tuple[Emulator, Path]) -> None:
    emu, key_file = served
    assert org_name(connect(emu, JwtAuth("authy", CLIENT_ID, USERNAME, private_key_file=key_file,
                                         login_url=emu.url))) == "authy"
    inline = JwtAuth("authy", CLIENT_ID, USERNAME, private_key=Secret(key_file.read_text()), login_url=emu.url)
    assert org_name(connect(emu, inline)) == "authy"


def test_sfdx_auth_url_refresh_flow(served: tuple[Emulator, Path]) -> None:
    emu, _ = served
    host = emu.url.removeprefix("https://")
    url = Secret(f"force://{CLIENT_ID}:{CLIENT_SECRET}:{REFRESH}@{host}")
    assert org_name(connect(emu, SfdxUrlAuth("authy", url))) == "authy"


def test_access_token_flow_and_no_refresh(served: tuple[Emulator, Path]) -> None:
    emu, _ = served
    token = EmulatorAuth("authy", emu.url).login(new_session(CallCounter(), emu.ca_cert))
    client = connect(emu, AccessTokenAuth("authy", token.access_token, emu.url))
    assert org_name(client) == "authy"
    requests.post(f"{emu.url}/__emulator__/orgs/authy/expire-sessions", verify=str(emu.ca_cert),
                  timeout=30).raise_for_status()
    with pytest.raises(SessionExpired) as info:
        client.query("SELECT Id FROM Organization")
    assert str(info.value) == "authy: INVALID_SESSION_ID: Session expired or invalid"


def test_sf_cli_alias(served: tuple[Emulator, Path], tmp_path: Path) -> None:
    emu, _ = served
    token = EmulatorAuth("authy", emu.url).login(new_session(CallCounter(), emu.ca_cert))
    fake = tmp_path / "sf"
    payload = {"status": 0, "result": {"accessToken": token.access_token.reveal(), "instanceUrl": emu.url}}
    fake.write_text(f"#!{sys.executable}\nimport sys\nassert sys.argv[1:] == ['org', 'display', '--json', "
                    f"'--target-org', 'authy-alias']\nprint({json.dumps(json.dumps(payload))})\n")
    fake.chmod(0o755)
    assert org_name(connect(emu, SfCliAuth("authy", "authy-alias", command=str(fake)))) == "authy"
    with pytest.raises(AuthenticationError, match=r"authy: sf_cli: the Salesforce CLI .* is not on PATH"):
        SfCliAuth("authy", "x", command=str(tmp_path / "missing")).login(new_session(CallCounter()))


REDACTED = "[REDACTED] Use 'sf org auth show-access-token' to view"


def _fake_sf(folder: Path, answers: dict[str, tuple[int, dict[str, Any]]]) -> Path:
    """A stand-in ``sf``: the JSON answer (and exit status) for each subcommand; others exit 2."""
    script = folder / "sf"
    table = {key: [code, json.dumps(body)] for key, (code, body) in answers.items()}
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"table = json.loads({json.dumps(json.dumps(table))})\n"
        "args = sys.argv[1:]\n"
        "assert args[-3:-1] == ['--json', '--target-org'], args\n"
        "key = ' '.join(args[:-3])\n"
        "if key not in table:\n"
        "    print(json.dumps({'status': 2, 'name': 'CommandNotFound', 'message': f'{key} is not a sf command.'}))\n"
        "    sys.exit(2)\n"
        "code, body = table[key]\n"
        "print(body)\n"
        "sys.exit(code)\n")
    script.chmod(0o755)
    return script


def test_sf_cli_reads_a_redacted_token_with_show_access_token(served: tuple[Emulator, Path], tmp_path: Path) -> None:
    emu, _ = served
    token = EmulatorAuth("authy", emu.url).login(new_session(CallCounter(), emu.ca_cert)).access_token.reveal()
    fake = _fake_sf(tmp_path, {
        "org display": (0, {"status": 0, "result": {"accessToken": REDACTED, "instanceUrl": emu.url + "/"}}),
        "org auth show-access-token": (0, {"status": 0, "result": {"accessToken": token}}),
    })
    assert org_name(connect(emu, SfCliAuth("authy", "authy-alias", command=str(fake)))) == "authy"


@pytest.mark.parametrize(("answers", "expected"), [
    ({"org display": (0, {"status": 0, "result": {"accessToken": REDACTED, "instanceUrl": "https://x.example"}})},
     "authy: sf_cli: alias 'a': sf org auth show-access-token: org auth show-access-token is not a sf command."),
    ({"org display": (1, {"status": 1, "name": "NamedOrgNotFoundError",
                          "message": "No authorization information\nfound for a."})},
     "authy: sf_cli: alias 'a': sf org display: No authorization information found for a."),
    ({"org display": (0, {"status": 0, "result": {"accessToken": "00Dx!tok"}})},
     "authy: sf_cli: alias 'a': sf org display gave no instanceUrl"),
    ({"org display": (0, {"status": 0, "result": {"accessToken": REDACTED, "instanceUrl": "https://x.example"}}),
      "org auth show-access-token": (0, {"status": 0, "result": {"accessToken": REDACTED}})},
     "authy: sf_cli: alias 'a': the Salesforce CLI gave no access token"),
])
def test_sf_cli_failures_are_one_line(tmp_path: Path, answers: dict[str, Any], expected: str) -> None:
    fake = _fake_sf(tmp_path, answers)
    with pytest.raises(AuthenticationError) as info:
        SfCliAuth("authy", "a", command=str(fake)).login(new_session(CallCounter()))
    assert str(info.value) == expected


@pytest.mark.parametrize(("auth", "expected"), [
    (lambda url: PasswordAuth("authy", CLIENT_ID, USERNAME, Secret("wrong-password"), Secret(CLIENT_SECRET), None, url),
     "authy: invalid_grant: authentication failure"),
    (lambda url: ClientCredentialsAuth("authy", "3MVGunknown", Secret("nope-secret"), url),
     "authy: invalid_client_id: client identifier invalid"),
    (lambda url: SfdxUrlAuth("authy", Secret(f"force://{CLIENT_ID}::5AepWRONG@{url.removeprefix('https://')}")),
     "authy: invalid_grant: expired access/refresh token"),
])
def test_refused_logins_are_one_line_without_secrets(served: tuple[Emulator, Path], auth: Any, expected: str) -> None:
    emu, _ = served
    with pytest.raises(AuthenticationError) as info:
        connect(emu, auth(emu.url))
    assert str(info.value) == expected
    assert "wrong-password" not in str(info.value) and "nope-secret" not in str(info.value)


def test_malformed_sfdx_url() -> None:
    with pytest.raises(AuthenticationError, match=r"^x: invalid_sfdx_url: not an SFDX auth URL"):
        SfdxUrlAuth("x", Secret("https://not-a-force-url"))


def test_authenticator_for_builds_each_flow(tmp_path: Path) -> None:
    built = {
        "jwt": authenticator_for("o", "jwt", {"client_id": "c", "username": "u", "private_key_file": tmp_path}),
        "sfdx_url": authenticator_for("o", "sfdx_url", {"url": Secret("force://c::r@h.example")}),
        "sf_cli": authenticator_for("o", "sf_cli", {"alias": "a"}),
        "client_credentials": authenticator_for("o", "client_credentials",
                                                {"client_id": "c", "client_secret": Secret("s"),
                                                                           "login_url": "https://x"}),
        "password": authenticator_for("o", "password", {"client_id": "c", "username": "u", "password": Secret("p")}),
        "access_token": authenticator_for("o", "access_token", {"access_token": Secret("t"), "instance_url": "https://x"}),
        "emulator": authenticator_for("o", "emulator", {}, emulator_url="https://127.0.0.1:1"),
    }
    assert [type(a).__name__ for a in built.values()] == [
        "JwtAuth", "SfdxUrlAuth", "SfCliAuth", "ClientCredentialsAuth", "PasswordAuth", "AccessTokenAuth",
        "EmulatorAuth"]
    assert built["jwt"].audience == "https://login.salesforce.com"  # type: ignore[attr-defined]
    sandbox = authenticator_for("o", "jwt", {"client_id": "c", "username": "u", "private_key_file": tmp_path,
                                             "login_url": "https://test.salesforce.com"})
    assert sandbox.audience == "https://test.salesforce.com"  # type: ignore[attr-defined]


def test_the_readme_auth_table_names_every_method_and_its_keys() -> None:
    """The README's table of auth methods is the one the code has (lockstep.salesforce.auth.AUTH_METHODS)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("Authentication methods (`auth.method`):", 1)[1].split("\n\n", 2)[1]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z_]+)` \| (.*) \|$", table, re.M)}
    assert sorted(rows) == sorted(AUTH_METHODS)
    for name, method in AUTH_METHODS.items():
        named = set(re.findall(r"`([a-z_]+)`", rows[name]))
        assert set(method.required) | set(method.optional) <= named, (name, rows[name])
