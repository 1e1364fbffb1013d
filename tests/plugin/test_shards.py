"""Beyond one runner: ``--org-shard i/n`` splits the orgs across CI runners, and
``lockstep gate merge`` turns the shards' gates into one decision that is "go" only when
every shard passed and together they verified every org exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from inprocess import gate_cli, run_pytest
from plugin_helpers import write_landscape

from lockstep.session.shards import shard_of

# qa and uat fall in shard 1 of 3, prod and dev in shard 2, sub-c in shard 3
ORGS = [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}, {"name": "uat", "kind": "sandbox"},
        {"name": "dev", "kind": "sandbox"}, {"name": "sub-c", "kind": "production"}]
CATALOG = '''
import pytest

def test_reachable(org):
    assert org.name

def test_not_flagged(org):
    assert "flagged" not in org.tags, f"{org.name}: flagged"

@pytest.mark.facts("packages")
def test_sees_every_org(orgs, profile, pytestconfig):
    wanted = pytestconfig.getoption("orgs")
    assert [o.name for o in orgs] == sorted(wanted.split(",") if wanted else [o.name for o in profile.orgs])

def test_landscape(profile):
    assert profile.name == "p"
'''


def project_at(root: Path, flagged: str | None = None, **profile: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\ntestpaths = checks\n")
    (root / "checks").mkdir(exist_ok=True)
    (root / "checks" / "test_catalog.py").write_text(CATALOG)
    orgs = [{**o, "tags": ["flagged"]} if o["name"] == flagged else o for o in ORGS]
    write_landscape(root, orgs, **profile)
    return root


def pytest_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pytest(cwd, "-p", "no:cacheprovider", "--org-profile=p", *args)


def gate_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``lockstep gate`` as CI runs it: its own process."""
    return subprocess.run([sys.executable, "-m", "lockstep.cli", "gate", *args], capture_output=True, text=True,
                          timeout=60)


def run_shards(project: Path, count: int = 3, *extra: str, run_id: str = "run-7",
               only: tuple[int, ...] = ()) -> list[Path]:
    paths = []
    for index in only or range(1, count + 1):
        path = project / "reports" / f"shard-{index}.json"
        pytest_in(project, f"--org-shard={index}/{count}", f"--gate-file={path}", f"--run-id={run_id}", *extra)
        paths.append(path)
    return paths


def merge(out: Path, *paths: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = gate_cli("merge", *map(str, paths), "-o", str(out))
    return result, json.loads(out.read_text()) if out.exists() else {}


def results(gate: dict[str, Any]) -> dict[str, Any]:
    """Per-org outcomes without what differs between runs (API calls: shard 1 logs in to every org)."""
    return {name: {k: v for k, v in entry.items() if k != "api_calls"} for name, entry in gate["orgs"].items()}


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A 5-org project run as 3 shards (one gate each), all go."""
    project = project_at(tmp_path_factory.mktemp("sharded"))
    return project, run_shards(project)


@pytest.mark.parametrize("flagged", [None, "sub-c"])
def test_merged_shards_decide_like_one_unsharded_run(tmp_path: Path, flagged: str | None) -> None:
    project = project_at(tmp_path, flagged)
    whole = pytest_in(project, "--run-id=run-7")
    unsharded = json.loads((project / "reports" / "gate.json").read_text())
    shards = run_shards(project)
    result = gate_process("merge", *map(str, shards), "-o", str(project / "reports" / "merged.json"))
    merged = json.loads((project / "reports" / "merged.json").read_text())
    assert result.returncode == whole.returncode == (0 if flagged is None else 1), result.stderr
    assert merged["decision"] == unsharded["decision"]
    assert results(merged) == results(unsharded)
    assert merged["counts"] == unsharded["counts"]
    assert merged["landscape"] == unsharded["landscape"]
    assert [s["orgs"] for s in merged["shards"]] == [["qa", "uat"], ["dev", "prod"], ["sub-c"]]
    check = gate_process("check", str(project / "reports" / "merged.json"), "--run-id", "run-7")
    assert check.returncode == whole.returncode, check.stderr
    if flagged:
        assert "sub-c: 1 failed check" in merged["reasons"]
        assert "shard 3/3 (" in "".join(merged["reasons"])


def test_a_shard_gate_records_its_share_and_alone_is_refused_as_partial(sharded: tuple[Path, list[Path]]) -> None:
    _, (first, second, _) = sharded
    gate = json.loads(second.read_text())
    assert gate["decision"] == "go" and gate["complete"] is False
    assert gate["shard"] == {"index": 2, "count": 3, "orgs": ["dev", "prod"],
                             "selected": sorted(o["name"] for o in ORGS),
                             "profile_orgs": sorted(o["name"] for o in ORGS),
                             "cross_org": False, "complete": True, "cross_org_api_calls": {}}
    assert sorted(gate["orgs"]) == ["dev", "prod"] and gate["deselected"] == 0
    assert json.loads(first.read_text())["counts"]["executed"] == 2 * 2 + 2  # cross-org and landscape: shard 1
    assert gate["counts"]["executed"] == 2 * 2
    check = gate_cli("check", str(second))
    assert check.returncode == 1
    assert "not the gate of a complete run: a partial run (shard 2/3 only: merge every shard's gate with lockstep" \
           " gate merge)" in check.stderr


def test_shard_one_charges_its_calls_to_other_shards_orgs_in_the_merge(sharded: tuple[Path, list[Path]],
                                                                       tmp_path: Path) -> None:
    _, shards = sharded
    first = json.loads(shards[0].read_text())["shard"]
    assert sorted(first["cross_org_api_calls"]) == ["dev", "prod", "sub-c"]
    _, merged = merge(tmp_path / "m.json", *shards)
    for name in ("dev", "prod", "sub-c"):
        own = next(json.loads(p.read_text())["orgs"][name]["api_calls"] for p in shards
                   if name in json.loads(p.read_text())["orgs"])
        assert merged["orgs"][name]["api_calls"] == own + first["cross_org_api_calls"][name]


def test_a_missing_shard_is_no_go_naming_its_orgs(sharded: tuple[Path, list[Path]], tmp_path: Path) -> None:
    _, (first, second, _) = sharded
    result, merged = merge(tmp_path / "m.json", first, second)
    assert result.returncode == 1 and merged["decision"] == "no-go"
    assert "orgs verified by no shard: sub-c" in merged["reasons"]
    assert gate_cli("check", str(tmp_path / "m.json")).returncode == 1


def test_a_missing_first_shard_means_cross_org_checks_never_ran(sharded: tuple[Path, list[Path]],
                                                                tmp_path: Path) -> None:
    _, (first, second, third) = sharded
    gate = json.loads(first.read_text())
    gate["shard"]["cross_org"] = False  # a shard 1 that says it did not run them
    (tmp_path / "one.json").write_text(json.dumps(gate))
    result, merged = merge(tmp_path / "m.json", tmp_path / "one.json", second, third)
    assert result.returncode == 1
    assert merged["reasons"] == ["the cross-org and landscape checks never ran (no gate of shard 1)"]


def test_a_duplicated_shard_is_no_go_naming_the_orgs_verified_twice(sharded: tuple[Path, list[Path]],
                                                                     tmp_path: Path) -> None:
    _, (first, second, third) = sharded
    result, merged = merge(tmp_path / "m.json", first, second, third, second)
    assert result.returncode == 1
    assert (f"orgs verified by more than one shard: dev (shard 2/3 ({second}), shard 2/3 ({second})); "
            f"prod (shard 2/3 ({second}), shard 2/3 ({second}))") in merged["reasons"]


def test_shards_of_another_profile_release_or_run_are_refused(sharded: tuple[Path, list[Path]],
                                                              tmp_path: Path) -> None:
    _project, (first, second, _third) = sharded
    other = project_at(tmp_path / "other")
    profile = yaml.safe_load((other / "profiles" / "p.yaml").read_text())
    profile["orgs"][-1]["timeout"] = 30  # the profile changed between the shards' runs
    (other / "profiles" / "p.yaml").write_text(yaml.safe_dump(profile))
    edited, = run_shards(other, 3, "--release=R2", run_id="run-8", only=(3,))
    result, merged = merge(tmp_path / "m.json", first, second, edited)
    assert result.returncode == 1
    sha = json.loads(first.read_text())["profile"]["sha256"][:12]
    text = "\n".join(merged["reasons"])
    assert f"shards disagree on the profile: p (sha256 {sha}) in {first}, {second}; p (sha256" in text
    assert f"shards disagree on the run id: 'run-7' in {first}, {second}; 'run-8' in {edited}" in text
    assert f"shards disagree on the release: none in {first}, {second}; 'R2' in {edited}" in text


def test_shards_that_ran_other_checks_are_refused(sharded: tuple[Path, list[Path]], tmp_path: Path) -> None:
    """A shard whose runner had another version of the checks (an older checkout, an edited
    check file) cannot make a go with the others: the gates record what was collected."""
    _, (first, second, _) = sharded
    other = project_at(tmp_path / "other")
    (other / "checks" / "test_catalog.py").write_text(CATALOG + "\n\ndef test_added(org):\n    pass\n")
    edited, = run_shards(other, 3, only=(3,))
    result, merged = merge(tmp_path / "m.json", first, second, edited)
    assert result.returncode == 1 and merged["decision"] == "no-go"
    assert any(r.startswith("shards disagree on the checks: 'lockstep ") and str(edited) in r
               for r in merged["reasons"]), merged["reasons"]
    assert merged["catalog"] == json.loads(first.read_text())["catalog"]


def test_a_no_go_or_unfinished_shard_makes_the_merge_no_go(sharded: tuple[Path, list[Path]], tmp_path: Path) -> None:
    project, (first, second, _) = sharded
    flagged = project_at(tmp_path / "flagged", flagged="sub-c")
    third, = run_shards(flagged, 3, only=(3,))
    result, merged = merge(tmp_path / "m.json", first, second, third)
    assert result.returncode == 1
    assert {f"shard 3/3 ({third}): no-go (1 reasons)", "sub-c: 1 failed check"} <= set(merged["reasons"])
    unfinished = tmp_path / "unfinished.json"
    pytest_in(project, "--org-shard=3/3", f"--gate-file={unfinished}", "--run-id=run-7", "--now=not-a-time")
    result, merged = merge(tmp_path / "m2.json", first, second, unfinished)
    assert result.returncode == 1
    assert any(r.startswith(f"shard 3/3 ({unfinished}): not the gate of a finished shard") and "--now" in r
               for r in merged["reasons"])
    assert "orgs verified by no shard: sub-c" in merged["reasons"]


def test_a_run_narrowed_besides_the_shard_merges_into_a_partial_gate(tmp_path: Path) -> None:
    project = project_at(tmp_path)
    shards = run_shards(project, 3, "--orgs=prod,qa,uat,dev", only=(1, 2))
    result, merged = merge(tmp_path / "m.json", *shards)
    assert result.returncode == 0 and merged["decision"] == "go" and merged["complete"] is False
    assert "not the gate of a complete run: a partial run (--orgs 'prod,qa,uat,dev')" in result.stderr
    assert gate_cli("check", str(tmp_path / "m.json")).returncode == 1
    assert gate_cli("check", str(tmp_path / "m.json"), "--allow-partial").returncode == 0


@pytest.mark.parametrize("value", ["0/3", "4/3", "3", "a/b", "1/0", "-1/2"])
def test_a_bad_shard_is_a_one_line_usage_error(tmp_path: Path, value: str) -> None:
    project = project_at(tmp_path)
    result = pytest_in(project, f"--org-shard={value}")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.strip().splitlines() == [
        f"ERROR: --org-shard {value!r}: expected i/n with 1 <= i <= n, e.g. --org-shard 2/4"]


def test_a_shard_without_orgs_is_refused_not_passed(tmp_path: Path) -> None:
    project = project_at(tmp_path)
    empty = next(i for i in range(1, 9) if all(shard_of(o["name"], 8) != i for o in ORGS))
    result = pytest_in(project, f"--org-shard={empty}/8")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"--org-shard {empty}/8: no org of profile p falls in this shard (5 orgs across 8 shards)" in result.stderr
    assert json.loads((project / "reports" / "gate.json").read_text())["decision"] == "no-go"


def test_malformed_input_is_exit_2_with_one_line_and_writes_nothing(sharded: tuple[Path, list[Path]],
                                                                   tmp_path: Path) -> None:
    _, (first, *_) = sharded
    bad = tmp_path / "bad.json"
    gate = json.loads(first.read_text())
    gate["shard"]["orgs"] = "qa"
    bad.write_text(json.dumps(gate))
    for path, line in ((bad, f"lockstep gate: {bad}: not a gate file: shard.orgs: expected a list of org names"),
                       (tmp_path / "none.json", f"lockstep gate: {tmp_path / 'none.json'}: no such gate file")):
        result, merged = merge(tmp_path / "out.json", first, path)
        assert result.returncode == 2 and result.stderr.splitlines() == [line] and merged == {}


def test_an_org_keeps_its_shard_when_orgs_are_added() -> None:
    names = [f"org{n:04d}" for n in range(200)]
    before = {name: shard_of(name, 4) for name in names}
    after = {name: shard_of(name, 4) for name in names + [f"new{n}" for n in range(50)]}
    assert all(after[name] == shard for name, shard in before.items())
    sizes = [list(before.values()).count(i) for i in range(1, 5)]
    assert min(sizes) > 30, sizes  # a hash spreads orgs roughly evenly


def test_a_shard_under_xdist_runs_its_orgs_and_the_cross_org_checks(sharded: tuple[Path, list[Path]],
                                                                    tmp_path: Path) -> None:
    project, (first, second, third) = sharded
    xdist = tmp_path / "x1.json"
    result = pytest_in(project, "--org-shard=1/3", f"--gate-file={xdist}", "--run-id=run-7", "-n", "2")
    assert result.returncode == 0, result.stdout
    gate = json.loads(xdist.read_text())
    assert results(gate) == results(json.loads(first.read_text()))
    assert gate["shard"]["cross_org_api_calls"].keys() == {"dev", "prod", "sub-c"}
    _, merged = merge(tmp_path / "m.json", xdist, second, third)
    assert merged["decision"] == "go"
    assert yaml.safe_load((project / "profiles" / "p.yaml").read_text())["orgs"] == ORGS
