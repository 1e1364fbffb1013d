"""An org definition's state sections turned into SOQL tables: org, users, permissions, records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lockstep.config.suggest import did_you_mean
from lockstep.emulator.schema.registry import SCHEMA, key_prefix, make_id, to_18
from lockstep.emulator.state.apex import complete_apex_class
from lockstep.emulator.state.definition import OrgDefinition
from lockstep.emulator.state.fleet import add_packaging
from lockstep.emulator.state.setup_objects import add_setup_objects
from lockstep.emulator.state.table_builder import Builder
from lockstep.emulator.state.validation import check_keys, expect_list, expect_mapping
from lockstep.emulator.state.values import BadValue, coerce_value, complete_row

__all__ = ["build_tables"]

_PERMISSIONS = {
    "read": "PermissionsRead", "create": "PermissionsCreate", "edit": "PermissionsEdit",
    "delete": "PermissionsDelete", "view_all": "PermissionsViewAllRecords",
    "modify_all": "PermissionsModifyAllRecords", "view_all_fields": "PermissionsViewAllFields",
}
_FIELD_PERMISSIONS = {"read": "PermissionsRead", "edit": "PermissionsEdit"}
_EDITIONS = {"developer": "Developer Edition", "scratch": "Developer Edition"}
# Organization settings no state file declares: a new org's defaults, as in sobject-Organization-get.json.
_ORG_SETTINGS: dict[str, Any] = {
    "ReceivesAdminInfoEmails": False, "PreferencesConsentManagementEnabled": True,
    "PreferencesLightningLoginEnabled": True, "FiscalYearStartMonth": 1, "UsesStartDateAsFiscalYearName": False,
    "DefaultAccountAccess": "Edit", "DefaultContactAccess": "ControlledByParent", "DefaultOpportunityAccess": "Edit",
    "DefaultLeadAccess": "ReadEditTransfer", "DefaultCaseAccess": "ReadEditTransfer",
    "DefaultCalendarAccess": "HideDetailsInsert", "DefaultPricebookAccess": "ReadSelect",
    "DefaultCampaignAccess": "All",
    "UiSkin": "Theme3", "SignupCountryIsoCode": "US", "NumKnowledgeService": 0, "WebToCaseDefaultOrigin": "Web",
    "MonthlyPageViewsUsed": 0, "MonthlyPageViewsEntitlement": 0,
}


def _org_row(b: Builder) -> None:
    d, org = b.definition, expect_mapping(b.source, "org", b.definition.raw.get("org"))
    org_id = org.get("org_id")
    if org_id:
        text = str(org_id)
        if len(text) not in (15, 18) or not text.startswith("00D") or not text.isalnum():
            raise b.fail("org.org_id", f"expected a 15 or 18 character id starting with 00D, got {org_id!r}")
        d.org_id = to_18(text[:15])
    else:
        d.org_id = make_id("00D", f"org/{d.name}")
    created = b.when("org.created_date", org.get("created_date")) or b.now - dt.timedelta(days=365)
    b.admin_id = b.new_id("User", "0")
    b.add("Organization", {
        "Id": d.org_id, "Name": d.display_name, "IsSandbox": d.kind in ("sandbox", "scratch"),
        "InstanceName": str(org.get("instance_name") or "EU45"),
        "OrganizationType": str(org.get("organization_type") or _EDITIONS.get(d.kind, "Enterprise Edition")),
        "NamespacePrefix": org.get("namespace_prefix"), "Country": "US",
        "TrialExpirationDate": b.now + dt.timedelta(days=7) if d.kind == "scratch" else None,
        "DefaultLocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
        "TimeZoneSidKey": "Europe/London", "IsReadOnly": False, "ReceivesInfoEmails": False,
        "CreatedDate": created, **_ORG_SETTINGS,
    })


def _profile(b: Builder, name: str) -> str:
    if name not in b.profiles:
        profile_id = b.new_id("Profile", name)
        b.profiles[name] = profile_id
        b.add("Profile", {"Id": profile_id, "Name": name, "UserType": "Standard"})
        admin = name == "System Administrator"
        perms = {f: admin for f, spec in SCHEMA["Profile"].fields.items() if f.startswith("Permissions")}
        perms["PermissionsApiEnabled"] = True
        b.add("PermissionSet", {
            "Name": "X" + profile_id[:15], "Label": name, "IsOwnedByProfile": True,
            "IsCustom": name not in ("System Administrator", "Standard User"), "ProfileId": profile_id,
            "Type": "Profile", "NamespacePrefix": None, **perms,
        }, seed=f"profile/{name}")
    return b.profiles[name]


def _users(b: Builder) -> None:
    d = b.definition
    users = expect_list(b.source, "users", d.raw.get("users"))
    names = [u.get("Username") if isinstance(u, dict) else None for u in users]
    if d.username not in names:
        users = [{"Username": d.username, "LastName": "Admin", "Profile": "System Administrator"}, *users]
    user_fields = SCHEMA["User"].fields
    for index, raw in enumerate(users):
        key = f"users[{index}]"
        user = dict(expect_mapping(b.source, key, raw))
        username = user.get("Username")
        if not isinstance(username, str) or "@" not in username:
            raise b.fail(f"{key}.Username", f"required, an e-mail-like username, got {username!r}")
        profile = str(user.pop("Profile", None) or "Standard User")
        check_keys(b.source, key, user, tuple(user_fields))
        row = _coerced(b, key, "User", user)
        row["Id"] = b.admin_id if username == d.username else b.new_id("User", username.lower())
        row["ProfileId"] = _profile(b, profile)
        first = row.get("FirstName")
        row.setdefault("Name", f"{first} {row.get('LastName') or ''}".strip() if first else row.get("LastName"))
        row.setdefault("LastName", username.split("@")[0])
        row.setdefault("Email", username)
        row.setdefault("Alias", username.split("@")[0][:8])
        row.setdefault("IsActive", True)
        row.setdefault("UserType", "Standard")
        row.setdefault("TimeZoneSidKey", "Europe/London")
        row.setdefault("LocaleSidKey", "en_US")
        row.setdefault("LanguageLocaleKey", "en_US")
        b.users[username.lower()] = row["Id"]
        b.add("User", row)
        if username == d.username:
            d.user_id = row["Id"]


def _coerced(b: Builder, key: str, sobject: str, values: dict[str, Any]) -> dict[str, Any]:
    obj = SCHEMA.get(sobject)
    row: dict[str, Any] = {}
    for name, value in values.items():
        spec = obj.find_field(name) if obj else None
        if obj is not None and spec is None and not name.endswith("__c"):
            raise b.fail(f"{key}.{name}", f"no such field on {sobject}")
        try:
            row[spec.name if spec else name] = coerce_value(spec.type if spec else None, value, b.now)
        except BadValue as exc:
            raise b.fail(f"{key}.{name}", str(exc)) from None
    return row


def _permission_sets(b: Builder) -> None:
    ps_keys = ("name", "label", "namespace", "profile", "system", "objects", "fields", "assigned_to", "description")
    for index, raw in enumerate(expect_list(b.source, "permission_sets", b.definition.raw.get("permission_sets"))):
        key = f"permission_sets[{index}]"
        spec = expect_mapping(b.source, key, raw)
        check_keys(b.source, key, spec, ps_keys)
        if spec.get("profile"):
            profile_id = _profile(b, str(spec["profile"]))
            row = next(r for r in b.tables["PermissionSet"]
                       if r.get("ProfileId") == profile_id and r["IsOwnedByProfile"])
        elif isinstance(spec.get("name"), str):
            row = b.add("PermissionSet", {
                "Name": spec["name"], "Label": str(spec.get("label") or spec["name"]),
                "NamespacePrefix": spec.get("namespace"), "IsOwnedByProfile": False,
                "IsCustom": True, "ProfileId": None, "Type": "Regular",
                "Description": spec.get("description"),
            }, seed=f"{spec.get('namespace')}/{spec['name']}")
        else:
            raise b.fail(f"{key}.name", "required (or give profile: <Profile name>)")
        for perm, value in expect_mapping(b.source, f"{key}.system", spec.get("system")).items():
            if not isinstance(value, bool):
                raise b.fail(f"{key}.system.{perm}", f"expected true or false, got {value!r}")
            row["Permissions" + str(perm)] = value
        for obj, rights in expect_mapping(b.source, f"{key}.objects", spec.get("objects")).items():
            flags = _rights(b, f"{key}.objects.{obj}", rights, _PERMISSIONS)
            b.add("ObjectPermissions", {"ParentId": row["Id"], "SobjectType": str(obj), **flags},
                  seed=f"{row['Id']}/{obj}")
        for fld, rights in expect_mapping(b.source, f"{key}.fields", spec.get("fields")).items():
            if "." not in str(fld):
                raise b.fail(f"{key}.fields.{fld}", "expected Object.Field")
            flags = _rights(b, f"{key}.fields.{fld}", rights, _FIELD_PERMISSIONS)
            b.add("FieldPermissions", {"ParentId": row["Id"], "SobjectType": str(fld).split(".")[0],
                                       "Field": str(fld), **flags}, seed=f"{row['Id']}/{fld}")
        for position, username in enumerate(expect_list(b.source, f"{key}.assigned_to", spec.get("assigned_to"))):
            user_id = b.users.get(str(username).lower())
            if user_id is None:
                raise b.fail(f"{key}.assigned_to[{position}]", f"no user {username!r} in users")
            _assign(b, user_id, row["Id"])


def _assign(b: Builder, user_id: str, permission_set_id: str) -> None:
    b.add("PermissionSetAssignment", {
        "AssigneeId": user_id, "PermissionSetId": permission_set_id, "IsActive": True,
        "PermissionSetGroupId": None, "ExpirationDate": None,
    }, seed=f"{user_id}/{permission_set_id}")


def _rights(b: Builder, key: str, rights: Any, names: dict[str, str]) -> dict[str, bool]:
    flags = dict.fromkeys(names.values(), False)
    for right in expect_list(b.source, key, rights):
        if right not in names:
            hint = did_you_mean(str(right), names) or f" (known: {', '.join(names)})"
            raise b.fail(key, f"unknown permission {right!r}{hint}")
        flags[names[right]] = True
    return flags


def _records(b: Builder) -> None:
    records = expect_mapping(b.source, "records", b.definition.raw.get("records"))
    for sobject, rows in records.items():
        obj = SCHEMA.get(str(sobject))
        if obj is None and not str(sobject).endswith("__c"):
            raise b.fail(f"records.{sobject}", "no such object")
        name = obj.name if obj else str(sobject)
        for index, raw in enumerate(expect_list(b.source, f"records.{sobject}", rows)):
            key = f"records.{sobject}[{index}]"
            row = _coerced(b, key, name, dict(expect_mapping(b.source, key, raw)))
            if obj is None:
                row.setdefault("Id", make_id(key_prefix(name), f"{b.definition.name}/{name}/{index}"))
                b.tables.setdefault(name, []).append(row)
                continue
            b.add(name, row)


def build_tables(definition: OrgDefinition, now: dt.datetime) -> None:
    """Fill ``definition.tables`` (and ids, automation, Apex REST) from ``definition.raw``."""
    b = Builder(definition, now)
    _org_row(b)
    _users(b)
    for user_id in b.users.values():
        row = next(r for r in b.tables["User"] if r["Id"] == user_id)
        profile_ps = next(p for p in b.tables["PermissionSet"]
                          if p.get("ProfileId") == row["ProfileId"] and p["IsOwnedByProfile"])
        _assign(b, user_id, profile_ps["Id"])
    _permission_sets(b)
    add_setup_objects(b)
    add_packaging(b)
    _records(b)
    for sobject, rows in b.tables.items():
        obj = SCHEMA.get(sobject)
        for row in rows:
            complete_row(obj, row)
    for row in b.tables.get("ApexClass", []):
        complete_apex_class(row)
    definition.tables = b.tables
