"""``lockstep snapshot`` of a package's owner org: the copy serves the same subscriber fleet."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import yaml
from inprocess import run_pytest
from plugin_helpers import org_reports

from lockstep.cli import main
from lockstep.commands.snapshot_fleet import fleet_state
from lockstep.emulator import Emulator
from lockstep.salesforce.errors import SalesforceError, SessionExpired

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
FLEET = {"package": "acme_cpq", "target": "2.5.0.1", "max_lagging_percent": 2, "push_grace_minutes": 120}
# Every packaging object with every field the loader sets, besides the audit fields.
SERVED = {
    "MetadataPackage": "Id, Name, NamespacePrefix, PackageCategory",
    "MetadataPackageVersion": "Id, Name, MetadataPackageId, MajorVersion, MinorVersion, PatchVersion, BuildNumber, "
                              "ReleaseState, IsDeprecated",
    "PackageSubscriber": "Id, OrgKey, OrgName, OrgType, OrgStatus, InstanceName, ParentOrg, InstalledStatus, "
                         "MetadataPackageId, MetadataPackageVersionId, HasRestrictionEnabled, CustomUpgradeType",
    "PackagePushRequest": "Id, PackageVersionId, Status, ScheduledStartTime",
    "PackagePushJob": "Id, PackagePushRequestId, SubscriberOrganizationKey, Status, StartTime, EndTime, "
                      "DurationSeconds",
    "PackagePushError": "Id, PackagePushJobId, ErrorType, ErrorSeverity, ErrorTitle",
}


def _served(emulator: Emulator, org: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the packaging objects ``org`` serves, by object, ordered by Id."""
    session = requests.Session()
    session.verify, session.trust_env = str(emulator.ca_cert), False
    token = next(o["access_token"] for o in emulator.orgs if o["name"] == org)
    session.headers["Authorization"] = f"Bearer {token}"
    served = {}
    try:
        for sobject, fields in SERVED.items():
            body = session.get(f"{emulator.url}/services/data/v62.0/query",
                               params={"q": f"SELECT {fields} FROM {sobject} ORDER BY Id"}, timeout=30).json()
            rows = list(body["records"])
            while body.get("nextRecordsUrl"):
                body = session.get(f"{emulator.url}{body['nextRecordsUrl']}", timeout=30).json()
                rows.extend(body["records"])
            served[sobject] = [{k: v for k, v in row.items() if k != "attributes"} for row in rows]
    finally:
        session.close()
    return served


def _profile(root: Path, name: str, fleet: dict[str, Any], emulator: Emulator | None = None,
             states: str | None = None) -> str:
    org: dict[str, Any] = {"name": "packaging", "kind": "packaging", "expect": {"fleet": fleet}}
    profile: dict[str, Any] = {"orgs": [org]}
    if emulator is not None:
        (root / "ca.pem").write_bytes(emulator.ca_cert.read_bytes())  # outlives the emulator
        org["auth"] = {"method": "emulator", "url": emulator.url, "ca_file": str(root / "ca.pem")}
    if states is not None:
        profile["emulator"] = states
    (root / "profiles").mkdir(exist_ok=True)
    (root / "profiles" / f"{name}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return name


def _snapshot(root: Path, profile: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> int:
    """Copy the packaging org to profiles/copy/packaging.yaml; the API calls it took."""
    monkeypatch.chdir(root)
    assert main(["snapshot", "--org-profile", profile, "--org", "packaging", "-o", "profiles/copy/packaging.yaml"]) == 0
    out = capsys.readouterr().out
    calls = re.search(r"\((\d+) API calls", out)
    assert calls, out
    return int(calls[1])


def _fleet_findings(root: Path, profile: str) -> dict[str, list[tuple[str, str]]]:
    """The fleet checks' findings on the packaging org: failed, skipped and warned, with reasons."""
    gate = root / "reports" / f"{profile}.json"
    run = run_pytest(root, str(REPO / "checks" / "test_fleet.py"), "-q", "-p", "no:cacheprovider",
                     f"--org-profile={root / 'profiles' / (profile + '.yaml')}", f"--now={NOW.isoformat()}",
                     "--gate-file", str(gate))
    assert gate.exists(), (run.stdout + run.stderr)[-3000:]
    entry = json.loads(gate.read_text())["orgs"]["packaging"]
    return {kind: sorted((i["check"].rsplit("::", 1)[-1], i["reason"]) for i in entry[kind])
            for kind in ("failed", "skipped", "warnings")}


def _copy_and_compare(root: Path, states: Path, fleet: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, list[tuple[str, str]]]]:
    """Snapshot the packaging org of ``states``; check the copy serves the same rows and is judged
    the same by the fleet checks. The snapshot's API calls and the findings."""
    with Emulator(states, port=0, now=NOW) as source:
        calls = _snapshot(root, _profile(root, "source", fleet, source), monkeypatch, capsys)
        assert org_reports(source, ["packaging"])["packaging"]["writes"] == []
        original = _served(source, "packaging")
        findings = _fleet_findings(root, "source")
    with Emulator(root / "profiles" / "copy", port=0, now=NOW) as copy:
        assert _served(copy, "packaging") == original
    assert _fleet_findings(root, _profile(root, "copy", fleet, states="copy")) == findings
    return calls, findings


def test_a_packaging_orgs_snapshot_keeps_its_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    calls, findings = _copy_and_compare(tmp_path, REPO / "profiles" / "demo", FLEET, monkeypatch, capsys)
    print(f"demo packaging org: {calls} API calls")
    failed = dict(findings["failed"])
    assert "122 of 3002 subscribers (4.1%) lag 2.5.0.1" in failed["test_fleet_on_target_version"]
    assert "Vandelay Industries" in failed["test_push_upgrade_succeeded"]
    assert "Umbrella Corporation" in dict(findings["warnings"])["test_subscribers_accept_push_upgrades"]
    copy = (tmp_path / "profiles" / "copy" / "packaging.yaml").read_text()
    assert "fleet:" not in copy and "seed:" not in copy  # explicit rows, not the generator
    assert "Assertion Failed" not in copy  # a push error's message is free text from the subscriber's org
    assert calls <= 8, f"the demo's packaging org (3,002 subscribers) took {calls} API calls"


def test_a_10000_subscriber_fleet_is_copied_in_a_few_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    states = tmp_path / "states"
    states.mkdir()
    state = {
        "org": {"name": "packaging", "kind": "production"},
        "packaging": {
            "packages": [{"namespace": "acme_cpq", "name": "Acme CPQ", "versions": ["2.4.0.1", "2.5.0.1"]},
                         {"namespace": "acme_sign", "name": "Acme Sign", "versions": ["1.0.0.1"]}],
            "fleet": [{"package": "acme_cpq", "seed": 11, "versions": {"2.5.0.1": 9700, "2.4.0.1": 300},
                       "org_types": {"Production": 6000, "Sandbox": 4000},
                       "statuses": {"Active": 9900, "Inactive": 60, "Trial": 40},
                       "instances": {"NA211": 5000, "EU44": 5000}},
                      {"package": "acme_sign", "seed": 3, "versions": {"1.0.0.1": 25}}],
            "subscribers": [{"package": "acme_cpq", "org_name": "Initech", "version": "2.4.0.1", "blocked": True,
                             "parent_org": "00D000000000001AAA"},
                            {"package": "acme_cpq", "org_name": "Gone Corp", "version": "2.4.0.1", "installed": "u"}],
            "push_requests": [
                {"package": "acme_cpq", "version": "2.4.0.1", "status": "Succeeded", "scheduled": "-P30D"},
                {"package": "acme_cpq", "version": "2.5.0.1", "status": "In Progress", "scheduled": "-PT5H",
                 "jobs": [{"org": "Initech", "status": "Failed", "started": "-PT4H", "ended": "-PT3H",
                           "errors": [{"type": "DeployError", "title": "Field in use", "message": "private text"},
                                      {"type": "LimitExceeded", "severity": "Warning", "title": "Close to limit"}]},
                          {"org": "Gone Corp", "status": "Pending"}]},
            ],
        },
    }
    (states / "packaging.yaml").write_text(yaml.safe_dump(state, sort_keys=False))
    fleet = {**FLEET, "statuses": ["Active", "Trial", "Inactive"]}
    calls, findings = _copy_and_compare(tmp_path, states, fleet, monkeypatch, capsys)
    print(f"10,000 subscribers: {calls} API calls")
    failed = dict(findings["failed"])
    assert "301 of 10001 subscribers" in failed["test_fleet_on_target_version"]
    assert "Initech (00D" in failed["test_push_upgrade_succeeded"]
    assert calls <= 16, f"a 10,000-subscriber fleet took {calls} API calls"


def test_a_retried_push_upgrade_is_copied_as_its_own_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Two pushes to one version (a failed push, then a retry that succeeded) stay two requests, each
    with its own jobs, in the org and in its copy: the release's push is the retry, which succeeded."""
    states = tmp_path / "states"
    states.mkdir()
    push = {"package": "acme_cpq", "version": "2.5.0.1"}
    (states / "packaging.yaml").write_text(yaml.safe_dump({
        "org": {"name": "packaging", "kind": "production"},
        "packaging": {
            "packages": [{"namespace": "acme_cpq", "versions": ["2.4.0.1", "2.5.0.1"]}],
            "subscribers": [{"package": "acme_cpq", "org_name": name, "version": "2.5.0.1"} for name in ("A", "B")],
            "push_requests": [
                {**push, "status": "Failed", "scheduled": "-P2D",
                 "jobs": [{"org": "A", "status": "Failed", "errors": [{"type": "DeployError", "title": "locked"}]}]},
                {**push, "status": "Succeeded", "scheduled": "-P1D"},
            ],
        },
    }))
    with Emulator(states, port=0, now=NOW) as source:
        served = _served(source, "packaging")
    assert len({row["Id"] for row in served["PackagePushRequest"]}) == 2
    assert len({row["Id"] for row in served["PackagePushJob"]}) == 4
    _, findings = _copy_and_compare(tmp_path, states, FLEET, monkeypatch, capsys)
    assert findings["failed"] == []


class _Refusing:
    """An org's answers where every packaging query fails with ``error`` (no API call needed)."""

    def __init__(self, error: SalesforceError) -> None:
        self.error, self.asked = error, 0

    def gather(self, requests: Any) -> None:
        self.asked += len(list(requests))

    def result(self, request: Any) -> Any:
        raise self.error


def test_an_org_without_packaging_objects_is_copied_without_a_fleet() -> None:
    """A production org of a customer answers INVALID_TYPE for PackageSubscriber: no fleet, no
    failure; an org in trouble (session expired) is not mistaken for one without a fleet."""
    org = SimpleNamespace(answers=_Refusing(SalesforceError(
        "prod", "INVALID_TYPE", "sObject type 'PackageSubscriber' is not supported.", 400)))
    assert fleet_state(org) is None and org.answers.asked == 5  # type: ignore[arg-type]
    org = SimpleNamespace(answers=_Refusing(SessionExpired("prod", None, "Session expired or invalid", 401)))
    with pytest.raises(SessionExpired):
        fleet_state(org)  # type: ignore[arg-type]
