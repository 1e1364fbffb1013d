"""What a collected test is to Lockstep: a check or not, the org it runs on, the orgs it needs."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

import pytest

from lockstep.session.options import gate_path, run_start, write_unfinished, writes_gate

__all__ = ["ORG_PARAM", "is_check", "is_cross_org", "org_param", "orgs_of", "replace_gate_without_profile"]

ORG_PARAM = "_lockstep_org"


def is_check(item: pytest.Item) -> bool:
    """A check uses a fixture of Lockstep's (``org``, ``orgs``, ``profile``, ``lockstep_now``, ...);
    any other test is not one."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return any(getattr(fixture.func, "__module__", "").startswith("lockstep.")
               for fixtures in definitions.values() for fixture in fixtures)


def replace_gate_without_profile(config: pytest.Config) -> None:
    """Checks collected by a run without ``--org-profile`` cannot verify anything: an existing
    gate file (of an earlier run) is replaced by a no-go, so it cannot pass for this run's."""
    path = gate_path(config)
    if writes_gate(config) and path.is_file():
        write_unfinished(config, path, "checks ran without --org-profile: nothing was verified", run_start(config)[0])


def org_param(item: pytest.Item) -> str | None:
    """The org a per-org check was parametrized with (``None`` for other tests)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or ORG_PARAM not in callspec.params:
        return None
    return str(callspec.params[ORG_PARAM])


def is_cross_org(item: pytest.Item) -> bool:
    return org_param(item) is None and "orgs" in getattr(item, "fixturenames", ())


def orgs_of(item: pytest.Item, every_org: tuple[str, ...], selected: AbstractSet[str]) -> tuple[str, ...]:
    """The selected orgs ``item`` needs: its own org, or every org for a cross-org check;
    only names of ``every_org`` (``selected``: the same names as a set; an empty
    parametrization carries no org)."""
    org = org_param(item)
    if org is not None:
        return (org,) if org in selected else ()
    return every_org if is_cross_org(item) else ()
