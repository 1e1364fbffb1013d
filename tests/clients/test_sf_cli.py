"""The real Salesforce CLI against the emulator: logins, display, queries, limits, packages, describe.

These tests use ``sf`` as the Salesforce admins do. What they see is compared with the org's state and
with what the emulator's admin endpoint reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from sf_cli_helpers import SfCli, cli_for, fresh_home

from lockstep.emulator import Emulator

USERNAME = "admin@acme.example.com"
REFRESH = "5Aep861acmeCliRefresh"
STATE = {
    "org": {"name": "acme", "kind": "sandbox"},
    "username": USERNAME,
    "credentials": {"client_id": "PlatformCLI", "refresh_token": REFRESH},
    "packages": [
        {"namespace": "acme_cpq", "name": "Acme CPQ", "version": "2.5.0.1", "managed": True},
        {"namespace": None, "name": "Acme Utils", "version": "1.3.0.2", "managed": False},
    ],
    "apex_classes": [{"name": "CaseService", "api_version": "61.0"}],
    "records": {"Account": [{"Name": "Globex", "Industry": "Energy"}, {"Name": "Initech", "Industry": "Energy"}]},
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    folder = tmp_path_factory.mktemp("acme")
    (folder / "acme.yaml").write_text(yaml.safe_dump(STATE))
    with Emulator(folder / "acme.yaml", port=0) as emu:
        yield emu


@pytest.fixture
def sf(sf_bin_path: str, sf_home: Path, emulator: Emulator) -> SfCli:
    return cli_for(sf_bin_path, sf_home, emulator.ca_cert)


@pytest.fixture(scope="module")
def logged_in(sf_bin_path: str, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SfCli]:
    """One CLI home logged in to the org, shared by the read-only command tests of this module."""
    with fresh_home(tmp_path_factory.mktemp("logged-in")) as home:
        sf = cli_for(sf_bin_path, home, emulator.ca_cert)
        sf.login_access_token("acme", emulator.url, emulator.orgs[0]["access_token"])
        yield sf


def _api_calls(emulator: Emulator) -> int:
    answer = requests.get(f"{emulator.url}/__emulator__/orgs/acme", verify=str(emulator.ca_cert), timeout=30)
    calls: int = answer.json()["api_calls"]
    return calls


def test_login_with_an_access_token_then_display(sf: SfCli, emulator: Emulator) -> None:
    token = emulator.orgs[0]["access_token"]
    result = sf.login_access_token("acme", emulator.url, token)
    assert (result["username"], result["orgId"]) == (USERNAME, emulator.orgs[0]["org_id"])
    shown = sf.run("org", "display", "--target-org", "acme")["result"]
    # The CLI stores the URL with a trailing slash: every later path starts with //services.
    assert shown["instanceUrl"].rstrip("/") == emulator.url
    assert shown["connectedStatus"] == "Connected"
    assert token not in str(shown)  # the current CLI redacts it here ...
    assert sf.run("org", "auth", "show-access-token", "--target-org", "acme")["result"]["accessToken"] == token


def test_login_with_an_sfdx_auth_url(sf: SfCli, emulator: Emulator) -> None:
    url_file = sf.home / "auth-url.txt"
    url_file.write_text(f"force://PlatformCLI::{REFRESH}@{emulator.url.removeprefix('https://')}\n")
    result = sf.run("org", "login", "sfdx-url", "--sfdx-url-file", str(url_file), "--alias", "by-url")["result"]
    assert result["username"] == USERNAME and result["orgId"] == emulator.orgs[0]["org_id"]
    shown = sf.run("org", "display", "--target-org", "by-url")["result"]
    assert shown["connectedStatus"] == "Connected" and shown["alias"] == "by-url"


def test_data_query_with_parent_and_child_relationships(logged_in: SfCli, emulator: Emulator) -> None:
    before = _api_calls(emulator)
    soql = "SELECT Id, Name, Owner.Name, Owner.Profile.Name, (SELECT LastName FROM Contacts) FROM Account ORDER BY Name"
    result = logged_in.run("data", "query", "--query", soql, "--target-org", "acme")["result"]
    assert [r["Name"] for r in result["records"]] == ["Globex", "Initech"]
    assert result["records"][0]["Owner"]["Profile"]["Name"] == "System Administrator"
    assert _api_calls(emulator) - before == 2  # the rows, then their column metadata (columns=true)
    table = logged_in.table("data", "query", "--query", soql, "--target-org", "acme")
    header = next((line for line in table.splitlines() if "OWNER.NAME" in line), "")  # where it is depends on CI=...
    for column in ("ID", "NAME", "OWNER.NAME", "OWNER.PROFILE.NAME", "CONTACTS.LASTNAME"):
        assert f" {column} " in header, table


def test_aggregate_query_table_is_named_by_the_function(logged_in: SfCli) -> None:
    table = logged_in.table("data", "query", "--query", "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry",
                            "--target-org", "acme")
    assert "COUNT(ID)" in table and "Energy" in table and " 2 " in table


def test_tooling_query_with_relationship_fields(logged_in: SfCli) -> None:
    soql = ("SELECT Id, SubscriberPackage.Name, SubscriberPackageVersion.MajorVersion "
            "FROM InstalledSubscriberPackage ORDER BY SubscriberPackage.Name")
    result = logged_in.run("data", "query", "--use-tooling-api", "--query", soql, "--target-org", "acme")["result"]
    assert [r["SubscriberPackage"]["Name"] for r in result["records"]] == ["Acme CPQ", "Acme Utils"]
    table = logged_in.table("data", "query", "--use-tooling-api", "--query", soql, "--target-org", "acme")
    assert "SUBSCRIBERPACKAGE.NAME" in table and "SUBSCRIBERPACKAGEVERSION.MAJORVERSION" in table
    classes = logged_in.run("data", "query", "--use-tooling-api", "--query", "SELECT Name, ApiVersion FROM ApexClass",
                            "--target-org", "acme")["result"]["records"]
    assert [(c["Name"], c["ApiVersion"]) for c in classes] == [("CaseService", 61.0)]


def test_limits(logged_in: SfCli) -> None:
    limits = {row["name"]: row for row in logged_in.run("org", "list", "limits", "--target-org", "acme")["result"]}
    assert limits["DailyApiRequests"]["max"] > 0
    assert 0 <= limits["DailyApiRequests"]["remaining"] <= limits["DailyApiRequests"]["max"]


def test_package_installed_list(logged_in: SfCli) -> None:
    rows = logged_in.run("package", "installed", "list", "--target-org", "acme")["result"]
    found = {row["SubscriberPackageName"]: row for row in rows}
    assert found["Acme CPQ"]["SubscriberPackageVersionNumber"] == "2.5.0.1"
    assert found["Acme CPQ"]["SubscriberPackageNamespace"] == "acme_cpq"
    assert found["Acme Utils"]["SubscriberPackageVersionNumber"] == "1.3.0.2"


def test_sobject_describe(logged_in: SfCli) -> None:
    described = logged_in.run("sobject", "describe", "--sobject", "Account", "--target-org", "acme")["result"]
    assert described["name"] == "Account"
    assert {"Id", "Name", "OwnerId"} <= {f["name"] for f in described["fields"]}
