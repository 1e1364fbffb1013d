"""Permissions: the right people (and integrations) can do what the release needs, and no more.

A release that deploys a new object or field but not the access to it breaks the users and
integrations that need it; a permission set edited by hand in one org grants more than it
should; a "Modify All Data" granted for a quick fix stays. These checks read every
permission set and profile of the org with its object, field and system permissions, and
the permission set assignments, once per org, and compare them with the profile:

    expect:
      permission_sets:                       # permission set API name -> what it must grant
        Sales_Ops:
          objects:
            Account: [read, create, edit]    # at least these (read create edit delete view_all modify_all)
            Opportunity: {delete: false}     # a mapping states each right exactly: true or false
          fields:
            Account.Rating: [read, edit]     # read, edit
        ERP_Integration: {}                  # it must exist
      profiles:                              # the same, for profiles (by profile name)
        Integration User: {objects: {Order: [read]}}
      permission_assignments:                # permission set -> users who must hold it
        ERP_Integration: [integration@acme.example.com]
      restricted_permissions:                # system permission -> the only permission sets and
        ModifyAllData: [System Administrator]   # profiles that may grant it ([] = none may)
        ViewAllData: [System Administrator]

A sandbox copies production's users with a suffix (`integration@acme.example.com.qa`), so a
username also matches its sandbox copies. Per-org overrides go under the org's `expect:`
(null removes an entry).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from lockstep.config.expectations import BOOL, TEXT, Each, Either, Fields, ListOf, OneOf, Schema, expectation

pytestmark = [pytest.mark.verification, pytest.mark.facts("permission_sets", "assignments")]

OBJECT_RIGHTS = ("read", "create", "edit", "delete", "view_all", "modify_all")
FIELD_RIGHTS = ("read", "edit")


def _access(rights: tuple[str, ...]) -> Schema:
    """At least the listed rights, or each right stated exactly: ``{read: true, delete: false}``."""
    names = ", ".join(rights)
    return Either(ListOf(OneOf(*rights), f"a list of rights ({names})"),
                  Fields(f"a mapping of right -> true/false ({names})", **dict.fromkeys(rights, BOOL)))


GRANTS = Fields("a mapping with objects and/or fields",
                objects=Each("a mapping of object -> rights", _access(OBJECT_RIGHTS)),
                fields=Each("a mapping of Object.Field -> rights", _access(FIELD_RIGHTS)))
PERMISSION_SETS = expectation("permission_sets", Each("a mapping of permission set -> access", GRANTS))
PROFILES = expectation("profiles", Each("a mapping of profile name -> access", GRANTS))
PERMISSION_ASSIGNMENTS = expectation("permission_assignments",
                                     Each("a mapping of permission set -> usernames", ListOf(TEXT)))
RESTRICTED_PERMISSIONS = expectation("restricted_permissions",
                                     Each("a mapping of system permission -> allowed holders", ListOf(TEXT)))


def _declared(org) -> list[tuple[str, str, Mapping]]:
    """(kind, name, spec) for every declared permission set and profile."""
    found = []
    for kind, key in (("permission set", "permission_sets"), ("profile", "profiles")):
        for name, spec in sorted((org.expect.get(key) or {}).items()):
            found.append((kind, name, spec or {}))
    return found


def _existing(org) -> dict[tuple[str, str], object]:
    return {("profile" if ps.is_profile else "permission set", ps.name): ps for ps in org.facts.permission_sets}


def _words(rights, order) -> str:
    return ", ".join(r for r in order if r in rights) or "no access"


def _access_problem(spec, granted: frozenset[str], order: tuple[str, ...], where: str) -> str | None:
    """None when `granted` meets `spec` (a list: at least these; a mapping: each right exactly)."""
    wanted = dict(spec) if isinstance(spec, Mapping) else dict.fromkeys(spec or (), True)
    unknown = [right for right in wanted if right not in order]
    if unknown:
        pytest.fail(f"{where}: unknown right {unknown[0]!r}; rights: {', '.join(order)}", pytrace=False)
    missing = [r for r in order if wanted.get(r) is True and r not in granted]
    extra = [r for r in order if wanted.get(r) is False and r in granted]
    if not missing and not extra:
        return None
    expected = [r for r in order if wanted.get(r) is True] + [f"no {r}" for r in order if wanted.get(r) is False]
    gaps = [f"missing {', '.join(missing)}"] if missing else []
    gaps += [f"unexpected {', '.join(extra)}"] if extra else []
    return f"expected {', '.join(expected)}, found {_words(granted, order)} ({'; '.join(gaps)})"


def _access_check(org, section: str, order: tuple[str, ...]) -> None:
    declared = [(kind, name, spec[section]) for kind, name, spec in _declared(org) if spec.get(section)]
    if not declared:
        pytest.skip(f"no {section[:-1]} permission expectations: declare "
                    f"expect.permission_sets.<name>.{section} (or expect.profiles.<name>.{section}) in the profile")
    existing = _existing(org)
    problems = []
    for kind, name, rules in declared:
        holder = existing.get((kind, name))
        for component, spec in sorted(rules.items()):
            label = f"{org.name}: {kind} {name}: {section[:-1]} {component}"
            if holder is None:
                wanted = "access" if isinstance(spec, Mapping) else _words(spec, order)
                problems.append(f"{label}: expected {wanted}, found the {kind} missing")
                continue
            granted = getattr(holder, section).get(component, frozenset())
            problem = _access_problem(spec, granted, order, f"expect: {kind} {name} {section}.{component}")
            if problem:
                problems.append(f"{label}: {problem}")
    assert not problems, "\n".join(problems)


def test_permission_sets_and_profiles_exist(org):
    """Expected permission sets and profiles exist."""
    declared = _declared(org)
    if not declared:
        pytest.skip("no permission expectations: declare expect.permission_sets (or expect.profiles) in the profile")
    existing = _existing(org)
    missing = [f"{org.name}: {kind} {name}: expected to exist, found missing"
               for kind, name, _ in declared if (kind, name) not in existing]
    assert not missing, "\n".join(missing)


def test_object_permissions(org):
    """Permission sets and profiles grant the expected object access."""
    _access_check(org, "objects", OBJECT_RIGHTS)


def test_field_permissions(org):
    """Permission sets and profiles grant the expected field access."""
    _access_check(org, "fields", FIELD_RIGHTS)


def _same_user(expected: str, username: str) -> bool:
    expected, username = expected.lower(), username.lower()
    return username == expected or username.startswith(expected + ".")


def test_required_permission_set_assignments(org):
    """Users and integration users hold the permission sets they need."""
    required = PERMISSION_ASSIGNMENTS.of(org)
    if not required:
        pytest.skip("no required assignments: declare expect.permission_assignments "
                    "(permission set -> usernames) in the profile")
    holders: dict[str, list[str]] = {}
    for assignment in org.facts.assignments:
        holders.setdefault(assignment.permission_set, []).append(assignment.username)
    problems = []
    for permission_set, usernames in sorted(required.items()):
        for username in usernames or ():
            if not any(_same_user(username, holder) for holder in holders.get(permission_set, ())):
                problems.append(f"{org.name}: permission set {permission_set}: expected assigned to {username}, "
                                f"found not assigned")
    assert not problems, "\n".join(problems)


def test_no_unexpected_powerful_permissions(org):
    """System permissions like Modify All Data are granted only where the profile allows them."""
    restricted = RESTRICTED_PERMISSIONS.of(org)
    if not restricted:
        pytest.skip("no restricted permissions: declare expect.restricted_permissions "
                    "(e.g. ModifyAllData: [System Administrator]) in the profile")
    holders = org.facts.permission_sets
    known = sorted({permission for holder in holders for permission in holder.system})
    problems = []
    for permission, allowed in sorted(restricted.items()):
        if known and permission not in known:
            pytest.fail(f"expect.restricted_permissions: {permission!r} is not a system permission Lockstep reads; "
                        f"known: {', '.join(known)}", pytrace=False)
        permitted = set(allowed or ())
        only = f"only on {', '.join(sorted(permitted))}" if permitted else "on no permission set or profile"
        for holder in holders:
            if holder.system.get(permission) and holder.name not in permitted:
                kind = "profile" if holder.is_profile else "permission set"
                problems.append(f"{org.name}: {kind} {holder.name}: system permission {permission}: "
                                f"expected {only}, found granted")
    assert not problems, "\n".join(problems)
