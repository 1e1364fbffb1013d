"""Merging profile trees: a file over the one it ``extends``, an org's ``expect`` over the shared one.

Mappings merge key by key, a null value removes the key, ``orgs`` lists merge by org name, and
an ``auth`` naming another method replaces the inherited one instead of merging into it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = ["freeze", "merge", "prune", "without"]


def without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


def merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            if value is None:
                merged.pop(key, None)
            elif key == "orgs" and isinstance(value, list) and isinstance(base.get(key), list):
                merged[key] = _merge_orgs(base[key], value)
            elif key == "auth" and isinstance(value, dict) and value.get("method") not in (None,
                                                                                           _method(base.get(key))):
                merged[key] = value
            else:
                merged[key] = merge(base.get(key), value) if key in base else value
        return merged
    return over


def prune(value: Any) -> Any:
    """Drop the nulls left in a merged tree (a null removing a key the base never had)."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    return value


def _method(auth: Any) -> Any:
    return auth.get("method") if isinstance(auth, dict) else None


def _merge_orgs(base: list[Any], over: list[Any]) -> list[Any]:
    merged = list(base)
    index = {org.get("name"): i for i, org in enumerate(merged) if isinstance(org, dict)}
    for org in over:
        name = org.get("name") if isinstance(org, dict) else None
        if name in index:
            merged[index[name]] = merge(merged[index[name]], org)
        else:
            merged.append(org)
    return merged


def freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value
