"""docs/ci.md works as written: its YAML parses, and its GitHub Actions and GitLab CI commands,
run as the CI would run them, shard a landscape, merge the gates and pass the gate check."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from plugin_helpers import write_landscape

DOC = Path(__file__).resolve().parents[2] / "docs" / "ci.md"
# one org in each of the 4 shards, two in shard 1
ORGS = [{"name": n, "kind": "production"} for n in ("prod-eu", "sub-b", "sub-c", "sub-a", "sub-g")]


def yaml_blocks() -> list[dict[str, Any]]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)]


def commands(lines: list[str]) -> list[str]:
    """The Lockstep commands among a job's shell lines (not pip)."""
    return [line for line in lines if line.lstrip().startswith(("pytest ", "lockstep "))]


def project_at(root: Path) -> Path:
    (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\ntestpaths = checks\n")
    (root / "checks").mkdir()
    (root / "checks" / "test_catalog.py").write_text(
        "def test_reachable(org):\n    assert org.name\n\n"
        "def test_every_org(orgs):\n    assert len(orgs) == 5\n")
    write_landscape(root, ORGS, name="prod")
    return root


def run(root: Path, line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.environ.get("PATH", ""))])
    return subprocess.run(["bash", "-c", line], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env, "PATH": path})


def test_the_yaml_of_docs_ci_parses() -> None:
    github, gitlab = yaml_blocks()
    assert github["jobs"]["verify"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert github["jobs"]["gate"]["needs"] == "verify"
    assert gitlab["verify"]["parallel"] == 4 and gitlab["gate"]["stage"] == "gate"


def test_the_github_actions_matrix_runs_as_written(tmp_path: Path) -> None:
    github, _ = yaml_blocks()
    root = project_at(tmp_path)
    env = {"GITHUB_RUN_ID": "4242"}
    steps = [step.get("run", "") for step in github["jobs"]["verify"]["steps"]]
    (shard_command,) = commands([line for step in steps for line in step.splitlines()])
    for shard in (1, 2, 3, 4):
        result = run(root, shard_command.replace("${{ matrix.shard }}", str(shard)), env)
        assert result.returncode == 0, result.stdout + result.stderr
    (root / "shards").mkdir()  # actions/download-artifact with merge-multiple
    for gate in (root / "reports").glob("gate-*.json"):
        shutil.copy(gate, root / "shards")
    gate_steps = commands([step.get("run", "") for step in github["jobs"]["gate"]["steps"]])
    assert [line.split()[:3] for line in gate_steps] == [["lockstep", "gate", "merge"], ["lockstep", "gate", "check"]]
    for line in gate_steps:
        result = run(root, line, env)
        assert result.returncode == 0, result.stderr
    assert "gate.json: GO (run 4242" in result.stdout


def test_the_gitlab_parallel_job_runs_as_written(tmp_path: Path) -> None:
    _, gitlab = yaml_blocks()
    root = project_at(tmp_path)
    (shard_command,) = commands(gitlab["verify"]["script"])
    for index in (1, 2, 3, 4):
        env = {"CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": "4", "CI_PIPELINE_ID": "77"}
        result = run(root, shard_command, env)
        assert result.returncode == 0, result.stdout + result.stderr
    for line in commands(gitlab["gate"]["script"]):
        result = run(root, line, {"CI_PIPELINE_ID": "77"})
        assert result.returncode == 0, result.stderr
    assert "gate.json: GO (run 77" in result.stdout


def test_the_documented_gate_job_fails_when_a_shard_is_missing(tmp_path: Path) -> None:
    missing = 1
    _, gitlab = yaml_blocks()
    root = project_at(tmp_path)
    (shard_command,) = commands(gitlab["verify"]["script"])
    for index in {1, 2, 3, 4} - {missing}:
        run(root, shard_command, {"CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": "4", "CI_PIPELINE_ID": "77"})
    merge, check = commands(gitlab["gate"]["script"])
    run(root, merge, {})
    result = run(root, check, {"CI_PIPELINE_ID": "77"})
    assert result.returncode == 1
    assert "no-go (2 reasons: orgs verified by no shard: prod-eu, sub-b)" in result.stderr
    assert yaml.safe_load((root / "gate.json").read_text())["reasons"] == [
        "orgs verified by no shard: prod-eu, sub-b",
        "the cross-org and landscape checks never ran (no gate of shard 1)"]
