"""The read-only guard cannot be bypassed: a check file tries every public and semi-public
route to write (the org client, its simple-salesforce object, its session and adapter,
composite and Tooling subrequests, Apex REST, code-running Tooling resources, method
overrides) on a production org and on a sandbox, inside and outside ``writes`` checks.
The emulator's admin endpoint then says what reached each org."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from inprocess import run_pytest
from plugin_helpers import org_reports, state, write_landscape
from run_once import once

from lockstep.emulator import Emulator

ORGS = ("prod", "qa")
REFUSED = "writes are refused outside a check marked @pytest.mark.writes on an org that allows writes"
WRITES_REFUSED = ("prod: writes refused: allow_writes is false for this org; allow writes in the profile "
                  "or remove this expectation for the org (null)")

# route -> the operations the emulator logs when the route writes (empty: the emulator keeps no
# write log for it, e.g. Apex REST or code-running Tooling resources, but the request reaches the org)
ROUTES: dict[str, list[str]] = {
    "client_create": ["create"],
    "client_delete": ["create", "delete"],
    "client_writable_flag": ["create"],
    "client_writes_allowed": ["create"],
    "composite_post": ["create"],
    "composite_lowercase_post": ["create"],
    "composite_get_then_post": ["create"],
    "composite_patch": ["create", "update"],
    "composite_delete": ["create", "delete"],
    "collections_post": ["create"],
    "sf_restful_post": ["create"],
    "sf_object_create": ["create"],
    "sf_object_update": ["create", "update"],
    "sf_object_delete": ["create", "delete"],
    "session_post": ["create"],
    "session_patch": ["create", "update"],
    "session_delete": ["create", "delete"],
    "session_send_prepared": ["create"],
    "adapter_send": ["create"],
    "mounted_adapter": ["create"],
    "tooling_composite_post": [],
    "composite_get_execute_anonymous": [],
    "composite_batch_patch": [],
    "composite_tree": [],
    "composite_graph": [],
    "client_get_execute_anonymous": [],
    "client_get_execute_anonymous_encoded": [],
    "client_get_execute_anonymous_double_encoded": [],
    "client_get_execute_anonymous_json": [],
    "client_get_method_override": [],
    "session_run_tests": [],
    "composite_duplicate_method": [],
    "composite_duplicate_requests": [],
    "apexrest_post": [],
    "apexrest_put": [],
    "apexrest_patch": [],
    "apexrest_delete": [],
    "soap_create": [],
    "bulk_ingest_job": [],
}

CHECKS = '''
"""Every route a check could take to write to its org."""

import contextlib
import json
import threading

import pytest
import requests
import simple_salesforce.exceptions as sf_exc
from requests.adapters import HTTPAdapter

from lockstep.salesforce.errors import SalesforceError, WriteRefused

MADE_UP = "001000000000000AAA"


def name(route):
    return f"guard-{route}"


def target(org, route):
    """An Account to change: created where writes are granted, else a made-up id (never sent)."""
    try:
        return org.client.create("Account", {"Name": name(route)})
    except WriteRefused:
        return MADE_UP


def url(org, path):
    return f"{org.client.instance_url}{org.client.base_path}/{path}"


def raw(org, method, path, **kwargs):
    session = org.client._session
    return session.request(method, url(org, path), headers=dict(org.client._sf.headers), **kwargs)


def sub(org, method, path, ref, body=None):
    item = {"method": method, "url": f"{org.client.base_path}/{path}", "referenceId": ref}
    return {**item, "body": body} if body is not None else item


def writable_flag(org, route):
    org.client._writable = True
    org.client.create("Account", {"Name": name(route)})


def writes_allowed(org, route):
    with getattr(org.client, "writes_allowed", contextlib.nullcontext)():
        org.client.create("Account", {"Name": name(route)})


def session_send_prepared(org, route):
    request = requests.Request("POST", url(org, "sobjects/Account/"), json={"Name": name(route)},
                               headers=dict(org.client._sf.headers))
    org.client._session.send(org.client._session.prepare_request(request))


def adapter_send(org, route):
    session = org.client._session
    request = requests.Request("POST", url(org, "sobjects/Account/"), json={"Name": name(route)},
                               headers=dict(org.client._sf.headers))
    prepared = session.prepare_request(request)
    session.get_adapter(prepared.url).send(prepared, timeout=10)


def mounted_adapter(org, route):
    session = org.client._session
    original = session.get_adapter(url(org, ""))
    session.mount("https://", HTTPAdapter())
    try:
        raw(org, "POST", "sobjects/Account/", json={"Name": name(route)}, verify=session.verify)
    finally:
        session.mount("https://", original)


def duplicate_keys(org, route, inner):
    """A composite body whose JSON repeats a key: which value counts is up to each parser, so a
    guard reading the last one (GET) must not let through what the org may read as the first (POST)."""
    account = json.dumps({"Name": name(route)})
    write = (f'{{"method": "POST", "url": "{org.client.base_path}/sobjects/Account", "referenceId": "a", '
             f'"body": {account}}}')
    read = f'{{"method": "GET", "url": "{org.client.base_path}/sobjects/Account", "referenceId": "a"}}'
    if inner:
        body = f'{{"compositeRequest": [{write[:-1]}, "method": "GET"}}]}}'
    else:
        body = f'{{"compositeRequest": [{write}], "compositeRequest": [{read}]}}'
    return raw(org, "POST", "composite", data=body.encode())


ROUTES = {
    "composite_duplicate_method": lambda org, r: duplicate_keys(org, r, inner=True),
    "composite_duplicate_requests": lambda org, r: duplicate_keys(org, r, inner=False),
    "client_create": lambda org, r: org.client.create("Account", {"Name": name(r)}),
    "client_delete": lambda org, r: org.client.delete("Account", target(org, r)),
    "client_writable_flag": writable_flag,
    "client_writes_allowed": writes_allowed,
    "composite_post": lambda org, r: org.client.composite(
        [sub(org, "POST", "sobjects/Account", "a", {"Name": name(r)})]),
    "composite_lowercase_post": lambda org, r: org.client.composite(
        [sub(org, "post", "sobjects/Account", "a", {"Name": name(r)})]),
    "composite_get_then_post": lambda org, r: org.client.composite([
        sub(org, "GET", "query?q=SELECT+Id+FROM+Account+LIMIT+1", "q"),
        sub(org, "POST", "sobjects/Account", "a", {"Name": name(r)})]),
    "composite_patch": lambda org, r: org.client.composite(
        [sub(org, "PATCH", f"sobjects/Account/{target(org, r)}", "p", {"Name": name(r)})]),
    "composite_delete": lambda org, r: org.client.composite(
        [sub(org, "DELETE", f"sobjects/Account/{target(org, r)}", "d")]),
    "collections_post": lambda org, r: org.client._sf.restful("composite/sobjects", method="POST", data=json.dumps(
        {"allOrNone": False, "records": [{"attributes": {"type": "Account"}, "Name": name(r)}]})),
    "sf_restful_post": lambda org, r: org.client._sf.restful("sobjects/Account/", method="POST",
                                                             data=json.dumps({"Name": name(r)})),
    "sf_object_create": lambda org, r: org.client._sf.Account.create({"Name": name(r)}),
    "sf_object_update": lambda org, r: org.client._sf.Account.update(target(org, r), {"Name": name(r)}),
    "sf_object_delete": lambda org, r: org.client._sf.Account.delete(target(org, r)),
    "session_post": lambda org, r: raw(org, "POST", "sobjects/Account/", json={"Name": name(r)}),
    "session_patch": lambda org, r: raw(org, "PATCH", f"sobjects/Account/{target(org, r)}", json={"Name": name(r)}),
    "session_delete": lambda org, r: raw(org, "DELETE", f"sobjects/Account/{target(org, r)}"),
    "session_send_prepared": session_send_prepared,
    "adapter_send": adapter_send,
    "mounted_adapter": mounted_adapter,
    "tooling_composite_post": lambda org, r: org.client.tooling_composite(
        [sub(org, "POST", "tooling/sobjects/ApexClass", "c", {"Name": "Guard", "Body": "public class Guard {}"})]),
    "composite_get_execute_anonymous": lambda org, r: org.client.composite(
        [sub(org, "GET", "tooling/executeAnonymous/?anonymousBody=delete+[SELECT+Id+FROM+Account];", "e")]),
    "composite_batch_patch": lambda org, r: org.client._sf.restful("composite/batch", method="POST", data=json.dumps(
        {"batchRequests": [{"method": "PATCH", "url": f"v{org.client.api_version}/sobjects/Account/{MADE_UP}",
                            "richInput": {"Name": name(r)}}]})),
    "composite_tree": lambda org, r: org.client._sf.restful("composite/tree/Account", method="POST", data=json.dumps(
        {"records": [{"attributes": {"type": "Account", "referenceId": "a"}, "Name": name(r)}]})),
    "composite_graph": lambda org, r: org.client._sf.restful("composite/graph", method="POST", data=json.dumps(
        {"graphs": [{"graphId": "g",
                     "compositeRequest": [sub(org, "POST", "sobjects/Account", "a", {"Name": name(r)})]}]})),
    "client_get_execute_anonymous": lambda org, r: org.client.get(
        "tooling/executeAnonymous/?anonymousBody=delete+[SELECT+Id+FROM+Account];"),
    "client_get_execute_anonymous_encoded": lambda org, r: org.client.get(
        "tooling/execute%41nonymous/?anonymousBody=x"),
    "client_get_execute_anonymous_double_encoded": lambda org, r: org.client.get(
        "tooling/execute%2541nonymous/?anonymousBody=x"),
    "client_get_execute_anonymous_json": lambda org, r: org.client.get("tooling/executeAnonymous.json?anonymousBody=x"),
    "client_get_method_override": lambda org, r: org.client.get(f"sobjects/Account/{MADE_UP}?_HttpMethod=DELETE"),
    "session_run_tests": lambda org, r: raw(org, "POST", "tooling/runTestsSynchronous", json={"tests": []}),
    "apexrest_post": lambda org, r: org.client._sf.apexecute("orders", method="POST", data={"refund": 1}),
    "apexrest_put": lambda org, r: org.client._sf.apexecute("orders", method="PUT", data={"refund": 1}),
    "apexrest_patch": lambda org, r: org.client._sf.apexecute("orders", method="PATCH", data={"refund": 1}),
    "apexrest_delete": lambda org, r: org.client._sf.apexecute("orders/1", method="DELETE"),
    "soap_create": lambda org, r: org.client._session.post(
        f"{org.client.instance_url}/services/Soap/u/{org.client.api_version}", data="<Envelope/>",
        headers={"Content-Type": "text/xml", "SOAPAction": "create"}),
    "bulk_ingest_job": lambda org, r: raw(org, "POST", "jobs/ingest",
                                          json={"object": "Account", "operation": "delete"}),
}


def attempt(org, route):
    """Take the route; an answer from the org (also an error answer) means the request left the process."""
    try:
        ROUTES[route](org, route)
    except WriteRefused:
        raise
    except (SalesforceError, sf_exc.SalesforceError):
        pass


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_outside_writes_check(org, route):
    attempt(org, route)


@pytest.mark.writes
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_inside_writes_check(org, route):
    attempt(org, route)


@pytest.mark.writes
def test_records_round_trip(org, records):
    record = records.create("Account", {"Name": "guard-records"})
    assert records.read("Account", record, ["Name"])["Name"] == "guard-records"


@pytest.mark.writes
def test_threads_started_by_a_writes_check_stay_read_only(org):
    refused = []

    def elsewhere():
        try:
            org.client.create("Account", {"Name": "guard-thread"})
        except WriteRefused as exc:
            refused.append(str(exc))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(30)
    assert refused == [f"{org.name}: WRITE_REFUSED: POST {org.client.base_path}/sobjects/Account/: "
                       "writes are refused outside a check marked @pytest.mark.writes on an org that allows writes"]


@pytest.mark.writes
def test_cross_org_check(orgs):
    qa = next(org for org in orgs if org.name == "qa")
    qa.client.create("Account", {"Name": "guard-cross-org"})


def test_swallowed_refusal(org):
    try:
        org.client.composite([sub(org, "DELETE", f"sobjects/Account/{MADE_UP}", "d")])
    except Exception:
        pass


@pytest.mark.writes
def test_swallowed_refusal_in_writes_check(org):
    try:
        org.client._sf.Account.create({"Name": "guard-swallowed"})
    except Exception:
        pass
'''


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the check file against an emulator this module owns; the gate and, per org,
    what the emulator's admin endpoint reports afterwards (run once for both xdist workers)."""
    shared: dict[str, Any] = once(tmp_path_factory, "write-guard-outcome", lambda: _run_routes(
        tmp_path_factory.mktemp("guard")))
    return shared


def _run_routes(root: Path) -> dict[str, Any]:
    apex = [{"path": "orders", "method": method, "status": 200, "body": {"ok": True}}
            for method in ("POST", "PUT", "PATCH")] + [{"path": "orders/1", "method": "DELETE", "status": 204}]
    write_landscape(root / "states", [{"name": "prod", "kind": "production"}, {"name": "qa", "kind": "sandbox"}],
                    states=[state("prod", "production", apex_rest=apex), state("qa", "sandbox", apex_rest=apex)])
    with Emulator(root / "states" / "profiles" / "p-states", host="127.0.0.1", port=0) as emulator:
        auth = {"method": "emulator", "url": emulator.url, "ca_file": str(emulator.ca_cert)}
        (root / "profile.yaml").write_text(yaml.safe_dump({"orgs": [
            {"name": "prod", "kind": "production", "auth": auth}, {"name": "qa", "kind": "sandbox", "auth": auth}]}))
        (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\n")
        (root / "test_routes.py").write_text(CHECKS)
        proc = run_pytest(root, "test_routes.py", "--org-profile", "profile.yaml", "-p", "no:cacheprovider", "-q",
                          "-p", "no:xdist")
        orgs = org_reports(emulator, ORGS)
    gate_file = root / "reports" / "gate.json"
    assert gate_file.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"returncode": proc.returncode, "output": proc.stdout, "gate": json.loads(gate_file.read_text()),
           "orgs": orgs}


def failed(outcome: dict[str, Any], org: str) -> dict[str, str]:
    entry = outcome["gate"]["orgs"][org]
    return {item["test"]: item["reason"] for item in entry["failed"] + entry["errors"]}


def test_every_route_to_a_production_org_is_refused_and_nothing_reaches_it(outcome: dict[str, Any]) -> None:
    refused = failed(outcome, "prod")
    for route in ROUTES:
        outside = refused.get(f"test_routes.py::test_outside_writes_check[prod-{route}]", "passed")
        assert outside.startswith("prod: WRITE_REFUSED: ") and outside.endswith(REFUSED), (route, outside)
        inside = refused.get(f"test_routes.py::test_inside_writes_check[prod-{route}]", "passed")
        assert inside == WRITES_REFUSED, (route, inside)
    assert refused["test_routes.py::test_records_round_trip[prod]"] == WRITES_REFUSED
    assert refused["test_routes.py::test_swallowed_refusal_in_writes_check[prod]"] == WRITES_REFUSED
    assert outcome["gate"]["orgs"]["prod"]["decision"] == "no-go"
    assert outcome["orgs"]["prod"]["writes"] == []
    assert outcome["orgs"]["prod"]["api_calls"] == 0  # not even the reads of a composite went out


def test_the_refusal_names_method_and_path(outcome: dict[str, Any]) -> None:
    refused = failed(outcome, "prod")
    version = "/services/data/v62.0"
    expected = {
        "client_create": f"POST {version}/sobjects/Account/",
        "composite_get_then_post": f"POST {version}/composite",
        "tooling_composite_post": f"POST {version}/tooling/composite",
        "client_get_execute_anonymous": f"GET {version}/tooling/executeAnonymous/",
        "apexrest_delete": "DELETE /services/apexrest/orders/1",
        "session_patch": f"PATCH {version}/sobjects/Account/001000000000000AAA",
    }
    for route, what in expected.items():
        node = f"test_routes.py::test_outside_writes_check[prod-{route}]"
        assert refused[node] == f"prod: WRITE_REFUSED: {what}: {REFUSED}"


def test_a_check_that_catches_the_refusal_still_fails(outcome: dict[str, Any]) -> None:
    version = "/services/data/v62.0"
    for org in ORGS:
        assert failed(outcome, org)[f"test_routes.py::test_swallowed_refusal[{org}]"] == (
            f"{org}: WRITE_REFUSED: POST {version}/composite: {REFUSED}")
    assert "test_routes.py::test_swallowed_refusal_in_writes_check[qa]" not in failed(outcome, "qa")
    writes = outcome["orgs"]["qa"]["writes"]
    assert [w["op"] for w in writes if w["fields"].get("Name") == "guard-swallowed"] == ["create"]


def test_a_sandbox_refuses_every_route_outside_writes_checks(outcome: dict[str, Any]) -> None:
    refused = failed(outcome, "qa")
    expected = {f"test_routes.py::test_outside_writes_check[qa-{route}]" for route in ROUTES}
    expected.add("test_routes.py::test_swallowed_refusal[qa]")
    assert set(refused) == expected, sorted(set(refused) ^ expected)
    assert all(reason.startswith("qa: WRITE_REFUSED: ") and reason.endswith(REFUSED) for reason in refused.values())


def test_inside_a_writes_check_on_a_sandbox_every_route_reaches_the_org(outcome: dict[str, Any]) -> None:
    """The guard is not a block on everything: the same routes write where writes are granted,
    each exactly once (a write leaking from the check outside would show twice)."""
    counts = outcome["gate"]["orgs"]["qa"]["counts"]
    # every route inside a writes check, the records round trip, the thread check and the
    # writes check that swallows nothing (its create is granted) pass
    assert (counts["passed"], counts["failed"], counts["errors"]) == (len(ROUTES) + 3, len(ROUTES) + 1, 0), counts
    writes = outcome["orgs"]["qa"]["writes"]
    created = {w["id"]: w["fields"].get("Name") for w in writes if w["op"] == "create"}
    for route, ops in ROUTES.items():
        logged = [w["op"] for w in writes
                  if (w["op"] in ("create", "update") and w["fields"].get("Name") == f"guard-{route}")
                  or (w["op"] == "delete" and created.get(w["id"]) == f"guard-{route}")]
        assert logged == ops, (route, logged)


def test_the_records_fixture_still_creates_reads_and_deletes_on_a_sandbox(outcome: dict[str, Any]) -> None:
    assert "test_routes.py::test_records_round_trip[qa]" not in failed(outcome, "qa")
    writes = outcome["orgs"]["qa"]["writes"]
    created = [w["id"] for w in writes if w["op"] == "create" and w["fields"] == {"Name": "guard-records"}]
    assert len(created) == 1
    assert [w["id"] for w in writes if w["op"] == "delete" and w["id"] in created] == created


def test_threads_and_cross_org_checks_get_no_write_grant(outcome: dict[str, Any]) -> None:
    assert "test_routes.py::test_threads_started_by_a_writes_check_stay_read_only[qa]" not in failed(outcome, "qa")
    assert not [w for w in outcome["orgs"]["qa"]["writes"] if w["fields"].get("Name") in ("guard-thread",
                                                                                          "guard-cross-org")]
    landscape = outcome["gate"]["landscape"]
    assert [item["reason"] for item in landscape["failed"]] == [
        f"qa: WRITE_REFUSED: POST /services/data/v62.0/sobjects/Account/: {REFUSED}"]
