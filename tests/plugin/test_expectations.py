"""Expectations: every catalog key is validated when the profile is used; one line per mistake.
Outside a pytest run (load_profile, ``lockstep expect``) keys of checks not seen pass."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockstep.config.errors import ConfigError
from lockstep.config.expectations import builtin_expectations, known, validate_expect
from lockstep.config.profile import load_profile

REPO = Path(__file__).resolve().parents[2]
DOCUMENTED = sorted([*(REPO / "checks").glob("test_*.py"), REPO / "plugin" / "lockstep" / "helpers" / "endpoints.py"])
ORGS = "orgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: qa}}\n"


def docstring_examples(path: Path) -> dict[str, Any]:
    """The ``expect:`` (and ``release:``) YAML example of a module docstring."""
    lines = (ast.get_docstring(ast.parse(path.read_text())) or "").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "expect:")
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("    "):
            break
        block.append(line)
    data = yaml.safe_load(textwrap.dedent("\n".join(block)))
    return {key: data[key] for key in ("expect", "release") if key in data}


def load(root: Path, text: str, name: str = "p.yaml"):
    path = root / "profiles" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return load_profile(name.removesuffix(".yaml"), root, environ={})


def error_of(root: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(root, text)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("module", DOCUMENTED, ids=lambda path: path.name)
def test_every_documented_example_loads(tmp_path: Path, module: Path) -> None:
    example = docstring_examples(module)
    orgs = ORGS.replace("kind: sandbox", "kind: packaging") if "fleet" in example["expect"] else ORGS
    profile = load(tmp_path, yaml.safe_dump(example) + orgs)
    assert dict(profile.org("qa").expect).keys() == example["expect"].keys()


def test_the_examples_cover_every_catalog_key() -> None:
    documented = {key for module in DOCUMENTED for key in docstring_examples(module)["expect"]}
    # environment: prose in test_integrations.py
    assert documented | {"environment"} == set(known(builtin_expectations()))


@pytest.mark.parametrize(("expect", "error"), [
    ({"packges": {"acme_cpq": {"version": "1.0"}}}, "expect.packges: unknown key (did you mean 'packages'?)"),
    ({"packages": {"acme_cpq": {"version": "abc"}}},
     """expect.packages.acme_cpq.version: expected a version string like "2.5.0.1" (quoted), found 'abc'"""),
    ({"packages": {"acme_cpq": 2.10}},
     """expect.packages.acme_cpq: expected a version string like "2.5.0.1" (quoted), """
                                       "found 2.1"),
    ({"packages": {"acme_cpq": {"before": {"min_versoin": "2.4"}}}},
     "expect.packages.acme_cpq.before.min_versoin: unknown key (did you mean 'min_version'?)"),
    ({"package_fleet": {"acme_cpq": {"max_lagging": 2}}},
     "expect.package_fleet.acme_cpq: missing required key 'target'"),
    ({"flows": {"Case_Triage": {"actve": True}}},
     "expect.flows.Case_Triage.actve: unknown key (did you mean 'active'?)"),
    ({"flows": {"Case_Triage": "yes"}}, "expect.flows.Case_Triage: expected true or false, found 'yes'"),
    ({"flows": {"Case_Triage": ["on"]}}, "expect.flows.Case_Triage: expected true or false or a mapping like "
                                         "{active: true, version: 4}, found a list"),
    ({"flows": {"Case_Triage": {"version": "4"}}}, "expect.flows.Case_Triage.version: expected an integer, found '4'"),
    ({"api_headroom": {"min_remaining_percent": "ten"}},
     "expect.api_headroom.min_remaining_percent: expected a number, found 'ten'"),
    ({"api_headroom": {"min_remaining_percent": 150}},
     "expect.api_headroom.min_remaining_percent: expected a number from 0 to 100, found 150"),
    ({"scheduled_jobs": {"Nightly": {"state": "WAITNG"}}},
     "expect.scheduled_jobs.Nightly.state: unknown value 'WAITNG' (did you mean 'WAITING'?)"),
    ({"permission_sets": {"Sales_Ops": {"objects": {"Account": ["read", "wirte"]}}}},
     "expect.permission_sets.Sales_Ops.objects.Account[1]: unknown value 'wirte'; expected one of read, create, edit, "
     "delete, view_all, modify_all"),
    ({"drift": {"basline": "prod"}}, "expect.drift.basline: unknown key (did you mean 'baseline'?)"),
    ({"drift": {"compare": ["flow"]}}, "expect.drift.compare[0]: unknown value 'flow' (did you mean 'flows'?)"),
    ({"endpoints": {"ERP": {"production": "erp.acme.example"}}},
     "expect.endpoints.ERP.production: expected an http(s) URL, found 'erp.acme.example'"),
    ({"probes": {"ERP": {"status": 200}}}, "expect.probes.ERP: missing required key 'url'"),
    ({"business_data": {"Cases": {"object": "Case; DELETE"}}},
     "expect.business_data.Cases.object: expected an object or field API name like Case or Account.Rating, "
     "found 'Case; DELETE'"),
    ({"record_automation": {"Triage": {"object": "Case", "expect": {"Priority": ["High"]}}}},
     "expect.record_automation.Triage.expect.Priority: expected a plain value (text, number, true/false), "
     "found a list"),
    ({"deployed_at": "yesterday"},
     "expect.deployed_at: expected an ISO-8601 time like 2026-11-26T04:00:00+00:00, found 'yesterday'"),
    ({"endpoints": {"ERP": {"sandbox": "${emulator.url}/erp"}}},
     "expect.endpoints.ERP.sandbox: expected an http(s) URL, found '${emulator.url}/erp'"),
    ({"probes": {"API": {"url": {"sandbox": "${emulator.url}/services/data/"}}}},
     "expect.probes.API.url.sandbox: ${emulator.url} needs a profile served by the emulator "
     "(emulator: <state folder>)"),
    ({"event_subscribers": "OrderEventTrigger"}, "expect.event_subscribers: expected a list of strings, "
                                                 "found 'OrderEventTrigger'"),
    ({"release": {"windows": []}},
     "expect.release: not an expectation: 'release' belongs at the top level of the profile"),
    ({"allow_writes": True}, "expect.allow_writes: not an expectation: 'allow_writes' belongs in the org's entry, "
                             "beside expect"),
    ({"probes": {"ERP": {"url": "https://erp.acme.example", "timeout_s": 0}}},
     "expect.probes.ERP.timeout_s: expected a number from 0.1 to 30, found 0"),
])
def test_each_mistake_is_one_line_naming_the_key(expect: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_expect(expect)
    assert str(info.value) == error


def test_outside_a_run_keys_of_checks_not_seen_pass_through(tmp_path: Path) -> None:
    profile = load(tmp_path, "expect:\n  my_thing: {anything: [1, 2]}\n  invoice_sync: true\n  deployed_by: ci\n"
                             "  flows_v2: {}\n  endpoint_probes: {}\n" + ORGS)
    assert profile.org("qa").expect["my_thing"]["anything"] == (1, 2)
    assert profile.expect["invoice_sync"] is True


def test_an_org_override_is_validated_after_merging(tmp_path: Path) -> None:
    message = error_of(tmp_path, """\
        expect: {flows: {Case_Triage: {active: true}}}
        orgs:
          - {name: prod, kind: production, auth: {method: sf_cli, alias: prod}}
          - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: qa}, expect: {flows: {Case_Triage: {actve: false}}}}
        """)
    assert message == "profiles/p.yaml: orgs[qa].expect.flows.Case_Triage.actve: unknown key (did you mean 'active'?)"


def test_an_override_completes_and_null_removes_a_shared_expectation(tmp_path: Path) -> None:
    (tmp_path / "profiles" / "states").mkdir(parents=True)
    profile = load(tmp_path, """\
        emulator: states
        expect:
          probes: {API: {url: "${emulator.url}/services/data/"}}
          api_headroom: {min_remaining_percent: 10}
        orgs:
          - name: qa
            kind: sandbox
            auth: {method: sf_cli, alias: qa}
            expect: {probes: {API: {max_latency_ms: 0}}, api_headroom: {min_remaining_percent: null, min_remaining: 5}}
        """)
    qa = profile.org("qa").expect
    assert dict(qa["probes"]["API"]) == {"url": "${emulator.url}/services/data/", "max_latency_ms": 0}
    assert dict(qa["api_headroom"]) == {"min_remaining": 5}
    message = error_of(tmp_path, """\
        expect: {probes: {API: {url: "https://erp.acme.example/health"}}}
        orgs:
          - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: qa}, expect: {probes: {API: {url: null}}}}
        """)
    assert message == "profiles/p.yaml: orgs[qa].expect.probes.API: missing required key 'url'"


def test_a_mistake_in_a_base_file_names_the_base_file(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "base.yaml").write_text("expect: {flows: {A: {active: true}, B: {actve: true}}}\n" + ORGS)
    message = error_of(tmp_path, "extends: base.yaml\nexpect: {flows: {A: {active: false}}}\n")
    assert message == "profiles/base.yaml: expect.flows.B.actve: unknown key (did you mean 'active'?)"


@pytest.mark.parametrize("path", [REPO / "profiles" / "demo.yaml",
                                  *sorted((REPO / "tests" / "checks" / "states").glob("*/*.yaml"))],
                         ids=lambda path: path.name)
def test_the_bundled_and_test_profiles_load(path: Path) -> None:
    assert load_profile(path, REPO, environ={}).orgs


@pytest.mark.parametrize(("expect", "message"), [
    ("packges: {acme_cpq: {version: '1.0'}}", "expect.packges: unknown key (did you mean 'packages'?)"),
    ("packages: {acme_cpq: {version: abc}}",
     """expect.packages.acme_cpq.version: expected a version string like "2.5.0.1" (quoted), found 'abc'"""),
    ("api_headroom: {min_remaining_percent: ten}",
     "expect.api_headroom.min_remaining_percent: expected a number, found 'ten'"),
])
def test_expectation_mistakes_are_usage_errors(project: pytest.Pytester, expect: str, message: str) -> None:
    project.mkdir("profiles")
    (project.path / "profiles" / "demo.yaml").write_text(f"expect: {{{expect}}}\n" + ORGS)
    project.makepyfile(test_a="def test_one(org):\n    pass\n")
    result = project.runpytest("--org-profile", "demo", "-p", "no:cacheprovider")
    assert result.ret == 4
    assert [line for line in result.errlines if line.strip()] == [f"ERROR: profiles/demo.yaml: {message}"]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_an_org_override_mistake_is_a_usage_error(project: pytest.Pytester) -> None:
    project.mkdir("profiles")
    (project.path / "profiles" / "demo.yaml").write_text(
        "expect: {flows: {Case_Triage: {active: true}}}\n"
        "orgs:\n  - {name: qa, kind: sandbox, auth: {method: sf_cli, alias: qa}, "
        "expect: {flows: {Case_Triage: {actve: true}}}}\n")
    project.makepyfile(test_a="def test_one(org):\n    pass\n")
    result = project.runpytest("--org-profile", "demo", "-p", "no:cacheprovider")
    assert result.ret == 4
    assert [line for line in result.errlines if line.strip()] == [
        "ERROR: profiles/demo.yaml: orgs[qa].expect.flows.Case_Triage.actve: unknown key (did you mean 'active'?)"]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
