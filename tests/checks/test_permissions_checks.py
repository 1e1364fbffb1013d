"""checks/test_permissions.py against planted orgs: each check passes on a good org and fails,
with the right message, on a bad one."""

from __future__ import annotations

import pytest
from catalog import STATES, run_catalog
from shared_run import from_json, once, to_json

CHECKS = (
    "test_permission_sets_and_profiles_exist", "test_object_permissions", "test_field_permissions",
    "test_required_permission_set_assignments", "test_no_unexpected_powerful_permissions",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    def produce():
        return to_json(run_catalog(tmp_path_factory.mktemp("permissions"), STATES / "catalog1" / "permissions.yaml",
                                   "test_permissions.py"))

    return from_json(once(tmp_path_factory, "catalog1-permissions", produce))


@pytest.mark.parametrize("check", CHECKS)
def test_passes_on_the_good_org_and_fails_on_the_bad_one(run, check):
    assert run.outcome(check, "perm-good") == "passed", run.message(check, "perm-good")
    assert run.outcome(check, "perm-bad") == "failed"


@pytest.mark.parametrize("check", CHECKS)
def test_skips_with_the_key_to_declare(run, check):
    assert run.outcome(check, "perm-none") == "skipped"
    assert "declare expect." in run.message(check, "perm-none")


def test_missing_permission_set_and_profile(run):
    message = run.message("test_permission_sets_and_profiles_exist", "perm-bad")
    assert "perm-bad: permission set ERP_Integration: expected to exist, found missing" in message
    assert "perm-bad: profile Integration User: expected to exist, found missing" in message


def test_object_access_at_least_and_exact(run):
    message = run.message("test_object_permissions", "perm-bad")
    assert ("perm-bad: permission set Sales_Ops: object Account: expected read, create, edit, "
            "found read (missing create, edit)") in message
    assert ("perm-bad: permission set Sales_Ops: object Opportunity: expected read, no delete, "
            "found read, create, edit, delete (unexpected delete)") in message
    assert "perm-bad: permission set ERP_Integration: object Order: expected read, found the permission set missing" \
        in message


def test_field_access(run):
    assert ("perm-bad: permission set Sales_Ops: field Account.Rating: expected read, edit, found read (missing edit)"
            in run.message("test_field_permissions", "perm-bad"))


def test_assignment_matches_sandbox_copies_of_the_username(run):
    assert run.outcome("test_required_permission_set_assignments", "perm-good") == "passed"
    assert ("perm-bad: permission set ERP_Integration: expected assigned to integration@acme.example.com, "
            "found not assigned") in run.message("test_required_permission_set_assignments", "perm-bad")


def test_modify_all_data_outside_the_allowed_holders(run):
    message = run.message("test_no_unexpected_powerful_permissions", "perm-bad")
    assert ("perm-bad: permission set Sales_Ops: system permission ModifyAllData: "
            "expected only on System Administrator, found granted") in message
    assert "System Administrator: system permission" not in message  # the allowed holder is not a finding
