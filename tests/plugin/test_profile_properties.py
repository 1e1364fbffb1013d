"""Generated broken profiles: every one loads or gives a one-line ConfigError, never another exception.

Each property starts from one valid profile that uses every section, breaks it (a wrong value
at a typed key, any node replaced or removed, an unknown key, random bytes, deep nesting) and
loads it with :func:`load_profile`. Runs are derandomized and keep no database, so CI sees the
same examples every time.
"""

from __future__ import annotations

import copy
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockstep.config.errors import ConfigError
from lockstep.config.profile import Profile, load_profile
from lockstep.config.profile_shape import KINDS

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
ENVIRON = {"SECRET": "s3cret-value"}
VALID: dict[str, Any] = {
    "description": "a stage of every section",
    "release": {
        "timezone": "Europe/Berlin",
        "windows": [{"days": ["mon-fri"], "start": "18:00", "end": "22:00"}],
        "freezes": [{"from": "2026-12-20", "to": "2027-01-04", "reason": "year end"}],
        "upstream": {"profile": "qa", "gate_file": "gate.json", "max_age_hours": 72},
    },
    "expect": {
        "packages": {"acme": {"min_version": "2.0"}},
        "flows": {"Case_Triage": True},
        "probes": {"erp": {"url": "https://erp.example.com/health", "status": 200, "max_latency_ms": 500,
                           "timeout_s": 5}},
        "api_headroom": {"min_remaining_percent": 20},
        "package_fleet": {"acme": {"target": "2.0", "max_lagging_percent": 10}},
    },
    "orgs": [
        {"name": "prod", "kind": "production", "tags": ["emea"], "timeout": 30, "deadline": 600,
         "api_version": "62.0",
         "auth": {"method": "client_credentials", "client_id": "abc", "client_secret": "${SECRET}",
                  "login_url": "https://login.salesforce.com"}},
        {"name": "qa", "kind": "sandbox", "expect": {"flows": {"Case_Triage": False}},
         "auth": {"method": "password", "client_id": "x", "username": "u@example.com", "password": "file:pw",
                  "login_url": "https://test.salesforce.com"}},
    ],
}

finite = st.floats(allow_nan=False, allow_infinity=False)
not_finite = st.sampled_from([math.nan, math.inf, -math.inf])
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.dates()
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
not_text = st.none() | st.booleans() | st.integers() | st.floats() | st.lists(scalars, min_size=1, max_size=2)
not_bool = st.integers() | st.floats() | st.text(max_size=8) | st.lists(scalars, max_size=2)
not_number = not_finite | st.booleans() | st.text(max_size=8) | st.lists(scalars, min_size=1, max_size=2)


def outside(low: float, high: float) -> st.SearchStrategy[Any]:
    """Numbers outside [low, high], and everything that is not a finite number."""
    return not_number | finite.filter(lambda x: x < low or x > high) | st.integers().filter(
        lambda x: x < low or x > high)


#: A typed key of the valid profile -> values that are wrong there, whatever else is in the file.
WRONG: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {
    ("orgs", 0, "timeout"): outside(1e-9, 3600),
    ("orgs", 0, "deadline"): outside(1e-9, 86400),
    ("orgs", 0, "api_version"): not_finite | st.booleans() | st.integers().filter(lambda x: not 20 <= x <= 99)
    | st.text(max_size=8).filter(lambda s: not (len(s.strip()) == 4 and s.strip()[:2].isdigit()
                                               and s.strip()[2:] == ".0" and s.strip()[:2].isascii()))
    | finite.filter(lambda x: x != int(x)),
    ("orgs", 0, "kind"): st.text(max_size=12).filter(lambda s: s not in KINDS) | not_text,
    ("orgs", 0, "name"): st.text(min_size=1, max_size=12).filter(lambda s: not s[0].isalnum() or " " in s)
    | not_text,
    ("orgs", 0, "allow_writes"): not_bool,
    ("orgs", 0, "tags"): st.text(max_size=8) | st.integers() | st.lists(not_text, min_size=1, max_size=2),
    ("orgs", 1, "auth", "method"): st.text(max_size=12).filter(
        lambda s: s not in ("jwt", "sfdx_url", "sf_cli", "client_credentials", "password", "access_token",
                            "emulator")) | not_text,
    ("expect", "api_headroom", "min_remaining_percent"): outside(0, 100),
    ("expect", "probes", "erp", "max_latency_ms"): outside(0, math.inf),
    ("expect", "probes", "erp", "timeout_s"): outside(0.1, 30),
    ("expect", "probes", "erp", "status"): outside(100, 599) | finite.filter(lambda x: x != int(x)),
    ("expect", "package_fleet", "acme", "max_lagging_percent"): outside(0, 100),
    ("release", "upstream", "max_age_hours"): outside(1e-9, math.inf),
    ("release", "windows", 0, "start"): st.text(max_size=8).filter(lambda s: ":" not in s) | not_finite,
    ("release", "timezone"): st.text(min_size=1, max_size=12).filter(lambda s: "/" not in s and s != "UTC")
    | not_text,
}


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "profiles").mkdir()
        (root / "profiles" / "pw").write_text("s3cret-from-file\n")
        yield root


def load_bytes(root: Path, body: bytes) -> Profile | None:
    """Load ``body`` as profiles/p.yaml: the Profile, or None after checking the one-line error."""
    (root / "profiles" / "p.yaml").write_bytes(body)
    try:
        return load_profile("p", root, environ=ENVIRON)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, message
        assert message.startswith("profiles/p.yaml: "), message
        assert "s3cret" not in message
        return None


def dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


def set_at(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


ALL_PATHS = sorted(paths(VALID), key=repr)
STRICT_MAPPINGS = [(), ("orgs", 0), ("orgs", 1, "auth"), ("release",), ("release", "windows", 0),
                   ("release", "upstream"), ("expect", "probes", "erp"), ("expect", "api_headroom")]


def test_the_unbroken_profile_loads(folder: Path) -> None:
    profile = load_bytes(folder, dump(VALID))
    assert profile is not None and [org.name for org in profile.orgs] == ["prod", "qa"]


@SETTINGS
@given(data=st.data())
def test_a_wrong_value_at_a_typed_key_names_that_key(folder: Path, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(sorted(WRONG, key=repr)), label="key")
    value = data.draw(WRONG[path], label="value")
    (folder / "profiles" / "p.yaml").write_bytes(dump(set_at(VALID, path, value)))
    with pytest.raises(ConfigError) as info:
        load_profile("p", folder, environ=ENVIRON)
    message = str(info.value)
    assert "\n" not in message and message.startswith("profiles/p.yaml: ")
    name = next(key for key in reversed(path) if isinstance(key, str))
    assert name in message


@SETTINGS
@given(data=st.data())
def test_an_unknown_key_in_a_fixed_section_is_refused(folder: Path, data: st.DataObject) -> None:
    where = data.draw(st.sampled_from(STRICT_MAPPINGS), label="section")
    key = data.draw(st.text(min_size=1, max_size=10).map(lambda s: "zz" + s), label="key")
    broken = set_at(VALID, (*where, key), data.draw(junk)) if where else {**VALID, key: data.draw(junk)}
    assert load_bytes(folder, dump(broken)) is None


@SETTINGS
@given(data=st.data())
def test_any_node_replaced_or_removed_loads_or_gives_one_line(folder: Path, data: st.DataObject) -> None:
    broken = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        live = sorted(paths(broken), key=repr)
        if not live:
            break
        path = data.draw(st.sampled_from(live), label="path")
        parent = broken
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans(), label="remove"):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(junk, label="value")
    load_bytes(folder, dump(broken))


@SETTINGS
@given(data=st.data())
def test_random_bytes_load_or_give_one_line(folder: Path, data: st.DataObject) -> None:
    text = bytearray(dump(VALID))
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        at = data.draw(st.integers(0, len(text)), label="offset")
        chunk = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
        if data.draw(st.booleans(), label="overwrite"):
            text[at:at + len(chunk)] = chunk
        else:
            text[at:at] = chunk
    if data.draw(st.booleans(), label="truncate"):
        text = text[:data.draw(st.integers(0, len(text)), label="length")]
    load_bytes(folder, bytes(text))


@settings(SETTINGS, max_examples=40)  # each example scans up to 6,000 brackets
@given(depth=st.integers(51, 3000), mapping=st.booleans(), where=st.sampled_from(ALL_PATHS))
def test_deep_nesting_is_refused(folder: Path, depth: int, mapping: bool, where: tuple[Any, ...]) -> None:
    deep = "{a: " * depth + "1" + "}" * depth if mapping else "[" * depth + "]" * depth
    text = dump(set_at(VALID, where, "DEEP_VALUE")).decode().replace("DEEP_VALUE", deep, 1)
    assert load_bytes(folder, text.encode()) is None
