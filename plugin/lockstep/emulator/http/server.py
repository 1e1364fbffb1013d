"""``Emulator``: the HTTPS server on a background thread, as a context manager."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from lockstep.emulator.http.app import EmulatorApp
from lockstep.emulator.http.tls import make_tls_files
from lockstep.emulator.state.definition import OrgDefinition
from lockstep.emulator.state.load import load_states
from lockstep.emulator.state.store import Store

__all__ = ["Emulator"]

_START_TIMEOUT = 20.0


class _QuietShutdown(logging.Filter):
    """Requests still waiting out an injected latency are cancelled when the emulator stops;
    that is the expected end of such a request, not an application error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


logging.getLogger("uvicorn.error").addFilter(_QuietShutdown())


class _Server(uvicorn.Server):
    """A uvicorn server whose main loop wakes up as soon as ``request_stop`` is called."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            except TimeoutError:
                continue

    def request_stop(self) -> None:
        self.should_exit = True
        self.force_exit = True
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)


class Emulator:
    """Serve the orgs of a state file or folder over HTTPS until the ``with`` block ends.

    ``url`` is every org's instance URL (the bearer token decides the org), ``ca_cert`` the CA
    file clients verify against, ``orgs`` one ready session per org.
    """

    def __init__(self, state: str | Path, host: str = "127.0.0.1", port: int = 0, latency_ms: int = 0,
                 now: dt.datetime | None = None) -> None:
        self.state_path = Path(state)
        self.now = now  # the moment relative times (-PT30M) count from; None: when (re)loaded
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.url = ""
        self.ca_cert = Path()
        self.in_process = False
        self.orgs: list[dict[str, str]] = []
        self.store = Store(self._definitions(), self.state_path)
        self._tmp: Path | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.app = EmulatorApp(self.store, self.reload)

    def _definitions(self) -> list[OrgDefinition]:
        definitions = load_states(self.state_path, self.now)
        if self.latency_ms:
            for definition in definitions:
                if not definition.faults.latency_ms:
                    definition.faults = dataclasses.replace(definition.faults, latency_ms=self.latency_ms)
        return definitions

    def reload(self) -> None:
        """Read the state files again; counts, writes and faults start over."""
        self.store.replace(self._definitions())

    def start(self) -> Emulator:
        try:
            return self._start()
        except BaseException:
            self.stop()  # nothing half-started stays behind: thread, socket, certificate folder
            raise

    def _start(self) -> Emulator:
        self._tmp = Path(tempfile.mkdtemp(prefix="lockstep-emulator-"))
        hosts = (self.host, "localhost") if self.host != "localhost" else ("localhost", "127.0.0.1")
        tls = make_tls_files(self._tmp, hosts)
        self.ca_cert = tls.ca_cert
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        sock.listen(1024)
        sock.set_inheritable(True)
        port = sock.getsockname()[1]
        shown_host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"https://{shown_host}:{port}"
        self.app.base_url = self.url
        config = uvicorn.Config(
            self.app, ssl_certfile=str(tls.server_cert), ssl_keyfile=str(tls.server_key),
            log_level="warning", lifespan="off", http="h11", access_log=False,
            timeout_keep_alive=30, timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="lockstep-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator's HTTPS server did not start")
            time.sleep(0.01)
        self.orgs = [self._session(org_name) for org_name in self.store.orgs]
        return self

    def open_in_process(self, url: str = "https://emulator.in-process") -> Emulator:
        """Answer only in this process, through ``lockstep.emulator.http.inprocess`` (no socket, no TLS).

        ``url`` is every org's instance URL and ``orgs`` one session per org, as after ``start``.
        """
        self.url = url
        self.app.base_url = url
        self.in_process = True
        self.orgs = [self._session(org_name) for org_name in self.store.orgs]
        return self

    def _session(self, org_name: str) -> dict[str, str]:
        org = self.store.orgs[org_name]
        session = self.store.new_session(org)
        found = {"name": org.name, "org_id": org.org_id, "username": org.definition.username,
                 "instance_url": self.url, "access_token": session.token}
        credentials = org.definition.credentials
        if credentials.refresh_token and credentials.client_id:  # what `sf org login sfdx-url` reads
            found["sfdx_auth_url"] = (f"force://{credentials.client_id}:{credentials.client_secret or ''}:"
                                      f"{credentials.refresh_token}@{self.url.removeprefix('https://')}")
        return found

    def stop(self) -> None:
        if self._server is not None:
            self._server.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def info(self) -> dict[str, Any]:
        """What ``lockstep emulator serve`` prints: url, CA file and one session per org."""
        return {"url": self.url, "ca_cert": str(self.ca_cert), "orgs": [dict(o) for o in self.orgs]}

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
