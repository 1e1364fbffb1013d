"""The lockstep command, SOQL quoting, redaction, reasons and the gate file writer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import full_gate

import lockstep.facts.fetch
import lockstep.gate.build
import lockstep.salesforce
from lockstep.cli import main
from lockstep.gate.file import write_gate
from lockstep.gate.model import Gate
from lockstep.reports.markdown import markdown_summary
from lockstep.salesforce.errors import ConnectionFailed, OrgUnreachable, Secret, redact
from lockstep.salesforce.soql import format_soql, quote_soql_value
from lockstep.session.reasons import reason_line


def gate_doc(decision: str = "go", **extra: Any) -> dict[str, Any]:
    return full_gate({
        "decision": decision, "run_id": "run-1", "release": "R1", "profile": {"name": "prod", "sha256": "ab" * 32},
        "phase": "verification", "started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:01:00+00:00",
        "exit_status": 0 if decision == "go" else 1, "counts": {"passed": 1, "executed": 1},
        "orgs": {"prod-emea": {"decision": decision, "kind": "production", "reachable": True, "api_calls": 6,
                               "counts": {"passed": 1, "executed": 1}, "failed": [], "errors": [], "warnings": [],
                               "skipped": []}},
        "landscape": {"failed": [], "errors": []}, "reasons": [] if decision == "go" else ["prod-emea: 1 failed check"],
        "selection": None, "keyword": "", "markexpr": "", "deselected": 0, "complete": True,
        **extra,
    })


def write(tmp_path: Path, doc: dict[str, Any]) -> str:
    path = tmp_path / "gate.json"
    write_gate(path, Gate.from_json(doc))
    return str(path)


def test_gate_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gate", "check", write(tmp_path, gate_doc())]) == 0
    assert main(["gate", "check", write(tmp_path, gate_doc()), "--release", "R1", "--phase", "verification",
                 "--profile", "prod"]) == 0
    assert main(["gate", "check", write(tmp_path, gate_doc()), "--release", "R2"]) == 1
    assert "release is 'R1', expected 'R2'" in capsys.readouterr().err
    assert main(["gate", "check", write(tmp_path, gate_doc("no-go"))]) == 1
    assert main(["gate", "check", str(tmp_path / "missing.json")]) == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["gate", "check", str(tmp_path / "bad.json")]) == 2
    assert "not a gate file" in capsys.readouterr().err


def test_gate_check_refuses_a_partial_run_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    partial = write(tmp_path, gate_doc(selection="prod-emea", keyword="packages", deselected=4, complete=False))
    assert main(["gate", "check", partial, "--release", "R1", "--phase", "verification"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"lockstep gate: {partial}: not the gate of a complete run: a partial run (--orgs 'prod-emea', "
        "-k 'packages', 4 tests deselected); pass --allow-partial to accept it")
    assert main(["gate", "check", partial, "--allow-partial"]) == 0
    older = gate_doc()
    del older["complete"], older["schema"]  # a gate of a Lockstep that recorded neither
    (tmp_path / "older.json").write_text(json.dumps(older))
    assert main(["gate", "check", str(tmp_path / "older.json")]) == 2
    assert f"{tmp_path / 'older.json'}: not a gate file: missing key 'schema'" in capsys.readouterr().err


def test_gate_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gate", "show", write(tmp_path, gate_doc("no-go"))]) == 0
    out = capsys.readouterr().out
    assert "decision: NO-GO" in out and "prod-emea" in out and "  - prod-emea: 1 failed check" in out
    assert main(["gate", "show", "--markdown", str(tmp_path / "gate.json")]) == 0
    assert capsys.readouterr().out.startswith("## Lockstep gate: NO-GO")


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert main(["frobnicate"]) == 2
    assert main(["emulator", "start"]) == 2


def test_emulator_serve_is_dispatched(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def serve_main(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    monkeypatch.setattr("lockstep.emulator.cli.serve_main", serve_main)
    assert main(["emulator", "serve", "--state", "profiles/demo", "--port", "0"]) == 0
    assert seen == [["--state", "profiles/demo", "--port", "0"]]


def test_write_gate_is_atomic_and_redacted(tmp_path: Path) -> None:
    Secret("very-secret-token-123")
    path = tmp_path / "reports" / "gate.json"
    write_gate(path, Gate.from_json(gate_doc(reasons=["prod-emea: login said very-secret-token-123"])))
    text = path.read_text()
    assert "very-secret-token-123" not in text and json.loads(text)["reasons"] == ["prod-emea: login said ***"]
    assert [p.name for p in path.parent.iterdir()] == ["gate.json"]


@pytest.mark.parametrize(("value", "expected"), [
    ("O'Brien", "'O\\'Brien'"),
    ("back\\slash\nnew", "'back\\\\slash\\nnew'"),
    (None, "null"),
    (True, "true"),
    (42, "42"),
    (dt.date(2026, 1, 2), "2026-01-02"),
    (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "2026-01-02T03:04:05Z"),
    (["a", "b'"], "('a','b\\'')"),
])
def test_quote_soql_value(value: Any, expected: str) -> None:
    assert quote_soql_value(value) == expected


def test_format_soql() -> None:
    assert format_soql("SELECT Id FROM Account WHERE Name = {} AND Id IN {ids}", "x'y", ids=["1", "2"]) == (
        "SELECT Id FROM Account WHERE Name = 'x\\'y' AND Id IN ('1','2')")
    assert format_soql("SELECT Id FROM {:literal} WHERE Name LIKE {:like}", "Account", "50%_off") == (
        "SELECT Id FROM Account WHERE Name LIKE '50\\%\\_off'")
    with pytest.raises(TypeError):
        quote_soql_value(object())


def test_errors_are_one_line_and_redacted() -> None:
    secret = Secret("hunter2-secret")
    assert repr(secret) == "Secret('***')" and "hunter2" not in f"{secret}"
    error = ConnectionFailed("prod", None, "failed\nwith hunter2-secret inside")
    assert str(error) == "prod: CONNECTION_FAILED: failed with *** inside"
    assert str(OrgUnreachable("prod", "invalid_grant: authentication failure")) == (
        "prod: unreachable: invalid_grant: authentication failure")
    assert redact("nothing here") == "nothing here"


def test_reason_line() -> None:
    assert reason_line(AssertionError("prod: flow X: expected active\nassert False")) == "prod: flow X: expected active"
    assert reason_line(ValueError("bad\nvalue")) == "ValueError: bad"
    assert reason_line(None, ("f.py", 3, "Skipped: declare expect.x")) == "declare expect.x"
    assert reason_line(None, None, "known bug") == "unexpectedly passed (xfail: known bug)"


def test_public_names_are_pinned() -> None:
    assert sorted(lockstep.salesforce.__all__) == ["OrgClient", "SalesforceError", "format_soql"]
    assert lockstep.salesforce.format_soql is format_soql
    assert "Facts" in lockstep.facts.fetch.__all__ and "build_gate" in lockstep.gate.build.__all__


def test_markdown_summary_escapes_pipes() -> None:
    doc = gate_doc()
    doc["orgs"]["a|b"] = doc["orgs"].pop("prod-emea")
    assert "a\\|b" in markdown_summary(Gate.from_json(doc))
