"""The ASGI application: the front door (admin, OAuth, identity), org faults, API-call accounting.

Every API call then goes through the routing table (``routes.dispatch``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl

from lockstep.emulator.api.rest import versions
from lockstep.emulator.http import oauth, unserved
from lockstep.emulator.http.admin import handle_admin
from lockstep.emulator.http.request import Call
from lockstep.emulator.http.responses import ApiResponse, error, render_json
from lockstep.emulator.http.routes import BAD_JSON, dispatch, front_door
from lockstep.emulator.state.store import Org, Session, Store

__all__ = ["EmulatorApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON = "application/json;charset=UTF-8"
_DEFAULT_VERSIONS = ("31.0", "62.0")
_SLASHES = re.compile(r"//+")


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "without completing response" not in message and "without starting response" not in message


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class EmulatorApp:
    """Serves every org of a ``Store``; ``base_url`` is set once the socket is bound."""

    def __init__(self, store: Store, reload: Callable[[], None]) -> None:
        self.store = store
        self.base_url = ""
        self._reload = reload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = await _read_request(scope, receive)
        response = await self._answer(request)
        if response is None:
            await _drop(send)
            return
        stage = front_door(request.path)
        await _respond(send, response, pretty=request.pretty and stage not in ("token", "unserved"),
                       cache=stage == "token")

    async def _answer(self, request: _HttpRequest) -> ApiResponse | None:
        """The response to one request; None when a fault drops the connection instead."""
        path, stage = request.path, front_door(request.path)
        if stage == "admin":
            status, body = handle_admin(self.store, self.base_url, request.method, path, _json(request.raw),
                                        self._reload)
            return ApiResponse(status, body)
        if stage == "token":
            return await self._token(request)
        if stage == "unserved":
            return unserved.answer(path, request.headers)
        org, session = self._resolve(request.headers)
        if org is None or stage != "api":
            return await self._org_answer(org, session, request)
        org.in_flight += 1  # an API call the admin endpoint reports until it is answered (and counted)
        try:
            return await self._org_answer(org, session, request)
        finally:
            org.in_flight -= 1

    async def _org_answer(self, org: Org | None, session: Session | None,
                          request: _HttpRequest) -> ApiResponse | None:
        """The answer to a request with a bearer token: the org's connection faults, then versions,
        identity or a counted API call."""
        stage = front_door(request.path)
        if not await _reachable(org):
            return None
        if stage == "versions":
            low, high = (org.definition.api_min, org.definition.api_max) if org else _DEFAULT_VERSIONS
            return ApiResponse(200, versions(low, high))
        if org is None or session is None:
            return error("INVALID_SESSION_ID", "Session expired or invalid")
        if stage == "identity":
            return self._identity(org, session.user_id, request.path)
        return self._api_call(org, session, request)

    def _api_call(self, org: Org, session: Session, request: _HttpRequest) -> ApiResponse | None:
        """One counted API call: the injected faults first, then the routing table."""
        session.calls += 1
        exhausted = org.limit_exhausted()
        org.api_calls += 1
        outcome = org.dice.roll(org.faults)
        if outcome == "drop":
            return None
        if org.faults.request_limit_exceeded or exhausted:
            response = error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        elif outcome == "error":
            response = _server_error(org.faults.error_status)
        else:
            call = Call(self.store, org, session, self.base_url, request.headers)
            response = dispatch(call, request.method, request.path, request.params,
                                _json(request.raw) if request.raw else None)
        used, maximum = org.api_usage()
        response.headers["Sforce-Limit-Info"] = f"api-usage={used}/{maximum}"
        return response

    def _resolve(self, headers: dict[str, str]) -> tuple[Org | None, Session | None]:
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token.strip():
            return None, None
        token = token.strip()
        org = self.store.org_by_id(token.split("!")[0]) if "!" in token else None
        session = self.store.session(token)
        if session is not None and org is not None and session.org != org.name:
            return org, None
        return org, session

    def _identity(self, org: Org, user_id: str, path: str) -> ApiResponse:
        if path == "/services/oauth2/userinfo":
            return ApiResponse(200, oauth.userinfo(self.base_url, org, user_id))
        parts = [p for p in path.split("/") if p]
        if len(parts) != 3 or parts[1][:15] != org.org_id[:15]:
            return ApiResponse(403, "Bad_OAuth_Token")
        wanted = next((row["Id"] for row in org.tables.get("User", []) if row["Id"][:15] == parts[2][:15]), None)
        if wanted is None:
            return ApiResponse(404, "Bad_Id")
        return ApiResponse(200, oauth.identity(self.base_url, org, wanted))

    async def _token(self, request: _HttpRequest) -> ApiResponse | None:
        if request.method != "POST":
            return ApiResponse(400, {"error": "invalid_request", "error_description": "must use HTTP POST"})
        form = dict(parse_qsl(request.raw.decode("utf-8", "replace"), keep_blank_values=True))
        authorization = request.headers.get("authorization")
        if not await _reachable(oauth.identify_org(self.store, form, authorization)):
            return None
        result = oauth.issue_token(self.store, self.base_url, form, authorization)
        return ApiResponse(result.status, result.body)


async def _reachable(org: Org | None) -> bool:
    """The org's connection faults, in the one place every request meets them: a ``down`` org
    drops the connection (False); ``latency_ms`` delays the answer. None: no org known yet."""
    if org is not None and org.faults.down:
        return False
    if org is not None and org.faults.latency_ms:
        await asyncio.sleep(org.faults.latency_ms / 1000)
    return True


@dataclass(frozen=True)
class _HttpRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    raw: bytes

    @property
    def pretty(self) -> bool:
        return self.headers.get("x-prettyprint") == "1"


async def _read_request(scope: Scope, receive: Receive) -> _HttpRequest:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    path = _SLASHES.sub("/", scope["path"])  # Salesforce serves //services/data like /services/data
    params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    return _HttpRequest(scope["method"], path, params, headers, await _read_body(receive))


def _server_error(status: int) -> ApiResponse:
    if status == 500:
        return error("UNKNOWN_EXCEPTION",
                     "An unexpected error occurred. Please include this ErrorId if you contact support: "
                     "1849206631-84117 (-1092867584)", status=500)
    return error("SERVER_UNAVAILABLE", "Server temporarily unavailable, please try again later.", status=503)


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return BAD_JSON


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _respond(send: Send, response: ApiResponse, *, pretty: bool, cache: bool = False) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    if response.status == 204 or (response.body is None and response.status in (204, 304)):
        payload = b""
    elif isinstance(response.body, bytes):  # an XML answer; its content type is in its headers
        payload = response.body
    else:
        payload = render_json(response.body, pretty=pretty)
        headers.append((b"content-type", _JSON.encode()))
    headers.append((b"content-length", str(len(payload)).encode()))
    headers.append((b"cache-control",
                    b"no-cache, no-store" if cache else b"no-cache,must-revalidate,max-age=0,no-store,private"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


@runtime_checkable
class _Abortable(Protocol):
    """A connection's transport as uvicorn exposes it (``asyncio.Transport`` or an event loop's own)."""

    def abort(self) -> None: ...


async def _drop(send: Send) -> None:
    """Close the connection without an answer (or, where the transport is out of reach, half-way)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.BaseTransport) and isinstance(transport, _Abortable):
        transport.abort()
        await asyncio.sleep(0)
        return
    await send({
        "type": "http.response.start", "status": 200,
        "headers": [(b"content-type", _JSON.encode()), (b"content-length", b"4096")],
    })
    await send({"type": "http.response.body", "body": b"[", "more_body": True})
