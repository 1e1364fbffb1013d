"""The packaging kind and the fleet: expectation at profile load: one-line errors naming the file,
the org and the key; a valid fleet loads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lockstep.config.errors import ConfigError
from lockstep.config.profile import load_profile
from lockstep.helpers.fleet import DEFAULT_STATUSES, FleetSpec, fleet_requests

FLEET = '{package: acme_cpq, target: "2.5.0.1", max_lagging_percent: 2}'


def load(root: Path, orgs: str):
    path = root / "profiles" / "isv.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("orgs:\n" + textwrap.indent(textwrap.dedent(orgs), "  "))
    return load_profile("isv", root, environ={})


def error_of(root: Path, orgs: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(root, orgs)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_packaging_org_with_a_fleet_loads(tmp_path: Path) -> None:
    profile = load(tmp_path, """
        - name: pkg
          kind: packaging
          auth: {method: sf_cli, alias: pkg}
          expect:
            fleet: {package: acme_cpq, target: "2.5.0.1", max_lagging: 5, org_types: [Production],
                     only: [00D000000000INIEA2], exclude: [Globex], push_grace_minutes: 30}
        """)
    org = profile.org("pkg")
    assert org.kind == "packaging" and org.allow_writes is False  # an owner org is a production org
    spec = FleetSpec.of(org.kind, org.expect)
    assert spec is not None and str(spec.target) == "2.5.0.1" and spec.statuses == frozenset(DEFAULT_STATUSES)
    assert spec.only is not None
    assert "00D000000000INI" in spec.only  # an 18-character org key also matches in its 15-character form
    assert spec.push_grace.total_seconds() == 1800
    requests = fleet_requests(org)
    assert requests is not None
    assert set(requests) == {"fleet versions", "fleet subscribers", "fleet push requests",
                             "fleet push job counts", "fleet open push jobs"}
    assert "NamespacePrefix = 'acme_cpq'" in requests["fleet subscribers"].soql


@pytest.mark.parametrize(("fleet", "error"), [
    ('{target: "2.5.0.1"}', "orgs[pkg].expect.fleet: missing required key 'package'"),
    ("{package: acme_cpq, target: 2.5}",
     'orgs[pkg].expect.fleet.target: expected a version string like "2.5.0.1" (quoted), found 2.5'),
    ('{package: acme_cpq, target: "2.5.0.1", max_laging_percent: 2}',
     "orgs[pkg].expect.fleet.max_laging_percent: unknown key (did you mean 'max_lagging_percent'?)"),
    ('{package: acme_cpq, target: "2.5.0.1", max_lagging_percent: 120}',
     "orgs[pkg].expect.fleet.max_lagging_percent: expected a number from 0 to 100, found 120"),
    ('{package: acme_cpq, target: "2.5.0.1", statuses: [Actve]}',
     "orgs[pkg].expect.fleet.statuses[0]: unknown value 'Actve' (did you mean 'Active'?)"),
    ('{package: acme_cpq, target: "2.5.0.1", org_types: Production}',
     "orgs[pkg].expect.fleet.org_types: expected a list of org types (Production, Sandbox), found 'Production'"),
    ('{package: acme_cpq, target: "2.5.0.1", exclude: {Globex: true}}',
     "orgs[pkg].expect.fleet.exclude: expected a list of org keys or names, found a mapping"),
    ('{package: acme_cpq, target: "2.5.0.1", push_grace_minutes: soon}',
     "orgs[pkg].expect.fleet.push_grace_minutes: expected a number, found 'soon'"),
    ("[acme_cpq]", "orgs[pkg].expect.fleet: expected a fleet (package, target, lag budget, which subscribers count), "
                   "found a list"),
])
def test_a_malformed_fleet_is_one_line_naming_file_org_and_key(tmp_path: Path, fleet: str, error: str) -> None:
    message = error_of(tmp_path, f"- {{name: pkg, kind: packaging, auth: {{method: sf_cli, alias: p}}, "
                                 f"expect: {{fleet: {fleet}}}}}\n")
    assert message == f"profiles/isv.yaml: {error}"


def test_a_fleet_on_an_org_of_another_kind_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, f"- {{name: prod, kind: production, auth: {{method: sf_cli, alias: p}}, "
                                 f"expect: {{fleet: {FLEET}}}}}\n")
    assert message == ("profiles/isv.yaml: orgs[prod].expect.fleet: a fleet is read from the package's owner org: "
                       "declare this org with kind: packaging")



def test_a_shared_fleet_reaching_an_org_of_another_kind_is_refused(tmp_path: Path) -> None:
    """The shared expect: is merged onto every org: a fleet there would reach production too."""
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "isv.yaml").write_text(
        f"expect: {{fleet: {FLEET}}}\norgs:\n- {{name: pkg, kind: packaging, auth: {{method: sf_cli, alias: p}}}}\n"
        "- {name: prod, kind: production, auth: {method: sf_cli, alias: q}}\n")
    with pytest.raises(ConfigError) as info:
        load_profile("isv", tmp_path, environ={})
    assert str(info.value) == ("profiles/isv.yaml: expect.fleet: a fleet is read from the package's owner org, and "
                               "org prod is kind production: declare fleet: in the packaging org's expect:")

def test_a_misspelled_kind_suggests_packaging(tmp_path: Path) -> None:
    message = error_of(tmp_path, "- {name: pkg, kind: packageing, auth: {method: sf_cli, alias: p}}\n")
    assert message == "profiles/isv.yaml: orgs[pkg].kind: unknown value 'packageing' (did you mean 'packaging'?)"
