"""Shared test configuration: pytester drives pytest runs of the plugin."""

pytest_plugins = ["pytester"]
