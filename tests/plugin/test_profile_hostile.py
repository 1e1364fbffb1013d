"""Hostile profile input: refused at load with exit 4 and one line naming the file, org and key,
before any API call and within seconds; never an INTERNALERROR, a hang or a silent wrong value."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from plugin_helpers import admin_counts

from lockstep.config.yaml_load import MAX_BYTES, MAX_NODES
from lockstep.emulator import Emulator
from lockstep.helpers.endpoints import Probe, probe_all

CHECK = "def test_reachable(org):\n    assert org.facts.organization and org.facts.limits\n"
RUN_TIMEOUT = 20  # seconds; a refusal takes about one, a hang or a bomb never ends
SECRET_TEXT = "TOPSECRET-4711"


def org_entry(emulator: Emulator, name: str, extra: str = "", auth: str = "") -> str:
    auth = auth or f"{{method: emulator, url: '{emulator.url}', ca_file: '{emulator.ca_cert}'}}"
    return f"  - name: {name}\n    kind: sandbox\n{extra}    auth: {auth}\n"


def profile(emulator: Emulator, alpha: str = "", *, auth: str = "", top: str = "") -> str:
    """alpha (with ``alpha`` lines inserted after its kind) and beta, both orgs of the running emulator."""
    return top + "orgs:\n" + org_entry(emulator, "alpha", alpha, auth) + org_entry(emulator, "beta")


def password_auth(emulator: Emulator, password: str) -> str:
    return (f"{{method: password, client_id: cid, username: u@example.com, password: '{password}', "
            f"login_url: '{emulator.url}'}}")


def run(project: pytest.Pytester, body: str | bytes, *, subprocess: bool) -> pytest.RunResult:
    path = project.path / "profiles" / "p.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    project.makepyfile(test_reach=CHECK)
    args = ("--org-profile", "p", "-p", "no:cacheprovider")
    return project.runpytest_subprocess(*args, timeout=RUN_TIMEOUT) if subprocess else project.runpytest(*args)


def refused(project: pytest.Pytester, emulator: Emulator, admin: requests.Session, body: str | bytes, *,
            subprocess: bool = False) -> str:
    """Run the profile; assert exit 4, one line on stderr, no API call; return that line."""
    result = run(project, body, subprocess=subprocess)
    output = result.stdout.str() + result.stderr.str()
    lines = [line for line in result.errlines if line.strip()]
    assert result.ret == 4, output
    assert len(lines) == 1 and lines[0].startswith("ERROR: profiles/p.yaml: "), output
    assert "Traceback" not in output and "INTERNALERROR" not in output
    assert SECRET_TEXT not in output
    assert admin_counts(emulator, admin) == {"alpha": 0, "beta": 0}
    return lines[0].removeprefix("ERROR: profiles/p.yaml: ")


def test_the_valid_profile_reaches_both_orgs(project: pytest.Pytester, emulator: Emulator,
                                             admin: requests.Session) -> None:
    """The control for every test below: the same profile, unbroken, does call the orgs."""
    result = run(project, profile(emulator), subprocess=False)
    assert result.ret == 0
    assert all(count > 0 for count in admin_counts(emulator, admin).values())


def test_a_non_utf8_byte_names_its_line(project: pytest.Pytester, emulator: Emulator,
                                        admin: requests.Session) -> None:
    body = profile(emulator, "    description: caf\xe9\n").encode("latin-1")
    line = refused(project, emulator, admin, body)
    assert line == f"not UTF-8 text: an invalid byte at line 4, column 21 (byte offset {body.index(0xe9)})"


def test_a_duplicate_key_is_refused_not_the_last_one_kept(project: pytest.Pytester, emulator: Emulator,
                                                          admin: requests.Session) -> None:
    line = refused(project, emulator, admin, profile(emulator, "    kind: production\n"))
    assert line == "orgs[alpha].kind: duplicate key 'kind' at line 4 (first at line 3)"


@pytest.mark.parametrize(("key", "value"), [
    ("timeout", ".nan"), ("timeout", ".inf"), ("timeout", "-.inf"), ("deadline", ".nan"), ("deadline", ".inf"),
    ("deadline", "1.0e+400"), ("timeout", "true"), ("deadline", "0"),
])
def test_timeout_and_deadline_must_be_finite_positive_seconds(project: pytest.Pytester, emulator: Emulator,
                                                              admin: requests.Session, key: str,
                                                              value: str) -> None:
    line = refused(project, emulator, admin, profile(emulator, f"    {key}: {value}\n"))
    assert line.startswith(f"orgs[alpha].{key}: expected a positive number of seconds up to ")


@pytest.mark.parametrize("value", ["abc", "'62'", "62.5", "v62.0", "'9.0'", "100.0", ".nan", "[62]"])
def test_api_version_must_be_nn_dot_0(project: pytest.Pytester, emulator: Emulator, admin: requests.Session,
                                      value: str) -> None:
    line = refused(project, emulator, admin, profile(emulator, f"    api_version: {value}\n"))
    assert line.startswith("orgs[alpha].api_version: expected ")


@pytest.mark.parametrize(("value", "found"), [("[emea, no]", "boolean"), ("[2024-01-01]", "date"),
                                              ("[emea, 0123]", "int"), ("[emea, ~]", "null")])
def test_a_tag_yaml_reads_as_another_type_is_named(project: pytest.Pytester, emulator: Emulator,
                                                  admin: requests.Session, value: str, found: str) -> None:
    """YAML reads ``no`` as false and ``0123`` as 83: the line names the tag, not "a list"."""
    line = refused(project, emulator, admin, profile(emulator, f"    tags: {value}\n"))
    index = value.strip("[]").split(", ").index(value.strip("[]").split(", ")[-1])
    assert line == f"orgs[alpha].tags[{index}]: expected a string, got {found} (quote it)"


def test_nesting_5000_brackets_deep_is_refused(project: pytest.Pytester, emulator: Emulator,
                                              admin: requests.Session) -> None:
    nested = "[" * 5000 + "]" * 5000
    line = refused(project, emulator, admin, profile(emulator, f"    expect: {{custom: {nested}}}\n"),
                   subprocess=True)
    assert line.startswith("orgs[alpha].expect.custom[0]…: nested deeper than 50 levels at line 4")


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    lines = ["    expect:", f"      l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"      l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once(project: pytest.Pytester, emulator: Emulator,
                                          admin: requests.Session) -> None:
    bomb = billion_laughs()
    assert 550 < len(bomb) < 650
    line = refused(project, emulator, admin, profile(emulator, bomb), subprocess=True)
    assert line.startswith("orgs[alpha].expect.l")
    assert f"more than {MAX_NODES} YAML nodes" in line


def test_a_profile_over_the_size_limit_is_refused_by_size(project: pytest.Pytester, emulator: Emulator,
                                                   admin: requests.Session) -> None:
    keys = "".join(f"      k{index}: 1\n" for index in range(MAX_BYTES // 14))
    line = refused(project, emulator, admin, profile(emulator, "    expect:\n" + keys), subprocess=True)
    assert line == f"file too large (more than {MAX_BYTES // (1024 * 1024)} MiB)"


def test_expectation_keys_under_the_size_limit_are_refused_by_count(
        project: pytest.Pytester, emulator: Emulator, admin: requests.Session) -> None:
    keys = ", ".join(f"k{index}: 1" for index in range(MAX_NODES // 2 + 1))
    line = refused(project, emulator, admin, profile(emulator, f"    expect: {{{keys}}}\n"), subprocess=True)
    assert line.startswith("orgs[alpha].expect") and f"more than {MAX_NODES} YAML nodes" in line


def test_a_binary_secret_file_is_refused_without_its_content(project: pytest.Pytester, emulator: Emulator,
                                                             admin: requests.Session) -> None:
    (project.path / "profiles").mkdir()
    (project.path / "profiles" / "blob").write_bytes(SECRET_TEXT.encode() + bytes(range(256)))
    line = refused(project, emulator, admin, profile(emulator, auth=password_auth(emulator, "file:blob")))
    assert line.startswith("orgs[alpha].auth.password: secret file 'blob': not ")


def test_dev_zero_as_a_secret_file_is_refused_at_once(project: pytest.Pytester, emulator: Emulator,
                                                      admin: requests.Session) -> None:
    line = refused(project, emulator, admin, profile(emulator, auth=password_auth(emulator, "file:/dev/zero")),
                   subprocess=True)
    assert line == "orgs[alpha].auth.password: secret file '/dev/zero': a character device, not a regular file"


def test_a_fifo_as_a_secret_file_never_blocks(project: pytest.Pytester, emulator: Emulator,
                                              admin: requests.Session) -> None:
    (project.path / "profiles").mkdir()
    os.mkfifo(project.path / "profiles" / "pipe")
    line = refused(project, emulator, admin, profile(emulator, auth=password_auth(emulator, "file:pipe")),
                   subprocess=True)
    assert line == "orgs[alpha].auth.password: secret file 'pipe': a FIFO (named pipe), not a regular file"


def test_an_oversized_secret_file_is_refused(project: pytest.Pytester, emulator: Emulator,
                                             admin: requests.Session) -> None:
    (project.path / "profiles").mkdir()
    (project.path / "profiles" / "big").write_text(SECRET_TEXT * 10_000)
    line = refused(project, emulator, admin, profile(emulator, auth=password_auth(emulator, "file:big")))
    assert line == "orgs[alpha].auth.password: secret file 'big': file too large (more than 64 KiB)"


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_ca_file_must_be_a_regular_file(project: pytest.Pytester, emulator: Emulator, admin: requests.Session,
                                        kind: str) -> None:
    target = project.path / "profiles" / "ca"
    target.parent.mkdir()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    else:
        target = Path("/dev/zero")
    auth = f"{{method: emulator, url: '{emulator.url}', ca_file: '{target}'}}"
    line = refused(project, emulator, admin, profile(emulator, auth=auth), subprocess=kind == "fifo")
    assert line.startswith("orgs[alpha].auth.ca_file: ") and "not a regular file" in line


@pytest.mark.parametrize(("expect", "key"), [
    ("{probes: {erp: {url: 'https://erp.example.com', max_latency_ms: .inf}}}", "expect.probes.erp.max_latency_ms"),
    ("{probes: {erp: {url: 'https://erp.example.com', timeout_s: .nan}}}", "expect.probes.erp.timeout_s"),
    ("{package_fleet: {acme: {target: '1.0', max_lagging_percent: .nan}}}",
     "expect.package_fleet.acme.max_lagging_percent"),
    ("{api_headroom: {min_remaining_percent: .nan}}", "expect.api_headroom.min_remaining_percent"),
    ("{scheduled_job_grace_minutes: .inf}", "expect.scheduled_job_grace_minutes"),
    ("{production_api_version: abc}", "expect.production_api_version"),
])
def test_numbers_in_expectations_must_be_finite(project: pytest.Pytester, emulator: Emulator,
                                                admin: requests.Session, expect: str, key: str) -> None:
    line = refused(project, emulator, admin, profile(emulator, f"    expect: {expect}\n"))
    assert line.startswith(f"orgs[alpha].{key}: expected ")


@pytest.mark.parametrize("age", [".nan", ".inf", "false"])
def test_upstream_max_age_must_be_finite(project: pytest.Pytester, emulator: Emulator, admin: requests.Session,
                                         age: str) -> None:
    top = f"release: {{upstream: {{profile: qa, gate_file: g.json, max_age_hours: {age}}}}}\n"
    line = refused(project, emulator, admin, profile(emulator, top=top))
    assert line.startswith("release.upstream.max_age_hours: expected a positive number of hours")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_probe_ca_file_that_is_no_regular_file_is_an_error_not_a_hang(tmp_path: Path, kind: str) -> None:
    ca_file = tmp_path / "ca.pem"
    if kind == "fifo":
        os.mkfifo(ca_file)
    else:
        ca_file = Path("/dev/zero")
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.extend(
        probe_all([Probe("erp", "https://127.0.0.1:9/health", ca_file=str(ca_file))]).values()), daemon=True)
    worker.start()
    worker.join(RUN_TIMEOUT)
    assert len(results) == 1, "probing with a FIFO or device as CA file did not end"
    what = "a FIFO (named pipe)" if kind == "fifo" else "a character device"
    assert results[0].error == f"CA file {ca_file} unusable ({what}, not a regular file)"


def test_extends_naming_a_fifo_is_refused_not_read(project: pytest.Pytester, emulator: Emulator,
                                                   admin: requests.Session) -> None:
    (project.path / "profiles").mkdir()
    os.mkfifo(project.path / "profiles" / "base.yaml")
    line = refused(project, emulator, admin, profile(emulator, top="extends: base.yaml\n"), subprocess=True)
    assert line == "extends: a FIFO (named pipe), not a regular file: base.yaml"


@pytest.mark.parametrize(("kind", "found"), [("fifo", "a FIFO (named pipe)"), ("folder", "a folder")])
@pytest.mark.parametrize("given", ["p", "profiles/p.yaml"])
def test_a_profile_that_is_not_a_regular_file_says_so(project: pytest.Pytester, kind: str, found: str,
                                                      given: str) -> None:
    """A FIFO named profiles/p.yaml was an "unknown profile 'p' (did you mean 'p'?)"."""
    (project.path / "profiles").mkdir()
    path = project.path / "profiles" / "p.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    project.makepyfile(test_reach=CHECK)
    result = project.runpytest(f"--org-profile={given}", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.strip()] == [
        f"ERROR: --org-profile: {found}, not a regular file: profiles/p.yaml"]
