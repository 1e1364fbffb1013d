"""Scheduling under pytest-xdist: every org's checks on one worker, all cross-org checks on one worker.

An org's checks must stay on one worker (one login per org, its facts gathered once), and
so must the cross-org checks (each worker running one would log in to every org and read
their facts again). xdist's own ``loadgroup`` reads an ``@group`` suffix it can no longer
add to node ids under pytest 9.2, so the controller schedules by scope itself: each worker
writes its ``{nodeid: scope}`` map into a folder named in ``workerinput``, and the
scheduler groups node ids by that map.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from lockstep.session.items import is_cross_org, org_param
from lockstep.session.recorder import Recorder
from lockstep.session.setup import RunSetup

__all__ = ["CROSS_ORG_GROUP", "XdistHooks", "hand_scopes", "write_scopes"]

CROSS_ORG_GROUP = "lockstep:cross-org"


def write_scopes(folder: Path, worker: str, scopes: dict[str, str]) -> None:
    """Hand the controller this worker's ``{nodeid: scope}`` map (written atomically)."""
    target = folder / f"{worker}.json"
    target.with_suffix(".tmp").write_text(json.dumps(scopes), encoding="utf-8")
    target.with_suffix(".tmp").replace(target)


def hand_scopes(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker of a run the controller schedules by scope: hand it every check's scope
    (``org:NAME``, or the cross-org group)."""
    groups = (getattr(config, "workerinput", None) or {}).get("lockstep_groups")
    if groups:
        scopes = {item.nodeid: f"org:{org}" if org is not None else CROSS_ORG_GROUP
                  for item in items
                  if (org := org_param(item)) is not None or is_cross_org(item)}
        write_scopes(Path(groups), config.workerinput["workerid"], scopes)  # type: ignore[attr-defined]


class XdistHooks:
    """Hooks that exist only when pytest-xdist is installed (see the module docstring)."""

    def __init__(self, setup: RunSetup, recorder: Recorder) -> None:
        self.setup = setup
        self.recorder = recorder
        self.groups: Path | None = None
        option = setup.config.option
        if not setup.is_worker and getattr(option, "dist", None) == "loadgroup" and getattr(option, "tx", None):
            self.groups = Path(tempfile.mkdtemp(prefix="lockstep-groups-"))

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput.update(self.setup.landscape.worker_input())
        if self.groups is not None:
            node.workerinput["lockstep_groups"] = str(self.groups)

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if self.groups is None:
            return None
        # only under xdist: a run without -n never loads its scheduler
        from xdist.scheduler import LoadScopeScheduling

        groups_dir = self.groups

        class OrgScheduling(LoadScopeScheduling):  # type: ignore[misc]
            groups: dict[str, str] | None = None

            def _split_scope(self, nodeid: str) -> str:
                if self.groups is None:
                    self.groups = {}
                    for file in sorted(groups_dir.glob("*.json")):
                        self.groups.update(json.loads(file.read_text(encoding="utf-8")))
                return self.groups.get(nodeid, nodeid)

        return OrgScheduling(config, log)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.groups is not None:
            shutil.rmtree(self.groups, ignore_errors=True)

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.recorder.add_worker_output(getattr(node, "workeroutput", None) or {})
