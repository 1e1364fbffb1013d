"""Never a false "go": where pytest puts its rootdir, what it collects, which run wrote the gate,
a gate file whose fields disagree, a gate that cannot be written, and org trouble reported as
a finding. Each test reproduces a way an older or wrong "go" could have been acted upon."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from inprocess import gate_cli, run_pytest
from plugin_helpers import read_gate, reasons, state, write_landscape
from run_once import once

from lockstep.cli import main

ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}]
CHECK = "def test_reachable(org):\n    assert org.name\n"


def project_at(root: Path, **profile: Any) -> Path:
    """A Lockstep project: pytest configuration with testpaths, a catalog, a profile and its org states."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\ntestpaths = checks\n")
    (root / "checks").mkdir(exist_ok=True)
    (root / "checks" / "test_catalog.py").write_text(CHECK)
    write_landscape(root, ORGS, **profile)
    return root


def pytest_in(cwd: Path, *args: str, env: dict[str, str] | None = None,
              **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """A pytest run in ``cwd``: in the test's process, or its own when it needs another environment
    or a process limit."""
    if env is None and not kwargs:
        return run_pytest(cwd, "-p", "no:cacheprovider", *args)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=env, **kwargs)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


# -- where pytest puts its rootdir -----------------------------------------------------


def test_a_profile_path_as_two_tokens_is_refused_and_the_project_gate_becomes_no_go(tmp_path: Path) -> None:
    """pytest takes ``/abs/p.yaml`` for a test path: it would move the rootdir above the project,
    collect everything there and write the gate elsewhere, leaving the project's older go."""
    project = project_at(tmp_path / "project")
    assert pytest_in(project, "--org-profile", "p").returncode == 0
    assert read_gate(project)["decision"] == "go"
    outside = tmp_path / "p.yaml"
    profile = yaml.safe_load((project / "profiles" / "p.yaml").read_text())
    outside.write_text(yaml.safe_dump({**profile, "emulator": "project/profiles/p-states"}))
    result = pytest_in(project, "--org-profile", str(outside))
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == [f"ERROR: --org-profile {outside}: pytest took the value for a test path and moved"
                                   f" the rootdir to {tmp_path}; write --org-profile={outside}"]
    gate = read_gate(project)
    assert gate["decision"] == "no-go" and gate["reasons"] == [error_lines(result)[0].removeprefix("ERROR: ")]
    assert not (tmp_path / "reports").exists()
    fixed = pytest_in(project, f"--org-profile={outside}")
    assert fixed.returncode == 0, fixed.stdout
    assert read_gate(project)["counts"]["executed"] == 2


def test_a_run_from_a_subfolder_runs_the_catalog_and_writes_the_project_gate(tmp_path: Path) -> None:
    project = project_at(tmp_path / "project")
    result = pytest_in(project / "profiles", "--org-profile", "p")
    assert result.returncode == 0, result.stdout
    gate = read_gate(project)
    assert gate["decision"] == "go" and gate["counts"]["executed"] == 2 and gate["complete"] is True
    assert not (project / "profiles" / "reports").exists()


def test_a_run_outside_any_project_is_refused_without_writing_there(tmp_path: Path) -> None:
    project = project_at(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "test_unrelated.py").write_text("def test_x():\n    pass\n")
    result = pytest_in(elsewhere, f"--org-profile={project / 'profiles' / 'p.yaml'}")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    (line,) = error_lines(result)
    assert line.startswith(f"ERROR: no pytest configuration in {elsewhere} or above, so no check catalog:")
    assert not (elsewhere / "reports").exists()


# -- a run counts checks only ----------------------------------------------------------


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_collected_tests_that_are_not_checks_never_count(tmp_path: Path, workers: tuple[str, ...]) -> None:
    project = project_at(tmp_path / "project")
    (project / "checks" / "test_helpers.py").write_text("def test_plain():\n    assert True\n")
    result = pytest_in(project, "--org-profile", "p", *workers)
    assert result.returncode != 0
    gate = read_gate(project)
    assert gate["decision"] == "no-go"
    if workers:  # each worker fails the test at setup: an error, never a passed check
        (error,) = gate["landscape"]["errors"]
        assert error["test"] == "checks/test_helpers.py::test_plain" and "not a check" in error["reason"]
        assert gate["counts"]["passed"] == 2
    else:
        assert any("checks/test_helpers.py::test_plain" in reason for reason in gate["reasons"]), gate["reasons"]
    assert gate_cli("check", str(project / "reports" / "gate.json")).returncode == 1
    if not workers:
        assert error_lines(result) == [
            "ERROR: lockstep: checks/test_helpers.py::test_plain uses no Lockstep fixture (org, orgs, profile, ...):"
            " not checks; run the check catalog (the project's testpaths) or name check files"]


def test_a_run_without_a_profile_replaces_an_older_go(tmp_path: Path) -> None:
    project = project_at(tmp_path / "project")
    assert pytest_in(project, "--org-profile", "p").returncode == 0
    result = pytest_in(project)
    assert result.returncode != 0
    gate = read_gate(project)
    assert gate["decision"] == "no-go"
    assert gate["reasons"] == ["checks ran without --org-profile: nothing was verified"]


def test_an_unrelated_project_gets_no_gate_file(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_plain.py").write_text("def test_x():\n    pass\n")
    assert pytest_in(tmp_path).returncode == 0
    assert not (tmp_path / "reports").exists()


# -- which run wrote the gate ------------------------------------------------------------


def test_the_run_id_is_recorded_and_checked(tmp_path: Path) -> None:
    project = project_at(tmp_path / "project")
    gate_file = str(project / "reports" / "gate.json")
    assert pytest_in(project, "--org-profile", "p", "--run-id", "build-41").returncode == 0
    assert read_gate(project)["run_id"] == "build-41"
    accepted = gate_cli("check", gate_file, "--run-id", "build-41")
    assert accepted.returncode == 0 and "GO (run build-41" in accepted.stdout
    refused = gate_cli("check", gate_file, "--run-id", "build-42")
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"lockstep gate: {gate_file}: run id is 'build-41', expected 'build-42'" \
                                     " (the gate of another run)"


@pytest.mark.parametrize(("variable", "value"), [("GITHUB_RUN_ID", "9123456789"), ("CI_PIPELINE_ID", "4711"),
                                                 ("BUILD_TAG", "jenkins-release-88"), ("BUILD_BUILDID", "2048")])
def test_the_run_id_defaults_to_the_ci_run(tmp_path: Path, variable: str, value: str) -> None:
    project = project_at(tmp_path / "project")
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_RUN_ID", "CI_PIPELINE_ID", "BUILD_TAG",
                                                            "BUILD_BUILDID")}
    assert pytest_in(project, "--org-profile", "p", env={**env, variable: value}).returncode == 0
    assert read_gate(project)["run_id"] == value


def test_without_ci_each_run_gets_its_own_id(tmp_path: Path) -> None:
    project = project_at(tmp_path / "project")
    pytest_in(project, "--org-profile", "p")
    first = read_gate(project)["run_id"]
    pytest_in(project, "--org-profile", "p")
    assert first and read_gate(project)["run_id"] != first


def test_a_run_killed_at_start_up_cannot_pass_for_its_own_gate(tmp_path: Path) -> None:
    """kill -9 before Lockstep wrote anything: the older go stays on disk, but it is another run's."""
    project = project_at(tmp_path / "project")
    assert pytest_in(project, "--org-profile", "p", "--run-id", "run-1").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "--org-profile", "p", "--run-id", "run-2"], cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.kill()
    proc.wait()
    assert gate_cli("check", str(project / "reports" / "gate.json"), "--run-id", "run-2").returncode == 1


def test_the_no_go_is_written_before_conftest_files_are_imported(tmp_path: Path) -> None:
    project = project_at(tmp_path / "project")
    assert pytest_in(project, "--org-profile", "p").returncode == 0
    (project / "conftest.py").write_text(
        "import time\nfrom pathlib import Path\nPath('importing').touch()\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "--org-profile", "p"], cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (project / "importing").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    gate = read_gate(project)
    assert gate["decision"] == "no-go" and gate["finished"] is None


def test_max_age_refuses_an_older_gate(tmp_path: Path) -> None:
    project = project_at(tmp_path / "project")
    pytest_in(project, "--org-profile", "p")
    path = project / "reports" / "gate.json"
    assert gate_cli("check", str(path), "--max-age", "1h").returncode == 0
    gate = json.loads(path.read_text())
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)
    gate["started"], gate["finished"] = (old - dt.timedelta(minutes=1)).isoformat(), old.isoformat()
    path.write_text(json.dumps(gate))
    refused = gate_cli("check", str(path), "--max-age", "12h")
    assert refused.returncode == 1 and "older than --max-age 12h" in refused.stderr
    assert gate_cli("check", str(path), "--max-age", "2d").returncode == 0
    bad = gate_cli("check", str(path), "--max-age", "soon")
    assert bad.returncode == 2 and "expected a duration such as 90m, 12h or 2d" in bad.stderr


# -- a go must agree with every field ------------------------------------------------------


@pytest.fixture(scope="module")
def go_gate(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    def produce() -> dict[str, Any]:
        project = project_at(tmp_path_factory.mktemp("go") / "project")
        assert pytest_in(project, "--org-profile", "p").returncode == 0
        return read_gate(project)

    gate: dict[str, Any] = once(tmp_path_factory, "gate-trust-go-gate", produce)
    return gate


def _contradict(gate: dict[str, Any], change: str) -> None:
    if change == "org no-go":
        gate["orgs"]["qa"]["decision"] = "no-go"
    elif change == "org unreachable":
        gate["orgs"]["prod"]["reachable"] = False
    elif change == "org failed":
        gate["orgs"]["qa"]["failed"] = [{"check": "c", "test": "t", "reason": "qa: flow off"}]
    elif change == "not finished":
        gate["finished"] = None
    elif change == "no check executed":
        gate["counts"]["executed"] = 0
    elif change == "exit status":
        gate["exit_status"] = 1
    elif change == "reasons":
        gate["reasons"] = ["qa: 1 failed check"]
    elif change == "landscape failed":
        gate["landscape"]["failed"] = [{"check": "c", "test": "t", "reason": "drift"}]
    elif change == "no orgs":
        gate["orgs"] = {}
    elif change == "finished before started":
        gate["finished"] = "2000-01-01T00:00:00+00:00"


@pytest.mark.parametrize(("change", "message"), [
    ("org no-go", "decision is go but org qa is not"),
    ("org unreachable", "decision is go but org prod is not"),
    ("org failed", "decision is go but org qa is not"),
    ("not finished", "decision is go but the run has no finish time (finished: None)"),
    ("no check executed", "decision is go but no check was executed"),
    ("exit status", "decision is go but the exit status is 1, not 0"),
    ("reasons", "decision is go but it lists 1 reasons (qa: 1 failed check)"),
    ("landscape failed", "decision is go but cross-org checks failed"),
    ("no orgs", "decision is go but it names no org"),
    ("finished before started", "decision is go but the run finished (2000-01-01T00:00:00+00:00) before it started"),
])
def test_a_go_contradicted_by_another_field_is_refused(tmp_path: Path, go_gate: dict[str, Any], change: str,
                                                       message: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(go_gate))
    assert main(["gate", "check", str(path)]) == 0
    gate = json.loads(json.dumps(go_gate))
    _contradict(gate, change)
    path.write_text(json.dumps(gate))
    capsys.readouterr()
    assert main(["gate", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"lockstep gate: {path}: {message}" in err
    assert main(["gate", "show", str(path)]) == 0
    assert "decision: GO (refused: decision is go but" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "problem"), [
    ('{"decision": "go", "orgs": []}', "not a gate file: missing key"),
    ("[" * 100_000 + "]" * 100_000, "not a gate file (JSON nested too deeply)"),
    ("[1, 2]", "not a gate file: expected a JSON object, found a list"),
    ("{not json", "not a gate file: Expecting property name"),
    (b"\xff\xfe{}", "not a gate file:"),
    ("", "not a gate file: Expecting value"),
    ('{"decision": NaN}', "not a gate file: NaN is not valid JSON"),
])
def test_a_malformed_gate_file_is_one_line_and_exit_2(tmp_path: Path, text: str | bytes, problem: str) -> None:
    path = tmp_path / "gate.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    for command in ("show", "check"):
        result = gate_cli(command, str(path))
        assert result.returncode == 2
        (line,) = error_lines(result)
        assert line.startswith(f"lockstep gate: {path}: {problem}"), line
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("mutate", "problem"), [
    (lambda g: g.update(orgs=[]), "orgs: expected an object, found a list"),
    (lambda g: g["orgs"].update(qa=[]), "orgs.qa: expected an object, found a list"),
    (lambda g: g.update(decision="GO"), "decision: unknown value 'GO' (expected go or no-go)"),
    (lambda g: g.update(counts={"passed": "2"}), "counts.passed: expected a count, found '2'"),
    (lambda g: g.update(reasons=[1]), "reasons: expected a list of strings"),
    (lambda g: g["orgs"]["qa"].update(failed={"x": 1}), "orgs.qa.failed: expected a list, found an object"),
    (lambda g: g["orgs"]["qa"].update(decision=None), "orgs.qa.decision: expected go or no-go, found None"),
    (lambda g: g.update(finished=5), "finished: expected a string or null, found int"),
    (lambda g: g.update(run_id=5), "run_id: expected a string, found int"),
    (lambda g: g["landscape"].update(errors=[{"check": 1}]),
     "landscape.errors[0]: expected an object with check and reason strings"),
])
def test_a_structurally_wrong_gate_is_one_line_and_exit_2(tmp_path: Path, go_gate: dict[str, Any], mutate: Any,
                                                          problem: str) -> None:
    gate = json.loads(json.dumps(go_gate))
    mutate(gate)
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(gate))
    for command in ("show", "check"):
        result = gate_cli(command, str(path))
        assert result.returncode == 2, result.stdout
        assert error_lines(result) == [f"lockstep gate: {path}: not a gate file: {problem}"]


# -- a gate that cannot be written -------------------------------------------------------


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_gate_that_cannot_be_written_is_one_line_and_leaves_the_no_go(tmp_path: Path) -> None:
    """The disk fills up between the start of the run and its end: files grow no larger than
    the no-go written at the start, so the final gate's write fails."""
    project = project_at(tmp_path / "project")
    assert pytest_in(project, "--org-profile", "p").returncode == 0
    final = (project / "reports" / "gate.json").stat().st_size
    result = pytest_in(project, "--org-profile", "p", preexec_fn=lambda: _limit_file_size(final - 200))
    assert result.returncode not in (0, pytest.ExitCode.INTERNAL_ERROR), result.stdout
    assert "Traceback" not in result.stdout + result.stderr and "INTERNALERROR" not in result.stdout
    assert f"the gate file could not be written: {project / 'reports' / 'gate.json'}: File too large" in result.stdout
    assert "GATE: NO-GO" in result.stdout
    gate = read_gate(project)
    assert gate["decision"] == "no-go" and gate["finished"] is None
    assert not list((project / "reports").glob(".*tmp"))


def test_a_gate_folder_that_disappears_mid_run_is_one_line(tmp_path: Path) -> None:
    project = project_at(tmp_path / "project")
    (project / "checks" / "test_catalog.py").write_text(
        CHECK + "\nimport shutil\nfrom pathlib import Path\n\n"
        "def test_zz_remove_reports(org):\n    if org.name == 'qa':\n        shutil.rmtree('reports')\n"
        "        Path('reports').write_text('a file now')\n")
    result = pytest_in(project, "--org-profile", "p")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "lockstep gate" in result.stdout and "the gate file could not be written:" in result.stdout
    assert (project / "reports").read_text() == "a file now"


# -- org trouble is an error, not a finding ------------------------------------------------

HEALTH = """
import pytest
from lockstep.facts.plan import Get, plan
from lockstep.salesforce.errors import SalesforceError

def test_health_swallowed(org):
    try:
        org.client.get("/services/apexrest/health")
    except SalesforceError as exc:
        assert False, f"{org.name}: health endpoint: expected HTTP 200, found {exc.answer}"

@plan(lambda org: {"health": Get("/services/apexrest/health")})
def test_planned_health_swallowed(org, planned):
    error = planned.error("health")
    assert error is None, f"{org.name}: health endpoint: expected HTTP 200, found {error.answer}"
"""


@pytest.mark.parametrize(("status", "body", "kind"), [
    (503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "Service unavailable"}], "errors"),
    (502, "Bad Gateway", "errors"),
    (500, [{"errorCode": "APEX_ERROR", "message": "System.NullPointerException: Attempt to de-reference a null"}],
     "failed"),
    (404, [{"errorCode": "NOT_FOUND", "message": "Could not find a match for URL"}], "failed"),
])
def test_apex_rest_health_server_trouble_is_an_error(project: pytest.Pytester, status: int, body: Any,
                                                     kind: str) -> None:
    states = [state("prod", "production", apex_rest=[{"path": "health", "status": status, "body": body}]),
              state("qa", "sandbox", apex_rest=[{"path": "health", "status": 200, "body": {"status": "ok"}}])]
    expect = {"apex_health": {"Order API": {"path": "health", "json": {"status": "ok"}}}}
    write_landscape(project.path, ORGS, states=states, expect=expect)
    catalog = Path(__file__).resolve().parents[2] / "checks" / "test_critical_processes.py"
    project.makepyfile(test_catalog=catalog.read_text(), test_swallow=HEALTH)
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", "-k", "health")
    assert result.ret == 1
    gate = read_gate(project.path)
    prod = gate["orgs"]["prod"]
    assert len(prod[kind]) == 3, prod
    assert gate["orgs"]["qa"]["decision"] == "go"
    if kind == "errors":
        assert not prod["failed"]
        answer = "SERVER_UNAVAILABLE" if status == 503 else "502"
        assert all(answer in reason for reason in reasons(gate, "prod")), reasons(gate, "prod")
    else:  # the service answered (missing, or its Apex code failed): asked once, like the healthy org
        assert prod["api_calls"] == gate["orgs"]["qa"]["api_calls"]
