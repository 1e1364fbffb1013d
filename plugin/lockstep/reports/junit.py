"""JUnit XML (``--junitxml``) that CI test-report viewers show well: each testcase carries
``lockstep.org``, ``lockstep.check``, ``lockstep.severity``, ``lockstep.phases`` and, when it
did not pass, ``lockstep.reason``; the testsuite carries the gate's decision and run id.

pytest's junitxml writes every entry of a report's ``user_properties`` as a property, in
``str()`` form: Lockstep's internal ones (the test id, the whole drift matrix, unreachable
orgs) would bloat every testcase. The file is rewritten once pytest has written it (before
:mod:`lockstep.session.masking` masks it): Lockstep's properties renamed or dropped, every property
value cut to :data:`MAX_VALUE` characters and masked; a check's own properties are kept.
"""

from __future__ import annotations

import ast
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from lockstep.gate.model import Gate
from lockstep.salesforce.errors import redact

__all__ = ["MAX_VALUE", "PROPERTIES", "JunitHooks", "clean_junit"]

# Lockstep's properties viewers get, by their names in the XML; every other lockstep_* is dropped.
PROPERTIES = {"lockstep_org": "lockstep.org", "lockstep_check": "lockstep.check",
              "lockstep_severity": "lockstep.severity", "lockstep_phases": "lockstep.phases",
              "lockstep_reason": "lockstep.reason"}
MAX_VALUE = 500


def _value(name: str, value: str) -> str | None:
    """The written value: phases as ``readiness,verification``; no org for a cross-org check."""
    if name == "lockstep_phases" and value.startswith("["):
        try:
            phases = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            phases = None
        if isinstance(phases, (list, tuple)):
            value = ",".join(str(p) for p in phases)
    if name == "lockstep_org" and value == "None":
        return None
    return _short(value)


def _short(value: str) -> str:
    value = redact(value)
    return value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 3] + "..."


def _clean_properties(properties: ET.Element) -> None:
    kept: list[ET.Element] = []
    for prop in properties.findall("property"):
        name, value = prop.get("name", ""), prop.get("value", "")
        if name.startswith("lockstep_"):
            if name not in PROPERTIES:
                continue
            written = _value(name, value)
            if written is None:
                continue
            prop.set("name", PROPERTIES[name])
            prop.set("value", written)
        else:
            prop.set("value", _short(value))
        kept.append(prop)
    for prop in list(properties):
        properties.remove(prop)
    properties.extend(kept)


def clean_junit(path: Path, gate: Gate | None = None) -> None:
    """Rewrite the JUnit XML at ``path`` in place (atomically): testcase properties cleaned,
    the gate's decision, run id, release, profile and phase added to each testsuite."""
    tree = ET.parse(path)
    root = tree.getroot()
    for testcase in root.iter("testcase"):
        properties = testcase.find("properties")
        if properties is not None:
            _clean_properties(properties)
            if not len(properties):
                testcase.remove(properties)
    if gate is not None:
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        facts = [("lockstep.decision", gate.decision), ("lockstep.run_id", gate.run_id),
                 ("lockstep.release", gate.release), ("lockstep.profile", gate.profile.name),
                 ("lockstep.phase", gate.phase)]
        for suite in suites:
            properties = suite.find("properties")
            if properties is None:
                properties = ET.Element("properties")
                suite.insert(0, properties)
            for name, value in facts:
                if value:
                    properties.append(ET.Element("property", name=name, value=_short(str(value))))
    temporary = path.with_name(f".{path.name}.lockstep")
    tree.write(temporary, encoding="utf-8", xml_declaration=True)
    os.replace(temporary, path)


class JunitHooks:
    """Registered by the controller when ``--junitxml`` is given."""

    def __init__(self, gate_of: Callable[[], Gate | None]) -> None:
        self._gate_of = gate_of
        self._reasons: dict[str, str] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        # Lockstep writes testcase properties for every check: pytest's warning that a check's
        # record_property is outside the xunit2 schema says nothing more.
        config.addinivalue_line("filterwarnings", "ignore:record_property is incompatible with junit_family")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """pytest's junitxml writes the properties of a test's teardown report, while the reason
        is on the report that did not pass (setup or call): hand it on, before junitxml reads it."""
        reasons = [entry[1] for entry in report.user_properties
                   if isinstance(entry, (tuple, list)) and len(entry) == 2 and entry[0] == "lockstep_reason"]
        if report.when != "teardown":
            if reasons and not report.passed:
                self._reasons.setdefault(report.nodeid, str(reasons[-1]))
            return
        reason = self._reasons.pop(report.nodeid, None)
        if reason is not None and not reasons:
            report.user_properties.append(("lockstep_reason", reason))

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        path = getattr(config.option, "xmlpath", None)
        if not path:
            return
        file = Path(os.path.abspath(os.path.expanduser(os.path.expandvars(path))))
        try:
            clean_junit(file, self._gate_of())
        except (OSError, ET.ParseError) as exc:
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"lockstep: {file}: cannot add Lockstep's properties: {exc}", red=True)
