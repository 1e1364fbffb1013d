"""The routing tables: where every request to the emulator goes.

``FRONT_DOOR`` names the requests that are not API calls (admin, OAuth token, identity, the
versions list, the SOAP and Bulk APIs the emulator does not serve); the app answers those
itself, before or without a session, and does not count them. Every other request is an API
call, matched in ``ROUTES`` to its handler.

A row of ``ROUTES`` is (API root, methods, path pattern, handler). Patterns are relative to
the API root (``/services/data/vNN.0/``, ``.../tooling/``, ``/services/apexrest/``): ``{name}``
captures one segment, ``{sobject}`` one the API knows as an sObject (otherwise the path does
not match), ``{name:path}`` the rest of the path. The first pattern that matches the path
decides; a method none of its rows accept is a 405 naming the ones they do. The Tooling root
lists its resource families from this table; the data root lists Salesforce's, and the
families the table does not route answer "not served".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from lockstep.emulator.api import composite, rest
from lockstep.emulator.api.records import visible_object
from lockstep.emulator.http import unserved
from lockstep.emulator.http.request import Call, Request
from lockstep.emulator.http.responses import NOT_FOUND_MESSAGE, ApiResponse, error
from lockstep.emulator.schema.registry import SObject

__all__ = ["BAD_JSON", "FRONT_DOOR", "ROUTES", "Route", "dispatch", "front_door", "routed_families",
           "unserved_families"]

BAD_JSON = object()
Handler = Callable[[Request], ApiResponse]
_VERSIONED = re.compile(r"^/services/data/v(\d{2}\.\d)(/.*)?$")
_APEX_REST = "/services/apexrest"
_ANY = "*"


# (path, stage): a path ending in "/*" covers everything under it. Anything else: "api".
FRONT_DOOR: tuple[tuple[str, str], ...] = (
    ("/__emulator__/*", "admin"),
    ("/services/oauth2/token", "token"),
    ("/services/oauth2/userinfo", "identity"),
    ("/id/*", "identity"),
    ("/services/data", "versions"),
    ("/services/data/", "versions"),
    ("/services/Soap", "unserved"),
    ("/services/Soap/*", "unserved"),
    ("/services/async", "unserved"),
    ("/services/async/*", "unserved"),
)


def front_door(path: str) -> str:
    """The stage of ``FRONT_DOOR`` that answers ``path``, or "api" for a call ``ROUTES`` routes."""
    for pattern, stage in FRONT_DOOR:
        if path == pattern or (pattern.endswith("/*") and path.startswith(pattern[:-1])):
            return stage
    return "api"


@dataclass(frozen=True)
class Route:
    api: str  # "data", "tooling" or "apexrest"
    methods: tuple[str, ...]  # ("*",): the handler answers every method itself
    pattern: str
    handler: Handler

    @property
    def family(self) -> str:
        """The first path segment: the resource the API root lists."""
        return self.pattern.split("/", 1)[0]


def _row(api: str, methods: str, pattern: str, handler: Handler) -> Route:
    return Route(api, tuple(methods.split()), pattern, handler)


def _composite(req: Request) -> ApiResponse:
    return composite.composite(req, dispatch)


def _not_found(req: Request) -> ApiResponse:
    return error("NOT_FOUND", NOT_FOUND_MESSAGE)


def _data_root(req: Request) -> ApiResponse:
    body = {name: f"{req.prefix}/{name}" for name in rest.LISTED_RESOURCES}
    body["identity"] = f"{req.call.base_url}/id/{req.org.org_id}/{req.call.session.user_id}"
    return ApiResponse(200, body)


def _tooling_root(req: Request) -> ApiResponse:
    return ApiResponse(200, {name: f"{req.prefix}/{name}" for name in routed_families("tooling")})


# Order matters only where two patterns match one path: the first one wins.
ROUTES: tuple[Route, ...] = (
    _row("data", "GET HEAD", "", _data_root),
    _row("data", "GET HEAD", "query", rest.query),
    _row("data", "GET HEAD", "query/{locator}", rest.next_page),
    _row("data", "GET HEAD", "query/{locator}/{rest:path}", _not_found),
    _row("data", "GET HEAD", "queryAll", rest.query_all),
    _row("data", "GET HEAD", "queryAll/{locator}", rest.next_page),
    _row("data", "GET HEAD", "queryAll/{locator}/{rest:path}", _not_found),
    _row("data", "GET HEAD", "limits", rest.limits),
    _row("data", "GET HEAD", "limits/recordCount", rest.record_count),
    _row("data", "GET HEAD", "limits/{rest:path}", _not_found),
    _row("data", "POST", "composite", _composite),
    _row("data", _ANY, "composite/sobjects", composite.collection),
    _row("data", _ANY, "composite/sobjects/{rest:path}", composite.collection),
    _row("data", "GET HEAD", "sobjects", rest.describe_global),
    _row("data", "GET HEAD", "sobjects/{sobject}", rest.sobject_basic),
    _row("data", "POST", "sobjects/{sobject}", rest.create),
    _row("data", "GET HEAD", "sobjects/{sobject}/describe", rest.describe_sobject),
    _row("data", _ANY, "sobjects/{sobject}/describe/{rest:path}", _not_found),
    _row("data", "GET HEAD", "sobjects/{sobject}/updated", rest.updated),
    _row("data", "GET HEAD", "sobjects/{sobject}/deleted", rest.deleted),
    _row("data", "GET HEAD", "sobjects/{sobject}/{id}", rest.retrieve),
    _row("data", "PATCH", "sobjects/{sobject}/{id}", rest.update),
    _row("data", "DELETE", "sobjects/{sobject}/{id}", rest.delete),
    _row("data", "PATCH", "sobjects/{sobject}/{field}/{value}", rest.upsert),
    _row("tooling", "GET HEAD", "", _tooling_root),
    _row("tooling", "GET HEAD", "query", rest.query),
    _row("tooling", "GET HEAD", "query/{locator}", rest.next_page),
    _row("tooling", "GET HEAD", "query/{locator}/{rest:path}", _not_found),
    _row("tooling", "GET HEAD", "sobjects", rest.describe_global),
    _row("tooling", "GET HEAD", "sobjects/{sobject}", rest.sobject_basic),
    _row("tooling", "GET HEAD", "sobjects/{sobject}/describe", rest.describe_sobject),
    _row("tooling", "GET HEAD", "sobjects/{sobject}/{id}", rest.retrieve),
    _row("tooling", "POST", "composite", _composite),
    _row("apexrest", _ANY, "{rest:path}", rest.apex_rest),
)


def routed_families(api: str) -> tuple[str, ...]:
    """The resource families the table routes under an API root, in table order."""
    return tuple(dict.fromkeys(r.family for r in ROUTES if r.api == api and r.family))


def unserved_families(api: str) -> tuple[str, ...]:
    """Salesforce's resource families under an API root that the emulator answers "not served"."""
    if api == "tooling":
        return rest.TOOLING_UNSERVED
    served = set(routed_families(api))
    return tuple(name for name in rest.LISTED_RESOURCES if name not in served)


def _unserved(version: str, api: str, family: str) -> ApiResponse:
    where = f"/services/data/v{version}/{'tooling/' if api == 'tooling' else ''}{family}"
    return error("NOT_FOUND", unserved.message(f"resource {where}"))


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    regex = ""
    for segment in pattern.split("/") if pattern else ():
        if segment.endswith(":path}"):
            regex += f"(?:/(?P<{segment[1:-6]}>.*))?"
        elif segment.startswith("{"):
            regex += f"/(?P<{segment[1:-1]}>[^/]+)"
        else:
            regex += "/" + re.escape(segment)
    return re.compile(regex + "/?" if regex else "/?")


def _match(api: str, path: str) -> tuple[list[Route], dict[str, str], SObject | None] | None:
    """The rows of the first pattern matching ``path`` (one path, several methods), with its captures."""
    rows = [r for r in ROUTES if r.api == api]
    for route in rows:
        found = _compiled(route.pattern).fullmatch(path)
        if found is None:
            continue
        args = {k: v for k, v in found.groupdict().items() if v is not None}
        sobject = None
        if "sobject" in args:
            sobject = visible_object(args["sobject"], api)
            if sobject is None:
                return None
        return [r for r in rows if r.pattern == route.pattern], args, sobject
    return None


def _handle(call: Call, api: str, path: str, method: str, version: str,
            params: Mapping[str, str], body: Any) -> ApiResponse:
    matched = _match(api, path)
    if matched is None:
        family = path.strip("/").split("/")[0]
        if api != "apexrest" and family in unserved_families(api):
            return _unserved(version, api, family)
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    rows, args, sobject = matched
    route = next((r for r in rows if _ANY in r.methods or method in r.methods), None)
    if route is None:
        allowed = ",".join(dict.fromkeys(m for r in rows for m in r.methods))
        return error("METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}")
    request = Request(call, method, version, "data" if api == "apexrest" else api, args, params, body, sobject)
    return route.handler(request)


def dispatch(call: Call, method: str, path: str, params: Mapping[str, str], body: Any) -> ApiResponse:
    """Answer one API request; ``path`` is the URL path, ``params`` its query string."""
    if path == _APEX_REST or path.startswith(_APEX_REST + "/"):
        return _handle(call, "apexrest", path.removeprefix(_APEX_REST), method, "", params, body)
    match = _VERSIONED.match(path)
    if match is None:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    version, rest_path = match.group(1), (match.group(2) or "")
    definition = call.org.definition
    if not float(definition.api_min) <= float(version) <= float(definition.api_max):
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    if body is BAD_JSON:
        return error("JSON_PARSER_ERROR", "Unexpected character: was expecting a JSON value")
    api = "data"
    if rest_path == "/tooling" or rest_path.startswith("/tooling/"):
        api, rest_path = "tooling", rest_path.removeprefix("/tooling")
    return _handle(call, api, rest_path, method, version, params, body)
