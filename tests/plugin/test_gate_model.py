"""The gate file is one typed model: every gate Lockstep writes (a run's, the no-go written when
a run starts, a merge of shards) is read back exactly as written; a gate of no or of a newer
schema version is refused in one line; a changed field is either read as written or refused in
one line naming it, never a crash or another decision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inprocess import gate_cli, run_pytest
from plugin_helpers import write_landscape
from run_once import once

from lockstep.gate.file import read_gate
from lockstep.gate.model import SCHEMA, Gate, GateFileError

ORGS: list[dict[str, Any]] = [
    {"name": "prod", "kind": "production", "tags": ["emea"]}, {"name": "qa", "kind": "sandbox"},
    {"name": "uat", "kind": "sandbox"},
]
CATALOG = """
def test_reachable(org):
    assert org.name

def test_flow_active(org):
    assert org.name != "prod", "prod: flow Case_Triage: expected active, found inactive"

def test_not_flagged(org):
    assert "flagged" not in org.tags, f"{org.name}: flagged"

def test_landscape(profile):
    assert profile.name in ("p", "bad")
"""
WAIVERS = [{"check": "test_flow_active", "orgs": ["tag:emea"], "reason": "after the migration (CHG-1)",
            "owner": "jane@acme.example", "expires": "2026-12-15"},
           {"check": "test_renamed_long_ago", "orgs": ["prod"], "reason": "old", "owner": "ops@acme.example",
            "expires": "2027-01-01"}]
NOW = "--now=2026-12-01T10:00:00+00:00"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Gate files written by real runs, by what they are (written once for both xdist workers)."""
    paths = once(tmp_path_factory, "gate-model-written", lambda: {k: str(v) for k, v in _write_gates(
        tmp_path_factory.mktemp("gates")).items()})
    return {kind: Path(path) for kind, path in paths.items()}


def _write_gates(root: Path) -> dict[str, Path]:
    (root / "pytest.ini").write_text("[pytest]\ntestpaths = checks\n")
    (root / "checks").mkdir()
    (root / "checks" / "test_catalog.py").write_text(CATALOG)
    write_landscape(root, ORGS, waivers=WAIVERS)
    write_landscape(root, [{**o, "tags": ["flagged"]} if o["name"] == "uat" else o for o in ORGS], name="bad",
                    waivers=WAIVERS)
    out = root / "out"
    runs: dict[str, tuple[str, ...]] = {
        "waived go": ("--org-profile=p", NOW),
        "no-go": ("--org-profile=bad", NOW),
        "partial": ("--org-profile=p", NOW, "--orgs=qa"),
        "interrupted": ("--org-profile=bad", NOW, "-x", "-p", "no:randomly"),
        "unfinished": ("--org-profile=p", "--org-concurrency=0"),
        "shard 1": ("--org-profile=p", NOW, "--org-shard=1/2", "--run-id=run-9"),
        "shard 2": ("--org-profile=p", NOW, "--org-shard=2/2", "--run-id=run-9"),
    }
    paths = {}
    for kind, args in runs.items():
        paths[kind] = out / f"{kind.replace(' ', '-')}.json"
        done = run_pytest(root, "-p", "no:cacheprovider", "-q", *args, f"--gate-file={paths[kind]}")
        assert paths[kind].exists(), done.stdout[-3000:] + done.stderr[-3000:]
    paths["merged"] = out / "merged.json"
    merged = gate_cli("merge", str(paths["shard 1"]), str(paths["shard 2"]), "-o", str(paths["merged"]))
    assert merged.returncode == 0, merged.stderr
    return paths


KINDS = ["waived go", "no-go", "partial", "interrupted", "unfinished", "shard 1", "merged"]


def _is(kind: str, gate: Gate) -> bool:
    """The gate is the kind of gate the run was meant to write."""
    return {
        "waived go": gate.go and gate.narrowing.complete is True and [w.status for w in gate.waivers] == ["used",
                                                                                                          "stale"]
        and gate.orgs["prod"].waived[0].waiver is not None,
        "no-go": not gate.go and gate.reasons == ("uat: 1 failed check",),
        "partial": gate.go and gate.narrowing.complete is False and gate.narrowing.selection == "qa",
        "interrupted": not gate.go and gate.reasons[0].startswith("run interrupted"),
        "unfinished": not gate.go and gate.finished is None and gate.exit_status is None and not gate.orgs,
        "shard 1": gate.go and gate.shard is not None and gate.shard.cross_org and gate.shards is None,
        "merged": gate.go and gate.narrowing.complete is True and gate.shards is not None and len(gate.shards) == 2
        and sorted(gate.orgs) == ["prod", "qa", "uat"],
    }[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_every_gate_lockstep_writes_is_read_back_as_written(written: dict[str, Path], kind: str) -> None:
    data = json.loads(written[kind].read_text())
    gate = read_gate(written[kind])
    assert data["schema"] == SCHEMA == gate.schema
    assert _is(kind, gate), data
    assert gate.to_json() == data
    assert Gate.from_json(gate.to_json()) == gate
    assert gate_cli("show", str(written[kind])).returncode == 0


@pytest.mark.parametrize(("change", "problem"), [
    (lambda g: g.pop("schema"), "not a gate file: missing key 'schema' (a gate written by a Lockstep older than"
                                " schema 1, or not a gate)"),
    (lambda g: g.update(schema=SCHEMA + 1), f"schema: version {SCHEMA + 1} is newer than this Lockstep reads (up to"
                                            f" {SCHEMA}): upgrade Lockstep to read this gate"),
    (lambda g: g.update(schema="1"), "not a gate file: schema: expected a schema version (1 or more), found '1'"),
    (lambda g: g.update(schema=0), "not a gate file: schema: expected a schema version (1 or more), found 0"),
], ids=["missing", "newer", "a string", "zero"])
def test_a_gate_of_no_or_an_unknown_schema_is_refused_in_one_line(written: dict[str, Path], tmp_path: Path,
                                                                  change: Any, problem: str) -> None:
    gate = json.loads(written["waived go"].read_text())
    assert gate_cli("check", str(written["waived go"])).returncode == 0
    change(gate)
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(gate))
    for args in (("check", str(path)), ("show", str(path)), ("merge", str(path), "-o", str(tmp_path / "m.json"))):
        result = gate_cli(*args)
        assert result.returncode == 2, result.stdout
        assert result.stderr.splitlines() == [f"lockstep gate: {path}: {problem}"]
    assert not (tmp_path / "m.json").exists()


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*at, index))
    return found


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=5),
                        st.sampled_from(["go", "no-go", "all", "readiness", "used", "stale", ""]),
                        st.lists(st.integers(0, 2), max_size=2), st.lists(st.text(max_size=2), max_size=2),
                        st.dictionaries(st.sampled_from(["check", "reason", "test"]), st.text(max_size=2), max_size=3))


def _mutated(data: dict[str, Any], draw: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
    doc = json.loads(json.dumps(data))
    path = draw(st.sampled_from(_paths(doc)))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return doc, path


@pytest.mark.parametrize("kind", ["waived go", "merged", "no-go"])
def test_a_changed_field_is_read_as_written_or_refused_naming_it(written: dict[str, Path], kind: str) -> None:
    data = json.loads(written[kind].read_text())

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(drawn: Any) -> None:
        doc, path = _mutated(data, drawn.draw)
        try:
            gate = Gate.from_json(doc, "g.json")
        except GateFileError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith("g.json: "), message
            assert str(path[0]) in message, (path, message)
            return
        assert gate.to_json() == doc  # read as written: nothing dropped, nothing defaulted
        assert gate.decision == doc["decision"]

    check()
