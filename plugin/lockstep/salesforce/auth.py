"""Authentication flows, one small class per flow.

Each authenticator's ``login(session)`` returns a :class:`Token` (access token as a
:class:`~lockstep.salesforce.errors.Secret`, instance URL). ``can_refresh`` says whether
logging in again can yield a new session (false for a fixed access token).
``verify_session`` says whether the client should prove the token is accepted before use
(``/services/oauth2/userinfo``, not charged): true for tokens obtained outside this run (a
fixed access token, the Salesforce CLI's cache); a token endpoint's fresh token needs no proof.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import requests

from lockstep.salesforce.errors import (
    AuthenticationError,
    Secret,
    ServerError,
    one_line,
    redact,
    transport_error,
)

__all__ = [
    "AUTH_METHODS",
    "AccessTokenAuth",
    "AuthMethod",
    "Authenticator",
    "ClientCredentialsAuth",
    "EmulatorAuth",
    "JwtAuth",
    "PasswordAuth",
    "SfCliAuth",
    "SfdxUrlAuth",
    "Token",
    "authenticator_for",
]

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
_SFDX_URL = re.compile(
    r"^force://([a-zA-Z0-9._-]+={0,2}):([a-zA-Z0-9._-]*={0,2}):([a-zA-Z0-9._-]+={0,2})@([a-zA-Z0-9:._-]+)/?$"
)


@dataclass(frozen=True)
class Token:
    access_token: Secret
    instance_url: str


class Authenticator(Protocol):
    org: str
    can_refresh: bool
    verify_session: bool

    def login(self, session: requests.Session) -> Token: ...


def _text(value: Any) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value)


def _post(org: str, session: requests.Session, url: str, data: Mapping[str, str]) -> dict[str, Any]:
    host = urlsplit(url).netloc
    try:
        response = session.post(url, data=dict(data), headers={"Accept": "application/json"})
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise transport_error(org, exc) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 500:
        raise ServerError(org, None, f"{host}: HTTP {response.status_code}", response.status_code)
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        if isinstance(body, dict) and "error" in body:
            raise AuthenticationError(org, str(body["error"]), str(body.get("error_description", "")),
                                      response.status_code)
        if isinstance(body, list) and body and isinstance(body[0], dict):
            raise AuthenticationError(org, body[0].get("errorCode"), str(body[0].get("message", "")),
                                      response.status_code)
        raise AuthenticationError(org, None,
                                  f"{host}: HTTP {response.status_code}: {redact(one_line(response.text))[:200]}",
                                  response.status_code)
    return body


def _token(body: Mapping[str, Any], fallback_instance: str | None = None) -> Token:
    return Token(Secret(str(body["access_token"])), str(body.get("instance_url") or fallback_instance or ""))


def _token_url(login_url: str) -> str:
    return login_url.rstrip("/") + "/services/oauth2/token"


class JwtAuth:
    """OAuth 2.0 JWT bearer flow (connected app + private key): the CI standard."""

    can_refresh = True
    verify_session = False

    def __init__(self, org: str, client_id: str, username: str, private_key: Secret | None = None,
                 private_key_file: Path | None = None, login_url: str = DEFAULT_LOGIN_URL,
                 audience: str | None = None) -> None:
        self.org, self.client_id, self.username = org, client_id, username
        self.private_key, self.private_key_file = private_key, private_key_file
        self.login_url = login_url
        self.audience = audience or self._default_audience(login_url)

    @staticmethod
    def _default_audience(login_url: str) -> str:
        host = urlsplit(login_url).hostname or ""
        if host == "test.salesforce.com" or ".sandbox." in host:
            return "https://test.salesforce.com"
        if host.endswith(".salesforce.com"):
            return DEFAULT_LOGIN_URL
        return login_url.rstrip("/")

    def _key(self) -> str:
        if self.private_key is not None:
            return self.private_key.reveal()
        assert self.private_key_file is not None
        try:
            return Secret(Path(self.private_key_file).read_text(encoding="utf-8")).reveal()  # registered for masking
        except OSError as exc:
            raise AuthenticationError(self.org, "invalid_key",
                                      f"cannot read private key file: {exc.strerror}") from None

    def login(self, session: requests.Session) -> Token:
        import jwt  # PyJWT and cryptography load only for the JWT bearer flow

        claims = {"iss": self.client_id, "sub": self.username, "aud": self.audience, "exp": int(time.time()) + 180}
        try:
            assertion = jwt.encode(claims, self._key(), algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise AuthenticationError(self.org, "invalid_key",
                                      f"cannot sign the JWT assertion: {type(exc).__name__}") from None
        data = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": Secret(assertion).reveal()}
        return _token(_post(self.org, session, _token_url(self.login_url), data))


class SfdxUrlAuth:
    """An SFDX auth URL ``force://<clientId>:<secret>:<refreshToken>@<host>`` (refresh token flow)."""

    can_refresh = True
    verify_session = False

    def __init__(self, org: str, url: Secret) -> None:
        self.org = org
        match = _SFDX_URL.match(url.reveal().strip())
        if not match:
            raise AuthenticationError(self.org, "invalid_sfdx_url", "not an SFDX auth URL (force://id:secret:token@host)")
        client_id, secret, refresh, host = match.groups()
        self.client_id, self.client_secret = client_id, Secret(secret) if secret else None
        self.refresh_token, self.host = Secret(refresh), host

    def login(self, session: requests.Session) -> Token:
        data = {"grant_type": "refresh_token", "client_id": self.client_id,
                "refresh_token": self.refresh_token.reveal()}
        if self.client_secret:
            data["client_secret"] = self.client_secret.reveal()
        base = f"https://{self.host}"
        return _token(_post(self.org, session, _token_url(base), data), base)


class SfCliError(Exception):
    """The Salesforce CLI failed; the message is one line and never quotes the command's result."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def sf_json(command: str, args: Sequence[str], timeout: float, target: str | None = None) -> dict[str, Any]:
    """The ``result`` of ``<command> <args> --json [--target-org <target>]``; :class:`SfCliError`
    when the CLI is missing, times out or answers without a result."""
    shown = " ".join(args)
    argv = [command, *args, "--json", *(("--target-org", target) if target else ())]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise SfCliError(f"the Salesforce CLI {command!r} is not on PATH", missing=True) from None
    except subprocess.TimeoutExpired:
        raise SfCliError(f"sf {shown} timed out") from None
    try:
        payload = json.loads(done.stdout or "{}")
    except ValueError:
        payload = {}
    result = payload.get("result") if isinstance(payload, dict) else None
    if done.returncode != 0 or not isinstance(result, dict):
        message = (payload.get("message") if isinstance(payload, dict) else None) or one_line(done.stderr)[:200]
        raise SfCliError(f"sf {shown}: {one_line(str(message or 'no result'))[:300]}")
    return result


class SfCliAuth:
    """A Salesforce CLI alias, logged in with ``sf org login ...`` (its cached token may be stale).

    ``sf org display --json`` gives the instance URL (and refreshes a stale token). Current
    CLIs redact its ``accessToken``; the token is then read with
    ``sf org auth show-access-token --json``. Older CLIs show the token in ``org display``.
    The token never reaches output: errors quote the CLI's message, never its result.
    """

    can_refresh = True
    verify_session = True

    def __init__(self, org: str, alias: str, command: str = "sf") -> None:
        self.org, self.alias, self.command = org, alias, command

    def _run(self, *args: str) -> dict[str, Any]:
        try:
            return sf_json(self.command, args, timeout=120, target=self.alias)
        except SfCliError as exc:
            raise AuthenticationError(self.org, "sf_cli", str(exc) if exc.missing else f"alias {self.alias!r}: {exc}"
                                      ) from None

    def login(self, session: requests.Session) -> Token:
        shown = self._run("org", "display")
        instance_url = str(shown.get("instanceUrl") or "").rstrip("/")
        if not instance_url:
            raise AuthenticationError(self.org, "sf_cli", f"alias {self.alias!r}: sf org display gave no instanceUrl")
        token = shown.get("accessToken")
        if not _usable_token(token):
            token = self._run("org", "auth", "show-access-token").get("accessToken")
        if not _usable_token(token):
            raise AuthenticationError(self.org, "sf_cli",
                                      f"alias {self.alias!r}: the Salesforce CLI gave no access token")
        return Token(Secret(str(token)), instance_url)


def _usable_token(value: Any) -> bool:
    """An access token, not a placeholder such as ``[REDACTED] Use 'sf org auth show-access-token' to view``."""
    return isinstance(value, str) and bool(value) and not any(c.isspace() for c in value) and not value.startswith("[")


class ClientCredentialsAuth:
    """OAuth client credentials flow (a connected app with a Run As user; My Domain host)."""

    can_refresh = True
    verify_session = False

    def __init__(self, org: str, client_id: str, client_secret: Secret, login_url: str) -> None:
        self.org, self.client_id, self.client_secret, self.login_url = org, client_id, client_secret, login_url

    def login(self, session: requests.Session) -> Token:
        data = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.client_secret.reveal()}
        return _token(_post(self.org, session, _token_url(self.login_url), data))


class PasswordAuth:
    """OAuth username-password flow (password + security token)."""

    can_refresh = True
    verify_session = False

    def __init__(self, org: str, client_id: str, username: str, password: Secret,
                 client_secret: Secret | None = None, security_token: Secret | None = None,
                 login_url: str = DEFAULT_LOGIN_URL) -> None:
        self.org, self.client_id, self.username = org, client_id, username
        self.password, self.client_secret, self.security_token = password, client_secret, security_token
        self.login_url = login_url

    def login(self, session: requests.Session) -> Token:
        token = self.security_token.reveal() if self.security_token else ""
        password = Secret(self.password.reveal() + token).reveal()
        data = {"grant_type": "password", "client_id": self.client_id, "username": self.username, "password": password}
        if self.client_secret:
            data["client_secret"] = self.client_secret.reveal()
        return _token(_post(self.org, session, _token_url(self.login_url), data))


class AccessTokenAuth:
    """A ready access token; it cannot be refreshed."""

    can_refresh = False
    verify_session = True

    def __init__(self, org: str, access_token: Secret, instance_url: str) -> None:
        self.org, self.access_token, self.instance_url = org, access_token, instance_url

    def login(self, session: requests.Session) -> Token:
        return Token(self.access_token, self.instance_url)


class EmulatorAuth:
    """A fresh session from the emulator's admin endpoint (orgs served by ``lockstep.emulator``)."""

    can_refresh = True
    verify_session = False

    def __init__(self, org: str, url: str, name: str | None = None) -> None:
        self.org, self.url, self.name = org, url.rstrip("/"), name or org

    def login(self, session: requests.Session) -> Token:
        endpoint = f"{self.url}/__emulator__/orgs/{quote(self.name, safe='')}/sessions"
        host = urlsplit(endpoint).netloc
        try:
            response = session.post(endpoint, headers={"Accept": "application/json"})
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise transport_error(self.org, exc) from None
        if response.status_code >= 500:
            raise ServerError(self.org, None, f"{host}: HTTP {response.status_code}", response.status_code)
        if response.status_code != 200:
            raise AuthenticationError(self.org, None,
                                      f"emulator has no org {self.name!r} (HTTP {response.status_code})",
                                      response.status_code)
        return _token(response.json(), self.url)


def _emulator(org: str, opt: Mapping[str, Any], login_url: str, emulator_url: str | None) -> Authenticator:
    url = opt.get("url") or emulator_url
    if not url:
        raise AuthenticationError(org, "no_emulator",
                                  "auth method 'emulator' needs a running emulator (profile 'emulator:' or auth.url)")
    return EmulatorAuth(org, _text(url))


@dataclass(frozen=True)
class AuthMethod:
    """One way to log in: the profile keys it needs and may take, and how it is built."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    build: Callable[[str, Mapping[str, Any], str, str | None], Authenticator]  # org, options, login URL, emulator


# Every auth method, in one table: the profile's validation (lockstep.config.auth) and
# authenticator_for both read it; tests/plugin/test_auth_flows.py checks the README's table against it.
AUTH_METHODS: dict[str, AuthMethod] = {
    "jwt": AuthMethod(("client_id", "username"), ("private_key_file", "private_key", "login_url", "audience"),
                      lambda org, o, login, _: JwtAuth(org, _text(o["client_id"]), _text(o["username"]),
                                                       o.get("private_key"), o.get("private_key_file"), login,
                                                       o.get("audience"))),
    "sfdx_url": AuthMethod(("url",), (), lambda org, o, _, __: SfdxUrlAuth(org, o["url"])),
    "sf_cli": AuthMethod(("alias",), (), lambda org, o, _, __: SfCliAuth(org, _text(o["alias"]))),
    "client_credentials": AuthMethod(
        ("client_id", "client_secret", "login_url"), (),
        lambda org, o, login, _: ClientCredentialsAuth(org, _text(o["client_id"]), o["client_secret"], login)),
    "password": AuthMethod(
        ("client_id", "username", "password"), ("client_secret", "security_token", "login_url"),
        lambda org, o, login, _: PasswordAuth(org, _text(o["client_id"]), _text(o["username"]), o["password"],
                                              o.get("client_secret"), o.get("security_token"), login)),
    "access_token": AuthMethod(("access_token", "instance_url"), (),
                               lambda org, o, _, __: AccessTokenAuth(org, o["access_token"], _text(o["instance_url"]))),
    "emulator": AuthMethod((), ("url",), _emulator),
}


def authenticator_for(org: str, method: str, options: Mapping[str, Any],
                      emulator_url: str | None = None) -> Authenticator:
    """Build the authenticator of one org from its validated profile ``auth`` options."""
    found = AUTH_METHODS.get(method)
    if found is None:
        raise AuthenticationError(org, "unknown_method", f"unknown auth method {method!r}")
    opt = {k: v for k, v in options.items() if k != "ca_file"}
    return found.build(org, opt, _text(opt.get("login_url", DEFAULT_LOGIN_URL)), emulator_url)
