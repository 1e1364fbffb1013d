"""Shared test configuration: pytester drives pytest runs of the plugin."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

pytest_plugins = ["pytester"]

_PYCACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    _share_bytecode(config)
    # `pytest tests -n 4` (the README's command; four workers on two cores, as many tests wait on a
    # subprocess, a real client or an emulator's latency): xdist's default "load" hands each worker its
    # share up front, and a worker left with a few runs of a minute ends the suite alone.
    # "worksteal" lets the idle worker take the other's pending tests.
    if config.getoption("dist", None) == "load" and config.getoption("numprocesses", None):
        config.option.dist = "worksteal"


def _share_bytecode(config: pytest.Config) -> None:
    """The suite starts hundreds of pytest runs (pytester, subprocesses, xdist workers) that import
    the same modules, and pytest rewrites the asserts of every lockstep module (a plugin's
    distribution). Under PYTHONDONTWRITEBYTECODE each run compiled all of them again: about half
    of the suite's CPU time. Their bytecode is then shared through a folder of this test session
    instead (a pycache prefix, as PYTHONPYCACHEPREFIX sets), outside the checkout, removed at the end."""
    if not sys.dont_write_bytecode or os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    folder = tempfile.mkdtemp(prefix="lockstep-tests-pycache-")
    config.stash[_PYCACHE] = folder
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"] = folder  # xdist workers and subprocesses too
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_PYCACHE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
