"""``--org-shard i/n``: one of n CI runners verifies its share of the profile's orgs.

An org belongs to shard ``sha256(name) mod n + 1``: the same org always lands in the same
shard, and adding or removing an org never moves another one (changing n does).

Checks that are not per org (cross-org checks such as drift or package versions, and
landscape checks such as the release window) run in shard 1 only, against every org of the
selection: shard 1 logs in to every org, but reads only the facts those checks declare.
The other shards deselect them. A shard's gate records its share (``shard``); it is partial
on its own, and ``lockstep gate merge`` (:mod:`lockstep.gate.merge`) turns the gates of all
shards into the gate of the whole run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from lockstep.gate.model import ShardRecord
from lockstep.session.items import is_check

if TYPE_CHECKING:
    from lockstep.config.profile import OrgConfig

__all__ = ["CROSS_ORG_SHARD", "SHARDED_OUT", "Shard", "ShardHooks", "parse_shard", "record", "shard_of", "split"]

CROSS_ORG_SHARD = 1
SHARDED_OUT = pytest.StashKey[bool]()
_FORM = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def runs_cross_org(self) -> bool:
        """Whether the checks that are not per org run in this shard."""
        return self.index == CROSS_ORG_SHARD

    def orgs(self, selected: Iterable[OrgConfig]) -> tuple[OrgConfig, ...]:
        return tuple(c for c in selected if shard_of(c.name, self.count) == self.index)


def shard_of(name: str, count: int) -> int:
    """The shard (1..count) org ``name`` belongs to: a stable hash of the name, not its position."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse_shard(value: str | None) -> Shard | None:
    """``--org-shard i/n``; :class:`pytest.UsageError` (one line) for anything else."""
    if value is None:
        return None
    match = _FORM.match(value)
    index, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match or not 1 <= index <= count:
        raise pytest.UsageError(f"--org-shard {value!r}: expected i/n with 1 <= i <= n, e.g. --org-shard 2/4")
    return Shard(index, count)


def split(shard: Shard, selected: Sequence[OrgConfig], profile_name: str) -> tuple[OrgConfig, ...]:
    """The orgs of ``selected`` in ``shard``; a usage error when there are none (a runner that
    verifies nothing must not look like one that passed)."""
    mine = shard.orgs(selected)
    if not mine:
        raise pytest.UsageError(
            f"--org-shard {shard}: no org of profile {profile_name} falls in this shard ({len(selected)} orgs"
            f" across {shard.count} shards); use fewer shards")
    return mine


def record(shard: Shard, mine: Sequence[str], selected: Sequence[str], profile_orgs: Sequence[str],
           complete: bool, api_calls: Mapping[str, int]) -> ShardRecord:
    """The gate's ``shard`` entry: what this runner verified, so a merge can prove coverage.

    ``complete``: the shard did all of its share (no ``-k``, test paths, deselection or
    interruption). ``cross_org_api_calls``: calls shard 1 made to orgs of other shards for
    the cross-org checks (the merge adds them to those orgs)."""
    own = set(mine)
    return ShardRecord(
        index=shard.index, count=shard.count, orgs=tuple(sorted(mine)), selected=tuple(sorted(selected)),
        profile_orgs=tuple(sorted(profile_orgs)), cross_org=shard.runs_cross_org, complete=complete,
        cross_org_api_calls={n: int(c) for n, c in sorted(api_calls.items()) if n not in own and c},
    )


class ShardHooks:
    """Registered only with ``--org-shard``: shards other than 1 deselect the checks that are not per org."""

    def __init__(self, shard: Shard, org_param: str) -> None:
        self.shard = shard
        self.org_param = org_param

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.shard.runs_cross_org:
            return
        keep: list[pytest.Item] = []
        out: list[pytest.Item] = []
        for item in items:
            callspec = getattr(item, "callspec", None)
            per_org = callspec is not None and self.org_param in callspec.params
            (out if is_check(item) and not per_org else keep).append(item)
        if out:
            for item in out:
                item.stash[SHARDED_OUT] = True
            config.hook.pytest_deselected(items=out)
            items[:] = keep
