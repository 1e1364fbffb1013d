"""The README's "Adding a check" example works as written: the check file alone adds the
expectation key; a good value runs the check, a wrong value or a misspelt key ends the run
before any check with the one line the README shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from plugin_helpers import read_gate, state, write_landscape

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
SECTION = README[README.index("## Adding a check"):README.index("## Lockstep in your own repository")]


def example() -> tuple[str, str]:
    """The check file the section names and its code block."""
    match = re.search(r"`(checks/test_api_budget\.py)`:\n\n```python\n(.*?)```", SECTION, re.S)
    assert match is not None
    return match.group(1), match.group(2)


def run(project: pytest.Pytester, expect: dict[str, object], used: int = 0) -> pytest.RunResult:
    path, code = example()
    (project.path / path).parent.mkdir(parents=True, exist_ok=True)
    (project.path / path).write_text(code)
    limits = {"DailyApiRequests": {"Max": 1000, "Remaining": 1000 - used}}
    write_landscape(project.path, [{"name": "qa", "kind": "sandbox"}], expect=expect,
                    states=[state("qa", limits=limits)])
    return project.runpytest(path, "--org-profile", "p", "-p", "no:cacheprovider")


def test_the_declared_key_is_read_by_its_check(project: pytest.Pytester) -> None:
    result = run(project, {"max_api_use_percent": 80}, used=100)
    result.assert_outcomes(passed=1)
    over = run(project, {"max_api_use_percent": 5}, used=100)
    over.assert_outcomes(failed=1)
    assert read_gate(project.path)["orgs"]["qa"]["failed"][0]["reason"] == (
        "qa: daily API requests: expected at most 5% used, found 10%")


@pytest.mark.parametrize(("expect", "shown"), [
    ({"max_api_use_percent": 150}, "expect.max_api_use_percent: expected a number from 0 to 100, found 150"),
    ({"max_api_use_percnt": 80}, "expect.max_api_use_percnt: unknown key (did you mean 'max_api_use_percent'?)"),
])
def test_a_mistake_ends_the_run_with_the_line_the_readme_shows(project: pytest.Pytester, expect: dict[str, object],
                                                                shown: str) -> None:
    result = run(project, expect)
    assert result.ret == 4
    line = f"ERROR: profiles/p.yaml: {shown}"
    assert [text for text in result.errlines if text.strip()] == [line]
    result.assert_outcomes()
    assert read_gate(project.path)["decision"] == "no-go"
    assert line in " ".join(SECTION.split())
