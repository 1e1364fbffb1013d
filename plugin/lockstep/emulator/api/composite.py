"""``/composite`` (data and tooling) and sObject Collections, each one API call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from lockstep.emulator.api import records
from lockstep.emulator.http.request import Call, Request
from lockstep.emulator.http.responses import ApiResponse, error
from lockstep.emulator.schema.registry import WRITABLE

__all__ = ["collection", "composite"]

MAX_SUBREQUESTS = 25
MAX_QUERIES = 5
MAX_COLLECTION = 200
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")
_QUERY_PATH = re.compile(r"/(query|queryAll)(/|$)|/composite/sobjects")
_ROLLED_BACK = "Record rolled back because not all records were valid and the request was using AllOrNone header"
_HALTED = "The transaction was rolled back since another operation in the same transaction failed."


class Dispatch(Protocol):
    """How a subrequest is answered: the routing table's ``dispatch``."""

    def __call__(self, call: Call, method: str, path: str, params: Mapping[str, str], body: Any) -> ApiResponse: ...


class _Unresolved(Exception):
    def __init__(self, reference: str, ref_id: str) -> None:
        super().__init__(reference)
        self.reference = reference
        self.ref_id = ref_id


def _lookup(value: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(value, list) or index >= len(value):
                raise KeyError(path)
            value = value[index]
        else:
            if not isinstance(value, dict) or part not in value:
                raise KeyError(path)
            value = value[part]
    return value


def _resolve(value: Any, results: dict[str, ApiResponse]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        ref_id, path = match.group(1), match.group(2)
        result = results.get(ref_id)
        if result is None or result.status >= 400:
            raise _Unresolved(match.group(0), ref_id)
        try:
            return str(_lookup(result.body, path))
        except KeyError:
            raise _Unresolved(match.group(0), ref_id) from None

    return _REFERENCE.sub(replace, value)


def _halted(message: str = _HALTED) -> ApiResponse:
    return error("PROCESSING_HALTED", message)


def _item(response: ApiResponse, reference_id: str) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k in ("Location", "ETag", "Last-Modified")}
    return {"body": response.body, "httpHeaders": headers, "httpStatusCode": response.status,
            "referenceId": reference_id}


def _snapshot(call: Call) -> tuple[dict[str, list[dict[str, Any]]], int, dict[str, int]]:
    tables = {name: [dict(row) for row in rows] for name, rows in call.org.tables.items()
              if name in WRITABLE or name.endswith("__c")}
    return tables, len(call.org.writes), dict(call.org.id_serials)


def _rollback(call: Call, snapshot: tuple[dict[str, list[dict[str, Any]]], int, dict[str, int]]) -> None:
    tables, writes, serials = snapshot
    for name in list(call.org.tables):
        if name in WRITABLE or name.endswith("__c"):
            if name in tables:
                call.org.tables[name] = tables[name]
            else:
                del call.org.tables[name]
    del call.org.writes[writes:]
    call.org.id_serials = serials


def composite(req: Request, dispatch: Dispatch) -> ApiResponse:
    """``POST /composite``: up to 25 subrequests, with references between them and allOrNone."""
    call, api, body = req.call, req.api, req.body
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        return error("JSON_PARSER_ERROR", "The request body must be a JSON object with a compositeRequest array")
    subrequests: list[Any] = body["compositeRequest"]
    problem = _invalid(subrequests)
    if problem is not None:
        return problem
    all_or_none = bool(body.get("allOrNone", False))
    snapshot = _snapshot(call) if all_or_none else None
    results: dict[str, ApiResponse] = {}
    order: list[str] = []
    failed: str | None = None
    for sub in subrequests:
        reference_id = sub["referenceId"]
        order.append(reference_id)
        if failed is not None:
            results[reference_id] = _halted()
            continue
        try:
            url = _resolve(sub["url"], results)
            sub_body = _resolve(sub.get("body"), results)
        except _Unresolved as exc:
            response = _halted(f"Invalid reference specified. No value for {exc.reference} found in {exc.ref_id}. "
                               f"Provided referenceId ({exc.ref_id}) must be an existing referenceId in the request.")
        else:
            response = _subrequest(call, dispatch, api, sub, url, sub_body)
        results[reference_id] = response
        if all_or_none and _failed(response):
            failed = reference_id
    if failed is not None and snapshot is not None:
        _rollback(call, snapshot)
        for reference_id in order:
            if reference_id != failed:
                results[reference_id] = _halted()
    return ApiResponse(200, {"compositeResponse": [_item(results[r], r) for r in order]})


def _invalid(subrequests: list[Any]) -> ApiResponse | None:
    """The error for a compositeRequest array Salesforce refuses as a whole, or None."""
    if not subrequests:
        return error("INVALID_INPUT", "The compositeRequest array must contain at least one subrequest")
    if len(subrequests) > MAX_SUBREQUESTS:
        return error("LIMIT_EXCEEDED",
                     f"Composite request size limit exceeded: at most {MAX_SUBREQUESTS} subrequests are allowed")
    queries = 0
    seen: set[str] = set()
    for index, sub in enumerate(subrequests):
        if not isinstance(sub, dict) or not all(isinstance(sub.get(k), str) for k in ("method", "url", "referenceId")):
            return error("INVALID_INPUT", f"Subrequest {index} needs method, url and referenceId")
        if sub["referenceId"] in seen:
            return error("INVALID_INPUT", f"Duplicate referenceId provided in the request: {sub['referenceId']}")
        seen.add(sub["referenceId"])
        if _QUERY_PATH.search(urlsplit(sub["url"]).path):
            queries += 1
    if queries > MAX_QUERIES:
        return error("LIMIT_EXCEEDED",
                     f"Composite request may contain at most {MAX_QUERIES} query or sObject Collection subrequests")
    return None


def _failed(response: ApiResponse) -> bool:
    if response.status >= 400:
        return True
    body = response.body
    return isinstance(body, list) and any(isinstance(r, dict) and r.get("success") is False for r in body)


def _subrequest(call: Call, dispatch: Dispatch, api: str, sub: dict[str, Any], url: str, body: Any) -> ApiResponse:
    parts = urlsplit(url)
    path = parts.path
    if api == "tooling" and not re.match(r"^/services/data/v\d{2}\.\d/tooling(/|$)", path):
        return error("NOT_FOUND", "The requested resource does not exist")
    nested = re.match(r"^/services/data/v\d{2}\.\d/(tooling/)?composite(/|$)", path)
    if nested and not path.rstrip("/").endswith("composite/sobjects"):
        return error("INVALID_INPUT", "Composite requests cannot be nested")
    headers = {k.lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
    sub_call = Call(call.store, call.org, call.session, call.base_url, {**call.headers, **headers})
    return dispatch(sub_call, sub["method"].upper(), path, dict(parse_qsl(parts.query)), body)


def _result(response: ApiResponse, record_id: str | None) -> dict[str, Any]:
    if response.status < 300:
        return {"id": response.body["id"] if isinstance(response.body, dict) else str(record_id), "success": True,
                "errors": []}
    problem = response.body[0] if isinstance(response.body, list) and response.body else {}
    result: dict[str, Any] = {"id": record_id} if record_id else {}
    result.update({"success": False,
                   "errors": [{"statusCode": problem.get("errorCode"), "message": problem.get("message"),
                                                  "fields": problem.get("fields", [])}]})
    return result


def _by_ids(call: Call, version: str, method: str, parts: list[str], params: Mapping[str, str]) -> ApiResponse:
    """``DELETE ?ids=&allOrNone=`` and ``GET .../{type}?ids=&fields=``."""
    ids = [i.strip() for i in params.get("ids", "").split(",") if i.strip()]
    if not ids:
        return error("MISSING_ARGUMENT", "ids parameter is required")
    if len(ids) > MAX_COLLECTION:
        return error("EXCEEDED_ID_LIMIT",
                     f"record limit reached. cannot submit more than {MAX_COLLECTION} records into this call")
    if method == "GET":
        if len(parts) != 1 or not params.get("fields"):
            return error("MISSING_ARGUMENT", "fields parameter is required") if len(parts) == 1 else \
                error("NOT_FOUND", "The requested resource does not exist")
        found = [records.retrieve(call.org, parts[0], i, "data", version, params["fields"]) for i in ids]
        problem = next((r for r in found if r.status >= 400 and r.error_code not in ("NOT_FOUND", "ENTITY_IS_DELETED")),
                       None)
        return problem or ApiResponse(200, [r.body if r.status == 200 else None for r in found])
    snapshot = _snapshot(call) if params.get("allOrNone", "").lower() == "true" else None
    out = []
    for record_id in ids:
        sobject = next((name for name, rows in call.org.tables.items()
                        if any(str(row.get("Id", ""))[:15] == record_id[:15] for row in rows)), "")
        response = records.delete(call.org, sobject, record_id) if sobject else error("INVALID_CROSS_REFERENCE_KEY",
                                                                                      "invalid cross reference id")
        out.append(_result(response, record_id))
    _all_or_none(call, snapshot, out, keep_ids=True)
    return ApiResponse(200, out)


def _all_or_none(call: Call, snapshot: Any, out: list[dict[str, Any]], keep_ids: bool = False) -> None:
    """allOrNone: when one record failed, undo the others and report them rolled back."""
    if snapshot is None or all(r["success"] for r in out):
        return
    _rollback(call, snapshot)
    for result in out:
        if result["success"]:
            result.update({"success": False, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                          "message": _ROLLED_BACK, "fields": []}]})
            if not keep_ids:
                result.pop("id", None)


def collection(req: Request) -> ApiResponse:
    """sObject Collections: create (POST), update (PATCH), upsert by Id (PATCH .../{type}/Id),
    retrieve (GET .../{type}?ids=&fields=) and delete (DELETE ?ids=)."""
    call, version, method, body, params = req.call, req.version, req.method, req.body, req.params
    parts = [p for p in req.args.get("rest", "").split("/") if p]
    if method in ("DELETE", "GET") and (method == "GET" or not parts):
        return _by_ids(call, version, method, parts, params)
    if (method not in ("POST", "PATCH") or (method == "PATCH" and len(parts) not in (0, 2))
            or (method == "POST" and parts)):
        return error("METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,POST,PATCH,DELETE")
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        return error("JSON_PARSER_ERROR", "The request body must be a JSON object with a records array")
    items: list[Any] = body["records"]
    if len(items) > MAX_COLLECTION:
        return error("EXCEEDED_ID_LIMIT",
                     f"record limit reached. cannot submit more than {MAX_COLLECTION} records into this call")
    if method == "PATCH" and parts and parts[1] != "Id":
        return error("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {parts[1]}")
    all_or_none = bool(body.get("allOrNone", False))
    snapshot = _snapshot(call) if all_or_none else None
    out: list[dict[str, Any]] = []
    for item in items:
        fields = dict(item) if isinstance(item, dict) else {}
        sobject = str((fields.pop("attributes", None) or {}).get("type") or (parts[0] if parts else ""))
        record_id = fields.pop("Id", None) if method == "PATCH" else None
        if record_id:
            response = records.update(call.org, sobject, str(record_id), fields, call.session.user_id)
            created = False
        elif method == "PATCH" and not parts:
            response, created = error("MISSING_ARGUMENT", "Id not specified in an update call"), False
        else:
            response = records.create(call.org, sobject, fields, call.session.user_id, version)
            created = True
        result = _result(response, str(record_id) if record_id else None)
        if response.status >= 300:
            result.pop("id", None)
        if method == "PATCH" and parts:
            result["created"] = created if result["success"] else False
        out.append(result)
    _all_or_none(call, snapshot, out)
    return ApiResponse(200, out)
