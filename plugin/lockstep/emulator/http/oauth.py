"""OAuth 2.0 token endpoint, identity URL and userinfo, with Salesforce's shapes and errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509

from lockstep.emulator.state.store import Org, Store

__all__ = ["TokenResult", "identify_org", "identity", "issue_token", "userinfo"]

GRANT_PASSWORD = "password"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_REFRESH = "refresh_token"
GRANT_JWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass(frozen=True)
class TokenResult:
    status: int
    body: dict[str, Any]


def _error(error: str, description: str) -> TokenResult:
    return TokenResult(400, {"error": error, "error_description": description})


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _jwt_claims(assertion: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def identify_org(store: Store, form: Mapping[str, str], authorization: str | None) -> Org | None:
    """The org a token request is addressed to, without checking any secret."""
    grant = form.get("grant_type", "")
    if grant == GRANT_PASSWORD:
        found = store.user(form.get("username", ""))
        return found[0] if found else None
    if grant == GRANT_JWT:
        found = store.user(str(_jwt_claims(form.get("assertion", "")).get("sub", "")))
        return found[0] if found else None
    if grant == GRANT_CLIENT_CREDENTIALS:
        basic = _basic_auth(authorization)
        client_id = basic[0] if basic else form.get("client_id", "")
        return store.org_by_client_id(client_id)
    if grant == GRANT_REFRESH:
        return store.org_by_refresh_token(form.get("refresh_token", ""))
    return None


def _identity_url(base_url: str, org: Org, user_id: str) -> str:
    return f"{base_url}/id/{org.org_id}/{user_id}"


def _success(store: Store, base_url: str, org: Org, user_id: str, grant: str) -> TokenResult:
    session = store.new_session(org, user_id)
    identity_url = _identity_url(base_url, org, user_id)
    issued_at = str(int(time.time() * 1000))
    secret = (org.definition.credentials.client_secret or org.org_id).encode()
    signature = base64.b64encode(hmac.new(secret, (identity_url + issued_at).encode(),
                                          hashlib.sha256).digest()).decode()
    common = {"instance_url": base_url, "id": identity_url, "token_type": "Bearer"}
    if grant == GRANT_PASSWORD:
        body = {"access_token": session.token, **common, "issued_at": issued_at, "signature": signature}
    elif grant == GRANT_REFRESH:
        body = {"access_token": session.token, "signature": signature, "scope": "refresh_token full",
                **common, "issued_at": issued_at}
    elif grant == GRANT_CLIENT_CREDENTIALS:
        body = {"access_token": session.token, "signature": signature, "scope": "api",
                **common, "issued_at": issued_at, "api_instance_url": base_url}
    else:
        body = {"access_token": session.token, "scope": "api", **common}
    return TokenResult(200, body)


def _check_client(org: Org, client_id: str | None, secret: str | None, *, secret_required: bool) -> TokenResult | None:
    expected = org.definition.credentials
    if expected.client_id is not None and client_id != expected.client_id:
        return _error("invalid_client_id", "client identifier invalid")
    if (expected.client_secret is not None and (secret_required or secret)
            and not hmac.compare_digest((secret or "").encode(), expected.client_secret.encode())):
        return _error("invalid_client", "invalid client credentials")
    return None


def issue_token(store: Store, base_url: str, form: Mapping[str, str], authorization: str | None) -> TokenResult:
    grant = form.get("grant_type", "")
    if grant not in (GRANT_PASSWORD, GRANT_JWT, GRANT_CLIENT_CREDENTIALS, GRANT_REFRESH):
        return _error("unsupported_grant_type", "grant type not supported")
    if grant == GRANT_PASSWORD:
        return _password(store, base_url, form)
    if grant == GRANT_JWT:
        return _jwt_bearer(store, base_url, form.get("assertion", ""))
    if grant == GRANT_CLIENT_CREDENTIALS:
        basic = _basic_auth(authorization)
        client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
        org = store.org_by_client_id(client_id)
        if org is None:
            return _error("invalid_client_id", "client identifier invalid")
        if org.definition.credentials.client_secret is None:
            return _error("invalid_grant", "no client credentials user enabled")
        problem = _check_client(org, client_id, secret, secret_required=True)
        return problem or _success(store, base_url, org, org.definition.user_id, grant)
    org = store.org_by_refresh_token(form.get("refresh_token", ""))
    if org is None:
        return _error("invalid_grant", "expired access/refresh token")
    problem = _check_client(org, form.get("client_id"), form.get("client_secret"), secret_required=False)
    return problem or _success(store, base_url, org, org.definition.user_id, grant)


def _password(store: Store, base_url: str, form: Mapping[str, str]) -> TokenResult:
    found = store.user(form.get("username", ""))
    if found is None:
        return _error("invalid_grant", "authentication failure")
    org, user_id = found
    credentials = org.definition.credentials
    problem = _check_client(org, form.get("client_id"), form.get("client_secret"), secret_required=True)
    if problem:
        return problem
    if credentials.password is None:
        return _error("invalid_grant", "authentication failure")
    expected = credentials.password + (credentials.security_token or "")
    if not hmac.compare_digest(form.get("password", "").encode(), expected.encode()):
        return _error("invalid_grant", "authentication failure")
    return _success(store, base_url, org, user_id, GRANT_PASSWORD)


def _jwt_bearer(store: Store, base_url: str, assertion: str) -> TokenResult:
    claims = _jwt_claims(assertion)
    if not claims:
        return _error("invalid_grant", "invalid assertion")
    found = store.user(str(claims.get("sub", "")))
    if found is None:
        return _error("invalid_grant", "user hasn't approved this consumer")
    org, user_id = found
    credentials = org.definition.credentials
    if credentials.client_id is not None and claims.get("iss") != credentials.client_id:
        return _error("invalid_client_id", "client identifier invalid")
    if credentials.jwt_certificate_pem is None:
        return _error("invalid_grant", "user hasn't approved this consumer")
    public_key = x509.load_pem_x509_certificate(credentials.jwt_certificate_pem).public_key()
    audiences = [*LOGIN_AUDIENCES, base_url, base_url + "/"]
    try:
        jwt.decode(
            assertion, key=public_key, algorithms=["RS256"], audience=audiences,  # type: ignore[arg-type]
            options={"require": ["iss", "sub", "aud", "exp"]}, leeway=5,
        )
    except jwt.ExpiredSignatureError:
        return _error("invalid_grant", "expired authorization code")
    except jwt.InvalidAudienceError:
        return _error("invalid_grant", "audience is invalid")
    except jwt.PyJWTError:
        return _error("invalid_grant", "invalid assertion")
    return _success(store, base_url, org, user_id, GRANT_JWT)


def _user_row(org: Org, user_id: str) -> dict[str, Any]:
    for row in org.tables.get("User", []):
        if row["Id"] == user_id:
            return row
    return {"Id": user_id, "Username": org.definition.username}


def _urls(base_url: str, org: Org, user_id: str) -> dict[str, str]:
    org15 = org.org_id[:15]
    rest = f"{base_url}/services/data/v{{version}}"
    return {
        "enterprise": f"{base_url}/services/Soap/c/{{version}}/{org15}",
        "metadata": f"{base_url}/services/Soap/m/{{version}}/{org15}",
        "partner": f"{base_url}/services/Soap/u/{{version}}/{org15}",
        "rest": f"{rest}/", "sobjects": f"{rest}/sobjects/", "search": f"{rest}/search/",
        "query": f"{rest}/query/", "recent": f"{rest}/recent/",
        "tooling_soap": f"{base_url}/services/Soap/T/{{version}}/{org15}", "tooling_rest": f"{rest}/tooling/",
        "profile": f"{base_url}/{user_id}", "feeds": f"{rest}/chatter/feeds", "groups": f"{rest}/chatter/groups",
        "users": f"{rest}/chatter/users", "feed_items": f"{rest}/chatter/feed-items",
        "feed_elements": f"{rest}/chatter/feed-elements", "custom_domain": base_url,
    }


def _photos(base_url: str, user_id: str) -> dict[str, str]:
    return {"picture": f"{base_url}/profilephoto/{user_id[:15]}/F",
            "thumbnail": f"{base_url}/profilephoto/{user_id[:15]}/T"}


def identity(base_url: str, org: Org, user_id: str) -> dict[str, Any]:
    """The identity URL document (``GET /id/<org>/<user>``)."""
    user = _user_row(org, user_id)
    modified = user.get("LastModifiedDate")
    return {
        "id": _identity_url(base_url, org, user_id), "asserted_user": True, "user_id": user_id,
        "organization_id": org.org_id, "username": user.get("Username"),
        "nick_name": str(user.get("Username", "")).split("@")[0], "display_name": user.get("Name"),
        "email": user.get("Email"), "email_verified": True, "first_name": user.get("FirstName"),
        "last_name": user.get("LastName"), "timezone": user.get("TimeZoneSidKey") or "Europe/London",
        "photos": _photos(base_url, user_id), "addr_street": None, "addr_city": None, "addr_state": None,
        "addr_country": "US", "addr_zip": None, "mobile_phone": None, "mobile_phone_verified": False,
        "is_lightning_login_user": False, "status": {"created_date": None, "body": None},
        "urls": _urls(base_url, org, user_id), "active": bool(user.get("IsActive", True)), "user_type": "STANDARD",
        "language": "en_US", "locale": "en_US", "utcOffset": 0,
        "last_modified_date": modified.strftime("%Y-%m-%dT%H:%M:%SZ") if modified else None,
        "is_app_installed": True,
    }


def userinfo(base_url: str, org: Org, user_id: str) -> dict[str, Any]:
    """The OpenID Connect userinfo document (``GET /services/oauth2/userinfo``)."""
    user = _user_row(org, user_id)
    modified = user.get("LastModifiedDate")
    return {
        "sub": _identity_url(base_url, org, user_id), "user_id": user_id, "organization_id": org.org_id,
        "preferred_username": user.get("Username"), "nickname": str(user.get("Username", "")).split("@")[0],
        "name": user.get("Name"), "email": user.get("Email"), "email_verified": True,
        "given_name": user.get("FirstName"), "family_name": user.get("LastName"),
        "zoneinfo": user.get("TimeZoneSidKey") or "Europe/London", "photos": _photos(base_url, user_id),
        "profile": f"{base_url}/{user_id}", "picture": _photos(base_url, user_id)["picture"],
        "address": {"country": "US"}, "is_salesforce_integration_user": False,
        "urls": _urls(base_url, org, user_id), "active": bool(user.get("IsActive", True)), "user_type": "STANDARD",
        "language": "en_US", "locale": "en_US", "utcOffset": 0,
        "updated_at": modified.strftime("%Y-%m-%dT%H:%M:%SZ") if modified else None, "is_app_installed": True,
    }
