"""Shared test configuration: pytester drives pytest runs of the plugin."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    # `pytest tests -n 2` (the README's command): xdist's default "load" hands each worker its
    # share up front, and a worker left with a few runs of a minute ends the suite alone.
    # "worksteal" lets the idle worker take the other's pending tests.
    if config.getoption("dist", None) == "load" and config.getoption("numprocesses", None):
        config.option.dist = "worksteal"
