"""The REST, Tooling and Apex REST resources of one org: one handler per routed resource.

Each handler answers a ``Request`` the routing table (``routes.py``) matched: the path is
parsed and the method chosen there; the work itself is done in ``records``, ``query``,
``describe`` and ``replication``.
"""

from __future__ import annotations

import datetime as dt
import zlib
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from lockstep.emulator.api import describe, records, replication
from lockstep.emulator.api import query as queries
from lockstep.emulator.http.request import Request
from lockstep.emulator.http.responses import ApiResponse, error
from lockstep.emulator.schema.registry import SObject
from lockstep.emulator.state.store import Org

__all__ = [
    "LISTED_RESOURCES", "TOOLING_UNSERVED", "apex_rest", "create", "delete", "deleted", "describe_global",
    "describe_sobject",
    "limits", "next_page", "query", "query_all", "record_count", "release_label", "retrieve",
    "sobject_basic", "update", "updated", "upsert", "versions",
]

# What GET /services/data/vNN.0/ lists, as Salesforce lists it; a listed resource the routing
# table does not serve gets an honest "not served" answer.
LISTED_RESOURCES = (
    "tooling", "metadata", "eclair", "folders", "prechatForms", "contact-tracing", "jsonxform", "chatter",
    "payments", "tabs", "appMenu", "quickActions", "queryAll", "commerce", "wave", "iot", "analytics",
    "search", "smartdatadiscovery", "identity", "composite", "parameterizedSearch", "fingerprint", "theme",
    "nouns", "domino", "event", "serviceTemplates", "recent", "connect", "licensing", "limits", "process",
    "dedupe", "async-queries", "query", "jobs", "match", "localizedvalue", "mobile", "emailConnect",
    "consent", "tokenizer", "compactLayouts", "knowledgeManagement", "sobjects", "actions", "support",
)

# Tooling resources of Salesforce's that the emulator answers "not served"; the tooling root
# lists only what the routing table serves.
TOOLING_UNSERVED = ("executeAnonymous", "runTestsAsynchronous", "runTestsSynchronous", "completions", "search",
                     "apexManifest")


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


def _count(org: Org, wanted: str | None) -> dict[str, Any]:
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


def limits(req: Request) -> ApiResponse:
    return ApiResponse(200, req.org.limits())


def record_count(req: Request) -> ApiResponse:
    return ApiResponse(200, _count(req.org, req.params.get("sObjects")))


def _run_query(req: Request, *, include_deleted: bool) -> ApiResponse:
    return queries.run_query(req.org, req.version, req.params.get("q"), api=req.api, include_deleted=include_deleted,
                             batch=queries.batch_size(req.call.headers), columns=req.params.get("columns") == "true")


def query(req: Request) -> ApiResponse:
    return _run_query(req, include_deleted=False)


def query_all(req: Request) -> ApiResponse:
    return _run_query(req, include_deleted=True)


def next_page(req: Request) -> ApiResponse:
    return queries.next_page(req.org, req.version, req.args["locator"], api=req.api)


def _conditional(req: Request, body: dict[str, Any]) -> ApiResponse:
    """A describe result with ``ETag``/``Last-Modified``; 304 when ``If-Modified-Since`` is not older."""
    organization = req.org.definition.tables["Organization"][0]
    modified: dt.datetime = organization["SystemModstamp"]
    headers = {"ETag": f'"{zlib.crc32(repr(sorted(body)).encode() + str(len(str(body))).encode()):08x}"',
               "Last-Modified": format_datetime(modified.astimezone(dt.UTC), usegmt=True)}
    since = req.call.headers.get("if-modified-since")
    if since:
        try:
            threshold = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            threshold = None
        if threshold is not None and threshold.tzinfo is not None and modified.replace(microsecond=0) <= threshold:
            return ApiResponse(304, None, headers)
    return ApiResponse(200, body, headers)


def describe_global(req: Request) -> ApiResponse:
    return _conditional(req, describe.describe_global(req.api, req.prefix))


def _sobject(req: Request) -> SObject:
    assert req.sobject is not None, "routes with {sobject} resolve it"
    return req.sobject


def sobject_basic(req: Request) -> ApiResponse:
    basic = describe.sobject_basic(_sobject(req), req.prefix)
    return ApiResponse(200, {"objectDescribe": basic, "recentItems": []})


def describe_sobject(req: Request) -> ApiResponse:
    return _conditional(req, describe.describe_object(_sobject(req), req.prefix, req.api, req.org.tables))


def updated(req: Request) -> ApiResponse:
    """Ids of records changed in a time window (``sobjects/{type}/updated``)."""
    return replication.changed(req.org, _sobject(req).name, "updated", req.params)


def deleted(req: Request) -> ApiResponse:
    """Ids of records deleted in a time window (``sobjects/{type}/deleted``)."""
    return replication.changed(req.org, _sobject(req).name, "deleted", req.params)


def create(req: Request) -> ApiResponse:
    return records.create(req.org, _sobject(req).name, req.body, req.call.session.user_id, req.version)


def retrieve(req: Request) -> ApiResponse:
    return records.retrieve(req.org, _sobject(req).name, req.args["id"], req.api, req.version, req.params.get("fields"))


def update(req: Request) -> ApiResponse:
    return records.update(req.org, _sobject(req).name, req.args["id"], req.body, req.call.session.user_id)


def delete(req: Request) -> ApiResponse:
    return records.delete(req.org, _sobject(req).name, req.args["id"])


def upsert(req: Request) -> ApiResponse:
    return records.upsert(req.org, _sobject(req).name, req.args["field"], req.args["value"], req.body,
                          req.call.session.user_id, req.version)


def apex_rest(req: Request) -> ApiResponse:
    """A response the state file declares under ``apex_rest`` for ``<METHOD> <path>``."""
    rest_path = req.args.get("rest", "").strip("/")
    found = req.org.definition.apex_rest.get(f"{req.method} {rest_path}")
    if found is None:
        return error("NOT_FOUND", f"Could not find a match for URL /{rest_path}")
    status, body = found
    return ApiResponse(status, body)
