"""No secret in any output: every form of every secret, in every file and stream a run writes.

The profile's secrets come from environment variables (a PEM private key, a password with
quotes, backslashes and URL/HTML characters, a token with ``+/=``). Checks plant them into
an assertion message, an exception message (repr'd and JSON-encoded), logging at DEBUG,
stdout and stderr, ``--showlocals`` locals, skip and xfail reasons, a JUnit property and a
warning; the run writes live logs, a log file, JUnit XML, pytest-html, the gate and the step
summary. Every form of every secret is then looked for in all of it.
"""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from plugin_helpers import read_gate, write_landscape
from run_once import once

from lockstep.salesforce.secrets import Secret, redact

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
PASSWORD = "pa\"ss'w\\ord <&> with+space/=%"
TOKEN = "00Dxx0000001gPL!AQ+/tok=en+value/=="
SECRETS = {"key": KEY, "password": PASSWORD, "token": TOKEN}
UNREACHABLE = "https://127.0.0.1:9"

FORMS: dict[str, Callable[[str], list[str]]] = {
    "raw": lambda s: [s],
    "line": lambda s: [line for line in s.splitlines() if len(line) >= 8 and not line.startswith("-----")],
    "repr": lambda s: [repr(s)[1:-1], repr(repr(s))[1:-1], repr(s.encode())[2:-1]],
    "json": lambda s: [json.dumps(s)[1:-1], json.dumps(json.dumps(s))[1:-1]],
    "url": lambda s: [quote(s, safe=""), quote(s), quote_plus(s)],
    "html": lambda s: [html.escape(s), html.escape(s, quote=False), html.escape(json.dumps(s)),
                       html.escape(s, quote=False).replace('"', "&quot;")],  # an XML attribute
    "base64-inside": lambda s: [encode(prefix + s.encode()).decode()[4:-4] for prefix in (b"a", b"ab")
                                for encode in (base64.b64encode, base64.urlsafe_b64encode)],
    "cut": lambda s: [line[i:i + 16] for line in s.splitlines() if not line.startswith("-----")
                      for i in range(len(line) - 15)],
    "cut-at-ellipsis": lambda s: [w for line in s.splitlines() if not line.startswith("-----")
                                  for i in range(len(line) - 7) for w in (line[i:i + 8] + "...",
                                                                          "..." + line[i:i + 8])],
}

CHECKS = '''
import json
import logging
import sys
import warnings

import pytest

log = logging.getLogger("lockstep.checks.planted")


def planted(profile):
    return [profile.org("uat").auth.get("private_key").reveal(), profile.org("qa").auth.get("password").reveal(),
            profile.org("dev").auth.get("access_token").reveal()]


def test_login(org):
    """Logs in with each org's secrets (the orgs are unreachable)."""


def test_assertion_message(profile):
    key, password, token = planted(profile)
    assert password == token, f"key {key} password {password} token {token}"


def test_exception_message(profile):
    values = planted(profile)
    raise RuntimeError(repr(values) + " " + json.dumps(values))


def test_logging_and_output(profile):
    key, password, token = planted(profile)
    log.debug("planted %s %r %s", key, password, token)
    log.warning("as json %s", json.dumps([key, password, token]))
    print("stdout", key, password, token, repr(key))
    print("stderr", key, password, token, json.dumps(key), file=sys.stderr)
    try:
        raise ValueError(f"inside {token} {key!r}")
    except ValueError:
        log.exception("with a traceback")


def test_showlocals(profile, record_property, record_xml_attribute, record_testsuite_property):
    key, password, token = planted(profile)
    record_property("planted", token + password)
    record_xml_attribute("planted", password)
    record_testsuite_property("planted", key)
    warnings.warn(f"warned {token} {password}")
    everything = {"key": key, "password": password, "token": token}
    assert not everything


def test_html_extras(profile, extras):
    import base64

    import pytest_html

    key, password, token = planted(profile)
    extras.append(pytest_html.extras.url("https://example.com/?t=" + token))
    extras.append(pytest_html.extras.text("text " + password + " " + key))
    extras.append(pytest_html.extras.json({"token": token, "password": password}))
    extras.append(pytest_html.extras.html("<p>" + token + "</p>"))
    print("inside base64", base64.b64encode(("a" + token).encode()).decode(),
          base64.b64encode(("ab" + key).encode()).decode())


def test_skip_reason(profile):
    pytest.skip(f"skipped with {planted(profile)[1]} {planted(profile)[2]}")


def test_xfail_reason(profile):
    pytest.xfail(f"xfail with {planted(profile)[2]}")
'''

MODES = {"fd": ["--debug=out/debug.log"], "no-capture": ["-s"], "tee-sys": ["--capture=tee-sys"], "xdist": ["-n", "2"]}


def _landscape(root: Path) -> None:
    write_landscape(root, [
        {"name": "dev", "kind": "sandbox",
         "auth": {"method": "access_token", "access_token": "${LS_TOKEN}", "instance_url": UNREACHABLE}},
        {"name": "qa", "kind": "sandbox",
         "auth": {"method": "password", "client_id": "3MVGclient", "username": "ci@qa.example",
                  "password": "${LS_PASSWORD}", "login_url": UNREACHABLE}},
        {"name": "uat", "kind": "sandbox",
         "auth": {"method": "jwt", "client_id": "3MVGclient", "username": "ci@uat.example",
                  "private_key": "${LS_KEY}", "login_url": UNREACHABLE}},
    ])
    (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\n")
    (root / "test_planted.py").write_text(CHECKS)


def _pytest(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "LS_KEY": KEY, "LS_PASSWORD": PASSWORD, "LS_TOKEN": TOKEN, **(env or {})}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=root, env=environ,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module", params=sorted(MODES))
def planted_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The planted run of each mode, run once for both xdist workers (in its own process: the
    secrets reach it through its environment, and fd-level output is part of what is searched)."""
    root, output, mode = once(tmp_path_factory, f"planted-run-{request.param}",
                              lambda: _planted_run(tmp_path_factory, request.param))
    return Path(root), output, mode


def _planted_run(tmp_path_factory: pytest.TempPathFactory, mode: str) -> tuple[str, str, str]:
    root = tmp_path_factory.mktemp(f"planted-{mode}")
    _landscape(root)
    out = root / "out"
    out.mkdir()
    done = _pytest(root, "--org-profile", "p", "--log-cli-level=DEBUG", f"--log-file={out / 'run.log'}",
                   "--log-file-level=DEBUG", f"--junitxml={out / 'junit.xml'}", f"--html={out / 'report.html'}",
                   "-rA", "--showlocals", *MODES[mode],
                   env={"GITHUB_STEP_SUMMARY": str(out / "summary.md")})
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    return str(root), done.stdout + "\n" + done.stderr, mode


def _written(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): path.read_text(errors="replace")
            for path in root.rglob("*") if path.is_file() and "__pycache__" not in path.parts}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_no_form_of_a_secret_in_any_output(planted_run: tuple[Path, str, str], secret: str, form: str) -> None:
    root, output, _ = planted_run
    places = {"stdout+stderr": output, **_written(root)}
    variants = [v for v in FORMS[form](SECRETS[secret]) if len(v) >= 8]
    assert variants
    found = sorted({(where, variant[:20]) for variant in variants for where, text in places.items() if variant in text})
    assert found == []


def test_every_output_was_written_and_planted_checks_ran(planted_run: tuple[Path, str, str]) -> None:
    root, output, mode = planted_run
    out = root / "out"
    assert {p.name for p in out.iterdir()} >= {"run.log", "junit.xml", "report.html", "summary.md"}
    gate = read_gate(root)
    assert gate["decision"] == "no-go" and set(gate["orgs"]) == {"dev", "qa", "uat"}
    if mode != "xdist":  # each xdist worker truncates the same --log-file
        assert "planted ***" in (out / "run.log").read_text()
    assert "password *** token ***" in output  # an assertion message
    assert "stdout *** ***" in output  # the print is shown, masked, wherever pytest shows it
    suite = ET.parse(out / "junit.xml").getroot()
    skipped = [case for case in suite.iter("testcase") if case.find("skipped") is not None]
    messages = {s.get("message") for case in skipped for s in case.iter("skipped")}
    assert "skipped with *** ***" in messages, messages  # the skip stays a skip, reason masked
    assets = {path.suffix: path.read_text() for path in (out / "assets").iterdir() if "html_extras" in path.name}
    assert assets[".txt"].startswith("text *** ") and json.loads(assets[".json"]) == {"token": "***", "password": "***"}
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties.get("planted") == "******"  # token + password


def test_showlocals_and_live_output_are_masked_in_the_terminal(tmp_path: Path) -> None:
    _landscape(tmp_path)
    done = _pytest(tmp_path, "--org-profile", "p", "-s", "--showlocals", "-k", "logging or showlocals",
                   "--log-cli-level=DEBUG")
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "stdout *** *** *** '***'" in output  # -s print
    assert "everything = {'key': '-----BEGIN PRIVATE KEY-----\\n***" in output  # --showlocals, cut short by repr
    assert "planted ***" in output  # live log
    assert all(line not in output for line in KEY.splitlines()[1:-1])


def _usage_error(root: Path, auth: dict[str, str],
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    (root / "profiles").mkdir(exist_ok=True)
    (root / "profiles" / "p.yaml").write_text(yaml.safe_dump({"orgs": [{"name": "dev", "kind": "sandbox",
                                                                        "auth": auth}]}))
    (root / "pytest.ini").write_text("[pytest]\nlockstep_catalog = none\n")
    (root / "test_a.py").write_text("def test_one(org):\n    pass\n")
    return _pytest(root, "--org-profile", "p", env=env)


def _only_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 4 and len(lines) == 1, lines
    return lines[0]


def test_a_file_secret_spanning_lines_is_refused_without_its_content(tmp_path: Path) -> None:
    passwd = "root:x:0:0:recognizable-root:/root:/bin/bash\ndaemon:x:1:1:recognizable-daemon:/usr/sbin:/bin/false\n"
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "passwd").write_text(passwd)
    done = _usage_error(tmp_path,
                        {"method": "access_token", "access_token": "file:passwd", "instance_url": UNREACHABLE})
    assert _only_line(done) == ("ERROR: profiles/p.yaml: orgs[dev].auth.access_token: the secret from file:passwd "
                                "spans several lines; expected one line")
    assert "recognizable" not in (tmp_path / "reports" / "gate.json").read_text()


def test_a_single_line_file_secret_never_shows_its_content(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "shadow").write_text("root:$6$recognizable-shadow-hash:19000:0:99999:7:::\n")
    done = _usage_error(tmp_path,
                        {"method": "access_token", "access_token": "file:shadow", "instance_url": UNREACHABLE})
    assert done.returncode == 1
    written = {where: text for where, text in _written(tmp_path).items() if where != "profiles/shadow"}
    everything = done.stdout + done.stderr + "".join(written.values())
    assert "recognizable" not in everything and "dev: unreachable" in everything


@pytest.mark.parametrize(("value", "problem"), [
    ("tok\x1b[31men-value", "contains control characters; expected one line of text"),
    ("first-line-of-it\nsecond-line-of-it", "spans several lines; expected one line"),
    ("short7!", "is shorter than 8 characters and could not be told apart from other text to mask it in output; "
                "use a longer secret"),
    ("   ", "is empty"),
])
def test_secrets_that_cannot_be_masked_or_sent_are_refused(tmp_path: Path, value: str, problem: str) -> None:
    done = _usage_error(tmp_path, {"method": "access_token", "access_token": "${LS_ODD}", "instance_url": UNREACHABLE},
                        env={"LS_ODD": value})
    expected = f"ERROR: profiles/p.yaml: orgs[dev].auth.access_token: the secret from ${{LS_ODD}} {problem}"
    assert _only_line(done) == expected


@pytest.mark.parametrize("key", ["password", "client_secret"])
def test_a_default_in_a_secret_reference_is_refused(tmp_path: Path, key: str) -> None:
    auth = {"method": "password", "client_id": "3MVGclient", "username": "ci@qa.example",
            "password": "${LS_UNSET_PW}", "login_url": UNREACHABLE, key: "${LS_UNSET:-Literal-Secret-42}"}
    done = _usage_error(tmp_path, auth)
    assert _only_line(done) == (f"ERROR: profiles/p.yaml: orgs[dev].auth.{key}: a secret reference cannot carry a "
                                "default (${LS_UNSET:-...}); set the environment variable")
    assert "Literal-Secret-42" not in (tmp_path / "reports" / "gate.json").read_text()


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_redact_masks_every_form(secret: str, form: str) -> None:
    Secret(SECRETS[secret])
    for variant in FORMS[form](SECRETS[secret]):
        masked = redact(f"before {variant} after")
        assert variant not in masked and "***" in masked


def test_every_cut_of_a_key_is_masked_after_many_keys() -> None:
    """A profile of 20 orgs with their own JWT keys: every key's lines share the ASN.1 header's
    grams, and the newest key's cuts were left unmasked once 16 keys were registered."""
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        for _ in range(20)]
    for key in keys:
        Secret(key)
    shown = [cut for cut in FORMS["cut"](keys[-1]) if cut in redact(f"before {cut} after")]
    assert shown == []


def test_redact_keeps_harmless_lines_and_ordinary_text() -> None:
    Secret(KEY)
    text = "-----BEGIN PRIVATE KEY-----\norg 00Dxx0000001gPLEAA is fine\n-----END PRIVATE KEY-----"
    assert redact(text) == text
    assert redact(KEY[:200]).startswith("-----BEGIN PRIVATE KEY-----\n***\n***\n***")


def test_a_collection_error_is_masked(tmp_path: Path) -> None:
    _landscape(tmp_path)
    (tmp_path / "test_planted.py").write_text("import os\n\nraise RuntimeError('at import: "
                                              "' + repr(os.environ['LS_TOKEN']))\n")
    done = _pytest(tmp_path, "--org-profile", "p", f"--junitxml={tmp_path / 'junit.xml'}")
    assert done.returncode == 2
    everything = done.stdout + done.stderr + "".join(_written(tmp_path).values())
    assert "RuntimeError: at import: '***'" in json.dumps(read_gate(tmp_path)) and "at import: '***'" in done.stdout
    assert all(variant not in everything for form in ("raw", "repr", "cut") for variant in FORMS[form](TOKEN))


@pytest.mark.parametrize("written",
                         ["${my literal-password}", "${LS_A}${LS_B}", "x${LS_A}", "${LS_A:-Literal-Pass-42}"])
def test_a_secret_written_in_the_profile_is_never_echoed(tmp_path: Path, written: str) -> None:
    done = _usage_error(tmp_path, {"method": "access_token", "access_token": written, "instance_url": UNREACHABLE})
    line = _only_line(done)
    assert line.startswith("ERROR: profiles/p.yaml: orgs[dev].auth.access_token: ")
    assert "literal-password" not in line and "Literal-Pass-42" not in line


def test_public_names_are_pinned() -> None:
    import lockstep.salesforce.secrets
    import lockstep.session.masking

    assert lockstep.salesforce.secrets.__all__ == ["MASK", "MIN_LENGTH", "Secret", "redact"]
    assert lockstep.session.masking.__all__ == ["MaskedFormatter", "MaskedStream", "mask_output", "mask_report"]
