"""Packages: every org runs the package versions this release expects.

A deployment that "succeeded" still leaves orgs behind when a push upgrade skipped them or an
install is still running. These checks read the installed packages of every org (one Tooling
query per org, shared by every check) and compare them with `expect.packages` in the profile:

    expect:
      packages:
        acme_cpq: {version: "2.5.0.1"}           # exact
        dlrs: {min_version: "2.18"}              # minimum (or max_version, or both: a range)

Packages are keyed by namespace, or by name for packages without a namespace.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from lockstep.versions import VersionRule, parse_version

pytestmark = pytest.mark.verification


def _installed(org):
    return {(pkg.namespace or pkg.name): pkg for pkg in org.facts.packages}


def test_expected_package_versions(org):
    """Expected packages are installed at the expected version."""
    expected = org.expect.get("packages")
    if not expected:
        pytest.skip("no package expectations: declare expect.packages in the profile")
    installed = _installed(org)
    problems = []
    for key, spec in sorted(expected.items()):
        rule = VersionRule(spec)
        package = installed.get(key)
        if package is None:
            problems.append(f"{org.name}: package {key}: expected {rule}, found not installed")
        elif not rule.accepts(parse_version(package.version)):
            problems.append(f"{org.name}: package {key}: expected {rule}, found {package.version}")
    assert not problems, "\n".join(problems)


def test_same_package_versions_everywhere(orgs):
    """Every org of the profile runs the same version of each expected package."""
    keys = sorted({key for org in orgs for key in (org.expect.get("packages") or {})})
    if not keys:
        pytest.skip("no package expectations: declare expect.packages in the profile")
    problems = []
    for key in keys:
        by_version = defaultdict(list)
        for org in orgs:
            if key not in (org.expect.get("packages") or {}):
                continue
            package = _installed(org).get(key)
            by_version[package.version if package else "not installed"].append(org.name)
        if len(by_version) > 1:
            majority = max(by_version, key=lambda version: len(by_version[version]))
            laggards = "; ".join(
                f"{', '.join(names)} on {version}"
                for version, names in sorted(by_version.items())
                if version != majority
            )
            problems.append(
                f"package {key}: {len(by_version[majority])} orgs on {majority}, but {laggards}"
            )
    assert not problems, "\n".join(problems)
