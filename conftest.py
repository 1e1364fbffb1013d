"""Root conftest: the plugin itself is registered through its `pytest11` entry point."""

collect_ignore = ["benchmarks", "profiles", "reports", "plugin"]
