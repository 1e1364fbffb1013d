"""State files: defaults for a minimal org, clear one-line errors, and loading hundreds fast."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from emulator_helpers import StateFactory, salesforce, session_for

from lockstep.config.errors import ConfigError
from lockstep.emulator.api.rest import release_label
from lockstep.emulator.state.load import load_states


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_state_gets_salesforce_defaults(start_emulator: StateFactory) -> None:
    emu = start_emulator({"org": {"name": "tiny"}})
    assert emu.orgs[0]["username"] == "admin@tiny.example.com"
    assert emu.orgs[0]["org_id"].startswith("00D") and len(emu.orgs[0]["org_id"]) == 18
    sf = salesforce(emu, "tiny")
    org = sf.query("SELECT Name, IsSandbox, OrganizationType FROM Organization")["records"][0]
    assert (org["Name"], org["IsSandbox"], org["OrganizationType"]) == ("tiny", False, "Enterprise Edition")
    users = sf.query("SELECT Username, Profile.Name FROM User")["records"]
    assert [(u["Username"], u["Profile"]["Name"]) for u in users] == [("admin@tiny.example.com",
                                                                       "System Administrator")]
    assert sf.limits()["DailyApiRequests"]["Max"] == 1000000
    versions = session_for(emu).get(f"{emu.url}/services/data/").json()
    assert versions[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
    assert versions[-1] == {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}


@pytest.mark.parametrize(("version", "label"), [("21.0", "Spring '11"), ("53.0", "Winter '22"), ("62.0", "Winter '25"),
                                                ("66.0", "Spring '26")])
def test_release_labels(version: str, label: str) -> None:
    assert release_label(version) == label


def test_ids_are_deterministic(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "org: {name: a}\nrecords:\n  Account:\n    - {Name: X}\n")
    first, second = load_states(tmp_path), load_states(tmp_path)
    assert first[0].org_id == second[0].org_id
    assert first[0].tables["Account"][0]["Id"] == second[0].tables["Account"][0]["Id"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("org: {name: a}\nflows:\n  - {api_name: F, versions: 2, active_version: 3}\n",
         "a.yaml: flows[0].active_version: expected null or a version between 1 and 2, got 3"),
        ("org: {name: a}\nrecords:\n  Account:\n    - {Nmae: X}\n",
         "a.yaml: records.Account[0].Nmae: no such field on Account"),
        ("org: {name: a}\nrecords:\n  Acount: []\n", "a.yaml: records.Acount: no such object"),
        ("org: {name: a}\npermission_sets:\n  - {name: P, assigned_to: [ghost@x.com]}\n",
         "a.yaml: permission_sets[0].assigned_to[0]: no user 'ghost@x.com' in users"),
        ("org: {name: a}\nfaults: {error_rate: 2}\n",
         "a.yaml: faults.error_rate: expected a number between 0 and 1, got 2"),
        ("org: {name: a, kind: galaxy}\n",
         "a.yaml: org.kind: expected one of production, sandbox, developer, scratch, got 'galaxy'"),
        ("org: {kind: sandbox}\n", "a.yaml: org.name: required"),
        ("org: {name: a}\nflow:\n  - {api_name: F}\n", "a.yaml: flow: unknown key (did you mean 'flows'?)"),
        ("org: {name: a}\nautomation:\n  - {flow: Missing, object: Case, on: create, set: {Priority: High}}\n",
         "a.yaml: automation[0].flow: no flow 'Missing' in flows"),
        ("org: {name: a}\ncredentials: {jwt_certificate: certs/none.crt}\n",
         "a.yaml: credentials.jwt_certificate: cannot read"),
        ("org: {name: a}\nscheduled_jobs:\n  - {name: J, next_fire: soon}\n",
         "a.yaml: scheduled_jobs[0].next_fire: expected a datetime"),
        ("org: [name, a]\n", "a.yaml: org: expected a mapping, got list"),
        ("org: {name: a\n", "a.yaml: YAML syntax error at line 2, column 1: expected ',' or '}'"),
        ("org: {name: a}\norg: {name: b}\n", "a.yaml: org: duplicate key 'org' at line 2 (first at line 1)"),
    ],
)
def test_bad_state_file_is_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "a.yaml", text)
    with pytest.raises(ConfigError) as raised:
        load_states(tmp_path)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_duplicate_org_names_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "org: {name: same}\n")
    write(tmp_path, "b.yaml", "org: {name: same}\n")
    with pytest.raises(ConfigError, match=r"b.yaml: org.name: 'same' is already used by .*a.yaml"):
        load_states(tmp_path)


def test_relative_times_resolve_against_the_clock(start_emulator: StateFactory) -> None:
    emu = start_emulator({"org": {"name": "t"},
                          "async_jobs": [{"job_type": "BatchApex", "status": "Failed", "class": "SyncBatch",
                                                                "errors": 3, "created": "-PT30M",
                                                                "completed": "-PT25M"}]})
    sf = salesforce(emu, "t")
    job = sf.query("SELECT ApexClass.Name, NumberOfErrors, CreatedDate FROM AsyncApexJob WHERE "
                   "CreatedDate = LAST_N_DAYS:1")
    record = job["records"][0]
    assert record["ApexClass"]["Name"] == "SyncBatch" and record["NumberOfErrors"] == 3
    assert record["CreatedDate"].endswith(".000+0000")


def test_three_hundred_orgs_load(tmp_path: Path) -> None:
    template = (Path(__file__).resolve().parents[2] / "profiles" / "demo" / "prod.yaml")
    text = template.read_text(encoding="utf-8") if template.exists() else "org: {name: prod}\n"
    if (template.parent / "certs").is_dir():
        shutil.copytree(template.parent / "certs", tmp_path / "certs")  # the demo JWT certificate it names
    for n in range(300):
        write(tmp_path, f"org{n:03d}.yaml", text.replace("name: prod", f"name: org{n:03d}", 1)
              .replace("username: admin@acme.example.com", f"username: admin@org{n:03d}.example.com", 1)
              .replace("Username: admin@acme.example.com,", f"Username: admin@org{n:03d}.example.com,", 1)
              .replace("@acme.example.com", f"@org{n:03d}.example.com"))
    definitions = load_states(tmp_path)
    assert len(definitions) == 300


def test_copied_jobs_keep_their_ids_and_a_package_install_may_name_no_package(tmp_path: Path) -> None:
    """What ``lockstep snapshot`` writes: the ids an org gave its jobs, install requests without their package."""
    path = write(tmp_path, "o.yaml", "org: {name: o}\npackage_installs:\n  - {id: 0Hf000000000001AAA, status: ERROR}\n"
                 "deployments:\n  - {id: 0Af000000000002AAA, status: Failed}\n"
                 "async_jobs:\n  - {id: 707000000000003AAA, job_type: BatchApex, status: Failed}\n")
    (org,) = load_states(path)
    ids = [org.tables[t][0]["Id"] for t in ("PackageInstallRequest", "DeployRequest", "AsyncApexJob")]
    assert ids == ["0Hf000000000001AAA", "0Af000000000002AAA", "707000000000003AAA"]
    assert org.tables["PackageInstallRequest"][0]["SubscriberPackageVersionKey"] is None
    half = write(tmp_path, "h.yaml", "org: {name: h}\npackage_installs:\n  - {package: acme, status: ERROR}\n")
    with pytest.raises(ConfigError, match=r"h.yaml: package_installs\[0\].version: required with package$"):
        load_states(half)
