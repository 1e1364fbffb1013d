"""``lockstep expect``: the ``expect:`` block an org as it is now satisfies.

    lockstep expect --org-profile P --org NAME

Reads the org with the catalog's read-only fact queries and prints, as YAML, its packages
(versions), flows, Apex triggers, validation rules (active or not), scheduled jobs (state) and
named-credential endpoints (for the org's environment). Paste it into the profile to baseline
the org; review the diff on the next release. An active remote site whose origin no endpoint
covers is named in a comment: which system it belongs to is the team's call, as are the
permission sets whose grants matter.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from lockstep.commands.single_org import find_org, opened
from lockstep.config.errors import ConfigError
from lockstep.facts.fetch import Facts
from lockstep.helpers.endpoints import classify, environment_of
from lockstep.salesforce.errors import SalesforceError

__all__ = ["expect_block", "expect_main"]


def expect_block(facts: Facts, kind: str, expect: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The expectations ``facts`` satisfy now, keyed like the catalog's ``expect:`` keys."""
    block: dict[str, Any] = {}
    packages = {p.namespace or p.name: {"version": p.version} for p in facts.packages}
    flows = {f.api_name: ({"active": True, "version": f.active_version} if f.active_version else {"active": False})
             for f in facts.flows}
    triggers = {t.name: {"active": t.status == "Active"} for t in facts.apex_triggers}
    rules = {f"{r.object}.{r.name}": {"active": r.active} for r in facts.validation_rules if r.object}
    jobs = {j.name: {"state": j.state} for j in facts.scheduled_jobs if j.name}
    environment = environment_of(kind, expect or {})
    endpoints = {c.name: {environment: c.endpoint} for c in facts.named_credentials
                 if c.endpoint and c.endpoint.startswith(("https://", "http://"))}
    for key, value in (("packages", packages), ("flows", flows), ("apex_triggers", triggers),
                       ("validation_rules", rules), ("scheduled_jobs", jobs), ("endpoints", endpoints)):
        if value:
            block[key] = dict(sorted(value.items()))
    return block


def expect_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="lockstep expect", description="print the expect: block an org satisfies now")
    parser.add_argument("--org-profile", required=True, help="profile name (profiles/NAME.yaml) or path")
    parser.add_argument("--org", required=True, help="the org's name in the profile")
    args = parser.parse_args(argv)
    try:
        profile, config = find_org(args.org_profile, args.org, Path.cwd())
    except ConfigError as exc:
        sys.stderr.write(f"lockstep expect: {exc}\n")
        return 2
    try:
        with opened(profile, config) as org:
            block = expect_block(org.facts, config.kind, config.expect)
            uncovered = [s for s in org.facts.remote_sites if s.active and s.url
                         and not classify(s.url, block.get("endpoints", {}), origin_only=True)]
    except (SalesforceError, LookupError) as exc:
        sys.stderr.write(f"lockstep expect: {' '.join(str(exc).split())}\n")
        return 1
    sys.stdout.write(f"# expectations org {config.name!r} satisfies now (lockstep expect)\n")
    for site in uncovered:
        sys.stdout.write(f"# remote site {site.name} ({site.url}) is covered by no endpoint: "
                         "add its URL to the system it belongs to\n")
    sys.stdout.write(yaml.safe_dump({"expect": block}, sort_keys=False, default_flow_style=None, width=120))
    return 0
