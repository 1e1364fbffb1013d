"""One org of a profile, for the commands that read a single org (``lockstep expect``,
``lockstep snapshot``): found by name, then logged in to with the emulator the profile names
started for it and stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from lockstep.config.errors import ConfigError
from lockstep.config.profile import OrgConfig, Profile, load_profile
from lockstep.config.suggest import did_you_mean

if TYPE_CHECKING:
    from lockstep.session.orgs import Org

__all__ = ["find_org", "opened"]


def find_org(profile_spec: str, name: str, rootdir: Path) -> tuple[Profile, OrgConfig]:
    """The profile and its org ``name``; :class:`ConfigError` (one line) for either mistake."""
    profile = load_profile(profile_spec, rootdir)
    config = next((o for o in profile.orgs if o.name == name), None)
    if config is None:
        raise ConfigError(f"no org named {name!r} in profile {profile.name!r}"
                          f"{did_you_mean(name, [o.name for o in profile.orgs])}; "
                          f"orgs: {', '.join(o.name for o in profile.orgs)}")
    return profile, config


@contextmanager
def opened(profile: Profile, config: OrgConfig) -> Iterator[Org]:
    """The org, with the profile's emulator running while the block runs."""
    from lockstep.session.orgs import Landscape  # the client stack: loaded only when an org is read

    landscape = Landscape(profile, (config,))
    try:
        landscape.start_emulator()
        yield landscape.pool.get(config.name)
    finally:
        landscape.stop()
