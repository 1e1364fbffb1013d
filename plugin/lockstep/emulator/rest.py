"""The REST and Tooling API resources of one org, as a pure function of the request."""

from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Mapping

from lockstep.emulator import describe, query, records, replication, unserved
from lockstep.emulator.responses import NOT_FOUND_MESSAGE, ApiResponse, error
from lockstep.emulator.store import Org, Session, Store

__all__ = ["BAD_JSON", "Call", "dispatch", "release_label", "versions"]

BAD_JSON = object()
_VERSIONED = re.compile(r"^/services/data/v(\d{2}\.\d)(/.*)?$")
_RESOURCES = (
    "tooling", "metadata", "eclair", "folders", "prechatForms", "contact-tracing", "jsonxform", "chatter",
    "payments", "tabs", "appMenu", "quickActions", "queryAll", "commerce", "wave", "iot", "analytics",
    "search", "smartdatadiscovery", "identity", "composite", "parameterizedSearch", "fingerprint", "theme",
    "nouns", "domino", "event", "serviceTemplates", "recent", "connect", "licensing", "limits", "process",
    "dedupe", "async-queries", "query", "jobs", "match", "localizedvalue", "mobile", "emailConnect",
    "consent", "tokenizer", "compactLayouts", "knowledgeManagement", "sobjects", "actions", "support",
)

# The tooling root lists only what is served; Salesforce's others get an honest "not served".
_TOOLING_RESOURCES = ("query", "sobjects", "composite")
_TOOLING_UNSERVED = ("executeAnonymous", "runTestsAsynchronous", "runTestsSynchronous", "completions", "search",
                     "apexManifest")


@dataclass
class Call:
    """One authenticated API request of an org (or one composite subrequest)."""

    store: Store
    org: Org
    session: Session
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)


def release_label(version: str) -> str:
    step = int(float(version)) - 21
    season = ("Spring", "Summer", "Winter")[step % 3]
    year = 11 + step // 3 + (1 if season == "Winter" else 0)
    return f"{season} '{year:02d}"


def versions(api_min: str, api_max: str) -> list[dict[str, str]]:
    return [
        {"label": release_label(f"{n}.0"), "url": f"/services/data/v{n}.0", "version": f"{n}.0"}
        for n in range(int(float(api_min)), int(float(api_max)) + 1)
    ]


def _not_allowed(method: str, allowed: str) -> ApiResponse:
    return error("METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}")


def _resources(call: Call, version: str) -> dict[str, str]:
    body = {name: f"/services/data/v{version}/{name}" for name in _RESOURCES}
    body["identity"] = f"{call.base_url}/id/{call.org.org_id}/{call.session.user_id}"
    return body


def _record_count(org: Org, wanted: str | None) -> dict[str, Any]:
    names = [n.strip() for n in (wanted or "").split(",") if n.strip()]
    if not names:
        names = sorted(org.tables)
    counts = []
    for name in names:
        obj = records.visible_object(name, "data")
        table = org.tables.get(obj.name if obj else name, [])
        live = sum(1 for row in table if not row.get("IsDeleted"))
        if live:
            counts.append({"count": live, "name": obj.name if obj else name})
    return {"sObjects": counts}


def _apex_rest(call: Call, method: str, path: str) -> ApiResponse:
    rest_path = path.removeprefix("/services/apexrest").strip("/")
    found = call.org.definition.apex_rest.get(f"{method} {rest_path}")
    if found is None:
        return error("NOT_FOUND", f"Could not find a match for URL /{rest_path}")
    status, body = found
    return ApiResponse(status, body)


def dispatch(call: Call, method: str, path: str, params: Mapping[str, str], body: Any) -> ApiResponse:
    """Answer one API request; ``path`` is the URL path, ``params`` its query string."""
    if path.startswith("/services/apexrest/") or path == "/services/apexrest":
        return _apex_rest(call, method, path)
    match = _VERSIONED.match(path)
    if match is None:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    version, rest = match.group(1), (match.group(2) or "/")
    definition = call.org.definition
    if not float(definition.api_min) <= float(version) <= float(definition.api_max):
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    if body is BAD_JSON:
        return error("JSON_PARSER_ERROR", "Unexpected character: was expecting a JSON value")
    parts = [p for p in rest.split("/") if p]
    tooling = bool(parts) and parts[0] == "tooling"
    if tooling:
        parts = parts[1:]
    api = "tooling" if tooling else "data"
    return _route(call, method, version, api, parts, params, body)


def _route(call: Call, method: str, version: str, api: str, parts: list[str],
           params: Mapping[str, str], body: Any) -> ApiResponse:
    org = call.org
    head = parts[0] if parts else ""
    read_only = method in ("GET", "HEAD")
    if not parts:
        if not read_only:
            return _not_allowed(method, "GET,HEAD")
        if api == "tooling":
            base = f"/services/data/v{version}/tooling"
            return ApiResponse(200, {name: f"{base}/{name}" for name in _TOOLING_RESOURCES})
        return ApiResponse(200, _resources(call, version))
    if head in ("query", "queryAll") and (api == "data" or head == "query"):
        if not read_only:
            return _not_allowed(method, "GET,HEAD")
        if len(parts) == 2:
            return query.next_page(org, version, parts[1], api=api)
        if len(parts) > 2:
            return error("NOT_FOUND", NOT_FOUND_MESSAGE)
        return query.run_query(org, version, params.get("q"), api=api, include_deleted=head == "queryAll",
                               batch=query.batch_size(call.headers), columns=params.get("columns") == "true")
    if head == "limits" and api == "data":
        if not read_only:
            return _not_allowed(method, "GET,HEAD")
        if parts == ["limits"]:
            return ApiResponse(200, org.limits())
        if parts == ["limits", "recordCount"]:
            return ApiResponse(200, _record_count(org, params.get("sObjects")))
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    if head == "composite":
        from lockstep.emulator.composite import collection, composite

        if len(parts) == 1:
            return composite(call, version, api, method, body) if method == "POST" else _not_allowed(method, "POST")
        if parts[1] == "sobjects" and api == "data":
            return collection(call, version, method, parts[2:], body, params)
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    if head == "sobjects":
        return _sobjects(call, method, version, api, parts[1:], params, body)
    if head in (_TOOLING_UNSERVED if api == "tooling" else _RESOURCES):
        where = f"/services/data/v{version}/{'tooling/' if api == 'tooling' else ''}{head}"
        return error("NOT_FOUND", unserved.message(f"resource {where}"))
    return error("NOT_FOUND", NOT_FOUND_MESSAGE)


def _conditional(call: Call, body: dict[str, Any]) -> ApiResponse:
    """A describe result with ``ETag``/``Last-Modified``; 304 when ``If-Modified-Since`` is not older."""
    organization = call.org.definition.tables["Organization"][0]
    modified: dt.datetime = organization["SystemModstamp"]
    headers = {"ETag": f'"{zlib.crc32(repr(sorted(body)).encode() + str(len(str(body))).encode()):08x}"',
               "Last-Modified": format_datetime(modified.astimezone(dt.timezone.utc), usegmt=True)}
    since = call.headers.get("if-modified-since")
    if since:
        try:
            threshold = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            threshold = None
        if threshold is not None and threshold.tzinfo is not None and modified.replace(microsecond=0) <= threshold:
            return ApiResponse(304, None, headers)
    return ApiResponse(200, body, headers)


def _sobjects(call: Call, method: str, version: str, api: str, parts: list[str],
              params: Mapping[str, str], body: Any) -> ApiResponse:
    org = call.org
    prefix = f"/services/data/v{version}{'/tooling' if api == 'tooling' else ''}"
    read_only = method in ("GET", "HEAD")
    if not parts:
        if not read_only:
            return _not_allowed(method, "GET,HEAD")
        return _conditional(call, describe.describe_global(api, prefix))
    obj = records.visible_object(parts[0], api)
    if obj is None:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    if len(parts) == 1:
        if read_only:
            basic = describe.sobject_basic(obj, prefix)
            return ApiResponse(200, {"objectDescribe": basic, "recentItems": []})
        if method == "POST" and api == "data":
            return records.create(org, obj.name, body, call.session.user_id, version)
        return _not_allowed(method, "GET,HEAD,POST" if api == "data" else "GET,HEAD")
    if parts[1] == "describe" and len(parts) == 2:
        if not read_only:
            return _not_allowed(method, "GET,HEAD")
        return _conditional(call, describe.describe_object(obj, prefix, api, org.tables))
    if parts[1] in ("updated", "deleted") and len(parts) == 2 and api == "data":
        if not read_only:
            return _not_allowed(method, "GET,HEAD")
        return replication.changed(org, obj.name, parts[1], params)
    if len(parts) == 3 and api == "data" and parts[1] != "describe":
        if method != "PATCH":
            return _not_allowed(method, "PATCH")
        return records.upsert(org, obj.name, parts[1], parts[2], body, call.session.user_id, version)
    if len(parts) != 2:
        return error("NOT_FOUND", NOT_FOUND_MESSAGE)
    record_id = parts[1]
    if read_only:
        return records.retrieve(org, obj.name, record_id, api, version, params.get("fields"))
    if api == "tooling":
        return _not_allowed(method, "GET,HEAD")
    if method == "PATCH":
        return records.update(org, obj.name, record_id, body, call.session.user_id)
    if method == "DELETE":
        return records.delete(org, obj.name, record_id)
    return _not_allowed(method, "GET,HEAD,PATCH,DELETE")
