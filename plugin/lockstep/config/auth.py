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

from lockstep.config.errors import ConfigError
from lockstep.config.schema import check_keys, require
from lockstep.config.suggest import did_you_mean
from lockstep.config.yaml_load import file_problem
from lockstep.salesforce.auth import AUTH_METHODS
from lockstep.salesforce.secrets import MIN_LENGTH, Secret

__all__ = ["ENV_REF", "METHODS", "PATH_KEYS", "check_auth", "secret_options"]

METHODS = {name: (m.required, m.optional) for name, m in AUTH_METHODS.items()}  # method -> (required, optional)
SECRET_KEYS = {"client_secret", "password", "security_token", "access_token", "private_key"}
MULTI_LINE_KEYS = {"private_key"}
PATH_KEYS = {"private_key_file", "ca_file"}
PATH_FILE_BYTES = 1024 * 1024  # a key or a CA bundle (all public CAs together are about 300 KiB)
URL_KEYS = ("login_url", "instance_url")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ANY_REF = re.compile(r"\$\{[^}]*\}?")
_LITERAL = "secrets must be references (${ENV_VAR} or file:<path>), not literal text"



def _is_secret(method: str, key: str) -> bool:
    return key in SECRET_KEYS or (method, key) == ("sfdx_url", "url")


def check_auth(auth: Mapping[str, Any], where: str, *, partial: bool,
               display: Callable[[Path], str] = str, references: Mapping[str, Any] | None = None) -> None:
    """Raise a :class:`ConfigError` (its key below ``where``) for the first mistake in ``auth``;
    ``display`` shows a missing file, ``references`` are the secrets' references as written."""
    method = auth.get("method")
    if method is None:
        if partial:
            return
        raise ConfigError("missing required key 'method'", key=where)
    if not isinstance(method, str) or method not in METHODS:
        raise ConfigError(f"unknown value {method!r}{did_you_mean(str(method), METHODS)}", key=f"{where}.method")
    required, optional = METHODS[method]
    check_keys(auth, ("method", *required, *optional, "ca_file"), where)
    if partial:
        for key, value in auth.items():
            if key != "method":
                _check_written(method, value, f"{where}.{key}", _is_secret(method, key))
        return
    for key in sorted(key for key in auth if _is_secret(method, key)):
        _check_secret(auth[key], f"{where}.{key}", key in MULTI_LINE_KEYS, (references or {}).get(key))
    require(auth, required, where, f" for method {method!r}")
    if method == "jwt" and not ({"private_key_file", "private_key"} & set(auth)):
        raise ConfigError("method 'jwt' needs 'private_key_file' or 'private_key'", key=where)
    _check_places(auth, where, display)


def _check_written(method: str, value: Any, where: str, secret: bool) -> None:
    """One value as a file writes it: a string; a secret only as a reference without a default."""
    if not isinstance(value, str):
        raise ConfigError(f"expected a string, got {type(value).__name__}", key=where)
    for ref in _ANY_REF.findall(value):
        if not ENV_REF.fullmatch(ref):  # a secret's text is never echoed: it may be a literal secret
            raise ConfigError(_LITERAL if secret else f"{ref} is not an environment variable reference "
                              "(use ${ENV_VAR} or ${ENV_VAR:-default})", key=where)
    reference = ENV_REF.fullmatch(value.strip())
    if secret and not (reference or value.startswith("file:")):
        raise ConfigError(_LITERAL, key=where)
    if secret and reference and reference.group(2) is not None:
        raise ConfigError(f"a secret reference cannot carry a default (${{{reference.group(1)}:-...}}); "
                          "set the environment variable", key=where)


def _check_places(auth: Mapping[str, Any], where: str, display: Callable[[Path], str]) -> None:
    """The URLs are https URLs with a host; the key and CA files exist and are small enough."""
    for key in URL_KEYS:
        if key in auth and _https_parts(auth[key]) is None:
            raise ConfigError(f"expected an https:// URL, found {auth[key]!r}", key=f"{where}.{key}")
    for key in sorted(PATH_KEYS & set(auth)):
        problem = file_problem(Path(auth[key]), PATH_FILE_BYTES)
        if problem:
            raise ConfigError(f"{problem}: {display(Path(auth[key]))}", key=f"{where}.{key}")


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
        raise ConfigError(f"{source} is empty", key=where)
    if not multi_line and ("\n" in text or "\r" in text):
        raise ConfigError(f"{source} spans several lines; expected one line", key=where)
    if not multi_line and any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ConfigError(f"{source} contains control characters; expected one line of text", key=where)
    if len(text.strip()) < MIN_LENGTH:
        raise ConfigError(f"{source} is shorter than {MIN_LENGTH} characters and could not be told apart "
                          "from other text to mask it in output; use a longer secret", key=where)


def secret_options(method: str, auth: Mapping[str, Any]) -> dict[str, Any]:
    """The options of ``auth`` with every secret wrapped in :class:`Secret`."""
    return {key: Secret(value) if isinstance(value, str) and _is_secret(method, key) else value
            for key, value in auth.items()}
