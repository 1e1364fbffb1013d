"""Outcome recording: pytest reports (plain data, also from xdist workers) tallied into the gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lockstep import __version__
from lockstep.gate.build import RunInfo, Tally, build_gate
from lockstep.gate.catalog import CatalogRecord
from lockstep.gate.model import Gate, Narrowing, ShardRecord
from lockstep.session.options import utcnow
from lockstep.session.orgs import Landscape
from lockstep.session.reasons import collection_reason, reason_line

__all__ = ["Recorder"]


def _props(report: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for entry in getattr(report, "user_properties", None) or ():
        if isinstance(entry, (tuple, list)) and len(entry) == 2 and str(entry[0]).startswith("lockstep_"):
            key, value = entry
            if key in ("lockstep_unreachable", "lockstep_left_out"):
                props.setdefault(key, []).append(value)
            else:
                props[key] = value
    return props


class Recorder:
    """Turns pytest reports (plain data, also from xdist workers) into the gate."""

    def __init__(self) -> None:
        self.started = ""
        self.tally = Tally()
        self.unreachable: dict[str, str] = {}
        self.left_out: dict[str, str] = {}
        self.collection_errors: list[tuple[str, str]] = []
        self.refusals: list[str] = []  # configuration mistakes found once the checks are collected
        self.worker_refusals: list[str] = []  # the same, found by xdist workers
        self.interrupted: str | None = None
        self.worker_api_calls: dict[str, int] = {}
        self.deselected: tuple[int, int] | None = None

    def add_test_report(self, report: Any) -> None:
        props = _props(report)
        for key, found in (("lockstep_unreachable", self.unreachable), ("lockstep_left_out", self.left_out)):
            for item in props.get(key, ()):
                if isinstance(item, Mapping) and item.get("org"):
                    found.setdefault(str(item["org"]), str(item.get("reason", "")))
        wasxfail = getattr(report, "wasxfail", None)
        reason = props.get("lockstep_reason")
        if reason is None and not report.passed:
            reason = reason_line(None, report.longrepr)
        self.tally.add(
            str(props.get("lockstep_test") or report.nodeid),
            report.when,
            report.outcome,
            wasxfail=wasxfail is not None,
            check=props.get("lockstep_check"),
            org=props.get("lockstep_org"),
            reason=reason or "",
            severity=str(props.get("lockstep_severity", "blocker")),
            phases=tuple(props.get("lockstep_phases", ())),
            org_error=bool(props.get("lockstep_org_error")),
        )

    def add_collect_report(self, report: Any) -> None:
        if report.failed:
            reason = getattr(report, "lockstep_reason", None) or collection_reason(None, report.longrepr)
            entry = (report.nodeid or "session", str(reason))
            if entry not in self.collection_errors:
                self.collection_errors.append(entry)

    def add_worker_output(self, output: Mapping[str, Any]) -> None:
        for name, count in (output.get("lockstep_api_calls") or {}).items():
            self.worker_api_calls[name] = self.worker_api_calls.get(name, 0) + int(count)
        for line in output.get("lockstep_refusals") or ():
            if str(line) not in self.worker_refusals:
                self.worker_refusals.append(str(line))
        deselected = output.get("lockstep_deselected")
        if deselected:  # every worker collects (and deselects) the same tests
            mine = (int(deselected[0]), int(deselected[1]))
            self.deselected = max(self.deselected or mine, mine)

    def gate(self, landscape: Landscape, exit_status: int, *, release: str | None, markexpr: str,
             narrowing: Narrowing, deployed_at: str | None = None, shard: ShardRecord | None = None,
             refusals: tuple[str, ...] = (), run_id: str = "", now: dt.datetime | None = None,
             catalog: CatalogRecord | None = None) -> Gate:
        """The gate of this run: the recorded results plus the landscape's API call counts."""
        api_calls = dict(self.worker_api_calls)
        for name, count in landscape.api_calls().items():
            api_calls[name] = api_calls.get(name, 0) + count
        info = RunInfo(
            orgs=landscape.kinds, release=release, profile_name=landscape.profile.name,
            profile_sha256=landscape.profile.sha256, markexpr=markexpr, started=self.started or utcnow(),
            finished=utcnow(), version=__version__, run_id=run_id, exit_status=exit_status,
            interrupted=self.interrupted,
            collection_errors=tuple(self.collection_errors), unreachable=self.unreachable, api_calls=api_calls,
            waivers=landscape.profile.waivers, now=now, left_out=self.left_out,
            narrowing=narrowing, deployed_at=deployed_at, shard=shard, refusals=refusals, catalog=catalog,
        )
        return build_gate(self.tally.results, info)
