"""Salesforce-shaped responses: REST error arrays and JSON in Salesforce's two layouts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NOT_FOUND_MESSAGE", "ApiResponse", "error", "render_json"]

NOT_FOUND_MESSAGE = "The requested resource does not exist"

_STATUS_BY_CODE = {
    "INVALID_SESSION_ID": 401,
    "INVALID_AUTH_HEADER": 401,
    "MALFORMED_QUERY": 400,
    "INVALID_FIELD": 400,
    "INVALID_TYPE": 400,
    "INVALID_QUERY_LOCATOR": 400,
    "INVALID_QUERY_FILTER_OPERATOR": 400,
    "MALFORMED_ID": 400,
    "JSON_PARSER_ERROR": 400,
    "INVALID_FIELD_FOR_INSERT_UPDATE": 400,
    "REQUIRED_FIELD_MISSING": 400,
    "PROCESSING_HALTED": 400,
    "ENTITY_IS_DELETED": 404,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "REQUEST_LIMIT_EXCEEDED": 403,
    "INSUFFICIENT_ACCESS_OR_READONLY": 403,
    "SERVER_UNAVAILABLE": 503,
    "UNKNOWN_EXCEPTION": 500,
}


@dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, list) and self.body and isinstance(self.body[0], dict):
            code = self.body[0].get("errorCode")
            return code if isinstance(code, str) else None
        return None


def error(code: str, message: str, *, fields: list[str] | None = None, status: int | None = None) -> ApiResponse:
    """The REST error array ``[{"message", "errorCode"(, "fields")}]`` with its HTTP status."""
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    headers = {"WWW-Authenticate": "Token"} if code == "INVALID_SESSION_ID" else {}
    return ApiResponse(status or _STATUS_BY_CODE.get(code, 400), [item], headers)


def render_json(value: Any, *, pretty: bool) -> bytes:
    """Compact JSON, or Salesforce's ``X-PrettyPrint: 1`` layout (``"key" : value``, 2 spaces)."""
    if not pretty:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    parts: list[str] = []
    _pretty(value, 0, parts)
    return "".join(parts).encode()


def _pretty(value: Any, depth: int, out: list[str]) -> None:
    pad = "  " * (depth + 1)
    if isinstance(value, dict):
        if not value:
            out.append("{ }")
            return
        out.append("{\n")
        for index, (key, item) in enumerate(value.items()):
            out.append(f"{pad}{json.dumps(key, ensure_ascii=False)} : ")
            _pretty(item, depth + 1, out)
            out.append(",\n" if index < len(value) - 1 else "\n")
        out.append("  " * depth + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[ ]")
            return
        out.append("[ ")
        for index, item in enumerate(value):
            _pretty(item, depth, out)
            if index < len(value) - 1:
                out.append(", ")
        out.append(" ]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))
