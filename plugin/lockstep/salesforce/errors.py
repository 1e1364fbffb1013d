"""Exceptions raised by the Salesforce layer, and secret redaction.

Every exception renders as one line, ``<org>: <errorCode>: <message>``, with any known
secret value replaced by ``***``.
"""

from __future__ import annotations

import threading

__all__ = [
    "AuthenticationError",
    "ConnectionFailed",
    "NotFound",
    "OrgUnreachable",
    "QueryError",
    "RequestLimitExceeded",
    "SalesforceError",
    "Secret",
    "ServerError",
    "SessionExpired",
    "WriteRefused",
    "redact",
]

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()


class Secret:
    """A secret value that never shows itself in ``str``/``repr``; registered for redaction."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= 4:
            with _lock:
                _secrets.add(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    __str__ = __repr__


def redact(text: str) -> str:
    """Replace every registered secret value found in ``text`` by ``***``."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, _MASK)
    return text


def one_line(text: str) -> str:
    """Collapse whitespace and line breaks: messages are read in one line."""
    return " ".join(str(text).split())


def describe_transport_error(exc: BaseException) -> str:
    """A short reason for a connection-level failure: ``127.0.0.1:9: Connection refused``."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None) or ""
    host = url.split("://", 1)[-1].split("/", 1)[0] if url else ""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in getattr(current, "args", ()) if isinstance(a, BaseException)), None)
        current = inner or current.__cause__ or current.__context__
    root = seen[-1]
    text = one_line(str(root)) or type(root).__name__
    if ": " in text and not isinstance(root, OSError) or "Failed to establish" in text:
        text = text.rsplit(": ", 1)[-1]
    if text.startswith("[Errno") and "]" in text:
        text = text.split("]", 1)[1].strip()
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        text = "TLS certificate verify failed"
    return f"{host}: {text}" if host else text


class SalesforceError(Exception):
    """An error answered by (or while talking to) one org."""

    default_code = "ERROR"

    def __init__(self, org: str, code: str | None, message: str, status: int | None = None) -> None:
        self.org = org
        self.code = code or self.default_code
        self.message = redact(one_line(message))
        self.status = status
        super().__init__(str(self))

    def __str__(self) -> str:
        return redact(f"{self.org}: {self.code}: {self.message}")


class AuthenticationError(SalesforceError):
    """The login (token endpoint, CLI or admin session endpoint) was refused."""

    default_code = "authentication_failed"


class SessionExpired(SalesforceError):
    default_code = "INVALID_SESSION_ID"


class RequestLimitExceeded(SalesforceError):
    default_code = "REQUEST_LIMIT_EXCEEDED"


class QueryError(SalesforceError):
    default_code = "MALFORMED_QUERY"


class NotFound(SalesforceError):
    default_code = "NOT_FOUND"


class ServerError(SalesforceError):
    default_code = "SERVER_UNAVAILABLE"


class ConnectionFailed(SalesforceError):
    default_code = "CONNECTION_FAILED"


class WriteRefused(SalesforceError):
    """A write was attempted while writes are not allowed (read-only verification)."""

    default_code = "WRITE_REFUSED"


class OrgUnreachable(SalesforceError):
    """The org could not be logged in to; every check of the org reports this."""

    default_code = "unreachable"

    def __init__(self, org: str, reason: str) -> None:
        super().__init__(org, "unreachable", reason)
