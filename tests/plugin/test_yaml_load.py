"""The bounded YAML loader at its limits: what is just allowed loads, one step more is refused."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import lockstep.config.scalars
import lockstep.config.yaml_load
from lockstep.config.errors import ConfigError
from lockstep.config.yaml_load import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    load_yaml,
    read_regular_file,
    read_text_file,
)


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_yaml(text)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_public_names() -> None:
    assert lockstep.config.yaml_load.__all__ == ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "file_problem", "load_yaml",
                                           "load_yaml_file", "read_regular_file", "read_text_file"]
    assert lockstep.config.scalars.__all__ == ["API_VERSIONS", "api_version", "is_number", "seconds_problem"]


def test_nesting_up_to_the_limit_loads_and_one_more_level_is_refused() -> None:
    assert load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert "nested deeper than 50 levels" in refusal("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


@pytest.mark.parametrize("limit", [1, 2, 20_000])
def test_nodes_up_to_the_limit_load_and_one_more_is_refused(limit: int) -> None:
    items = ", ".join(["1"] * (limit - 1))
    assert len(load_yaml(f"[{items}]", max_nodes=limit)) == limit - 1
    with pytest.raises(ConfigError, match=f"more than {limit} YAML nodes"):
        load_yaml(f"[{items}{', ' if items else ''}1]", max_nodes=limit)


def test_a_profile_of_ten_thousand_orgs_with_their_own_expectations_is_within_the_limits() -> None:
    org = ("  - name: sub-{n}\n    kind: subscriber\n    tags: [emea, wave-{w}]\n"
           "    auth: {{method: jwt, username: ops@sub-{n}.example.com, client_id: '${{CID}}', key_file: k.pem}}\n"
           "    expect:\n      packages: {{acme: '2.{w}.0'}}\n      flows_active: [Onboard_{n}, Renewals]\n"
           "      permission_sets: [Acme_User, Acme_Admin]\n      endpoints: {{billing: 'https://b{n}.example.com'}}\n")
    text = "orgs:\n" + "".join(org.format(n=n, w=n % 7) for n in range(10_000))
    assert MAX_NODES * 0.2 < 10_000 * 26 < MAX_NODES and len(text.encode()) < MAX_BYTES
    assert len(load_yaml(text)["orgs"]) == 10_000


def test_aliases_count_at_the_size_they_repeat_and_small_reuse_still_works() -> None:
    assert load_yaml("base: &b {x: 1, y: [1, 2]}\none: *b\ntwo: {<<: *b, x: 2}\n") == {
        "base": {"x": 1, "y": [1, 2]}, "one": {"x": 1, "y": [1, 2]}, "two": {"x": 2, "y": [1, 2]}}
    width = 100
    levels = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    # 100 ** 6 nodes once expanded: a loader that expanded them would never answer
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, 6)]
    answer: list[str] = []
    refusing = threading.Thread(target=lambda: answer.append(refusal("\n".join(levels))), daemon=True)
    refusing.start()
    refusing.join(timeout=60)  # a hang detector, far above the milliseconds the refusal takes
    assert answer, "the aliases were expanded instead of counted"
    assert f"more than {MAX_NODES} YAML nodes" in answer[0]


def test_a_recursive_alias_is_refused() -> None:
    assert refusal("a: &a {b: *a}\n") == "a.b: alias *a repeats a node that contains it at line 1, column 11"


@pytest.mark.parametrize(("text", "key"), [
    ("kind: dev\nkind: production\n", "kind"),
    ("a: 1\n'a': 2\n", "a"),
    ("1: x\n0x1: y\n", "0x1"),
    ("on: 1\ntrue: 2\n", "true"),
])
def test_duplicate_keys_are_refused_by_value(text: str, key: str) -> None:
    assert refusal(text) == f"{key}: duplicate key {key!r} at line 2 (first at line 1)"


@pytest.mark.parametrize("text", ["a: !!binary aGk=\n", "a: !!set {x}\n", "!!python/name:os.system a: 1\n",
                                  "a: !custom 1\n", "? !!binary aGk=\n: 1\n", "a: !!omap [{x: 1}]\n"])
def test_only_plain_tags(text: str) -> None:
    message = refusal(text)
    assert "unsupported YAML tag" in message or "could not determine a constructor" in message


@pytest.mark.parametrize("text", ["a: 2026-02-30\n", "a: " + "9" * 5000 + "\n", "a: \x07\n", "a: 1\n---\nb: 2\n"])
def test_values_python_cannot_build_are_one_line(text: str) -> None:
    assert refusal(text).startswith(("invalid ", "YAML syntax error at line "))


def test_read_regular_file_limits(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 10)
    assert read_regular_file(tmp_path / "f", 10) == b"x" * 10
    with pytest.raises(ConfigError, match=r"^file too large \(more than 0 KiB\)$"):
        read_regular_file(tmp_path / "f", 9)
    with pytest.raises(ConfigError, match=r"^a folder, not a regular file$"):
        read_regular_file(tmp_path, 10)
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ConfigError, match=r"^a FIFO \(named pipe\), not a regular file$"):
        read_regular_file(tmp_path / "pipe", 10)
    with pytest.raises(ConfigError, match=r"^no such file$"):
        read_regular_file(tmp_path / "none", 10)


def test_text_files_refuse_nul_and_bad_utf8_without_quoting_them(tmp_path: Path) -> None:
    (tmp_path / "nul").write_bytes(b"secret\0more")
    (tmp_path / "latin").write_bytes(b"s\xe9cret")
    with pytest.raises(ConfigError) as nul:
        read_text_file(tmp_path / "nul", 100)
    with pytest.raises(ConfigError) as latin:
        read_text_file(tmp_path / "latin", 100)
    assert str(nul.value) == "not text: a NUL byte at line 1, column 7 (byte offset 6)"
    assert str(latin.value) == "not UTF-8 text: an invalid byte at line 1, column 2 (byte offset 1)"
