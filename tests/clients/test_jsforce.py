"""jsforce 3 (the library inside the Salesforce CLI, and many Node integrations) against the emulator:
query with paging, tooling, describe, CRUD, sObject collections, composite, limits."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from sf_cli_helpers import INSTALL, cli_bin_path, clients_dir

from lockstep.emulator import Emulator

ACCOUNTS = 2345  # more than one batch of 2000: jsforce follows nextRecordsUrl


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    folder = tmp_path_factory.mktemp("jsforce")
    state = {"org": {"name": "acme", "kind": "sandbox"}, "username": "admin@acme.example.com",
             "apex_classes": [{"name": "CaseService", "api_version": "61.0"}],
             "records": {"Account": [{"Name": f"A{n:04d}"} for n in range(ACCOUNTS)]}}
    (folder / "acme.yaml").write_text(yaml.safe_dump(state))
    with Emulator(folder / "acme.yaml", port=0) as emu:
        yield emu


def test_jsforce_session(sf_bin_path: str, emulator: Emulator, tmp_path: Path) -> None:
    jsforce = clients_dir() / "jsforce"
    if not (jsforce / "node_modules" / "jsforce").exists():
        pytest.fail(f"jsforce is not installed next to the Salesforce CLI; run {INSTALL}", pytrace=False)
    assert cli_bin_path() == sf_bin_path
    env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_")}
    env.update({"PATH": f"{sf_bin_path}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(tmp_path),
                "NODE_EXTRA_CA_CERTS": str(emulator.ca_cert), "SF_ACCESS_TOKEN": emulator.orgs[0]["access_token"]})
    script = Path(__file__).with_name("jsforce_session.js")
    done = subprocess.run(["node", str(script), str(jsforce), emulator.url], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["paged"] == {"totalSize": ACCOUNTS, "fetched": ACCOUNTS, "first": "A0000"}
    assert seen["firstPage"] == {"done": False, "size": 2000, "locator": True}
    assert seen["secondPage"] == {"done": True, "size": ACCOUNTS - 2000}
    assert seen["tooling"] == [["CaseService", 61]]
    assert seen["describe"] == {"name": "Account", "hasName": True} and seen["describeGlobal"] is True
    assert seen["crud"] == {"created": True, "industry": "Retail"}
    assert seen["collection"] == [True, True]
    assert seen["composite"] == [["org", 200], ["acct", 200]]
    assert seen["afterDelete"] == "ENTITY_IS_DELETED"
    assert seen["limits"] is True
    report = requests.get(f"{emulator.url}/__emulator__/orgs/acme", verify=str(emulator.ca_cert), timeout=30).json()
    assert [w["op"] for w in report["writes"]] == ["create", "update", "create", "create", "delete", "delete", "delete"]
