"""The Lockstep block at the top of the pytest-html report, rendered from the gate.

Pure: the gate document, the tests seen in the results table and the drift matrices in,
one self-contained HTML fragment out (inline CSS and JS, no external file). Every value
from an org or a profile is HTML-escaped; JSON for the script is escaped for ``<script>``.

- the decision in large type, release, profile, phase, run id, counts;
- the findings: every failing, erroring, warning and waived check with its one-line reason,
  the landscape first, then the orgs;
- the waivers of the gate, when it records any;
- the org x check matrix: rows are checks (cross-org checks first, in their own
  ``landscape`` column), columns are orgs (no-go first), each cell coloured by status,
  linking to the result's row in the results table, the reason in its title; the API
  calls per org in its last row; filters by status, org tag/kind and org name;
- the drift matrix (item x org) of each drift check that ran.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote

from lockstep.gate.model import Entry, Gate, Landscape, OrgGate
from lockstep.salesforce.errors import redact

__all__ = ["LABELS", "STATUSES", "SeenTest", "render", "statuses"]

# The order statuses are shown and filtered in; "pass" last (the least interesting).
STATUSES = ("fail", "error", "warning", "waived", "skipped", "pass")
_GLYPHS = {"fail": "\u2717", "error": "!", "warning": "\u26a0", "waived": "W", "skipped": "\u2013", "pass": "\u2713"}
_GATE_LISTS = {"failed": "fail", "errors": "error", "warnings": "warning", "waived": "waived", "skipped": "skipped"}
# What the results table's Result cell reads for a test the gate counts differently from pytest.
LABELS = {"warning": "Warning (does not block)", "waived": "Waived (does not block)"}
LANDSCAPE = "landscape"
_MAX_FINDINGS = 300


@dataclass(frozen=True)
class SeenTest:
    """One test of the results table: its check, its org (``None``: cross-org) and the id of
    its row (pytest-html's ``tbody`` id) to link to."""

    test: str
    check: str
    org: str | None
    anchor: str | None = None


def _e(value: Any) -> str:
    return html.escape(redact(str(value)), quote=True)


def _script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: no ``</script>``, no ``<!--``, no ``&`` entity surprises."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def statuses(gate: Gate) -> dict[str, tuple[str, str]]:
    """``{test id: (status, reason)}`` for every test the gate lists (a test it does not list passed)."""
    found: dict[str, tuple[str, str]] = {}
    for entry in (gate.landscape, *gate.orgs.values()):
        for key, status in _GATE_LISTS.items():
            for item in entry.entries(key):
                if item.test:
                    found.setdefault(item.test, (status, _reason(item, status)))
    return found


def _reason(item: Entry, status: str) -> str:
    reason = item.reason
    waiver = item.waiver
    if status == "waived" and waiver is not None:
        reason += f" (waived until {_when(waiver.expires or '?')} by {waiver.owner or '?'}: {waiver.reason})"
    return reason


def _when(value: Any) -> str:
    """An expiry as people read it: the day for "through that day", else the minute in UTC."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if len(str(value)) <= len("2026-12-31"):  # a day already
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    if (moment.hour, moment.minute, moment.second) == (23, 59, 59):
        return f"{moment:%Y-%m-%d}"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _short(check: str) -> str:
    return check.rsplit("::", 1)[-1]


def _header(gate: Gate) -> str:
    go = gate.go
    facts = [("release", gate.release or "-"), ("profile", gate.profile.name or "-"),
             ("phase", gate.phase or "-"), ("run id", gate.run_id or "-"), ("finished", gate.finished or "-")]
    shown = "".join(f"<span><b>{_e(k)}</b> {_e(v)}</span>" for k, v in facts)
    tally = ", ".join(f"{getattr(gate.counts, k)} {k}" for k in ("passed", "failed", "errors", "warnings", "skipped"))
    reasons = "".join(f"<li>{_e(r)}</li>" for r in gate.reasons)
    return (f'<div class="ls-head"><div class="ls-decision ls-{"go" if go else "nogo"}" id="lockstep-decision">'
            f'{"GO" if go else "NO-GO"}</div><div class="ls-facts">{shown}'
            f'<div class="ls-tally">{_e(tally)}</div></div></div>'
            + (f'<ul class="ls-reasons">{reasons}</ul>' if reasons else ""))


def _findings(gate: Gate, anchors: Mapping[str, str]) -> str:
    """Every non-passing, non-skipped check with its reason: the landscape first, then the orgs."""
    rows: list[str] = []
    where: list[tuple[str, Landscape | OrgGate]] = [
        (LANDSCAPE, gate.landscape), *sorted(gate.orgs.items(), key=lambda kv: (kv[1].decision == "go", kv[0]))]
    for name, reason in gate.landscape.left_out.items():
        rows.append(f'<tr class="ls-error"><td>{LANDSCAPE}</td><td>left out {_e(name)}</td>'
                    f"<td>error</td><td>{_e(reason)}</td></tr>")
    for org, entry in where:
        for key in ("failed", "errors", "warnings", "waived"):
            status = _GATE_LISTS[key]
            for item in entry.entries(key):
                test = item.test
                check = _e(_short(item.check or test))
                link = f'<a href="#{_e(quote(anchors[test], safe=""))}">{check}</a>' if test in anchors else check
                note = {"warning": "warning, does not block", "waived": "waived, does not block"}.get(status, status)
                rows.append(f'<tr class="ls-{status}"><td>{_e(org)}</td><td>{link}</td><td>{_e(note)}</td>'
                            f"<td>{_e(_reason(item, status))}</td></tr>")
    if not rows:
        return ""
    more = len(rows) - _MAX_FINDINGS
    tail = f'<p class="ls-more">... and {more} more: see the matrix and the gate file</p>' if more > 0 else ""
    return ('<h3>Findings</h3><table class="ls-findings"><thead><tr><th>where</th><th>check</th><th>kind</th>'
            f'<th>reason</th></tr></thead><tbody>{"".join(rows[:_MAX_FINDINGS])}</tbody></table>{tail}')


def _waivers(gate: Gate) -> str:
    if not gate.waivers:
        return ""
    rows = "".join(
        f'<tr class="ls-waiver-{_e(use.status)}"><td>{_e(w.check)}</td>'
        f'<td>{_e(w.orgs or "all")}</td><td>{_e(w.reason)}</td>'
        f'<td>{_e(w.owner)}</td><td>{_e(_when(w.expires or ""))}</td><td>{_e(use.status)}</td></tr>'
        for use in gate.waivers for w in (use.waiver,))
    return ('<h3>Waivers</h3><table class="ls-findings"><thead><tr><th>check</th><th>orgs</th><th>reason</th>'
            f"<th>owner</th><th>expires</th><th>status</th></tr></thead><tbody>{rows}</tbody></table>")


def _org_order(gate: Gate) -> list[str]:
    """No-go orgs first (most blocking findings first), then by name."""
    orgs = gate.orgs

    def key(name: str) -> tuple[bool, int, str]:
        entry = orgs[name]
        return (entry.decision == "go", -(len(entry.failed) + len(entry.errors)), name)

    return sorted(orgs, key=key)


def _cell(test: str | None, status: str | None, reason: str, anchors: Mapping[str, str]) -> str:
    if status is None or test is None:
        return '<td class="ls-c"></td>'
    title = f"{status}: {reason}" if reason else status
    inner = _GLYPHS[status]
    if test in anchors:
        inner = f'<a href="#{_e(quote(anchors[test], safe=""))}">{inner}</a>'
    return f'<td class="ls-c ls-{status}" data-s="{status}" title="{_e(title)}">{inner}</td>'


def _all_tests(gate: Gate, seen: Iterable[SeenTest]) -> dict[str, SeenTest]:
    """The tests of the results table, and any other test the gate lists (without a row to link to)."""
    tests = {t.test: t for t in seen}
    where: list[tuple[str | None, Landscape | OrgGate]] = [(None, gate.landscape), *gate.orgs.items()]
    for org, entry in where:
        for key in _GATE_LISTS:
            for item in entry.entries(key):
                test = item.test
                if test and test not in tests:
                    tests[test] = SeenTest(test, item.check or test, org)
    return tests


def _org_tags(entry: OrgGate, tags: Iterable[str]) -> list[str]:
    """What the org filter offers for an org: ``kind:KIND`` and ``tag:TAG``."""
    return ([f"kind:{entry.kind}"] if entry.kind else []) + [f"tag:{t}" for t in tags]


def _column_head(name: str | None, entry: OrgGate | None, org_tags: list[str]) -> tuple[str, str, str]:
    """The org's (or the landscape's, ``name`` None) header, decision and API calls cells."""
    if name is None or entry is None:
        return ('<th class="ls-org" data-org="landscape" data-cross="1" title="cross-org checks"><span>landscape'
                '</span></th>', '<th class="ls-sub">-</th>', '<td class="ls-calls"></td>')
    decision = entry.decision
    title = f"{name}: {decision.upper()}" + ("" if entry.reachable else " (unreachable)")
    title += f" ({', '.join(org_tags)})" if org_tags else ""
    css = "ls-go" if decision == "go" else "ls-nogo"
    return (f'<th class="ls-org" data-org="{_e(name)}" data-tags="{_e(" ".join(org_tags))}" title="{_e(title)}">'
            f"<span>{_e(name)}</span></th>", f'<th class="ls-sub {css}">{_e(decision.upper())}</th>',
            f'<td class="ls-calls">{_e(entry.api_calls)}</td>')


def _filters(options: Iterable[str]) -> str:
    boxes = "".join(f'<label class="ls-{s}"><input type="checkbox" data-status="{s}" checked> {s}</label>'
                    for s in STATUSES)
    select = "".join(f'<option value="{_e(o)}">{_e(o)}</option>' for o in sorted(set(options)))
    return ('<div class="ls-filters" id="lockstep-filters">'
            f'<span>status: {boxes}</span> <label>orgs: <select data-filter="tag"><option value="">every org'
            f'</option>{select}</select></label> <label>name: <input type="search" data-filter="name" '
            'placeholder="org name"></label> <span class="ls-shown"></span></div>')


def _matrix(gate: Gate, seen: Iterable[SeenTest], tags: Mapping[str, Iterable[str]]) -> str:
    """Rows: checks (cross-org ones first); columns: the landscape (``None``), then the orgs."""
    found = statuses(gate)
    gate_orgs = gate.orgs
    tests = _all_tests(gate, seen)
    anchors = {t.test: t.anchor for t in tests.values() if t.anchor}
    by_check: dict[str, dict[str | None, str]] = {}
    for t in tests.values():
        by_check.setdefault(t.check, {})[t.org if t.org in gate_orgs else None] = t.test
    checks = sorted(by_check, key=lambda c: (None not in by_check[c], c))
    columns: list[str | None] = [None, *_org_order(gate)]
    org_tags = {name: _org_tags(gate_orgs[name], tags.get(name, ())) for name in gate_orgs}
    heads = [_column_head(name, gate_orgs.get(name) if name else None, org_tags.get(name or "", []))
             for name in columns]
    rows = []
    for check in checks:
        cells = []
        for column in columns:
            test = by_check[check].get(column)
            status, reason = found.get(test, ("pass", "")) if test else (None, "")
            cells.append(_cell(test, status, reason, anchors))
        rows.append(f'<tr><th class="ls-rowhead" title="{_e(check)}">{_e(_short(check))}</th>{"".join(cells)}</tr>')
    return (f'<h3>Checks by org <small>({len(gate_orgs)} orgs, {len(checks)} checks)</small></h3>'
            + _filters(t for values in org_tags.values() for t in values)
            + '<div class="ls-scroll"><table class="ls-matrix" id="lockstep-matrix"><thead><tr>'
            f'<th class="ls-corner">check \\ org</th>{"".join(h[0] for h in heads)}</tr>'
            f'<tr><th class="ls-corner ls-sub">decision</th>{"".join(h[1] for h in heads)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody><tfoot><tr><th class="ls-rowhead">API calls</th>'
            f'{"".join(h[2] for h in heads)}</tr></tfoot></table></div>')


def _drift(drift: Mapping[str, Any], check: str) -> str:
    """One drift matrix: the differing items by org (the baseline org first), the rest counted."""
    orgs = [str(o) for o in drift.get("orgs") or ()]
    baseline = drift.get("baseline")
    if baseline in orgs:
        orgs.remove(baseline)
        orgs.insert(0, baseline)
    items = [i for i in drift.get("items") or () if isinstance(i, Mapping)]
    differing = [i for i in items if i.get("differs")]
    head = "".join(f'<th class="ls-org" title="{_e(o)}"><span>{_e(o)}{" (baseline)" if o == baseline else ""}'
                   f"</span></th>" for o in orgs)
    rows = []
    for item in differing:
        values = {str(k): str(v) for k, v in (item.get("values") or {}).items()}
        common = max(set(values.values()), key=lambda v: (list(values.values()).count(v), v)) if values else ""
        expected = values.get(baseline, common) if baseline else common
        cells = "".join(f'<td class="ls-v{" ls-off" if values.get(o) != expected else ""}">{_e(values.get(o, ""))}</td>'
                        for o in orgs)
        rows.append('<tr><th class="ls-rowhead" '
                    f'title="{_e(item.get("key", ""))}">{_e(item.get("label") or item.get("key"))}'
                    f"</th>{cells}</tr>")
    same = len(items) - len(differing)
    note = f"{len(differing)} differing item{'s' if len(differing) != 1 else ''}; {same} the same on every compared org"
    if drift.get("ignored"):
        note += f"; {len(drift['ignored'])} ignored"
    table = ('<div class="ls-scroll"><table class="ls-matrix ls-drift"><thead><tr><th '
             'class="ls-corner">item \\ org</th>'
             f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>') if rows else ""
    data = (f'<script type="application/json" class="lockstep-drift" data-check="{_e(check)}">'
            f"{_script_json(drift)}</script>")  # the whole matrix, for tools reading the report
    return f'<h3>Drift <small>{_e(_short(check))}</small></h3><p class="ls-note">{_e(note)}</p>{table}{data}'


def _asset(name: str) -> str:
    return resources.files("lockstep.reports").joinpath("html_assets", name).read_text(encoding="utf-8")


def render(gate: Gate, seen: Iterable[SeenTest], *, tags: Mapping[str, Iterable[str]] | None = None,
           drift: Iterable[tuple[str, Mapping[str, Any]]] = ()) -> str:
    """The Lockstep block: header, findings, waivers, the matrix, the drift matrices, and the
    labels the results table shows for warnings and waived failures."""
    seen = list(seen)
    anchors = {t.test: t.anchor for t in seen if t.anchor}
    labels = {test: [LABELS[status], f"ls-result-{status}"]
              for test, (status, _) in statuses(gate).items() if status in LABELS}
    parts = [_header(gate), _findings(gate, anchors), _waivers(gate), _matrix(gate, seen, tags or {}),
             *(_drift(data, check) for check, data in drift)]
    return (f'<style>{_asset("report.css")}</style><section id="lockstep" class="lockstep">{"".join(parts)}</section>'
            f'<script type="application/json" id="lockstep-labels">{_script_json(labels)}</script>'
            f'<script>{_asset("report.js")}</script>')
