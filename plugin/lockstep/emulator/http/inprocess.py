"""The emulator in this process, without a socket or TLS: a ``requests`` transport adapter.

``ASGIAdapter`` hands each request of a ``requests.Session`` to the emulator's ASGI app and
builds the ``requests.Response`` from what the app sends, so a client-level test sees the same
status, headers and body as over HTTPS. A fault that drops the connection raises
``requests.ConnectionError``, as a dropped socket does. One event loop per request: the adapter
may be used from several threads at once, each request waiting out its own injected latency.
"""

from __future__ import annotations

import asyncio
import http
import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from lockstep.emulator.http.app import EmulatorApp

__all__ = ["ASGIAdapter", "in_process_session"]

IN_PROCESS_URL = "https://emulator.in-process"


class _Exchange:
    """What the app sent for one request: status, headers, body, and whether it finished."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.complete = False

    async def send(self, message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            self.complete = not message.get("more_body", False)


class ASGIAdapter(BaseAdapter):
    """Sends a ``requests.Session``'s requests to an ASGI app in this process."""

    def __init__(self, app: EmulatorApp) -> None:
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Mapping[str, str] | None = None) -> requests.Response:
        exchange = asyncio.run(self._exchange(request))
        if not exchange.complete:
            raise requests.ConnectionError("the emulator closed the connection without a complete answer",
                                           request=request)
        return _response(request, exchange)

    async def _exchange(self, request: requests.PreparedRequest) -> _Exchange:
        url = urlsplit(request.url or "")
        body = request.body or b""
        payload = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "scheme": url.scheme, "path": unquote(url.path or "/"), "raw_path": (url.path or "/").encode(),
            "query_string": url.query.encode("latin-1"), "root_path": "",
            "headers": [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in request.headers.items()],
            "server": (url.hostname or "", url.port or 443), "client": ("127.0.0.1", 0),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # like a client that keeps the connection open
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}

        exchange = _Exchange()
        await self.app(scope, receive, exchange.send)
        return exchange

    def close(self) -> None:
        pass


def _response(request: requests.PreparedRequest, exchange: _Exchange) -> requests.Response:
    response = requests.Response()
    response.status_code = exchange.status
    response.headers = CaseInsensitiveDict(exchange.headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response.raw = io.BytesIO(bytes(exchange.body))
    response._content = bytes(exchange.body)
    response.reason = http.HTTPStatus(exchange.status).phrase
    response.url = request.url or ""
    response.request = request
    return response


def in_process_session(app: EmulatorApp, url: str = IN_PROCESS_URL) -> requests.Session:
    """A session whose requests to ``url`` are answered by ``app`` in this process."""
    session = requests.Session()
    session.mount(url, ASGIAdapter(app))
    return session
