"""Packages: every org runs the package versions this release expects.

A deployment that "succeeded" still leaves orgs behind when a push upgrade skipped them or an
install is still running, and an org on the wrong version runs different code. These checks
read the installed packages of every org (one Tooling query per org, shared by every check)
and compare them with the profile:

    expect:
      packages:                                  # namespace, or name for packages without one
        acme_cpq:
          version: "2.5.0.1"                     # after the release: exact ...
          before: "2.4.0.1"                      # before it: the version the release upgrades
        dlrs: {min_version: "2.18"}              # ... or minimum, maximum, or both (a range)
        Acme Utils: "1.3.0.2"                    # a plain string is an exact version
      package_fleet:                             # large subscriber fleets: a lag budget instead
        acme_cpq: {target: "2.5.0.1", max_lagging_percent: 2}   # (or max_lagging: 5)

Versions compare as major.minor.patch.build numbers ("2.10" is after "2.9").

Phases: before a release (`-m readiness`) every org must be on the `before` version (or
already on the new one, for a re-run after a partial upgrade); after it (`-m verification`)
on the version rule (`version`, `min_version`, `max_version`). Both phases require every org
to run the same version of each package, naming the laggards; a package with a
`package_fleet` policy is instead allowed to lag on up to the given share of orgs (the run
prints the version histogram). A fleet is every org whose expectations name the package under
`package_fleet` (the policy itself is read from the shared `expect`). Per-org overrides go
under the org's `expect:` (null removes a package, or an org from a fleet). A package install
still running is a readiness finding of test_readiness.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

import pytest

from lockstep.config.expectations import VERSION, VERSION_RULE, Each, Either, Fields, Number, expectation
from lockstep.helpers.lag import histogram, named, over_budget
from lockstep.helpers.versions import VersionRule, parse_version

pytestmark = pytest.mark.facts("packages")

RULE_KEYS = ("version", "min_version", "max_version")
NOT_INSTALLED = "not installed"

PACKAGES = expectation("packages", Each("a mapping of package namespace (or name) -> version rule", Either(
    VERSION, Fields("a version rule", **VERSION_RULE.fields, before=Either(VERSION, VERSION_RULE)))))
PACKAGE_FLEET = expectation("package_fleet", Each("a mapping of package namespace -> fleet policy", Fields(
    "a fleet policy", ("target",), target=VERSION, max_lagging_percent=Number(0, 100),
    max_lagging=Number(0, integer=True))))


def _installed(org):
    return {(pkg.namespace or pkg.name): pkg for pkg in org.facts.packages}


def _rule(spec) -> VersionRule | None:
    """The version rule of a package expectation: a string (exact) or {version|min_version|max_version}."""
    if isinstance(spec, Mapping):
        rule = {key: value for key, value in spec.items() if key in RULE_KEYS}
        return VersionRule(rule) if rule else None
    return VersionRule({"version": spec}) if spec else None


def _before_rule(spec) -> VersionRule | None:
    before = spec.get("before") if isinstance(spec, Mapping) else None
    if before is None:
        return None
    return VersionRule(before if isinstance(before, Mapping) else {"version": before})


def _version_of(package) -> str:
    return package.version if package is not None else NOT_INSTALLED


def _order(version: str) -> tuple[int, ...]:
    return (-1,) if version == NOT_INSTALLED else parse_version(version)


@pytest.mark.verification
def test_expected_package_versions(org):
    """Expected packages are installed at the expected version."""
    declared = {key: _rule(spec) for key, spec in (PACKAGES.of(org) or {}).items()}
    rules = {key: rule for key, rule in declared.items() if rule is not None}
    if not rules:
        pytest.skip("no package expectations: declare expect.packages.<namespace>.version in the profile")
    installed = _installed(org)
    problems = []
    for key, rule in sorted(rules.items()):
        package = installed.get(key)
        if package is None or not rule.accepts(parse_version(package.version)):
            problems.append(f"{org.name}: package {key}: expected {rule}, found {_version_of(package)}")
    assert not problems, "\n".join(problems)


@pytest.mark.readiness
def test_packages_on_previous_version(org):
    """Before the release, expected packages are on the version it upgrades from."""
    expected = PACKAGES.of(org) or {}
    declared = {key: _before_rule(spec) for key, spec in expected.items()}
    befores = {key: rule for key, rule in declared.items() if rule is not None}
    if not befores:
        pytest.skip("no pre-release versions: declare expect.packages.<namespace>.before in the profile")
    installed = _installed(org)
    problems = []
    for key, before in sorted(befores.items()):
        package = installed.get(key)
        target = _rule(expected[key])
        if package is not None:
            version = parse_version(package.version)
            if before.accepts(version) or (target is not None and target.accepts(version)):
                continue
        also = f" (or already {target})" if target is not None else ""
        problems.append(f"{org.name}: package {key}: expected {before} before the release{also}, "
                        f"found {_version_of(package)}")
    assert not problems, "\n".join(problems)


@pytest.mark.readiness
@pytest.mark.verification
def test_same_package_versions_everywhere(orgs, profile):
    """Every org of the profile runs the same version of each expected package."""
    fleet = PACKAGE_FLEET.of(profile) or {}
    keys = sorted({key for org in orgs for key in (PACKAGES.of(org) or {}) if key not in fleet})
    if not keys:
        pytest.skip("no package expectations: declare expect.packages in the profile")
    problems = []
    for key in keys:
        by_version = defaultdict(list)
        for org in orgs:
            if key in (PACKAGES.of(org) or {}):
                by_version[_version_of(_installed(org).get(key))].append(org.name)
        if len(by_version) > 1:
            majority = max(by_version, key=lambda version: (len(by_version[version]), _order(version)))
            laggards = "; ".join(
                f"{', '.join(names)} on {version}"
                for version, names in sorted(by_version.items())
                if version != majority
            )
            count = len(by_version[majority])
            problems.append(f"package {key}: {count} org{'s' if count != 1 else ''} on {majority}, but {laggards}")
    assert not problems, "\n".join(problems)


@pytest.mark.verification
def test_package_fleet_within_lag_budget(orgs, profile, record_property):
    """Across a large fleet, no more orgs lag the target package version than the policy allows."""
    policies = PACKAGE_FLEET.of(profile)
    if not policies:
        pytest.skip("no fleet policy: declare expect.package_fleet.<namespace> "
                    "{target: VERSION, max_lagging_percent: N} in the profile")
    problems, report = [], {}
    for key, policy in sorted(policies.items()):
        target = parse_version(policy["target"])
        versions = {org.name: _version_of(_installed(org).get(key))
                    for org in orgs if key in (PACKAGE_FLEET.of(org) or {})}
        if not versions:
            continue
        lagging = sorted(name for name, version in versions.items()
                         if version == NOT_INSTALLED or parse_version(version) < target)
        percent = 100.0 * len(lagging) / len(versions)
        lines = histogram(key, Counter(versions.values()))
        print("\n".join([f"package {key}: target {target}, {len(lagging)} of {len(versions)} orgs lagging",
                         *lines]))
        report[key] = {"target": str(target), "orgs": len(versions), "lagging": lagging,
                       "histogram": dict(Counter(versions.values()))}
        over = over_budget(len(lagging), len(versions), policy)
        if over:
            laggards = named(f"{name} on {versions[name]}" for name in lagging)
            problems.append(f"package {key}: {len(lagging)} of {len(versions)} orgs ({percent:.1f}%) lag {target}, "
                            f"more than the {' or '.join(over)} allowed: {laggards}")
            problems.extend(f"  {line}" for line in lines)
    record_property("lockstep_package_fleet", report)
    if not report:
        pytest.skip("no org of the run is in a package fleet: an org's expect.package_fleet names its packages")
    assert not problems, "\n".join(problems)
