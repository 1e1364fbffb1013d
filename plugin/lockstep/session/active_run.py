"""The run of this pytest process, reached one way (``current``) by the hooks and the fixtures,
without importing the run machinery: the plugin module is imported by every pytest session of
the environment, Lockstep's own runs or not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lockstep.session.run import Run

__all__ = ["PLUGIN_NAME", "current"]

PLUGIN_NAME = "lockstep-state"


def current(config: pytest.Config) -> Run | None:
    """The run of this session, or ``None`` without ``--org-profile``."""
    run: Run | None = config.pluginmanager.get_plugin(PLUGIN_NAME)
    return run
