"""The read-only guard: which requests may leave the process for an org, decided at its transport.

Every request an org's session sends passes :meth:`WriteGuard.check` (in the session and in
its adapter), whatever built it: the org client, its simple-salesforce object, or the session
used directly. A request goes out only when it is a known read or login traffic, or when the
thread sending it holds the org's write grant. Fail-closed: anything not positively known
to be a read is a write.

Known reads (:func:`write_of` answers ``None``):

- ``GET``/``HEAD`` of ``/services/data/...`` (REST and Tooling), except the resources that run
  code (``executeAnonymous``, ``runTestsSynchronous``, ``runTestsAsynchronous``, in any case,
  with blanks or a format suffix such as ``.json``); of
  ``/services/apexrest/...``; of ``/services/oauth2/userinfo``, the identity URL ``/id/...``
  and the emulator's ``/__emulator__/...``;
- ``POST /services/oauth2/token`` (login) and the emulator's session endpoint
  ``POST /__emulator__/orgs/<name>/sessions`` (its login);
- ``POST`` of ``/composite``, ``/tooling/composite``, ``/composite/batch`` and
  ``/composite/graph`` when every subrequest is itself a known read (recursively).

Everything else is a write: any other method (PATCH, PUT, DELETE, OPTIONS, ...), any other
POST (sObject and collection creates, ``/composite/tree``, Apex REST, SOAP, Bulk API jobs,
token revocation), a path with ``.``/``..`` segments, a body that cannot be read (or whose
JSON repeats a key: parsers differ on which value counts), and any request asking for another
method (``_HttpMethod``, ``X-HTTP-Method-Override``).

Write mode exists only through a grant: :func:`new_guard` returns the guard of one org and,
for an org whose profile allows writes, the grant that opens it. The grant is per thread:
entering it lets the current thread (the one running a ``writes`` check) write; threads
started by the check, or gathering facts meanwhile, stay read-only.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lockstep.salesforce.errors import WriteRefused

__all__ = ["Grant", "WriteGuard", "new_guard", "write_of"]

Grant = Callable[[], AbstractContextManager[None]]

REFUSED = "writes are refused outside a check marked @pytest.mark.writes on an org that allows writes"
_VERSIONED = re.compile(r"^/services/data/v\d+\.\d+(/.*)?$")
_RUNS_CODE = ("executeanonymous", "runtestssynchronous", "runtestsasynchronous")
_GET_PATHS = ("/services/data", "/services/apexrest", "/services/oauth2/userinfo")
_GET_UNDER = ("/services/apexrest/", "/id/", "/__emulator__/")
_EMULATOR_LOGIN = re.compile(r"^/__emulator__/orgs/[^/]+/sessions$")
_OVERRIDES = ("x-http-method-override", "x-http-method", "x-method-override")
_COMPOSITES = {"/composite": "compositeRequest", "/tooling/composite": "compositeRequest",
               "/composite/batch": "batchRequests", "/composite/graph": "graphs"}
_MAX_DEPTH = 4


def _path(url: str) -> str | None:
    """The decoded URL path, or ``None`` when it is not plainly a path: dot segments, backslashes,
    control characters, or a ``%`` left after decoding (a server that decodes twice would see
    another path than the guard)."""
    path = unquote(urlsplit(url).path)
    segments = path.split("/")
    if any(s in (".", "..") for s in segments) or any(c in path for c in "\\;%") or not path.isprintable():
        return None
    return "/" + "/".join(s for s in segments if s)


def _asks_other_method(url: str, headers: Mapping[str, Any]) -> bool:
    query = urlsplit(url).query
    if any(key.lower() == "_httpmethod" for key, _ in parse_qsl(query, keep_blank_values=True)):
        return True
    return any(str(name).lower() in _OVERRIDES for name in headers)


def _is_read_path(path: str) -> bool:
    """A GET/HEAD of ``path`` is a known read."""
    if path in _GET_PATHS or path.startswith(_GET_UNDER):
        return True
    return path.startswith("/services/data/") and not any(_resource(s) in _RUNS_CODE for s in path.split("/"))


def _resource(segment: str) -> str:
    """A path segment as a server may route it: case, surrounding blanks and a format suffix
    (``executeAnonymous.json``) aside."""
    return segment.strip().lower().split(".")[0]


def _subrequests(kind: str, body: Any) -> list[tuple[str, str, Any, Mapping[str, Any]]] | None:
    """``(method, url, body, headers)`` of each subrequest, or ``None`` for a body of another shape."""
    if not isinstance(body, dict):
        return None
    items = body.get(kind)
    if kind == "graphs":
        if not isinstance(items, list) or not all(isinstance(g, dict) for g in items):
            return None
        items = [sub for graph in items for sub in (graph.get("compositeRequest") or [None])]
    if not isinstance(items, list) or not items:
        return None
    found: list[tuple[str, str, Any, Mapping[str, Any]]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("method"), str) or not isinstance(item.get("url"),
                                                                                                   str):
            return None
        url = item["url"]
        if kind == "batchRequests" and not url.startswith("/"):
            url = f"/services/data/{url}"  # batch URLs are relative to /services/data/
        headers = item.get("httpHeaders") or {}
        if not isinstance(headers, dict):
            return None
        found.append((item["method"], url, item.get("richInput", item.get("body")), headers))
    return found


def _is_read(method: str, url: str, body: Any, headers: Mapping[str, Any], depth: int = 0) -> bool:
    method = method.upper()
    path = _path(url)
    if path is None or _asks_other_method(url, headers):
        return False
    if method in ("GET", "HEAD"):
        return _is_read_path(path)
    if method != "POST":
        return False
    if path == "/services/oauth2/token" or _EMULATOR_LOGIN.match(path):
        return True
    match = _VERSIONED.match(path)
    kind = _COMPOSITES.get(match.group(1) or "") if match else None
    if kind is None or depth >= _MAX_DEPTH:
        return False
    subrequests = _subrequests(kind, body)
    return subrequests is not None and all(
        _is_read(m, u, b, h, depth + 1) for m, u, b, h in subrequests)


def _json_body(body: Any) -> Any:
    if body is None or body == b"" or body == "":
        return None
    if not isinstance(body, (bytes, str)):
        return _UNREADABLE
    try:
        return json.loads(body, object_pairs_hook=_unique_keys)
    except ValueError:
        return _UNREADABLE


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when it repeats a key: parsers differ on which value counts, so
    the org might read the method or subrequests the guard did not."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a repeated key")
    return found


_UNREADABLE = object()


def write_of(method: str, url: str, body: Any = None, headers: Mapping[str, Any] | None = None) -> str | None:
    """``None`` when the request is a known read (or login); else ``"METHOD /path"`` naming the write.

    ``body`` is the request body as sent (bytes or text; JSON for the composite resources)."""
    if _is_read(method or "", url or "", _json_body(body), headers or {}):
        return None
    return f"{(method or '?').upper()} {urlsplit(url or '').path or '/'}"


class WriteGuard:
    """Refuses the writes of one org's transport unless the sending thread holds the org's grant,
    and remembers each thread's refusals (a check that catches the exception still fails)."""

    __slots__ = ("_granted", "_refused", "org")

    def __init__(self, org: str, granted: Callable[[], bool] = lambda: False,
                 refused: threading.local | None = None) -> None:
        self.org = org
        self._granted = granted
        self._refused = refused if refused is not None else threading.local()  # may be shared by many orgs

    def take_refusals(self) -> list[str]:
        """The refusals sent to the current thread since the last call (one line each)."""
        refused: list[str] = getattr(self._refused, "lines", [])
        self._refused.lines = []
        return refused

    def check(self, method: str | None, url: str | None, body: Any = None,
              headers: Mapping[str, Any] | None = None) -> None:
        """Raise :class:`WriteRefused` (``<org>: WRITE_REFUSED: POST /path: ...``) for a write
        the current thread may not send."""
        what = write_of(method or "", url or "", body, headers)
        if what is not None and not self._granted():
            error = WriteRefused(self.org, None, f"{what}: {REFUSED}")
            if not hasattr(self._refused, "lines"):
                self._refused.lines = []
            self._refused.lines.append(str(error))
            raise error


def new_guard(org: str, writable: bool, refused: threading.local | None = None) -> tuple[WriteGuard, Grant | None]:
    """The guard of ``org``'s transport and, when ``writable``, the grant that opens it for the
    current thread (``with grant(): ...``). An org that does not allow writes has no grant.
    Guards given the same ``refused`` record their refusals in one place per thread."""
    if not writable:
        return WriteGuard(org, refused=refused), None
    local = threading.local()

    def granted() -> bool:
        return getattr(local, "depth", 0) > 0

    @contextmanager
    def grant() -> Iterator[None]:
        local.depth = getattr(local, "depth", 0) + 1
        try:
            yield
        finally:
            local.depth -= 1

    return WriteGuard(org, granted, refused), grant
