"""``lockstep init``: a starter profile from the orgs the Salesforce CLI is logged in to.

    lockstep init [-o profiles/my-orgs.yaml] [--sf sf]

Reads ``sf org list --json`` (aliases, usernames, sandbox or production; scratch orgs are
left out) and writes a profile whose orgs use the ``sf_cli`` auth method, with commented
expectations to fill in. No token is read or written: each run asks the CLI for one.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from lockstep.salesforce.auth import SfCliError, sf_json

__all__ = ["init_main", "orgs_from_sf", "starter_profile"]

_NOT_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_EXPECT = """\
# Expectations every org must meet; uncomment and fill in (per-org `expect:` overrides these).
# expect:
#   packages:                    # namespace (or name) -> version rule
#     my_ns: {version: "1.2.0.1"}
#   flows:                       # flow API name -> expected state
#     My_Flow: {active: true}
#   apex_triggers:
#     MyTrigger: {active: true}
#   validation_rules:            # Object.RuleName -> expected state
#     Case.My_Rule: {active: true}
#   permission_sets:             # permission set -> object access it must grant
#     My_Perm_Set: {objects: {Account: [read, edit]}}
#   api_headroom:
#     min_remaining_percent: 10
"""


class InitError(Exception):
    """Why no profile was written; one line."""


def _kind(org: Mapping[str, Any]) -> str:
    if org.get("isSandbox"):
        return "sandbox"
    if "developer" in str(org.get("orgEdition") or "").lower():
        return "dev"
    return "production"


def _name(org: Mapping[str, Any], taken: set[str]) -> str:
    base = _NOT_NAME.sub("-", str(org.get("alias") or org.get("username") or "org")).strip("-._") or "org"
    name, suffix = base, 2
    while name in taken:
        name, suffix = f"{base}-{suffix}", suffix + 1
    taken.add(name)
    return name


def orgs_from_sf(listing: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Profile org entries from the ``result`` of ``sf org list --json`` (non-scratch orgs, sorted by name)."""
    seen: set[str] = set()
    found: list[Mapping[str, Any]] = []
    for org in listing.get("nonScratchOrgs") or []:
        username = org.get("username")
        if isinstance(org, Mapping) and username and username not in seen:
            seen.add(username)
            found.append(org)
    taken: set[str] = set()
    entries = []
    for org in found:
        entries.append({"name": _name(org, taken), "kind": _kind(org),
                        "auth": {"method": "sf_cli", "alias": str(org.get("alias") or org["username"])}})
    return sorted(entries, key=lambda e: e["name"])


def starter_profile(orgs: Sequence[Mapping[str, Any]]) -> str:
    header = ("# Written by `lockstep init` from the Salesforce CLI's orgs (`sf org list`).\n"
              "# Check each org's kind (dev, sandbox, staging, production, subscriber) and add tags.\n"
              "description: orgs logged in with the Salesforce CLI\n\n")
    body = yaml.safe_dump({"orgs": [dict(o) for o in orgs]}, sort_keys=False, default_flow_style=None)
    return header + _EXPECT + "\n" + body


def _sf_org_list(command: str) -> dict[str, Any]:
    try:
        return sf_json(command, ["org", "list"], timeout=300)
    except SfCliError as exc:
        raise InitError(str(exc)) from None


def init_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="lockstep init", description="write a starter profile from sf org list")
    parser.add_argument("-o", "--output", default="profiles/orgs.yaml", help="profile to write (must not exist)")
    parser.add_argument("--sf", default="sf", help="the Salesforce CLI command")
    args = parser.parse_args(argv)
    target = Path(args.output)
    try:
        if target.exists():
            raise InitError(f"{target} exists; choose another file with -o")
        orgs = orgs_from_sf(_sf_org_list(args.sf))
        if not orgs:
            raise InitError("the Salesforce CLI is logged in to no org; "
                            "log in with `sf org login web` (or jwt, sfdx-url)")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".tmp")
        partial.write_text(starter_profile(orgs), encoding="utf-8")
        partial.replace(target)
    except (InitError, OSError) as exc:
        sys.stderr.write(f"lockstep init: {exc}\n")
        return 2
    sys.stdout.write(f"wrote {target}: {', '.join(o['name'] for o in orgs)}\n")
    return 0
