"""Rows -> records shaped like Salesforce's query responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .bind import Bound, Context
from .values import format_value

__all__ = ["ChildPlan", "Item", "query_result", "shape_record"]


@dataclass
class ChildPlan:
    """A child-relationship subquery, evaluated per parent record."""

    relationship: str
    sobject: str
    items: list[Item]
    children: Mapping[str, list[Mapping[str, Any]]]
    start: int = 0
    stop: int | None = None


Item = Bound | ChildPlan


def _attributes(sobject: str, record_id: Any, url_prefix: str, type_name: str | None = None) -> dict[str, str]:
    return {"type": type_name or sobject, "url": f"{url_prefix}/{sobject}/{record_id}"}


def query_result(records: list[dict[str, Any]], entity: str, tooling: bool) -> dict[str, Any]:
    """A nested query result: ``{totalSize, done, records}`` (Tooling adds its extra keys)."""
    if tooling:
        return {
            "size": len(records), "totalSize": len(records), "done": True,
            "queryLocator": None, "entityTypeName": entity, "records": records,
        }
    return {"totalSize": len(records), "done": True, "records": records}


def shape_record(
    ctx: Context,
    sobject: str,
    record: Mapping[str, Any],
    items: list[Item],
    url_prefix: str,
    child_rows: Any = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": _attributes(sobject, record.get("Id"), url_prefix)}
    for item in items:
        if isinstance(item, ChildPlan):
            rows = child_rows(item, record)
            shaped = [shape_record(ctx, item.sobject, r, item.items, url_prefix) for r in rows]
            out[item.relationship] = query_result(shaped, item.sobject, ctx.api == "tooling") if shaped else None
            continue
        node = out
        if item.steps:
            chain = ctx.chain(record, item.steps)
            for step, found in zip(item.steps, chain, strict=True):
                if step.relationship not in node:
                    if found is None:
                        node[step.relationship] = None
                    else:
                        target, parent = found
                        node[step.relationship] = {
                            "attributes": _attributes(
                                target, parent.get("Id"), url_prefix, "Name" if step.polymorphic else None
                            )
                        }
                nxt = node[step.relationship]
                if nxt is None:
                    break
                node = nxt
            else:
                last = chain[-1]
                value = last[1].get(item.field.name) if last is not None else None
                node[item.field.name] = format_value(value, item.field.type)
            continue
        node[item.field.name] = format_value(record.get(item.field.name), item.field.type)
    return out
