"""What ``lockstep snapshot`` leaves out of, or replaces in, the copy of an org.

- No credential of any kind is read or written: the state file has no ``credentials:``, and
  the copy is logged in to with the emulator's own sessions.
- Usernames become ``user<N>@snapshot.invalid`` (the login user ``admin@snapshot.invalid``),
  except those the profile's ``permission_assignments`` already name: the profile holds them
  already, and the assignment check compares them. Users get no first or last name, e-mail
  or phone of their own.
- Record fields of these types are dropped: e-mail, phone, encrypted text, binary (base64),
  free text (textarea), compound address and geolocation, lookups to other records
  (``reference``); and these fields whatever their type: :data:`PERSONAL_FIELDS`, and every
  field of a person object (Contact, Lead, User, ...) but its Id and dates.
- URLs (named credentials, remote sites) lose a ``user:password@`` part, their query string
  and fragment, where tokens hide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["DROPPED_TYPES", "PERSONAL_FIELDS", "Pseudonyms", "kept_field", "safe_url"]

DROPPED_TYPES = frozenset({
    "email", "phone", "encryptedstring", "base64", "textarea", "address", "location", "reference",
})
PERSONAL_FIELDS = frozenset({
    "FirstName", "LastName", "MiddleName", "Suffix", "Salutation", "Title", "Birthdate", "Fax",
    "SuppliedName", "SuppliedEmail", "SuppliedPhone", "SuppliedCompany", "Email", "Phone", "MobilePhone",
    "HomePhone", "OtherPhone", "AssistantName", "AssistantPhone", "Username", "Alias", "CommunityNickname",
    "FederationIdentifier",
})
PERSON_OBJECTS = frozenset({"Contact", "Lead", "User", "Individual"})
_PERSON_KEPT = frozenset({"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"})
_ADDRESS_PART = re.compile(r"(Street|City|State|PostalCode|Latitude|Longitude|GeocodeAccuracy)$")


def kept_field(sobject: str, name: str, field_type: str) -> bool:
    """Whether a record field may be copied (see the module's rules)."""
    if field_type in DROPPED_TYPES or name in PERSONAL_FIELDS or name.startswith("Person"):
        return False
    if sobject in PERSON_OBJECTS and name not in _PERSON_KEPT:
        return False
    return not _ADDRESS_PART.search(name)


def safe_url(url: str | None) -> str | None:
    """``url`` without credentials, query string or fragment."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _same_user(expected: str, username: str) -> bool:
    expected, username = expected.lower(), username.lower()
    return username == expected or username.startswith(expected + ".")


class Pseudonyms:
    """Stable placeholder usernames; those ``named`` (by the profile) are kept as they are."""

    def __init__(self, usernames: Iterable[str], named: Iterable[str]) -> None:
        named = [str(n) for n in named]
        self._map: dict[str, str] = {}
        for index, username in enumerate(sorted({u.lower(): u for u in usernames}.values()), start=1):
            kept = any(_same_user(n, username) for n in named)
            self._map[username.lower()] = username if kept else f"user{index}@snapshot.invalid"

    def __call__(self, username: str) -> str:
        return self._map.get(username.lower(), "user0@snapshot.invalid")


def named_usernames(expect: Mapping[str, Any]) -> list[str]:
    """The usernames a profile's ``permission_assignments`` names."""
    assignments = expect.get("permission_assignments") or {}
    return [str(u) for users in assignments.values() if isinstance(users, (list, tuple)) for u in users]
