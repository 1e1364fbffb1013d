"""Exceptions raised by the Salesforce layer.

Every exception renders as one line, ``<org>: <errorCode>: <message>``, with every form of
any known secret replaced by ``***`` (:mod:`lockstep.salesforce.secrets`).
"""

from __future__ import annotations

import re
import ssl
from typing import Self

from lockstep.salesforce.secrets import Secret, redact

__all__ = [
    "ApexError",
    "AuthenticationError",
    "Cancelled",
    "ConnectionFailed",
    "DeadlineExceeded",
    "FactError",
    "NotFound",
    "OrgTrouble",
    "OrgUnreachable",
    "QueryError",
    "RequestLimitExceeded",
    "SalesforceError",
    "Secret",
    "ServerError",
    "SessionExpired",
    "TlsError",
    "WriteRefused",
    "redact",
    "transport_error",
]


def one_line(text: str) -> str:
    """Collapse whitespace and line breaks: messages are read in one line."""
    return " ".join(str(text).split())


_DROPPED = ("Remote end closed connection", "Connection aborted", "Connection reset", "Connection broken",
            "IncompleteRead", "RemoteDisconnected", "ConnectionResetError", "BrokenPipe")


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it wraps (urllib3 reasons, arguments, causes), outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in getattr(current, "args", ()) if isinstance(a, BaseException)), None)
        current = inner or current.__cause__ or current.__context__
    return seen


def _is_tls(exc: BaseException) -> bool:
    # only a failed request is classified: `lockstep gate` reads gate files through this module
    # and never loads requests
    import requests

    return any(isinstance(e, (requests.exceptions.SSLError, ssl.SSLError)) for e in _chain(exc))


def _tls_reason(text: str) -> str:
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text)
    marker = "certificate verify failed"
    if marker in text.lower():
        detail = text[text.lower().index(marker) + len(marker):].strip(" :)]\"'")
        return "TLS: certificate verify failed" + (f": {detail}" if detail else "")
    text = re.sub(r"^\[SSL(?:: [A-Z_]+)?\]\s*", "", text)
    return f"TLS: {text or 'handshake failed'}"


def describe_transport_error(exc: BaseException) -> str:
    """A short reason for a connection-level failure: ``127.0.0.1:9: Connection refused``,
    ``host: connection dropped by the server``, ``host: TLS: certificate verify failed: ...``."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None) or ""
    host = url.split("://", 1)[-1].split("/", 1)[0] if url else ""
    chain = _chain(exc)
    root = chain[-1]
    text = one_line(str(root)) or type(root).__name__
    everything = " ".join(f"{type(e).__name__} {one_line(str(e))}" for e in chain)
    timeout = re.search(r"(read|connect) timeout=([\d.]+)", everything)
    if _is_tls(exc):
        text = _tls_reason(text)
    elif timeout and timeout.group(1) == "read":
        text = f"no answer within {float(timeout.group(2)):g} s (read timeout)"
    elif timeout:
        text = f"no connection within {float(timeout.group(2)):g} s (connect timeout)"
    elif any(marker in everything for marker in _DROPPED):
        text = "connection dropped by the server"
    else:
        if (": " in text and not isinstance(root, OSError)) or "Failed to establish" in text:
            text = text.rsplit(": ", 1)[-1]
        if text.startswith("[Errno") and "]" in text:
            text = text.split("]", 1)[1].strip()
    return f"{host}: {text}" if host else text


def transport_error(org: str, exc: BaseException) -> SalesforceError:
    """The error for a request that got no HTTP answer: :class:`TlsError` for a TLS failure
    (never retried), :class:`ConnectionFailed` otherwise (transient)."""
    reason = describe_transport_error(exc)
    return TlsError(org, None, reason) if _is_tls(exc) else ConnectionFailed(org, None, reason)


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

    def again(self) -> Self:
        """A fresh copy (no traceback) of a remembered error, to raise it once more."""
        fresh = self.__class__.__new__(self.__class__)
        fresh.__dict__.update(self.__dict__)
        fresh.args = self.args
        return fresh

    @property
    def answer(self) -> str:
        """What the org answered, for a check's "found ...": ``HTTP 503 SERVER_UNAVAILABLE: <message>``,
        or ``CONNECTION_FAILED: <reason>`` when no HTTP answer came."""
        status = f"HTTP {self.status} " if self.status is not None else ""
        return redact(f"{status}{self.code}: {self.message}")


class OrgTrouble(SalesforceError):
    """The org failed, not the check: down, 5xx, TLS, expired session, API limit, login refused,
    its time budget used up, or an answer a fact could not be built from. A check that meets
    it is the org's error in the gate, never a finding."""


class AuthenticationError(OrgTrouble):
    """The login (token endpoint, CLI or admin session endpoint) was refused."""

    default_code = "authentication_failed"


class SessionExpired(OrgTrouble):
    default_code = "INVALID_SESSION_ID"


class RequestLimitExceeded(OrgTrouble):
    default_code = "REQUEST_LIMIT_EXCEEDED"


class QueryError(SalesforceError):
    default_code = "MALFORMED_QUERY"


class NotFound(SalesforceError):
    default_code = "NOT_FOUND"


class ServerError(OrgTrouble):
    default_code = "SERVER_UNAVAILABLE"


class ConnectionFailed(OrgTrouble):
    default_code = "CONNECTION_FAILED"


class TlsError(OrgTrouble):
    """The TLS handshake failed (certificate, protocol): not transient, never retried."""

    default_code = "TLS_ERROR"


class Cancelled(SalesforceError):
    """The run was interrupted (Ctrl-C, SIGTERM): no further request is sent to the org."""

    default_code = "CANCELLED"

    def __init__(self, org: str, message: str = "the run was interrupted; no further request is sent") -> None:
        super().__init__(org, None, message)


class DeadlineExceeded(OrgTrouble):
    """The org used up the time the run grants it; further calls are refused."""

    default_code = "DEADLINE_EXCEEDED"


class FactError(OrgTrouble):
    """A fact that could not be built from the org's answer; raised to each check reading it.

    Renders as ``<org>: fact <name>: <reason>``."""

    default_code = "FACT_ERROR"

    def __init__(self, org: str, fact: str, reason: str) -> None:
        self.fact = fact
        super().__init__(org, None, f"fact {fact}: {reason}")

    def __str__(self) -> str:
        return redact(f"{self.org}: {self.message}")


class WriteRefused(SalesforceError):
    """A write was attempted while writes are not allowed (read-only verification)."""

    default_code = "WRITE_REFUSED"


class OrgUnreachable(OrgTrouble):
    """The org could not be logged in to; every check of the org reports this."""

    default_code = "unreachable"

    def __init__(self, org: str, reason: str) -> None:
        super().__init__(org, "unreachable", reason)


class ApexError(SalesforceError):
    """An Apex REST service's own code failed (HTTP 500 ``APEX_ERROR``): the org answered; the
    service is broken. A finding, not org trouble; never retried."""

    default_code = "APEX_ERROR"
