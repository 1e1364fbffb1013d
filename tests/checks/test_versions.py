from __future__ import annotations

import pytest

from lockstep.helpers.versions import VersionRule, parse_version


@pytest.mark.parametrize(
    ("text", "parts"),
    [("2.5.0.1", (2, 5, 0, 1)), ("2.5", (2, 5, 0, 0)), ("10", (10, 0, 0, 0)), (" 1.2.3.4 ", (1, 2, 3, 4))],
)
def test_parse_version_pads_missing_parts(text, parts):
    assert parse_version(text) == parts


@pytest.mark.parametrize("text", ["", "2.x", "1.2.3.4.5", "-1.0", "v2.0"])
def test_parse_version_rejects_garbage(text):
    with pytest.raises(ValueError, match="not a package version"):
        parse_version(text)


def test_versions_compare_numerically_not_as_text():
    assert parse_version("2.10") > parse_version("2.9")
    assert str(parse_version("2.10")) == "2.10.0.0"


@pytest.mark.parametrize(
    ("spec", "version", "accepted"),
    [
        ({"version": "2.5.0.1"}, "2.5.0.1", True),
        ({"version": "2.5.0.1"}, "2.5.0.2", False),
        ({"min_version": "2.5"}, "2.5.0.0", True),
        ({"min_version": "2.5"}, "2.4.9.9", False),
        ({"max_version": "3"}, "3.0.0.1", False),
        ({"min_version": "2", "max_version": "3"}, "2.7", True),
    ],
)
def test_version_rule(spec, version, accepted):
    assert VersionRule(spec).accepts(parse_version(version)) is accepted


def test_version_rule_describes_itself():
    assert str(VersionRule({"version": "2.5"})) == "2.5.0.0"
    assert str(VersionRule({"min_version": "2", "max_version": "3"})) == ">= 2.0.0.0, <= 3.0.0.0"


def test_version_rule_rejects_unknown_keys():
    with pytest.raises(ValueError, match="minimum"):
        VersionRule({"minimum": "2"})
