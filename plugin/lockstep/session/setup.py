"""The run's configuration, read once when pytest configures it: the clock options, the
profile and the orgs selected (``--orgs``, ``--org-shard``), and the landscape that connects them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from lockstep.config.errors import ConfigError
from lockstep.config.profile import Profile, load_profile
from lockstep.session.options import org_concurrency, parse_time
from lockstep.session.orgs import Landscape, select_orgs
from lockstep.session.shards import Shard, parse_shard, split

__all__ = ["RunSetup"]


@dataclass(frozen=True)
class RunSetup:
    """What one pytest process verifies, and where its gate goes."""

    config: pytest.Config
    gate_path: Path
    started: str
    now: dt.datetime | None
    deployed_at: dt.datetime | None
    is_worker: bool
    shard: Shard | None
    narrowed: bool  # --orgs left out some of the profile's orgs
    selected_names: tuple[str, ...]
    landscape: Landscape

    @classmethod
    def load(cls, config: pytest.Config, gate_path: Path, started: str) -> RunSetup:
        """Read the options and the profile; a bad value is a one-line usage error."""
        now = parse_time("--now", config.getoption("now"))
        deployed_at = parse_time("--deployed-at", config.getoption("deployed_at"))
        selector = config.getoption("orgs")
        try:
            # expectations: validated once the check files that declare them are collected
            profile = load_profile(config.getoption("org_profile"), Path(config.rootpath), expectations={})
            selected = select_orgs(profile, selector)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        known = {o.name for o in profile.orgs}
        selected = tuple(c for c in selected if c.name in known)
        if not selected:
            names = ", ".join(sorted(known)) or "none"
            raise pytest.UsageError(f"--orgs {selector!r}: selects no org of profile {profile.name} (orgs: {names})")
        worker_input = getattr(config, "workerinput", None)
        shard = parse_shard(config.getoption("org_shard"))
        mine = split(shard, selected, profile.name) if shard is not None else selected
        cross = selected if shard is not None and shard.runs_cross_org else mine
        landscape = Landscape(profile, mine, Landscape.emulator_from(worker_input), cross=cross,
                              concurrency=org_concurrency(config.getoption("org_concurrency", None)))
        return cls(config, gate_path, started, now, deployed_at, is_worker=worker_input is not None, shard=shard,
                   narrowed=len(selected) < len(profile.orgs), selected_names=tuple(sorted(c.name for c in selected)),
                   landscape=landscape)

    @property
    def profile(self) -> Profile:
        return self.landscape.profile

    @property
    def org_names(self) -> tuple[str, ...]:
        return self.landscape.org_names
