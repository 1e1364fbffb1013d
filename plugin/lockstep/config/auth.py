"""The ``auth:`` section of an org: methods and their keys, secret references, URLs and key files.

:func:`check_auth` runs twice: on each file's raw section (``partial``: values are strings,
secrets are ``${ENV_VAR}`` or ``file:<path>`` references, no other ``${...}``), and on the
merged, interpolated one (required keys, https URLs, key files that exist).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lockstep.config.suggest import did_you_mean
from lockstep.config.yaml_load import file_problem
from lockstep.salesforce.auth import AUTH_METHODS
from lockstep.salesforce.secrets import MIN_LENGTH, Secret

__all__ = ["ENV_REF", "METHODS", "PATH_KEYS", "AuthConfigError", "check_auth", "secret_options"]

METHODS = {name: (m.required, m.optional) for name, m in AUTH_METHODS.items()}  # method -> (required, optional)
SECRET_KEYS = {"client_secret", "password", "security_token", "access_token", "private_key"}
MULTI_LINE_KEYS = {"private_key"}
PATH_KEYS = {"private_key_file", "ca_file"}
PATH_FILE_BYTES = 1024 * 1024  # a key or a CA bundle (all public CAs together are about 300 KiB)
URL_KEYS = ("login_url", "instance_url")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ANY_REF = re.compile(r"\$\{[^}]*\}?")
_LITERAL = "secrets must be references (${ENV_VAR} or file:<path>), not literal text"


class AuthConfigError(Exception):
    """A mistake in an ``auth:`` section: ``where`` is the key path, ``problem`` one line."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def _is_secret(method: str, key: str) -> bool:
    return key in SECRET_KEYS or (method, key) == ("sfdx_url", "url")


def check_auth(auth: Mapping[str, Any], where: str, *, partial: bool,
               display: Callable[[Path], str] = str, references: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`AuthConfigError` for the first mistake in ``auth`` (``display`` shows a missing file;
    ``references`` are the secrets' references as written, to name them in a message)."""
    method = auth.get("method")
    if method is None:
        if partial:
            return
        raise AuthConfigError(where, "missing required key 'method'")
    if not isinstance(method, str) or method not in METHODS:
        raise AuthConfigError(f"{where}.method", f"unknown value {method!r}{did_you_mean(str(method), METHODS)}")
    required, optional = METHODS[method]
    allowed = ("method", *required, *optional, "ca_file")
    for key, value in auth.items():
        if key not in allowed:
            raise AuthConfigError(f"{where}.{key}", f"unknown key{did_you_mean(str(key), allowed)}")
        if key == "method" or not partial:
            continue
        if not isinstance(value, str):
            raise AuthConfigError(f"{where}.{key}", f"expected a string, got {type(value).__name__}")
        secret = _is_secret(method, key)
        for ref in _ANY_REF.findall(value):
            if not ENV_REF.fullmatch(ref):  # a secret's text is never echoed: it may be a literal secret
                raise AuthConfigError(f"{where}.{key}", _LITERAL if secret else f"{ref} is not an environment "
                                      "variable reference (use ${ENV_VAR} or ${ENV_VAR:-default})")
        reference = ENV_REF.fullmatch(value.strip())
        if secret and not (reference or value.startswith("file:")):
            raise AuthConfigError(f"{where}.{key}", _LITERAL)
        if secret and reference and reference.group(2) is not None:
            raise AuthConfigError(f"{where}.{key}", f"a secret reference cannot carry a default "
                                                    f"(${{{reference.group(1)}:-...}}); set the environment variable")
    if partial:
        return
    for key in sorted(key for key in auth if _is_secret(method, key)):
        _check_secret(auth[key], f"{where}.{key}", key in MULTI_LINE_KEYS, (references or {}).get(key))
    for key in required:
        if key not in auth:
            raise AuthConfigError(where, f"missing required key {key!r} for method {method!r}")
    if method == "jwt" and not ({"private_key_file", "private_key"} & set(auth)):
        raise AuthConfigError(where, "method 'jwt' needs 'private_key_file' or 'private_key'")
    for key in URL_KEYS:
        parts = _https_parts(auth[key]) if key in auth else None
        if key in auth and parts is None:
            raise AuthConfigError(f"{where}.{key}", f"expected an https:// URL, found {auth[key]!r}")
    for key in sorted(PATH_KEYS & set(auth)):
        problem = file_problem(Path(auth[key]), PATH_FILE_BYTES)
        if problem:
            raise AuthConfigError(f"{where}.{key}", f"{problem}: {display(Path(auth[key]))}")


def _https_parts(value: Any) -> Any:
    """The parts of an https URL with a host; None for anything else (``https://[bad``, text, a number)."""
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        return parts if parts is not None and parts.scheme == "https" and parts.hostname else None
    except ValueError:
        return None


def _check_secret(value: Any, where: str, multi_line: bool, reference: Any) -> None:
    """Refuse a secret that could not be masked in output or cannot be sent: empty, shorter than
    :data:`MIN_LENGTH`, or a single-line secret with line breaks or control characters. The
    value is registered for masking first, and no message shows it."""
    text = value.reveal() if isinstance(value, Secret) else str(value)
    Secret(text)
    source = f"the secret from {reference}" if isinstance(reference, str) else "the secret"
    if not text.strip():
        raise AuthConfigError(where, f"{source} is empty")
    if not multi_line and ("\n" in text or "\r" in text):
        raise AuthConfigError(where, f"{source} spans several lines; expected one line")
    if not multi_line and any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise AuthConfigError(where, f"{source} contains control characters; expected one line of text")
    if len(text.strip()) < MIN_LENGTH:
        raise AuthConfigError(where, f"{source} is shorter than {MIN_LENGTH} characters and could not be "
                                     "told apart from other text to mask it in output; use a longer secret")


def secret_options(method: str, auth: Mapping[str, Any]) -> dict[str, Any]:
    """The options of ``auth`` with every secret wrapped in :class:`Secret`."""
    return {key: Secret(value) if isinstance(value, str) and _is_secret(method, key) else value
            for key, value in auth.items()}
