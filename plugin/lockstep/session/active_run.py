"""The run of this pytest process, reached one way (``current``) by the hooks and the fixtures,
without importing the run machinery: the plugin module is imported by every pytest session of
the environment, Lockstep's own runs or not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lockstep.session.run import Run

__all__ = ["PLUGIN_NAME", "activate", "current"]

PLUGIN_NAME = "lockstep-state"


def activate(config: pytest.Config, run: Run) -> None:
    """Make ``run`` the run of this session (once its hooks are registered)."""
    config.pluginmanager.register(run, PLUGIN_NAME)


def current(config: pytest.Config) -> Run | None:
    """The run of this session, or ``None`` without ``--org-profile``."""
    run: Run | None = config.pluginmanager.get_plugin(PLUGIN_NAME)
    return run
