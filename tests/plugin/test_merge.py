"""Profile merging: a null removes a key; nulls with nothing left to remove never reach checks."""

from __future__ import annotations

from pathlib import Path

from lockstep.config.merge import merge, prune
from lockstep.config.profile import load_profile


def test_null_removes_an_inherited_key():
    assert merge({"flows": {"A": {"active": True}, "B": True}}, {"flows": {"A": None}}) == {"flows": {"B": True}}


def test_prune_drops_nulls_at_any_depth():
    assert prune({"flows": {"X": None, "C": {"active": None, "version": 2}}}) == {"flows": {"C": {"version": 2}}}


def test_scalars_and_lists_replace():
    assert merge({"a": {"x": 1}}, {"a": 5}) == {"a": 5}
    assert merge({"tags": ["a"]}, {"tags": ["b"]}) == {"tags": ["b"]}


def test_an_org_null_for_an_expectation_nobody_declared_is_not_an_expectation(tmp_path: Path):
    (tmp_path / "p.yaml").write_text(
        "expect: {flows: {A: {active: true}}}\n"
        "orgs:\n"
        "  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: qa}, expect: {flows: {X: null}}}\n",
        encoding="utf-8",
    )
    qa = load_profile(tmp_path / "p.yaml", tmp_path).org("qa")
    assert dict(qa.expect["flows"]) == {"A": {"active": True}}
