"""docs/writing-checks.md works as written: its worked example, saved and run against the demo as
the doc says, gives the outcome the doc states."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from plugin_helpers import read_gate

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "writing-checks.md").read_text()


def block(language: str, index: int = 0) -> str:
    found: str = re.findall(rf"```{language}\n(.*?)```", DOC, re.S)[index]
    return found


def test_the_worked_example_gives_the_outcome_the_doc_states(project: pytest.Pytester) -> None:
    root = project.path
    saved_as = re.search(r"Save it as `([^`]+)`", DOC)
    assert saved_as is not None
    (root / saved_as.group(1)).parent.mkdir(parents=True, exist_ok=True)
    (root / saved_as.group(1)).write_text(block("python"))
    (root / "profiles").mkdir()
    shutil.copy(REPO / "profiles" / "demo.yaml", root / "profiles" / "demo.yaml")
    shutil.copytree(REPO / "profiles" / "demo", root / "profiles" / "demo")
    (root / "profiles" / "backlog.yaml").write_text(block("yaml"))
    command = shlex.split(block("bash").strip())
    assert command[0] == "pytest"
    result = project.runpytest_subprocess(*command[1:], "-p", "no:cacheprovider")
    assert result.ret == 1, result.stdout.str()[-3000:]
    gate = read_gate(root)
    findings = sorted(i["reason"] for entry in gate["orgs"].values() for i in entry["failed"])
    assert findings == block("text").strip().splitlines()
    assert gate["decision"] == "no-go"
    stated = re.search(r"(\d+) passed \(([^)]*)\),\s+(\d+) failed", DOC)
    assert stated is not None
    passed, failed = int(stated.group(1)), int(stated.group(3))
    assert sum(entry["counts"]["passed"] for entry in gate["orgs"].values()) == passed
    assert sum(len(entry["failed"]) for entry in gate["orgs"].values()) == failed == len(findings)
    assert sorted(o for o, entry in gate["orgs"].items() if entry["counts"]["passed"]) == stated.group(2).split(", ")
