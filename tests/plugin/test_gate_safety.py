"""Gates that must not say "go" by accident: a run that never finished, a narrowed run, an
empty selection, an org that broke while its checks ran, a module that does not import."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from plugin_helpers import external_profile, read_gate, state, write_landscape

from lockstep.cli import main
from lockstep.emulator import Emulator

T = TypeVar("T")
ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}]
CHECKS = """
import pytest

@pytest.mark.readiness
def test_ready(org):
    assert org.facts.organization.id

@pytest.mark.readiness
def test_reachable(org):
    assert org.name

@pytest.mark.verification
def test_verified(org):
    assert org.name

@pytest.mark.verification
def test_packages(org):
    assert org.name
"""
WAIT = """
import time
from pathlib import Path

def test_wait(org):
    Path("started").touch()
    while not Path("never").exists():
        time.sleep(0.05)
"""


@pytest.fixture
def landscape(project: pytest.Pytester) -> pytest.Pytester:
    write_landscape(project.path, ORGS)
    project.makepyfile(test_checks=CHECKS)
    return project


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", *args, no_reraise_ctrlc=True)


def gate_check(project: pytest.Pytester, *args: str) -> int:
    return main(["gate", "check", str(project.path / "reports" / "gate.json"), *args])


def subprocess_pytest(project: pytest.Pytester, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pytest", "--org-profile", "p", "-p", "no:cacheprovider", *args],
                            cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# -- a run that never finished -------------------------------------------------------


def test_a_bad_profile_replaces_an_earlier_go_with_its_error(landscape: pytest.Pytester) -> None:
    assert run(landscape, "--release", "R1").ret == 0
    assert gate_check(landscape, "--release", "R1") == 0
    (landscape.path / "profiles" / "p.yaml").write_text("orgs:\n  - {name: qa, kind: sandboxx}\n")
    result = run(landscape, "--release", "R1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (error,) = [line.removeprefix("ERROR: ") for line in result.errlines if line.strip()]
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go" and gate["reasons"] == [error] and gate["complete"] is False
    assert gate["release"] == "R1" and gate["profile"]["name"] == "p"
    assert gate_check(landscape, "--release", "R1") == 1


def test_a_run_that_is_killed_leaves_a_no_go_that_did_not_finish(landscape: pytest.Pytester) -> None:
    assert run(landscape).ret == 0
    landscape.makepyfile(test_wait=WAIT)
    proc = subprocess_pytest(landscape, "--orgs", "qa", "-k", "wait")
    try:
        wait_for(landscape.path / "started", proc)
        gate = read_gate(landscape.path)
        (reason,) = gate["reasons"]
        assert reason == f"run started {gate['started']} and did not finish"
        assert gate["decision"] == "no-go" and gate["finished"] is None
        assert gate["selection"] == "qa" and gate["keyword"] == "wait" and gate["complete"] is False
    finally:
        proc.kill()
        proc.communicate()
    assert read_gate(landscape.path)["reasons"] == [reason]
    assert gate_check(landscape) == 1


def test_sigterm_ends_the_run_as_interrupted(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_wait=WAIT)
    proc = subprocess_pytest(landscape)
    try:
        wait_for(landscape.path / "started", proc)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go" and gate["finished"]
    assert "run interrupted: Terminated: SIGTERM received" in gate["reasons"]
    assert gate["counts"]["passed"] >= 1
    assert "GATE: NO-GO" in output


GATHER = """
import pytest

pytestmark = pytest.mark.facts("organization", "packages", "flows", "apex_triggers", "validation_rules",
                               "named_credentials", "permission_sets", "scheduled_jobs", "remote_sites")

def test_organization(org):
    assert org.facts.organization.name == org.name
"""
LATENCY = 2.0  # seconds each request of beta takes: SIGTERM (sent as soon as one is seen in flight) lands during it


def test_sigterm_while_gathering_facts_stops_every_org_after_its_request_in_flight(
        project: pytest.Pytester, emulator: Emulator, admin: requests.Session) -> None:
    """beta answers each request after LATENCY seconds and needs several to gather its facts;
    SIGTERM while one is in flight ends the run after that one, without sending the others (nor
    their retries)."""
    external_profile(project.path, emulator)
    project.makepyfile(test_checks=GATHER)
    admin.patch(f"{emulator.url}/__emulator__/orgs/beta/faults", json={"latency_ms": int(LATENCY * 1000)}
                ).raise_for_status()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "--org-profile=ext", "-p", "no:cacheprovider"],
                            cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # alpha gathered, and beta's first batch is in flight
        orgs = wait_until(lambda: _both_orgs(emulator, admin), lambda o: o["alpha"]["api_calls"] >= 2
                          and o["beta"]["in_flight"] == 1, proc)
        sent = orgs["beta"]["api_calls"] + orgs["beta"]["in_flight"]
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    gate = read_gate(project.path)
    assert gate["decision"] == "no-go" and gate["finished"]
    assert "run interrupted: Terminated: SIGTERM received" in gate["reasons"]
    # the emulator counts a request when it answers it: wait until nothing of beta is in flight
    beta = wait_until(lambda: _both_orgs(emulator, admin)["beta"], lambda b: b["in_flight"] == 0)
    assert beta["api_calls"] == sent, "a request was sent after SIGTERM"


def _both_orgs(emulator: Emulator, admin: requests.Session) -> dict[str, dict[str, Any]]:
    return {name: admin.get(f"{emulator.url}/__emulator__/orgs/{name}").json() for name in ("alpha", "beta")}


def wait_until(read: Callable[[], T], holds: Callable[[T], bool], proc: subprocess.Popen[str] | None = None,
               timeout: float = 120.0) -> T:
    """Poll ``read()`` until ``holds`` of its value; fail if ``proc`` ends first or ``timeout`` passes
    (a hang detector only: nothing here depends on how fast the machine is)."""
    deadline = time.monotonic() + timeout
    while not holds(value := read()):
        if proc is not None and proc.poll() is not None:
            raise AssertionError(proc.communicate()[0][-3000:])
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout:.0f} s")
        time.sleep(0.05)
    return value


def wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    """Until ``path`` exists (the run reached its check) or the run ended on its own."""
    wait_until(path.exists, bool, proc)


def test_collect_only_keeps_the_last_gate(landscape: pytest.Pytester) -> None:
    assert run(landscape).ret == 0
    assert run(landscape, "--collect-only").ret == 0
    assert read_gate(landscape.path)["decision"] == "go"


# -- an empty selection --------------------------------------------------------------


@pytest.mark.parametrize("selector", [",", " , "])
def test_orgs_selecting_nothing_is_a_usage_error(landscape: pytest.Pytester, selector: str) -> None:
    result = run(landscape, f"--orgs={selector}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = f"--orgs {selector!r}: selects no org of profile p (orgs: prod, qa)"
    assert [line for line in result.errlines if line.strip()] == [f"ERROR: {expected}"]
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go" and gate["reasons"] == [expected]


# -- a narrowed run ------------------------------------------------------------------


def test_a_complete_run_and_a_run_of_one_phase_are_complete(landscape: pytest.Pytester) -> None:
    assert run(landscape, "--release", "R1").ret == 0
    gate = read_gate(landscape.path)
    assert (gate["selection"], gate["keyword"], gate["markexpr"], gate["deselected"], gate["complete"]) == (
        None, "", "", 0, True)
    assert run(landscape, "--release", "R1", "-m", "readiness").ret == 0
    gate = read_gate(landscape.path)
    assert (gate["phase"], gate["markexpr"], gate["deselected"], gate["complete"]) == ("readiness", "readiness", 4,
                                                                                       True)
    assert gate_check(landscape, "--release", "R1", "--phase", "readiness") == 0


@pytest.mark.parametrize(("args", "recorded", "problem"), [
    (("--orgs", "qa"), {"selection": "qa", "deselected": 0}, "--orgs 'qa'"),
    (("-k", "not packages"), {"keyword": "not packages", "deselected": 2}, "-k 'not packages', 2 tests deselected"),
    (("-m", "readiness", "-k", "not reachable"), {"keyword": "not reachable", "markexpr": "readiness", "deselected": 6},
     "-k 'not reachable', 6 tests deselected"),
    (("--deselect", "test_checks.py::test_packages[qa]"), {"deselected": 1}, "1 tests deselected"),
])
def test_a_narrowed_run_is_partial_and_refused_by_gate_check(
        landscape: pytest.Pytester, args: tuple[str, ...], recorded: dict[str, object], problem: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(landscape, "--release", "R1", *args).ret == 0
    gate = read_gate(landscape.path)
    assert gate["decision"] == "go" and gate["complete"] is False
    assert {key: gate[key] for key in recorded} == recorded
    capsys.readouterr()
    assert gate_check(landscape, "--release", "R1", "--phase", "readiness") == 1
    assert f"not the gate of a complete run: a partial run ({problem}); pass --allow-partial to accept it" in (
        capsys.readouterr().err)
    assert gate_check(landscape, "--release", "R1", "--phase", "readiness", "--allow-partial") == 0


def test_the_upstream_check_refuses_a_partial_upstream_gate(project: pytest.Pytester) -> None:
    write_landscape(project.path, ORGS, name="staging")
    project.makepyfile(test_checks=CHECKS)
    target = project.path / "reports" / "staging-gate.json"
    assert project.runpytest("--org-profile", "staging", "-p", "no:cacheprovider", "--release", "R1",
                             "--orgs", "qa", f"--gate-file={target}").ret == 0
    upstream = {"profile": "staging", "phase": "verification", "gate_file": "reports/staging-gate.json"}
    write_landscape(project.path, ORGS, name="prod", release={"upstream": upstream})
    project.makepyfile(test_upstream="""
from lockstep.gate.upstream import parse_upstream, upstream_problems

def test_upstream(profile, lockstep_release, lockstep_now, pytestconfig):
    problems = upstream_problems(parse_upstream(profile.release["upstream"]), lockstep_release, lockstep_now,
                                 pytestconfig.rootpath)
    assert not problems, "\\n".join(problems)
""")
    result = project.runpytest("--org-profile", "prod", "-p", "no:cacheprovider", "--release", "R1",
                               "test_upstream.py")
    assert result.ret == 1
    (reason,) = [item["reason"] for item in read_gate(project.path)["landscape"]["failed"]]
    assert reason == ("upstream stage staging (verification): expected the gate of a complete run, found a partial "
                      "run (--orgs 'qa') (allow_partial: true in release.upstream accepts it)")
    write_landscape(project.path, ORGS, name="prod", release={"upstream": {**upstream, "allow_partial": True}})
    project.runpytest("--org-profile", "prod", "-p", "no:cacheprovider", "--release", "R1", "test_upstream.py")
    assert read_gate(project.path)["landscape"]["failed"] == []


# -- an org that broke while its checks ran ------------------------------------------


def test_org_errors_during_a_check_are_errors_and_findings_stay_failures(project: pytest.Pytester) -> None:
    write_landscape(project.path, ORGS, states=[state("prod", "production", faults={"request_limit_exceeded": True}),
                                                state("qa")])
    project.makepyfile(test_checks="""
def test_query(org):
    org.client.query("SELECT Id FROM Account")

def test_finding(org):
    assert org.name != "qa", "qa: flow X: expected active, found inactive"
""")
    result = run(project)
    assert result.ret == 1
    gate = read_gate(project.path)
    prod, qa = gate["orgs"]["prod"], gate["orgs"]["qa"]
    assert prod["failed"] == [] and [e["check"] for e in prod["errors"]] == ["test_checks.py::test_query"]
    (error,) = [e["reason"] for e in prod["errors"]]
    assert error.startswith("prod: REQUEST_LIMIT_EXCEEDED: ") and "\n" not in error
    assert prod["counts"]["errors"] == 1 and prod["counts"]["failed"] == 0 and prod["decision"] == "no-go"
    assert [f["reason"] for f in qa["failed"]] == ["qa: flow X: expected active, found inactive"]
    assert qa["errors"] == [] and qa["counts"]["failed"] == 1
    assert "prod: 1 error" in gate["reasons"] and "qa: 1 failed check" in gate["reasons"]


# -- a module that does not import ---------------------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ("def test_x(org:\n    pass\n", "collection error: test_broken.py: SyntaxError: '(' was never closed (line 1)"),
    ("import lockstep_no_such_module\n", "collection error: test_broken.py: ModuleNotFoundError: "
                                          "No module named 'lockstep_no_such_module'"),
    ("raise RuntimeError('profile key missing')\n", "collection error: test_broken.py: RuntimeError: "
                                                     "profile key missing"),
])
def test_collection_errors_name_the_exception(landscape: pytest.Pytester, source: str, expected: str) -> None:
    landscape.makepyfile(test_broken=source)
    assert run(landscape).ret == pytest.ExitCode.INTERRUPTED
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go" and expected in gate["reasons"]


def test_collection_errors_under_xdist_name_the_exception(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_broken="def test_x(org:\n    pass\n")
    result = landscape.runpytest("--org-profile", "p", "-p", "no:cacheprovider", "-n", "2")
    assert result.ret != 0
    assert ("collection error: test_broken.py: SyntaxError: '(' was never closed (line 1)"
            in read_gate(landscape.path)["reasons"])


def test_the_sigterm_handler_is_removed_after_the_run(landscape: pytest.Pytester) -> None:
    before = signal.getsignal(signal.SIGTERM)
    assert run(landscape).ret == 0
    assert signal.getsignal(signal.SIGTERM) is before
