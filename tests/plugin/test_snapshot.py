"""``lockstep snapshot``: a copy of an org that the catalog judges as it judges the org, without its secrets."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from inprocess import run_pytest
from plugin_helpers import org_reports

from lockstep.cli import main
from lockstep.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
DEMO = yaml.safe_load((REPO / "profiles" / "demo.yaml").read_text())


def _profile(root: Path, name: str, emulator: Emulator | None, states: str | None = None) -> None:
    """The demo's profile for orgs in ``emulator`` (or served from ``states``). Probes call no org and
    record automation writes, which a read-only copy cannot reproduce: both are left out."""
    profile = json.loads(json.dumps(DEMO))
    del profile["emulator"], profile["expect"]["probes"], profile["expect"]["record_automation"]
    if states:
        profile["emulator"] = states
    for org in profile["orgs"]:
        if emulator is not None:
            org["auth"] = {"method": "emulator", "url": emulator.url, "ca_file": str(emulator.ca_cert)}
    (root / "profiles").mkdir(exist_ok=True)
    (root / "profiles" / f"{name}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))


def _run_catalog(root: Path, profile: str) -> dict[str, Any]:
    gate = root / "reports" / f"{profile}.json"
    run = run_pytest(root, str(REPO / "checks"), f"--org-profile={root / 'profiles' / (profile + '.yaml')}", "-q",
                     "-p", "no:cacheprovider", "--gate-file", str(gate))
    assert gate.exists(), (run.stdout + run.stderr)[-3000:]
    data: dict[str, Any] = json.loads(gate.read_text())
    return data


def _outcomes(gate: dict[str, Any]) -> dict[str, Any]:
    """Per org: the counts of each outcome and every failed, erroring and skipped check with its reason."""
    orgs = {name: {"counts": entry["counts"], "decision": entry["decision"],
                   **{kind: sorted((i["test"], i["reason"]) for i in entry[kind])
                      for kind in ("failed", "errors", "skipped", "warnings")}}
            for name, entry in gate["orgs"].items()}
    return {"decision": gate["decision"], "orgs": orgs, "landscape": gate["landscape"], "reasons": gate["reasons"]}


def _snapshot(root: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(root)
    return main(["snapshot", *args])


def test_a_snapshot_is_judged_like_its_org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    names = [org["name"] for org in DEMO["orgs"]]
    with Emulator(REPO / "profiles" / "demo", port=0, now=now) as source:
        _profile(tmp_path, "source", source)
        for name in names:
            assert _snapshot(tmp_path, "--org-profile", "source", "--org", name, "-o", f"profiles/copy/{name}.yaml",
                             "--records", "Account,Case", monkeypatch=monkeypatch) == 0
        # Read-only: the snapshot wrote nothing to any org.
        assert all(not report["writes"] for report in org_reports(source, names).values())
    with Emulator(REPO / "profiles" / "demo", port=0, now=now) as fresh:  # the orgs as the snapshot found them
        _profile(tmp_path, "source", fresh)
        original = _run_catalog(tmp_path, "source")
    _profile(tmp_path, "copy", None, states="copy")
    copied = _run_catalog(tmp_path, "copy")
    assert original["decision"] == "no-go" and len(original["reasons"]) >= 5
    assert _outcomes(copied) == _outcomes(original)


PLANTED = ("s3cr3t-client-secret", "hunter2-password", "refresh-token-xyz", "jane.doe@example.org", "+1-555-0100",
           "Jane", "Doe", "basic-auth-pass", "api-key-in-query", "Private note about Jane")


def test_a_snapshot_leaves_out_secrets_and_personal_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    states = tmp_path / "states"
    states.mkdir()
    state = {
        "org": {"name": "src", "kind": "sandbox"},
        "username": "admin@src.example.com",
        "credentials": {"client_id": "ci-1", "client_secret": PLANTED[0], "password": PLANTED[1],
                        "refresh_token": PLANTED[2]},
        "users": [{"Username": PLANTED[3], "FirstName": PLANTED[5], "LastName": PLANTED[6],
                   "Email": PLANTED[3], "Profile": "Standard User"}],
        "permission_sets": [{"name": "Support", "objects": {"Case": ["read"]}, "assigned_to": [PLANTED[3]]}],
        "named_credentials": [{"name": "Svc", "endpoint": f"https://svc:{PLANTED[7]}@api.example.com/v1?key={PLANTED[8]}"}],
        "records": {
            "Contact": [{"FirstName": PLANTED[5], "LastName": PLANTED[6], "Email": PLANTED[3], "Phone": PLANTED[4]}],
            "Case": [{"Subject": "Printer broken", "Description": PLANTED[9], "SuppliedEmail": PLANTED[3],
                      "SuppliedPhone": PLANTED[4], "Origin": "Email"}],
        },
    }
    (states / "src.yaml").write_text(yaml.safe_dump(state))
    with Emulator(states, port=0) as source:
        _profile_of(tmp_path, source)
        done = _snapshot(tmp_path, "--org-profile", "p", "--org", "src", "-o", "copy/src.yaml",
                         "--records", "Contact,Case", monkeypatch=monkeypatch)
        token = source.orgs[0]["access_token"]
    assert done == 0
    text = (tmp_path / "copy" / "src.yaml").read_text()
    assert [p for p in (*PLANTED, token, "ci-1") if p in text] == []
    copy = yaml.safe_load(text)
    assert "credentials" not in copy
    assert copy["named_credentials"] == [{"name": "Svc", "label": "Svc", "endpoint": "https://api.example.com/v1"}]
    assert copy["records"]["Case"][0]["Subject"] == "Printer broken"  # what is not personal is kept
    assert copy["permission_sets"][0]["assigned_to"] == ["user1@snapshot.invalid"]


def _profile_of(root: Path, emulator: Emulator, **expect: Any) -> None:
    (root / "ca.pem").write_bytes(emulator.ca_cert.read_bytes())  # outlives the emulator
    auth = {"method": "emulator", "url": emulator.url, "ca_file": str(root / "ca.pem")}
    (root / "profiles").mkdir(exist_ok=True)
    (root / "profiles" / "p.yaml").write_text(yaml.safe_dump(
        {"expect": expect, "orgs": [{"name": "src", "kind": "sandbox", "auth": auth}]}))


def test_snapshot_refuses_to_overwrite_and_names_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    states = tmp_path / "states"
    states.mkdir()
    (states / "src.yaml").write_text(yaml.safe_dump({"org": {"name": "src", "kind": "sandbox"}}))
    with Emulator(states, port=0) as source:
        _profile_of(tmp_path, source)
        (tmp_path / "kept.yaml").write_text("mine\n")
        assert _snapshot(tmp_path, "--org-profile", "p", "--org", "src", "-o", "kept.yaml",
                         monkeypatch=monkeypatch) == 2
        assert capsys.readouterr().err == "lockstep snapshot: kept.yaml exists; pass --force to replace it\n"
        assert (tmp_path / "kept.yaml").read_text() == "mine\n"
        assert _snapshot(tmp_path, "--org-profile", "p", "--org", "nope", "-o", "x.yaml", monkeypatch=monkeypatch) == 2
        assert capsys.readouterr().err.startswith("lockstep snapshot: no org named 'nope' in profile 'p'; orgs: src")
        assert _snapshot(tmp_path, "--org-profile", "p", "--org", "src", "-o", "x.yaml", "--records", "Gadget",
                         monkeypatch=monkeypatch) == 2
        assert capsys.readouterr().err.startswith("lockstep snapshot: --records: cannot copy records of 'Gadget'; "
                                                  "objects: Account, Case, Contact, Lead, Opportunity")
        assert _snapshot(tmp_path, "--org-profile", "p", "--org", "src", "-o", "x.yaml", "--records", "User",
                         monkeypatch=monkeypatch) == 2
        assert "cannot copy records of 'User'" in capsys.readouterr().err
        assert _snapshot(tmp_path, "--org-profile", "p", "--org", "src", "-o", "kept.yaml", "--force",
                         monkeypatch=monkeypatch) == 0
        assert yaml.safe_load((tmp_path / "kept.yaml").read_text())["org"]["name"] == "src"
        capsys.readouterr()
        session = source.orgs[0]
    # The org gone: one line naming the org, exit 1, nothing written, no partial file left.
    assert _snapshot(tmp_path, "--org-profile", "p", "--org", "src", "-o", "gone.yaml", monkeypatch=monkeypatch) == 1
    err = capsys.readouterr().err
    assert err.startswith("lockstep snapshot: src: ") and err.count("\n") == 1 and session["access_token"] not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca.pem", "kept.yaml", "profiles", "states"]
