"""The shape of one profile file as written, before ``extends`` merges it: top-level keys, each
org's keys and value types, names, kinds, timeouts, API versions, tags and ``auth:`` as written.

Each mistake is a :class:`~lockstep.config.errors.ConfigError` naming the key path
(``orgs[qa].kind``); the loader adds the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lockstep.config.auth import check_auth
from lockstep.config.errors import ConfigError
from lockstep.config.scalars import api_version, seconds_problem
from lockstep.config.schema import check_keys, check_type, type_name
from lockstep.config.suggest import did_you_mean

__all__ = ["KINDS", "check_shape"]

KINDS = ("dev", "sandbox", "staging", "production", "subscriber", "packaging")
TOP_KEYS = ("description", "extends", "emulator", "expect", "release", "waivers", "severity", "orgs")
ORG_KEYS = ("name", "kind", "tags", "auth", "allow_writes", "expect", "description", "api_version", "timeout",
            "deadline")
_ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SECONDS_LIMIT = {"timeout": 3600.0, "deadline": 86400.0}  # one read; all requests of an org in one run
_ORG_TYPES: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("kind", (str,), "a string"),
    ("auth", (dict,), "a mapping"),
    ("allow_writes", (bool,), "true or false"),
    ("expect", (dict,), "a mapping"),
    ("description", (str,), "a string"),
    ("api_version", (str, float, int), "a version like '62.0'"),
)


def check_shape(data: Mapping[str, Any], display: Callable[[Path], str]) -> None:
    """Refuse the first mistake of one profile file as written (``display`` shows a missing key file)."""
    check_keys(data, TOP_KEYS)
    for key in ("description", "extends", "emulator"):
        if key in data:
            check_type(data[key], (str,), "a string", key)
    for key in ("expect", "release"):
        if key in data:
            check_type(data[key], (dict,), "a mapping", key)
    orgs = data.get("orgs", [])
    check_type(orgs, (list,), "a list of orgs", "orgs")
    seen: set[str] = set()
    for index, org in enumerate(orgs):
        name = _check_org_name(index, org, seen)
        try:
            _check_org_values(org, display)
        except ConfigError as exc:
            raise exc.at(org=name) from None


def _check_org_name(index: int, org: Any, seen: set[str]) -> str:
    """The org's name, once it is a mapping of known keys with a valid, new name."""
    named = isinstance(org, dict) and isinstance(org.get("name"), str) and bool(org["name"])
    label = f"orgs[{org.get('name')}]" if named else f"orgs[{index}]"
    check_type(org, (dict,), "a mapping", label)
    try:
        check_keys(org, ORG_KEYS)
    except ConfigError as exc:
        raise (exc.at(org=org["name"]) if named else exc.at(key=label)) from None
    if "name" not in org:
        raise ConfigError("missing required key 'name'", key=label)
    name = org["name"]
    check_type(name, (str,), "a string", f"{label}.name")
    if not _ORG_NAME.match(name):
        raise ConfigError(f"invalid org name {name!r} (use letters, digits, '.', '_', '-')", key=f"{label}.name")
    if name in seen:
        raise ConfigError(f"duplicate org name {name!r}", key=label)
    seen.add(name)
    return str(name)


def _check_org_values(org: Mapping[str, Any], display: Callable[[Path], str]) -> None:
    """Types and values of one org's keys (the key path in an error is below ``orgs[name]``)."""
    for key, kinds, what in _ORG_TYPES:
        if key in org:
            check_type(org[key], kinds, what, key)
    for key, limit in SECONDS_LIMIT.items():
        problem = seconds_problem(org[key], limit) if key in org else None
        if problem:
            raise ConfigError(problem, key=key)
    if "api_version" in org and api_version(org["api_version"]) is None:
        raise ConfigError(f"expected an API version like '62.0' (20.0 to 99.0), got {org['api_version']!r}",
                          key="api_version")
    if "kind" in org and org["kind"] not in KINDS:
        raise ConfigError(f"unknown value {org['kind']!r}{did_you_mean(org['kind'], KINDS)}", key="kind")
    tags = org.get("tags", [])
    if not isinstance(tags, list):
        raise ConfigError(f"expected a list of strings, got {type_name(tags)}", key="tags")
    for index, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise ConfigError(f"expected a string, got {type_name(tag)} (quote it)", key=f"tags[{index}]")
    if "auth" in org:
        check_auth(org["auth"], "auth", partial=True, display=display)
