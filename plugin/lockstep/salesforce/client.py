"""``OrgClient``: one org's REST/Tooling API access over simple-salesforce.

One ``requests.Session`` per org, TLS always verified (a custom CA file when given).
Every HTTP request goes through :class:`CountingAdapter`, the single place where calls
are counted, timeouts applied (default: 10 s to connect, 30 s to read) and writes refused
(:mod:`lockstep.salesforce.guard`: read-only unless the plugin grants writes). Transient
failures (5xx, dropped connections, timeouts) of idempotent requests are retried with a
bounded backoff; a create is never retried (a retried POST may leave a duplicate record);
TLS failures are never retried; an expired session is re-authenticated once;
REQUEST_LIMIT_EXCEEDED is never retried.

A cancel event (``threading.Event``, shared by the orgs of one pool) stops an org's work
when the run is interrupted: once it is set, no further request is sent and no backoff
waited out; every call fails at once with :class:`Cancelled` (``<org>: CANCELLED: ...``).

A per-org circuit breaker keeps a failing org from multiplying its calls: after as many
consecutive transport or 5xx failures as one call may attempt, or once the org has spent
its time budget (``deadline``, default 600 s of requests), every further call fails at
once with the remembered one-line error.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import simple_salesforce.exceptions as sf_exc
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from lockstep import __version__
from lockstep.salesforce.auth import Authenticator, Token
from lockstep.salesforce.errors import (
    ApexError,
    AuthenticationError,
    Cancelled,
    ConnectionFailed,
    DeadlineExceeded,
    NotFound,
    OrgTrouble,
    QueryError,
    RequestLimitExceeded,
    SalesforceError,
    ServerError,
    SessionExpired,
    TlsError,
    one_line,
    transport_error,
)
from lockstep.salesforce.guard import WriteGuard

__all__ = ["CallCounter", "CountingAdapter", "GuardedSession", "OrgClient", "error_for", "new_session"]

T = TypeVar("T")
Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (10.0, 30.0)
DEFAULT_DEADLINE = 600.0
_UNCOUNTED_PREFIXES = ("/services/oauth2/", "/__emulator__/")
_TRANSPORT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_API_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_REFUSED_TOKEN = ("Bad_OAuth_Token", "INVALID_SESSION_ID", "invalid_token")


class CallCounter:
    """Counts HTTP requests, and among them the calls Salesforce charges to the daily limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.api_calls = 0
        self.api_usage: tuple[int, int] | None = None  # (used, max) of the last Sforce-Limit-Info header

    def saw(self, response: requests.Response) -> None:
        """Remember the daily API usage an answer reports (``Sforce-Limit-Info: api-usage=U/M``)."""
        found = _API_USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if found:
            with self._lock:
                self.api_usage = (int(found.group(1)), int(found.group(2)))

    def count(self, url: str) -> bool:
        """Count one request; returns whether Salesforce charges it."""
        path = urlsplit(url).path
        charged = path.rstrip("/") != "/services/data" and not path.startswith(_UNCOUNTED_PREFIXES)
        with self._lock:
            self.requests += 1
            self.api_calls += charged
        return charged

    def refund(self) -> None:
        """A request refused for an invalid session (401) is not charged."""
        with self._lock:
            self.api_calls -= 1


class CountingAdapter(HTTPAdapter):
    """Refuses writes (``guard``; read-only when none is given), counts every request it sends
    and gives each one a default timeout."""

    def __init__(self, counter: CallCounter, ca_file: str | None = None, timeout: Timeout = DEFAULT_TIMEOUT,
                 cancel: threading.Event | None = None, org: str = "", guard: WriteGuard | None = None) -> None:
        super().__init__()
        self.counter = counter
        self.ca_file = ca_file
        self.default_timeout = timeout
        self.cancel = cancel
        self.org = org
        self.guard = guard if guard is not None else WriteGuard(org)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(self.org)
        self.guard.check(request.method, request.url, request.body, request.headers)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        if self.ca_file:
            # requests lets REQUESTS_CA_BUNDLE override a session's CA file; the org's CA wins here.
            kwargs["verify"] = self.ca_file
        charged = self.counter.count(request.url or "")
        response = super().send(request, **kwargs)
        if response.status_code < 400:  # an org failing its calls is not reporting its usage
            self.counter.saw(response)
        if charged and response.status_code == 401:
            self.counter.refund()
        return response


class GuardedSession(requests.Session):
    """A session whose guard sees every request before any adapter does, so that mounting
    another adapter does not get around it."""

    def __init__(self, guard: WriteGuard) -> None:
        super().__init__()
        self.guard = guard

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.guard.check(request.method, request.url, request.body, request.headers)
        return super().send(request, **kwargs)


def new_session(counter: CallCounter, ca_file: Path | str | None = None,
                timeout: Timeout = DEFAULT_TIMEOUT, cancel: threading.Event | None = None,
                org: str = "", guard: WriteGuard | None = None) -> requests.Session:
    """A session that verifies TLS (against ``ca_file`` when given), counts requests,
    applies ``timeout`` (connect, read seconds) to every request without one, sends nothing
    once ``cancel`` is set (:class:`Cancelled` for ``org``) and refuses writes through
    ``guard`` (read-only when none is given)."""
    guard = guard if guard is not None else WriteGuard(org)
    session = GuardedSession(guard)
    session.verify = str(ca_file) if ca_file else True
    adapter = CountingAdapter(counter, str(ca_file) if ca_file else None, timeout, cancel, org, guard)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = f"lockstep/{__version__}"
    return session


def _error_detail(content: Any) -> tuple[str | None, str]:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return first.get("errorCode") or first.get("statusCode"), str(first.get("message", ""))
    if isinstance(content, dict):
        return content.get("errorCode") or content.get("error"), str(
            content.get("message") or content.get("error_description") or ""
        )
    return None, one_line(str(content))[:300]


def error_for(org: str, status: int, content: Any) -> SalesforceError:
    """The exception for an HTTP error answer (also a composite subrequest's)."""
    code, message = _error_detail(content)
    if status == 401:
        return SessionExpired(org, code, message or "Session expired or invalid", status)
    if code == "REQUEST_LIMIT_EXCEEDED":
        return RequestLimitExceeded(org, code, message, status)
    if code == "APEX_ERROR":
        return ApexError(org, code, message, status)
    if code in ("MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"):
        return QueryError(org, code, message, status)
    if status == 404:
        return NotFound(org, code, message or "The requested resource does not exist", status)
    if status >= 500:
        return ServerError(org, code or f"HTTP_{status}", message or f"HTTP {status}", status)
    return SalesforceError(org, code or f"HTTP_{status}", message or f"HTTP {status}", status)


class _Breaker:
    """Remembers one org's failures: after ``threshold`` consecutive transport or 5xx failures,
    a TLS failure, or ``budget`` seconds spent in requests, every further call fails at once."""

    def __init__(self, org: str, threshold: int, budget: float | None) -> None:
        self.org, self.threshold, self.budget = org, threshold, budget
        self._lock = threading.Lock()
        self._failures = 0
        self._spent = 0.0
        self.error: SalesforceError | None = None

    def check(self) -> None:
        with self._lock:
            if self.error is None and self.budget is not None and self._spent >= self.budget:
                self.error = DeadlineExceeded(self.org, None,
                                              f"used up its time budget ({self.budget:g} s of requests);"
                                                              " its remaining calls are refused")
            if self.error is not None:
                raise self.error.again()

    def record(self, seconds: float, failure: SalesforceError | None) -> None:
        """One attempt took ``seconds``; ``failure`` is its transport/5xx/TLS error, if any."""
        with self._lock:
            self._spent += seconds
            if failure is None:
                self._failures = 0
                return
            self._failures += 1
            if self.error is None and (self._failures >= self.threshold or isinstance(failure, TlsError)):
                self.error = failure


class OrgClient:
    """REST and Tooling API access to one org; see the module docstring."""

    def __init__(
        self,
        name: str,
        authenticator: Authenticator,
        session: requests.Session,
        counter: CallCounter,
        api_version: str | None = None,
        retry_delays: Sequence[float] = (0.2, 0.8),
        timeout: Timeout | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
        cancel: threading.Event | None = None,
    ) -> None:
        self.name = name
        self._cancel = cancel if cancel is not None else threading.Event()
        self.counter = counter
        self._auth = authenticator
        self._session = session
        self._delays = tuple(retry_delays)
        self._breaker = _Breaker(name, len(self._delays) + 1, deadline)
        if timeout is not None:
            for adapter in session.adapters.values():
                if isinstance(adapter, CountingAdapter):
                    adapter.default_timeout = timeout
        self._lock = threading.RLock()
        self._sf: Salesforce | None = None
        self.api_version = api_version
        self._versions: list[dict[str, Any]] | None = None
        self.troubles = 0
        self.instance_url = ""
        self.login()

    @property
    def api_calls(self) -> int:
        return self.counter.api_calls

    @property
    def base_path(self) -> str:
        return f"/services/data/v{self.api_version}"

    def login(self) -> None:
        token = self._retrying(lambda: self._auth.login(self._session), idempotent=True)
        self.instance_url = token.instance_url.rstrip("/")
        if self._auth.verify_session:
            self._retrying(lambda: self._verify_session(token), idempotent=True)
        served = self.versions(token)
        if self.api_version is None:
            self.api_version = max((str(v["version"]) for v in served), key=float)
        with self._lock:
            self._sf = Salesforce(
                instance_url=self.instance_url,
                session_id=token.access_token.reveal(),
                session=self._session,
                version=self.api_version,
            )

    def _verify_session(self, token: Token) -> None:
        """Prove a token obtained elsewhere (a fixed access token, the CLI's cache) is accepted,
        with ``/services/oauth2/userinfo``: authenticated, not charged to the API allowance."""
        url = f"{self.instance_url}/services/oauth2/userinfo"
        try:
            response = self._session.get(url, headers={"Accept": "application/json",
                                                       "Authorization": f"Bearer {token.access_token.reveal()}"})
        except _TRANSPORT as exc:
            raise transport_error(self.name, exc) from None
        if response.status_code >= 500:
            raise ServerError(self.name, None, f"userinfo: HTTP {response.status_code}", response.status_code)
        code, message = _error_detail(_json_or_text(response))
        if response.status_code == 401 or (response.status_code == 403 and (code in _REFUSED_TOKEN or any(
                marker in message for marker in _REFUSED_TOKEN))):
            raise AuthenticationError(self.name, code or "INVALID_SESSION_ID",
                                      f"the access token was refused (userinfo: HTTP {response.status_code})",
                                      response.status_code)

    def close(self) -> None:
        self._session.close()

    def _check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled(self.name)

    def _mapped(self, exc: sf_exc.SalesforceError) -> SalesforceError:
        return error_for(self.name, exc.status, exc.content)

    def _retrying(self, fn: Callable[[], T], idempotent: bool) -> T:
        """Run ``fn`` through the breaker; retry transient failures of idempotent requests."""
        attempt = 0
        while True:
            self._check_cancelled()
            self._breaker.check()
            started = time.monotonic()
            try:
                result = fn()
            except (ServerError, ConnectionFailed, TlsError) as exc:
                error: SalesforceError = exc
            except _TRANSPORT as exc:
                error = transport_error(self.name, exc)
            except BaseException:
                self._breaker.record(time.monotonic() - started, None)
                raise
            else:
                self._breaker.record(time.monotonic() - started, None)
                return result
            self._breaker.record(time.monotonic() - started, error)
            if not idempotent or isinstance(error, TlsError) or attempt >= len(self._delays):
                raise error
            if self._cancel.wait(self._delays[attempt]):
                raise Cancelled(self.name) from None
            attempt += 1

    def handed_out(self, error: SalesforceError) -> SalesforceError:
        """``error`` (remembered from gathering) as it is handed to a check: org trouble counts."""
        if isinstance(error, OrgTrouble):
            self.troubles += 1
        return error

    def _call(self, fn: Callable[[Salesforce], T], idempotent: bool = True) -> T:
        """Run one API request; count the org's trouble (:class:`OrgTrouble`) it ends in, so that
        a check that catches it is still reported as the org's error, not as a finding."""
        try:
            return self._call_once(fn, idempotent)
        except OrgTrouble:
            self.troubles += 1
            raise

    def _call_once(self, fn: Callable[[Salesforce], T], idempotent: bool) -> T:
        """Run one API request with retries and at most one re-authentication."""
        reauthenticated = False
        while True:

            def attempt() -> T:
                assert self._sf is not None
                try:
                    return fn(self._sf)
                except sf_exc.SalesforceError as exc:
                    raise self._mapped(exc) from None

            try:
                return self._retrying(attempt, idempotent)
            except SessionExpired:
                if reauthenticated or not self._auth.can_refresh:
                    raise
                reauthenticated = True
                self.login()

    def _url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        if path.startswith("/"):
            return f"{self.instance_url}{path}"
        return f"{self.instance_url}{self.base_path}/{path}"

    def _get_json(self, sf: Salesforce, path: str) -> Any:
        response = sf._call_salesforce("GET", self._url(path), name=path)
        try:
            return response.json()
        except ValueError:
            return response.text

    def _paged(self, first: Callable[[Salesforce], Any]) -> list[dict[str, Any]]:
        return self.more(self._call(first))

    def query(self, soql: str) -> list[dict[str, Any]]:
        """All records of a SOQL query (every page)."""
        return self._paged(lambda sf: sf.query(soql))

    def tooling_query(self, soql: str) -> list[dict[str, Any]]:
        """All records of a Tooling API query (every page)."""
        return self._paged(lambda sf: sf.toolingexecute("query/", params={"q": soql}))

    def more(self, page: Any) -> list[dict[str, Any]]:
        """The records of a query result page followed by every further page."""
        records: list[dict[str, Any]] = []
        while True:
            rows = page.get("records") if isinstance(page, dict) else None
            if not isinstance(rows, list):
                raise SalesforceError(self.name, "UNEXPECTED_ANSWER", "a query answer without a list of records")
            records.extend(rows)
            url = page.get("nextRecordsUrl")
            if page.get("done", True) or not url:
                return records
            page = self._call(lambda sf: self._get_json(sf, url))  # noqa: B023 - called within this iteration

    def limits(self) -> dict[str, Any]:
        return self._call(lambda sf: sf.restful("limits/")) or {}

    def versions(self, token: Token | None = None) -> list[dict[str, Any]]:
        """The API versions the org serves (``/services/data/``; not charged by Salesforce).

        Asked once per client, with the session's token: a first round trip that proves the
        org answers before any check runs."""
        if self._versions is None:
            headers = {"Accept": "application/json"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token.access_token.reveal()}"

            def fetch() -> list[dict[str, Any]]:
                try:
                    response = self._session.get(f"{self.instance_url}/services/data/", headers=headers)
                except _TRANSPORT as exc:
                    raise transport_error(self.name, exc) from None
                if response.status_code >= 300:
                    raise error_for(self.name, response.status_code, _json_or_text(response))
                served = _json_or_text(response)
                if not isinstance(served, list) or not all(isinstance(v, dict) and "version" in v for v in served):
                    raise SalesforceError(self.name, "UNEXPECTED_ANSWER",
                                          "/services/data/ did not answer a list of API versions")
                return served

            self._versions = self._retrying(fetch, idempotent=True)
        return self._versions

    def get(self, path: str) -> Any:
        """GET a path under ``/services/data/vNN.0/`` (relative) or an absolute ``/services/...`` path."""
        return self._call(lambda sf: self._get_json(sf, path))

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        """Create one record (refused at the transport unless the plugin granted writes)."""
        result = self._call(lambda sf: sf.restful(f"sobjects/{sobject}/", method="POST", data=json.dumps(fields)),
                            idempotent=False)
        if not isinstance(result, dict) or "id" not in result:
            raise SalesforceError(self.name, "UNEXPECTED_ANSWER", f"creating a {sobject} record answered no id")
        return str(result["id"])

    def delete(self, sobject: str, record_id: str) -> None:
        self._call(lambda sf: sf.restful(f"sobjects/{sobject}/{record_id}", method="DELETE"))

    def composite(self, subrequests: list[dict[str, Any]], all_or_none: bool = False) -> list[dict[str, Any]]:
        """POST ``/composite``; one API call for up to 25 subrequests (at most 5 queries)."""
        body = {"allOrNone": all_or_none, "compositeRequest": subrequests}
        result = self._call(lambda sf: sf.restful("composite", method="POST", data=json.dumps(body)))
        return list((result or {}).get("compositeResponse", []))

    def tooling_composite(self, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST ``/tooling/composite``."""
        body = {"allOrNone": False, "compositeRequest": subrequests}
        result = self._call(lambda sf: sf.toolingexecute("composite", method="POST", data=body))
        return list((result or {}).get("compositeResponse", []))


def _json_or_text(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
