"""The gate file from real runs: go, every no-go cause, and the same gate under xdist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plugin_helpers import read_gate, reasons, state, write_landscape

ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}]
CHECKS = """
import pytest

pytestmark = pytest.mark.verification

def test_reachable(org):
    assert org.facts.organization.id

def test_named(org):
    assert org.name in ("prod", "qa")

def test_everywhere(orgs):
    assert len(orgs) == 2
"""


@pytest.fixture
def landscape(project: pytest.Pytester) -> pytest.Pytester:
    write_landscape(project.path, ORGS)
    return project


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", *args, no_reraise_ctrlc=True)


def test_go(landscape: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(landscape.path / "summary.md"))
    landscape.makepyfile(test_checks=CHECKS)
    result = run(landscape, "--release", "R-42", f"--html={landscape.path / 'report.html'}")
    assert result.ret == 0
    page = (landscape.path / "report.html").read_text()
    assert 'id="lockstep-decision">GO</div>' in page and 'data-column-type="org">Org</th>' in page
    gate = read_gate(landscape.path)
    assert gate["decision"] == "go" and gate["reasons"] == []
    assert gate["release"] == "R-42" and gate["phase"] == "verification"
    assert gate["profile"]["name"] == "p" and len(gate["profile"]["sha256"]) == 64
    assert gate["counts"]["passed"] == 5 and gate["counts"]["executed"] == 5
    assert set(gate["orgs"]) == {"prod", "qa"}
    for entry in gate["orgs"].values():
        assert entry["decision"] == "go" and entry["reachable"] and entry["api_calls"] >= 1
    assert gate["orgs"]["prod"]["kind"] == "production"
    assert gate["started"] <= gate["finished"] and gate["lockstep_version"]
    result.stdout.fnmatch_lines(["GATE: GO *gate.json"])
    assert (landscape.path / "summary.md").read_text().startswith("## Lockstep gate: GO")


def test_failure_is_no_go_with_the_first_line_of_the_message(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks=CHECKS + """
def test_flow(org):
    assert org.name != "prod", "prod: flow Case_Triage: expected active, found inactive\\nsecond line"
""")
    result = run(landscape)
    assert result.ret == 1
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go"
    assert gate["orgs"]["prod"]["failed"] == [{
        "check": "test_checks.py::test_flow", "test": "test_checks.py::test_flow[prod]",
        "reason": "prod: flow Case_Triage: expected active, found inactive",
    }]
    assert gate["orgs"]["qa"]["decision"] == "go"
    assert gate["reasons"] == ["prod: 1 failed check"]
    result.stdout.fnmatch_lines(["prod *production *2 *1 *0 *0 *NO-GO", "GATE: NO-GO (1 reason) *"])


def test_error_is_no_go(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks=CHECKS + """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")

def test_uses_broken(org, broken):
    pass
""")
    result = run(landscape)
    assert result.ret == 1
    gate = read_gate(landscape.path)
    assert reasons(gate, "qa") == ["RuntimeError: fixture exploded"]
    assert gate["counts"]["errors"] == 2 and gate["decision"] == "no-go"


def test_salesforce_errors_are_one_line(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks="""
def test_bad_query(org):
    org.client.query("SELECT Nope FROM Account")
""")
    result = run(landscape, "--orgs", "qa")
    gate = read_gate(landscape.path)
    (reason,) = reasons(gate, "qa")
    assert reason.startswith("qa: INVALID_FIELD: ") and "\n" not in reason
    result.stdout.fnmatch_lines(["qa: INVALID_FIELD: *"])
    assert "Traceback" not in result.stdout.str()


def test_unreachable_org_is_no_go_and_others_unaffected(project: pytest.Pytester) -> None:
    write_landscape(project.path, ORGS, states=[state("prod", "production", faults={"down": True}), state("qa")])
    project.makepyfile(test_checks=CHECKS)
    result = run(project)
    assert result.ret == 1
    gate = read_gate(project.path)
    prod, qa = gate["orgs"]["prod"], gate["orgs"]["qa"]
    assert prod["reachable"] is False and prod["decision"] == "no-go"
    assert all(e["reason"].startswith("prod: unreachable: ") for e in prod["errors"]) and len(prod["errors"]) == 2
    assert qa["decision"] == "go" and qa["counts"]["passed"] == 2
    assert gate["counts"]["passed"] == 2
    assert gate["reasons"][0].startswith("prod: unreachable: CONNECTION_FAILED: ")
    assert gate["landscape"]["failed"][0]["check"] == "test_checks.py::test_everywhere"
    result.stdout.fnmatch_lines(["prod: unreachable: *", "prod *production *0 *0 *2 *0 *0 *NO-GO (unreachable)"])
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()


def test_zero_tests_is_no_go(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks=CHECKS)
    result = run(landscape, "-k", "nothing_matches")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go" and "no check was executed" in gate["reasons"]


def test_only_skips_is_no_go_even_when_pytest_says_ok(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks="import pytest\n\ndef test_s(org):\n    pytest.skip('declare expect.x')\n")
    result = run(landscape)
    assert result.ret == 1
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go"
    assert gate["orgs"]["qa"]["skipped"][0]["reason"] == "declare expect.x"


@pytest.mark.parametrize(("body", "args", "expected"), [
    ("raise KeyboardInterrupt", (), "run interrupted: KeyboardInterrupt"),
    ("pytest.exit('maintenance window closed')", (), "run interrupted: Exit: maintenance window closed"),
    ("assert False, 'first failure'", ("-x",), "run interrupted: stopping after 1 failures"),
])
def test_interrupted_run_writes_a_no_go_gate(landscape: pytest.Pytester, body: str, args: tuple[str, ...],
                                              expected: str) -> None:
    landscape.makepyfile(test_checks=f"import pytest\n\ndef test_a(org):\n    pass\n\ndef test_b(org):\n    {body}\n")
    result = run(landscape, *args)
    assert result.ret != 0
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go"
    assert expected in gate["reasons"]


def test_collection_error_is_no_go(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks=CHECKS, test_broken="def test_x(org:\n    pass\n")
    result = run(landscape)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    gate = read_gate(landscape.path)
    assert gate["decision"] == "no-go"
    assert any(r.startswith("collection error: test_broken.py") for r in gate["reasons"])


def test_warning_marker_and_xfail(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks=CHECKS + """
import pytest

@pytest.mark.warning
def test_soft(org):
    assert False, f"{org.name}: sandbox on a preview instance"
""")
    assert run(landscape).ret == 0
    gate = read_gate(landscape.path)
    assert gate["decision"] == "go"
    assert gate["orgs"]["qa"]["warnings"][0]["reason"] == "qa: sandbox on a preview instance"
    landscape.makepyfile(test_more="import pytest\n\n@pytest.mark.xfail(reason='known')\ndef "
                                   "test_x(org):\n    assert 0\n")
    assert run(landscape).ret == 1
    assert read_gate(landscape.path)["decision"] == "no-go"


def test_gate_file_option_and_phase_from_markexpr(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks=CHECKS + "\nimport pytest\n\n@pytest.mark.readiness\ndef test_r(org):\n    pass\n")
    target = landscape.path / "out" / "readiness.json"
    result = run(landscape, "-m", "readiness", f"--gate-file={target}")
    assert result.ret == 0
    gate = json.loads(target.read_text())
    assert gate["phase"] == "readiness" and gate["counts"]["passed"] == 2
    assert not list(target.parent.glob(".*tmp"))


def test_xdist_gives_the_same_gate(landscape: pytest.Pytester) -> None:
    landscape.makepyfile(test_checks=CHECKS + """
def test_flow(org):
    assert org.name != "prod", "prod: flow X: expected active, found inactive"

def test_worker_input_has_no_secrets(request, profile):
    worker_input = getattr(request.config, "workerinput", {})
    assert set(worker_input.get("lockstep_emulator", {})) <= {"url", "ca_cert"}
    assert not any("token" in key for key in worker_input)
""")
    serial = run(landscape)
    serial_gate = read_gate(landscape.path)
    parallel = landscape.runpytest("--org-profile", "p", "-p", "no:cacheprovider", "-n", "2")
    parallel_gate = read_gate(landscape.path)
    assert serial.ret == parallel.ret == 1
    assert parallel_gate["counts"] == serial_gate["counts"]
    assert {n: (o["decision"], o["failed"]) for n, o in parallel_gate["orgs"].items()} == {
        n: (o["decision"], o["failed"]) for n, o in serial_gate["orgs"].items()}
    assert all(o["api_calls"] >= 1 for o in parallel_gate["orgs"].values())
    assert parallel_gate["reasons"] == serial_gate["reasons"]
    parallel.stdout.fnmatch_lines(["*GATE: NO-GO (1 reason)*"])


def test_xdist_keeps_each_org_on_one_worker(landscape: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKSTEP_WHERE", str(landscape.path / "where"))
    landscape.makepyfile(test_checks="""
import os
from pathlib import Path

import pytest

@pytest.mark.parametrize("n", range(4))
def test_where(org, n):
    folder = Path(os.environ["LOCKSTEP_WHERE"])
    folder.mkdir(exist_ok=True)
    (folder / f"{org.name}-{os.environ['PYTEST_XDIST_WORKER']}").touch()
""")
    result = landscape.runpytest("--org-profile", "p", "-p", "no:cacheprovider", "-n", "2")
    assert result.ret == 0
    seen = sorted(p.name.split("-")[0] for p in (landscape.path / "where").iterdir())
    assert seen == ["prod", "qa"]


def test_secrets_never_reach_the_output(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox",
                                    "auth": {"method": "access_token", "access_token": "${LOCKSTEP_T}",
                                             "instance_url": "https://127.0.0.1:9"}}])
    monkeypatch.setenv("LOCKSTEP_T", "00Dxx!very-secret-access-token")
    project.makepyfile(test_checks="""
import os

def test_leak(org):
    pass

def test_prints(profile):
    token = profile.org("qa").auth.get("access_token").reveal()
    print("token is", token)
    assert token == "nope", f"token was {token}"
""")
    result = run(project)
    assert result.ret == 1
    output = result.stdout.str() + result.stderr.str() + (project.path / "reports" / "gate.json").read_text()
    assert "very-secret-access-token" not in output
    assert "token was ***" in output


PER_ORG_CHECKS = """
import pytest

pytestmark = pytest.mark.facts("flows", "apex_triggers", "validation_rules", "named_credentials", "remote_sites",
                               "scheduled_jobs", "async_jobs", "limits")

@pytest.mark.parametrize("n", range(3))
def test_per_org(org, n):
    assert org.facts.flows == () and org.facts.limits
"""
CROSS_ORG_CHECK = """
import os
from pathlib import Path

import pytest

@pytest.mark.facts({facts})
def test_cross_{name}(orgs):
    Path(os.environ["LOCKSTEP_WHERE"], "{name}-" + os.environ.get("PYTEST_XDIST_WORKER", "main")).touch()
    assert [o.facts.{read} for o in orgs]
"""


def test_xdist_logs_in_once_per_org_and_cross_org_checks_share_one_worker(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under -n 2 an org costs at most its serial API calls plus what the cross-org checks read
    from it (once, on the one worker that runs them all); decisions and counts are the same."""
    names = ("a", "b", "c")
    write_landscape(project.path, [{"name": n, "kind": "sandbox"} for n in names])
    where = project.path / "where"
    where.mkdir()
    monkeypatch.setenv("LOCKSTEP_WHERE", str(where))
    project.makepyfile(
        test_per_org=PER_ORG_CHECKS,
        test_cross_one=CROSS_ORG_CHECK.format(name="one", facts='"packages"', read="packages"),
        test_cross_two=CROSS_ORG_CHECK.format(name="two", facts='"organization"', read="organization"),
    )

    def api_calls(*args: str) -> dict[str, Any]:
        for file in where.iterdir():
            file.unlink()
        result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", *args)
        gate = read_gate(project.path)
        assert gate["counts"]["failed"] == gate["counts"]["errors"] == 0, result.stdout.str()[-3000:]
        return {"calls": {n: o["api_calls"] for n, o in gate["orgs"].items()}, "counts": gate["counts"],
                "decisions": {n: o["decision"] for n, o in gate["orgs"].items()}}

    cross = api_calls("-k", "cross")["calls"]  # what the cross-org checks alone cost each org
    assert cross == dict.fromkeys(names, 2)  # one data query (organization), one tooling query (packages)
    serial = api_calls()
    parallel = api_calls("-n", "2")
    assert set(serial["decisions"].values()) == {"go"}
    assert parallel["decisions"] == serial["decisions"] and parallel["counts"] == serial["counts"]
    for name in names:
        assert parallel["calls"][name] <= serial["calls"][name] + cross[name], (parallel, serial, cross)
    workers = {p.name.split("-", 1)[1] for p in where.iterdir()}
    assert len(workers) == 1 and workers != {"main"}, workers
