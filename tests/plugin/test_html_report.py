"""The pytest-html report a release manager opens: the decision at the top, the org x check
matrix with reasons and links, warnings and waived failures shown as not blocking, every
value from an org or a profile escaped, one self-contained file."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from plugin_helpers import gate_from, read_gate, state, write_landscape

from lockstep.reports.html_render import SeenTest, render

ORGS: list[dict[str, Any]] = [{"name": "prod", "kind": "production", "tags": ["emea", "<b>core</b>"]},
        {"name": "qa", "kind": "sandbox", "tags": ["emea"]},
        {"name": "dev", "kind": "sandbox"}]
HOSTILE = '<img src=x onerror="alert(1)"> & "quoted"'
CHECKS = f"""
import pytest

pytestmark = pytest.mark.verification

def test_flows(org):
    assert org.name != "qa", {HOSTILE!r}

def test_reachable(org):
    assert org.facts.organization.id

def test_optional(org):
    pytest.skip("no optional expectation: declare expect.optional")

@pytest.mark.warning
def test_preview(orgs):
    assert False, "qa: preview release"
"""


class Cells(HTMLParser):
    """The matrix as a person reads it: {(check, column): (status, title, href)} and the columns in order."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []
        self.cells: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._in_matrix = False
        self._row: list[tuple[str, str, str]] | None = None
        self._check = ""
        self._cell: tuple[str, str, str] | None = None
        self._in_rowhead = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and a.get("id") == "lockstep-matrix":
            self._in_matrix = True
        if not self._in_matrix:
            return
        if tag == "th" and "ls-org" in a.get("class", ""):
            self.columns.append(a["data-org"])
        elif tag == "tr":
            self._row = []
        elif tag == "th" and "ls-rowhead" in a.get("class", ""):
            self._in_rowhead, self._check = True, ""
        elif tag == "td" and "ls-c" in a.get("class", "").split() and self._row is not None:
            self._cell = (a.get("data-s", ""), a.get("title", ""), "")
            self._row.append(self._cell)
        elif tag == "a" and self._cell is not None and self._row:
            self._row[-1] = (self._cell[0], self._cell[1], a.get("href", ""))

    def handle_data(self, data: str) -> None:
        if self._in_rowhead:
            self._check += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._in_matrix:
            self._in_matrix = False
        if tag == "th":
            self._in_rowhead = False
        if tag == "td":
            self._cell = None
        if tag == "tr" and self._row is not None and self._check and self._row:
            for column, cell in zip(self.columns, self._row, strict=True):
                if cell[0]:
                    self.cells[(self._check, column)] = cell
            self._row = None


def matrix(page: str) -> Cells:
    parser = Cells()
    parser.feed(page)
    return parser


@pytest.fixture
def report(project: pytest.Pytester) -> tuple[str, dict]:
    write_landscape(project.path, ORGS, states=[state("prod", "production"), state("qa"), state("dev")])
    project.makepyfile(test_checks=CHECKS)
    out = project.path / "report.html"
    result = project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", "--release", "R-7", "--run-id", "run-77",
                               f"--html={out}", "--self-contained-html")
    assert result.ret == 1
    return out.read_text(encoding="utf-8"), read_gate(project.path)


def test_the_decision_and_the_run_are_at_the_top_in_large_type(report: tuple[str, dict]) -> None:
    page, gate = report
    block = page[page.index('<section id="lockstep"'):]
    assert '<div class="ls-decision ls-nogo" id="lockstep-decision">NO-GO</div>' in block
    for label, value in (("release", "R-7"), ("profile", "p"), ("phase", "verification"), ("run id", "run-77")):
        assert f"<span><b>{label}</b> {value}</span>" in block
    assert page.index('<section id="lockstep"') < page.index('id="results-table"')
    assert gate["run_id"] == "run-77"


def test_each_cell_is_coloured_by_status_links_to_its_result_and_gives_the_reason_on_hover(report: tuple[str,
                                                                                                         dict]) -> None:
    page, _ = report
    cells = matrix(page).cells
    status, title, href = cells[("test_flows", "qa")]
    assert status == "fail"
    assert html.unescape(title) == f"fail: {HOSTILE}"  # the reason, escaped in the page (see below)
    assert href == "#" + "test_checks.py%3A%3Atest_flows%5Bqa%5D"
    assert cells[("test_flows", "prod")][0] == "pass"
    assert cells[("test_optional", "dev")][:2] == ("skipped",
                                                   "skipped: no optional expectation: declare expect.optional")
    assert cells[("test_preview", "landscape")][:2] == ("warning", "warning: qa: preview release")
    assert ("test_preview", "prod") not in cells and ("test_flows", "landscape") not in cells
    # pytest-html gives the result's row (tbody) the text of its Test cell as id (in its JSON data)
    assert 'col-testId\\&#34;&gt;test_checks.py::test_flows[qa]&lt;/td&gt;' in page


def test_failing_orgs_come_first_and_api_calls_are_shown_per_org(report: tuple[str, dict]) -> None:
    page, gate = report
    assert matrix(page).columns == ["landscape", "qa", "dev", "prod"]
    calls = re.search(r"<tfoot><tr><th class=\"ls-rowhead\">API calls</th>(.*?)</tr></tfoot>", page)
    assert calls is not None
    shown = re.findall(r'<td class="ls-calls">(\d*)</td>', calls.group(1))
    assert shown == ["", *(str(gate["orgs"][name]["api_calls"]) for name in ("qa", "dev", "prod"))]
    assert all(int(n) > 0 for n in shown[1:])


def test_every_value_from_an_org_or_a_profile_is_escaped(report: tuple[str, dict]) -> None:
    page, _ = report
    start = page.index('<section id="lockstep"')
    end = page.index('<script type="application/json" id="lockstep-labels"')
    block = page[start:end]
    assert "<img" not in block and "<b>core</b>" not in block
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &quot;quoted&quot;" in block
    assert 'data-tags="kind:production tag:emea tag:&lt;b&gt;core&lt;/b&gt;"' in block
    assert '<option value="tag:&lt;b&gt;core&lt;/b&gt;">' in block


def test_warnings_are_labelled_as_not_blocking_in_the_results_table(report: tuple[str, dict]) -> None:
    page, _ = report
    labels = re.search(r'<script type="application/json" id="lockstep-labels">(.*?)</script>', page)
    assert labels is not None
    assert '"test_checks.py::test_preview":["Warning (does not block)","ls-result-warning"]' in labels.group(1)
    assert "test_flows" not in labels.group(1)  # a blocking failure stays "Failed"
    # the Result cell of each Lockstep row names its test for the label to find it (in pytest-html's JSON data)
    cell = 'class=\\&#34;col-result\\&#34; data-lockstep-test=\\&#34;test_checks.py::test_preview\\&#34;&gt;Failed'
    assert cell in page


def test_the_report_is_self_contained(report: tuple[str, dict]) -> None:
    page, _ = report
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:|//)", page)
    assert "<style>" in page and "lockstep-matrix" in page


WAIVED_GATE: dict[str, Any] = {
    "decision": "go", "run_id": "r1", "release": "R-1", "profile": {"name": "p", "sha256": ""}, "phase": "all",
    "counts": {"passed": 1, "failed": 0},
    "orgs": {"prod": {"decision": "go", "kind": "production", "reachable": True, "api_calls": 3,
                      "failed": [], "errors": [], "warnings": [], "skipped": [],
                      "waived": [{"check": "c.py::test_x", "test": "c.py::test_x[prod]", "reason": "flow <off>",
                                  "waiver": {"reason": "known: INC-1", "owner": "ops@acme",
                                             "expires": "2026-12-31"}}]}},
    "landscape": {"failed": [], "errors": [], "warnings": [], "skipped": []},
    "waivers": [{"check": "c.py::test_x", "orgs": ["prod"], "reason": "known: INC-1", "owner": "ops@acme",
                 "expires": "2026-12-31", "status": "used"},
                {"check": "c.py::test_y", "orgs": ["tag:emea"], "reason": "old", "owner": "x", "expires": "2027-01-01",
                 "status": "stale"}],
    "reasons": [],
}


def test_a_waived_failure_is_a_waived_cell_with_its_waiver_and_the_waivers_are_listed() -> None:
    page = render(gate_from(WAIVED_GATE),
                  [SeenTest("c.py::test_x[prod]", "c.py::test_x", "prod", "c.py::test_x[prod]")])
    status, title, href = matrix(page).cells[("test_x", "prod")]
    assert status == "waived" and href == "#c.py%3A%3Atest_x%5Bprod%5D"
    assert html.unescape(title) == "waived: flow <off> (waived until 2026-12-31 by ops@acme: known: INC-1)"
    assert '"c.py::test_x[prod]":["Waived (does not block)","ls-result-waived"]' in page
    assert "<td>waived, does not block</td>" in page
    assert '<tr class="ls-waiver-stale"><td>c.py::test_y</td><td>tag:emea</td>' in page


def test_a_gate_without_waivers_renders_and_a_script_cannot_be_closed_from_a_reason() -> None:
    gate = {**WAIVED_GATE, "decision": "no-go", "waivers": None,
            "orgs": {"prod": {**WAIVED_GATE["orgs"]["prod"], "decision": "no-go", "waived": None,
                              "failed": [{"check": "c.py::test_x", "test": "c.py::test_x[prod]",
                                          "reason": "</script><script>alert(1)</script>"}]}}}
    page = render(gate_from(gate), [])
    assert 'id="lockstep-decision">NO-GO<' in page and "<h3>Waivers</h3>" not in page
    assert "</script><script>alert(1)" not in page
    assert matrix(page).cells[("test_x", "prod")][0] == "fail"


def test_an_unreachable_org_is_error_cells_linking_to_the_setup_rows(project: pytest.Pytester) -> None:
    write_landscape(project.path, ORGS[1:], states=[state("qa", faults={"down": True}), state("dev")])
    project.makepyfile(test_checks=CHECKS)
    out = project.path / "report.html"
    assert project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", f"--html={out}").ret == 1
    page = out.read_text(encoding="utf-8")
    parsed = matrix(page)
    assert parsed.columns == ["landscape", "qa", "dev"]
    status, title, href = parsed.cells[("test_reachable", "qa")]
    assert status == "error" and "unreachable" in html.unescape(title)
    assert href == "#test_checks.py%3A%3Atest_reachable%5Bqa%5D%3A%3Asetup"  # pytest-html's row of the setup error
    assert 'col-testId\\&#34;&gt;test_checks.py::test_reachable[qa]::setup&lt;/td&gt;' in page
    assert parsed.cells[("test_reachable", "dev")][0] == "pass"


def test_an_org_named_landscape_keeps_its_own_column() -> None:
    gate = {"decision": "no-go", "orgs": {"landscape": {"decision": "no-go", "kind": "sandbox", "failed": [
        {"check": "c.py::test_org", "test": "c.py::test_org[landscape]", "reason": "org finding"}]}},
        "landscape": {"failed": [], "warnings": [{"check": "c.py::test_all", "test": "c.py::test_all", "reason": "x"}]}}
    page = render(gate_from(gate), [])
    row = re.search(r'title="c.py::test_org">test_org</th>(.*?)</tr>', page)
    assert row is not None
    assert re.findall(r'<td class="ls-c[^"]*"', row.group(1)) == ['<td class="ls-c"', '<td class="ls-c ls-fail"']
    assert 'data-org="landscape" data-cross="1"' in page and 'data-org="landscape" data-tags="kind:sandbox"' in page


WAIVED_CHECKS = """
def test_flow_active(org):
    assert org.name != "prod", "prod: flow Case_Triage: expected active, found inactive"

def test_reachable(org):
    assert org.name
"""
WAIVERS = [{"check": "test_flow_active", "orgs": ["tag:emea"], "reason": "after the migration <CHG-1>",
            "owner": "jane@acme.example", "expires": "2026-12-15"},
           {"check": "test_reachable", "reason": "never needed", "owner": "joe@acme.example", "expires": "2026-12-15"}]


@pytest.mark.parametrize(("now", "status"),
                         [("2026-12-01T10:00:00+00:00", "waived"), ("2026-12-16T00:00:01+00:00", "fail")])
def test_a_waived_failure_is_shown_as_waived_until_its_waiver_expires(project: pytest.Pytester, now: str,
                                                                        status: str) -> None:
    write_landscape(project.path, ORGS[:2], waivers=WAIVERS)
    project.makepyfile(test_checks=WAIVED_CHECKS)
    out = project.path / "report.html"
    project.runpytest("--org-profile", "p", "-p", "no:cacheprovider", "--now", now, f"--html={out}")
    page = out.read_text(encoding="utf-8")
    decision = "GO" if status == "waived" else "NO-GO"
    assert f'id="lockstep-decision">{decision}</div>' in page
    shown, title, href = matrix(page).cells[("test_flow_active", "prod")]
    assert shown == status and href == "#test_checks.py%3A%3Atest_flow_active%5Bprod%5D"
    assert "prod: flow Case_Triage: expected active, found inactive" in html.unescape(title)
    if status == "waived":
        assert "until 2026-12-15" in html.unescape(title) and "after the migration <CHG-1>" in html.unescape(title)
        assert '"test_checks.py::test_flow_active[prod]":["Waived (does not block)","ls-result-waived"]' in page
    else:
        assert "expired" in html.unescape(title)
        assert "Waived (does not block)" not in page.split('id="lockstep-labels"')[1].split("</script>")[0]
    waivers = page[page.index("<h3>Waivers</h3>"):page.index("<h3>Checks by org")]
    assert "after the migration &lt;CHG-1&gt;" in waivers and "<CHG-1>" not in waivers
    assert "<td>2026-12-15</td>" in waivers
    stale = "stale" if status == "waived" else "expired"
    assert f'<tr class="ls-waiver-{stale}"><td>test_reachable</td><td>all</td>' in waivers
