"""The pytest hooks of Lockstep: options, fixtures, parametrization over orgs, wiring.

Inert without ``--org-profile``: tests of other projects are unaffected, and tests that
ask for ``org``/``orgs`` error with one line asking for a profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lockstep.config.waivers import severity_of
from lockstep.gate.build import PHASES
from lockstep.session.active_run import activate, current
from lockstep.session.collection import add_ini
from lockstep.session.fixtures import (  # noqa: F401  (the fixtures checks use, registered with the plugin)
    _lockstep_org,
    endpoint_probes,
    lockstep_deployed_at,
    lockstep_now,
    lockstep_release,
    org,
    orgs,
    planned,
    profile,
    records,
)
from lockstep.session.items import ORG_PARAM as _ORG_PARAM
from lockstep.session.items import is_check, replace_gate_without_profile
from lockstep.session.masking import mask_output
from lockstep.session.options import DEFAULT_CONCURRENCY, open_run, option

__all__: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lockstep", "Lockstep: verify every Salesforce org of a profile")
    group.addoption("--org-profile", metavar="NAME|PATH", default=None,
                    help="profile to verify: a name (profiles/NAME.yaml under the rootdir) or a YAML path")
    group.addoption("--orgs", metavar="NAME,tag:x", default=None,
                    help="narrow the profile's orgs by name (globs allowed) or tag:TAG, comma-separated")
    group.addoption("--org-shard", metavar="I/N", default=None,
                    help="verify only shard I of N of the orgs (a stable hash of each org name); checks that are not"
                         " per org run in shard 1; merge the shards' gates with `lockstep gate merge`")
    group.addoption("--release", metavar="ID", default=None, help="release id recorded in the gate")
    group.addoption("--run-id", metavar="ID", default=None,
                    help="this run's identity, recorded in the gate (`lockstep gate check --run-id` accepts only"
                         " its gate); default: the CI's run id (GITHUB_RUN_ID, CI_PIPELINE_ID, BUILD_TAG, ...)"
                         " or a new random one")
    group.addoption("--gate-file", metavar="PATH", default=None,
                    help="where to write the gate JSON (default: <rootdir>/reports/gate.json)")
    group.addoption("--deployed-at", metavar="ISO", default=None,
                    help="when the deployment started (ISO-8601); recorded in the gate, available to checks")
    group.addoption("--now", metavar="ISO", default=None,
                    help="the clock checks use (ISO-8601); default: the current time")
    group.addoption("--org-concurrency", metavar="N", default=None,
                    help=f"how many orgs are logged in to and asked at once (default {DEFAULT_CONCURRENCY}; "
                         "one request at a time per org)")
    add_ini(parser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> Iterator[None]:
    """Before conftest files are imported: mask secrets in everything pytest writes (before it
    starts capturing output), then replace the gate by the no-go of a run not finished yet."""
    if option(early_config, "org_profile"):
        mask_output(early_config)
        open_run(early_config, args)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Iterator[Any]:
    option = config.option
    if (getattr(option, "org_profile", None) and getattr(option, "numprocesses", None)
            and getattr(option, "dist", None) == "no"):
        option.dist = "loadgroup"
    return (yield)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "readiness: a pre-deploy check (can this org take the release?)")
    config.addinivalue_line("markers", "verification: a post-deploy check (did the release land correctly?)")
    config.addinivalue_line("markers", "warning: a check whose failures are reported but do not block the gate")
    config.addinivalue_line("markers", "writes: the check creates/deletes records (fails where the profile "
                                       "does not allow writes; every other check is read-only)")
    config.addinivalue_line("markers", "facts(*names): facts the check reads; an org's declared facts are gathered "
                                       "together (batched) before its first check")
    config.addinivalue_line("markers", "plan(*planners): functions org -> {name: request} naming what the check "
                                       "needs from each org; asked before the first check, read through `planned`")
    if config.getoption("org_profile", None):
        # the run machinery loads only for a Lockstep run: every pytest session of the
        # environment imports this module (see lockstep.session.active_run)
        from lockstep.session.run import start

        activate(config, start(config))


def pytest_unconfigure(config: pytest.Config) -> None:
    run = current(config)
    if run is not None:
        run.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if _ORG_PARAM not in metafunc.fixturenames:
        return
    run = current(metafunc.config)
    if run is None:
        return
    grouped = metafunc.config.pluginmanager.hasplugin("xdist")
    params = [
        pytest.param(name, id=name, marks=[pytest.mark.xdist_group(name)] if grouped else [])
        for name in run.org_names
    ]
    metafunc.parametrize(_ORG_PARAM, params, indirect=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = current(config)
    if run is None:
        if any(is_check(item) for item in items):
            replace_gate_without_profile(config)
        return
    others = [item.nodeid for item in items if not is_check(item)]
    if others and not run.is_worker:
        more = f" and {len(others) - 1} more collected tests use" if len(others) > 1 else " uses"
        run.refuse_collection(f"{others[0]}{more} no Lockstep fixture (org, orgs, profile, ...): not checks;"
                              " run the check catalog (the project's testpaths) or name check files")
    for item in items:
        callspec = getattr(item, "callspec", None)
        org_name = callspec.params.get(_ORG_PARAM) if callspec is not None else None
        original = getattr(item, "originalname", None)
        check = f"{item.parent.nodeid}::{original}" if original and item.parent is not None else item.nodeid
        phases = sorted({m.name for m in item.iter_markers() if m.name in PHASES})
        item.user_properties.extend([
            ("lockstep_org", org_name),
            ("lockstep_check", check),
            ("lockstep_test", item.nodeid),
            ("lockstep_severity", severity_of(run.profile.severity, check, org_name,
                                              "warning" if item.get_closest_marker("warning") else "blocker")),
            ("lockstep_phases", phases),
        ])
