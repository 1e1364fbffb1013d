"""Token endpoint flows with Salesforce's success keys and error shapes; identity and userinfo."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from emulator_helpers import StateFactory, session_for

from lockstep.emulator import Emulator

CLIENT_ID = "3MVG9test.client"
USERNAME = "ci@acme.example.com"
PASSWORD_KEYS = ["access_token", "instance_url", "id", "token_type", "issued_at", "signature"]
REFRESH_KEYS = ["access_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"]
CLIENT_CREDENTIALS_KEYS = ["access_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at",
                           "api_instance_url"]
JWT_KEYS = ["access_token", "scope", "instance_url", "id", "token_type"]


def make_key_and_cert(folder: Path, name: str) -> tuple[rsa.RSAPrivateKey, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256())
    )
    path = folder / f"{name}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("keys")
    good, cert = make_key_and_cert(folder, "ci")
    wrong, _ = make_key_and_cert(folder, "other")
    return {"good": good, "wrong": wrong, "cert": cert}


@pytest.fixture
def emu(tmp_path: Path, keys: dict[str, Any], start_emulator: StateFactory) -> Emulator:
    certs = tmp_path / "state0" / "certs"
    certs.mkdir(parents=True)
    (certs / "ci.crt").write_bytes(keys["cert"].read_bytes())
    state = {
        "org": {"name": "acme", "kind": "production"},
        "username": USERNAME,
        "credentials": {"client_id": CLIENT_ID, "client_secret": "s3cr3t", "password": "pw", "security_token": "tok",
                        "refresh_token": "5Aep861refresh", "jwt_certificate": "certs/ci.crt"},
    }
    return start_emulator(state)


def token(emu: Emulator, data: dict[str, str], auth: tuple[str, str] | None = None) -> requests.Response:
    return session_for(emu).post(f"{emu.url}/services/oauth2/token", data=data, auth=auth, timeout=10)


def assertion(key: Any, audience: str = "https://login.salesforce.com", **claims: Any) -> str:
    payload = {"iss": CLIENT_ID, "sub": USERNAME, "aud": audience, "exp": int(time.time()) + 180, **claims}
    return jwt.encode(payload, key, algorithm="RS256")


def assert_usable(emu: Emulator, body: dict[str, Any]) -> None:
    assert body["instance_url"] == emu.url and body["token_type"] == "Bearer"
    org_id = next(o["org_id"] for o in emu.orgs if o["name"] == "acme")
    assert body["access_token"].startswith(org_id[:15] + "!")
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    response = session_for(emu).get(f"{emu.url}/services/data/v62.0/limits", headers=headers)
    assert response.status_code == 200
    identity = session_for(emu).get(body["id"], headers=headers).json()
    assert identity["username"] == USERNAME and identity["organization_id"] == org_id


def test_password_grant(emu: Emulator) -> None:
    response = token(emu, {"grant_type": "password", "client_id": CLIENT_ID, "client_secret": "s3cr3t",
                           "username": USERNAME, "password": "pwtok"})
    assert response.status_code == 200 and list(response.json()) == PASSWORD_KEYS
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert response.json()["issued_at"].isdigit()
    assert_usable(emu, response.json())


def test_refresh_token_grant(emu: Emulator) -> None:
    response = token(emu, {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": "",
                           "refresh_token": "5Aep861refresh"})
    assert response.status_code == 200 and list(response.json()) == REFRESH_KEYS
    assert_usable(emu, response.json())


@pytest.mark.parametrize("basic", [True, False], ids=["http-basic", "body"])
def test_client_credentials_grant(emu: Emulator, basic: bool) -> None:
    if basic:
        response = token(emu, {"grant_type": "client_credentials"}, auth=(CLIENT_ID, "s3cr3t"))
    else:
        response = token(emu, {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "s3cr3t"})
    assert response.status_code == 200 and list(response.json()) == CLIENT_CREDENTIALS_KEYS
    assert_usable(emu, response.json())


@pytest.mark.parametrize("audience", ["https://login.salesforce.com", "https://test.salesforce.com", "emulator"])
def test_jwt_bearer_grant(emu: Emulator, keys: dict[str, Any], audience: str) -> None:
    aud = emu.url if audience == "emulator" else audience
    response = token(emu, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                           "assertion": assertion(keys["good"], aud)})
    assert response.status_code == 200 and list(response.json()) == JWT_KEYS
    assert_usable(emu, response.json())


@pytest.mark.parametrize(
    ("data", "error", "description"),
    [
        ({"grant_type": "password", "client_id": CLIENT_ID, "client_secret": "s3cr3t", "username": USERNAME,
          "password": "nope"},
         "invalid_grant", "authentication failure"),
        ({"grant_type": "password", "client_id": CLIENT_ID, "client_secret": "s3cr3t", "username": "who@x.com",
          "password": "pwtok"},
         "invalid_grant", "authentication failure"),
        ({"grant_type": "password", "client_id": "unknown", "client_secret": "s3cr3t", "username": USERNAME,
          "password": "pwtok"},
         "invalid_client_id", "client identifier invalid"),
        ({"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": "5Aep861revoked"},
         "invalid_grant", "expired access/refresh token"),
        ({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "wrong"},
         "invalid_client", "invalid client credentials"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type", "grant type not supported"),
    ],
    ids=["bad-password", "unknown-user", "unknown-client", "revoked-refresh-token", "bad-secret", "unsupported-grant"],
)
def test_token_errors(emu: Emulator, data: dict[str, str], error: str, description: str) -> None:
    response = token(emu, data)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_jwt_signed_with_the_wrong_key_is_rejected(emu: Emulator, keys: dict[str, Any]) -> None:
    response = token(emu, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                           "assertion": assertion(keys["wrong"])})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


@pytest.mark.parametrize(
    ("claims", "description"),
    [({"aud": "https://evil.example.com"}, "audience is invalid"), ({"exp": 1000}, "expired authorization code")],
    ids=["audience", "expired"],
)
def test_jwt_claims_are_checked(emu: Emulator, keys: dict[str, Any], claims: dict[str, Any], description: str) -> None:
    payload = {"iss": CLIENT_ID, "sub": USERNAME, "aud": "https://login.salesforce.com", "exp": int(time.time()) + 180,
               **claims}
    response = token(emu, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                           "assertion": jwt.encode(payload, keys["good"], algorithm="RS256")})
    assert response.status_code == 400 and response.json()["error_description"] == description


def test_simple_salesforce_jwt_login(emu: Emulator, keys: dict[str, Any], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from simple_salesforce.login import SalesforceLogin

    pem = keys["good"].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    session = session_for(emu)
    original = session.post

    def to_emulator(url: str, *args: Any, **kwargs: Any) -> requests.Response:
        assert url == "https://login.salesforce.com/services/oauth2/token"
        return original(f"{emu.url}/services/oauth2/token", *args, **kwargs)

    monkeypatch.setattr(session, "post", to_emulator)
    session_id, instance = SalesforceLogin(username=USERNAME, consumer_key=CLIENT_ID, privatekey=pem.decode(),
                                           session=session)
    assert session_id.count("!") == 1 and instance == emu.url.removeprefix("https://")


def test_userinfo_and_identity(emu: Emulator) -> None:
    headers = {"Authorization": f"Bearer {emu.orgs[0]['access_token']}"}
    info = session_for(emu).get(f"{emu.url}/services/oauth2/userinfo", headers=headers).json()
    assert info["preferred_username"] == USERNAME and info["organization_id"] == emu.orgs[0]["org_id"]
    assert info["urls"]["rest"].endswith("/services/data/v{version}/")
    identity = session_for(emu).get(info["sub"], headers=headers).json()
    assert identity["user_id"] == info["user_id"]
    unauthorised = session_for(emu).get(f"{emu.url}/services/oauth2/userinfo")
    assert unauthorised.status_code == 401 and unauthorised.headers["WWW-Authenticate"] == "Token"


def test_login_is_not_an_api_call(emu: Emulator) -> None:
    token(emu, {"grant_type": "password", "client_id": CLIENT_ID, "client_secret": "s3cr3t", "username": USERNAME,
                "password": "pwtok"})
    orgs = session_for(emu).get(f"{emu.url}/__emulator__/orgs").json()
    assert orgs[0]["api_calls"] == 0
