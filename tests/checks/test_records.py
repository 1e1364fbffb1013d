"""lockstep.session.records: every created record is deleted, newest first; what cannot be deleted is named."""

from __future__ import annotations

from collections.abc import Collection
from types import SimpleNamespace
from typing import cast

import lockstep.config.release_policy
import lockstep.gate.upstream
import lockstep.helpers.endpoints
import lockstep.session.records
from lockstep.salesforce.errors import NotFound, ServerError
from lockstep.session.orgs import Org
from lockstep.session.records import Records


class FakeClient:
    def __init__(self, refuse: Collection[str] = ()) -> None:
        self.refuse, self.serial = refuse, 0
        self.log: list[tuple[str, str, str]] = []

    def create(self, sobject, fields):
        self.serial += 1
        self.log.append(("create", sobject, f"id{self.serial}"))
        return f"id{self.serial}"

    def delete(self, sobject, record_id):
        self.log.append(("delete", sobject, record_id))
        if record_id == "id2":
            raise NotFound("o", None, "gone already", 404)
        if record_id in self.refuse:
            raise ServerError("o", "HTTP_503", "unavailable", 503)

    def get(self, path):
        return {"path": path}


def org_with(client: FakeClient) -> Org:
    """An org named o that answers through ``client`` (Records reads only these two)."""
    return cast("Org", SimpleNamespace(name="o", client=client))


def test_records_are_deleted_newest_first_and_already_gone_ones_are_fine():
    client = FakeClient()
    records = Records(org_with(client))
    for sobject in ("Account", "Contact", "Case"):
        records.create(sobject, {})
    assert records.cleanup() == []
    assert [entry for entry in client.log if entry[0] == "delete"] == [
        ("delete", "Case", "id3"), ("delete", "Contact", "id2"), ("delete", "Account", "id1")]
    assert records.created == []


def test_records_that_cannot_be_deleted_are_named_and_the_rest_still_deleted():
    client = FakeClient(refuse={"id3"})
    records = Records(org_with(client))
    for sobject in ("Account", "Contact", "Case"):
        records.create(sobject, {})
    assert records.cleanup() == [
        "o: Case id3: expected deleted, found still there (o: HTTP_503: unavailable)"]
    assert ("delete", "Account", "id1") in client.log


def test_read_asks_for_the_named_fields():
    records = Records(org_with(FakeClient()))
    assert records.read("Case", "id1", ["Priority", "Status"]) == {"path": "sobjects/Case/id1?fields=Priority,Status"}


def test_public_names_are_pinned():
    assert lockstep.session.records.__all__ == ["Records", "writes_refused"]
    assert lockstep.gate.upstream.__all__ == ["Upstream", "parse_upstream", "partial_problem", "upstream_problems"]
    assert lockstep.config.release_policy.__all__ == [
        "Freeze", "ReleasePolicy", "Verdict", "Window", "parse_release"]
    assert lockstep.helpers.endpoints.__all__ == [
        "EMULATOR_URL", "PROBE", "Probe", "ProbeResult", "classify", "environment_of", "matches", "parse_probes",
        "probe_all"]
