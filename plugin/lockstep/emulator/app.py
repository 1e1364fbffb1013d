"""The ASGI application: routing by token to an org, faults, API-call accounting."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Awaitable, Callable, MutableMapping
from urllib.parse import parse_qsl

from lockstep.emulator import oauth, unserved
from lockstep.emulator.admin import PREFIX, handle_admin
from lockstep.emulator.responses import ApiResponse, error, render_json
from lockstep.emulator.request import Call
from lockstep.emulator.rest import versions
from lockstep.emulator.routes import BAD_JSON, dispatch
from lockstep.emulator.store import Org, Store

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
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        path = _SLASHES.sub("/", scope["path"])  # Salesforce serves //services/data like /services/data
        params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        raw = await _read_body(receive)
        pretty = headers.get("x-prettyprint") == "1"
        if path.startswith(PREFIX):
            status, body = handle_admin(self.store, self.base_url, method, path, _json(raw), self._reload)
            await _respond(send, ApiResponse(status, body), pretty=pretty)
            return
        if path == "/services/oauth2/token":
            await self._token(send, method, headers, raw)
            return
        if unserved.is_unserved_api(path):
            await _respond(send, unserved.answer(path, headers), pretty=False)
            return
        org, session = self._resolve(headers)
        if org is not None and org.faults.down:
            await _drop(send)
            return
        if org is not None and org.faults.latency_ms:
            await asyncio.sleep(org.faults.latency_ms / 1000)
        if path in ("/services/data", "/services/data/"):
            low, high = (org.definition.api_min, org.definition.api_max) if org else _DEFAULT_VERSIONS
            await _respond(send, ApiResponse(200, versions(low, high)), pretty=pretty)
            return
        if org is None or session is None:
            await _respond(send, error("INVALID_SESSION_ID", "Session expired or invalid"), pretty=pretty)
            return
        if path == "/services/oauth2/userinfo" or path.startswith("/id/"):
            await _respond(send, self._identity(org, session.user_id, path), pretty=pretty)
            return
        session.calls += 1
        exhausted = org.limit_exhausted()
        org.api_calls += 1
        outcome = org.dice.roll(org.faults)
        if outcome == "drop":
            await _drop(send)
            return
        if org.faults.request_limit_exceeded or exhausted:
            response = error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        elif outcome == "error":
            response = _server_error(org.faults.error_status)
        else:
            call = Call(self.store, org, session, self.base_url, headers)
            response = dispatch(call, method, path, params, _json(raw) if raw else None)
        used, maximum = org.api_usage()
        response.headers["Sforce-Limit-Info"] = f"api-usage={used}/{maximum}"
        await _respond(send, response, pretty=pretty)

    def _resolve(self, headers: dict[str, str]) -> tuple[Org | None, Any]:
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

    async def _token(self, send: Send, method: str, headers: dict[str, str], raw: bytes) -> None:
        if method != "POST":
            await _respond(send, ApiResponse(400, {"error": "invalid_request", "error_description": "must use HTTP POST"}),
                           pretty=False, cache=True)
            return
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        org = oauth.identify_org(self.store, form, headers.get("authorization"))
        if org is not None and org.faults.down:
            await _drop(send)
            return
        if org is not None and org.faults.latency_ms:
            await asyncio.sleep(org.faults.latency_ms / 1000)
        result = oauth.issue_token(self.store, self.base_url, form, headers.get("authorization"))
        await _respond(send, ApiResponse(result.status, result.body), pretty=False, cache=True)


def _server_error(status: int) -> ApiResponse:
    if status == 500:
        return error("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1849206631-84117 (-1092867584)", status=500)
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
    if response.status == 204 or response.body is None and response.status in (204, 304):
        payload = b""
    elif isinstance(response.body, bytes):  # an XML answer; its content type is in its headers
        payload = response.body
    else:
        payload = render_json(response.body, pretty=pretty)
        headers.append((b"content-type", _JSON.encode()))
    headers.append((b"content-length", str(len(payload)).encode()))
    headers.append((b"cache-control", b"no-cache, no-store" if cache else b"no-cache,must-revalidate,max-age=0,no-store,private"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _drop(send: Send) -> None:
    """Close the connection without an answer (or, where the transport is out of reach, half-way)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.BaseTransport):
        transport.abort()
        await asyncio.sleep(0)
        return
    await send({
        "type": "http.response.start", "status": 200,
        "headers": [(b"content-type", _JSON.encode()), (b"content-length", b"4096")],
    })
    await send({"type": "http.response.body", "body": b"[", "more_body": True})
