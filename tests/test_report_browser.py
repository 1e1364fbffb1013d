"""The demo's HTML report as a person sees it: rendered by headless Chromium (Debian's
``chromium``, installed by .ci/run), its scripts run, then read from the DOM and a screenshot.

Skips where Chromium is not installed, saying so; fails instead under CI=true."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from demo_run import demo_run
from needs import unavailable

from lockstep.gate.model import Counts, Entry, Gate, Landscape, Narrowing, OrgGate, Profile
from lockstep.reports.html_render import SeenTest, render

REPO = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = ("Chromium is not installed (apt-get install chromium; .ci/run installs it): "
                   "the report is not rendered")
        unavailable(message)
    return found


def browse(chromium: str, page: Path, *args: str) -> str:
    proc = subprocess.run([chromium, "--headless", "--disable-gpu", "--no-sandbox", "--window-size=1280,1400",
                           *args, page.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    proc, _, page = demo_run(tmp_path_factory)
    assert proc.returncode == 1 and page.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return page


@pytest.fixture(scope="module")
def demo_dom(chromium: str, demo_report: Path) -> str:
    return browse(chromium, demo_report, "--dump-dom")


def _cells(dom: str, check: str) -> dict[str, str]:
    """The matrix row of ``check``: {org: the cell's HTML}."""
    table = dom[dom.index('id="lockstep-matrix"'):]
    columns = re.findall(r'<th class="ls-org" data-org="([^"]+)"', table[:table.index("</thead>")])
    row = re.search(rf'<tr><th class="ls-rowhead" title="[^"]*::{check}">{check}</th>(.*?)</tr>', table)
    assert row is not None, check
    cells = re.findall(r"<td class=\"ls-c[^\"]*\".*?</td>", row.group(1))
    return dict(zip(columns, cells, strict=True))


def test_the_decision_is_the_first_thing_on_the_page(demo_dom: str) -> None:
    assert '<div class="ls-decision ls-nogo" id="lockstep-decision">NO-GO</div>' in demo_dom
    # the script moved Lockstep's block above pytest-html's environment table
    assert demo_dom.index('id="lockstep"') < demo_dom.index('id="environment-header"')
    assert "showing 7 of 7 orgs" in demo_dom  # the filters ran


def test_the_failing_cell_gives_the_reason_and_links_to_the_result(demo_dom: str) -> None:
    prod = _cells(demo_dom, "test_flows_in_expected_state")["prod"]
    assert 'class="ls-c ls-fail"' in prod
    titled = re.search(r'title="([^"]*)"', prod)
    assert titled is not None, prod
    title = html.unescape(titled.group(1))
    assert title == "fail: prod: flow Case_Triage: expected active, found inactive (latest version 4)"
    linked = re.search(r'href="#([^"]+)"', prod)
    assert linked is not None, prod
    href = linked.group(1)
    target = html.unescape(href).replace("%3A", ":").replace("%5B", "[").replace("%5D", "]").replace("%2F", "/")
    assert target == "checks/test_automation.py::test_flows_in_expected_state[prod]"
    assert f'<tbody class="results-table-row failed" id="{target}">' in demo_dom  # pytest-html's row
    assert 'class="ls-c ls-pass"' in _cells(demo_dom, "test_flows_in_expected_state")["dev"]


def test_the_warning_is_marked_as_not_blocking(demo_dom: str) -> None:
    landscape = _cells(demo_dom, "test_sandboxes_not_ahead_of_production")["landscape"]
    assert 'class="ls-c ls-warning"' in landscape and "preview API 63.0" in landscape
    assert ('<td class="col-result ls-result-warning" data-lockstep-test='
            '"checks/test_readiness.py::test_sandboxes_not_ahead_of_production">Warning (does not block)</td>'
            ) in demo_dom
    assert "<td>warning, does not block</td>" in demo_dom  # in the findings too
    # a blocking failure still reads "Failed"
    assert ('data-lockstep-test="checks/test_automation.py::test_flows_in_expected_state[prod]">Failed</td>'
            in demo_dom)


def test_the_drift_matrix_shows_the_differing_item_by_org(demo_dom: str) -> None:
    drift = demo_dom[demo_dom.index("<h3>Drift"):]
    assert "1 differing item" in drift
    row = re.search(r'<th class="ls-rowhead" title="flows:Case_Triage">flow Case_Triage</th>(.*?)</tr>', drift)
    assert row is not None
    assert '<td class="ls-v ls-off">inactive</td>' in row.group(1)


def test_a_screenshot_of_the_report(chromium: str, demo_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    browse(chromium, demo_report, f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data.startswith(PNG) and int.from_bytes(data[16:20], "big") == 1280


def test_at_500_orgs_the_matrix_filters_by_tag_and_status_in_the_browser(chromium: str, tmp_path: Path) -> None:
    names = [f"org{i:03d}" for i in range(500)]
    checks = [f"checks/test_c.py::test_{j:02d}" for j in range(20)]
    failed = {"org007", "org124", "org499"}
    orgs = {name: OrgGate(decision="no-go" if name in failed else "go", kind="sandbox", api_calls=9,
                          failed=(Entry(checks[3], f"{checks[3]}[{name}]", f"{name}: broken"),)
                          if name in failed else ()) for name in names}
    gate = Gate(decision="no-go", run_id="r", release=None, profile=Profile("fleet", ""), phase="all", started="",
                finished=None, lockstep_version="", exit_status=None, pytest_exit_status=None, counts=Counts(),
                orgs=orgs, landscape=Landscape(), waivers=(), reasons=("3 orgs fail",), narrowing=Narrowing())
    seen = [SeenTest(f"{c}[{n}]", c, n, f"{c}[{n}]") for c in checks for n in names]
    tags = {name: ["emea"] if int(name[3:]) % 2 else ["amer"] for name in names}
    block = render(gate, seen, tags=tags)
    # what a person does: choose only failing cells, then only the EMEA orgs
    act = """<script>
      var f = document.getElementById('lockstep-filters');
      f.querySelectorAll('input[data-status]').forEach(function (b) { b.checked = b.dataset.status === 'fail' });
      f.querySelector('[data-filter="tag"]').value = 'tag:emea';
      f.dispatchEvent(new Event('change'));
    </script>"""
    page = tmp_path / "fleet.html"
    page.write_text(f"<!DOCTYPE html><html><body><h2 id=\"environment-header\">Env</h2>{block}{act}</body></html>",
                    encoding="utf-8")
    dom = browse(chromium, page, "--dump-dom")
    table = dom[dom.index('id="lockstep-matrix"'):]
    head = table[:table.index("</thead>")]
    columns = re.findall(r'<th class="(ls-org[^"]*)" data-org="([^"]+)"', head)
    assert [name for _, name in columns[:4]] == ["landscape", "org007", "org124", "org499"]  # failing orgs first
    assert [name for css, name in columns if "ls-hidden" not in css and name != "landscape"] == ["org007", "org499"]
    assert "showing 2 of 500 orgs" in dom
    rows = re.findall(r'<tr( class="ls-hidden")?><th class="ls-rowhead" title="([^"]+)"', table)
    assert [check for hidden, check in rows if not hidden] == [checks[3]]  # only the failing check's row
