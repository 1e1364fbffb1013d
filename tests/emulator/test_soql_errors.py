"""Queries Salesforce refuses: error codes, caret layout, and robustness on arbitrary input."""

from __future__ import annotations

import random
import re

import pytest

from lockstep.emulator.schema.registry import make_id
from lockstep.emulator.soql import SoqlError, execute

TABLES = {
    "Account": [{"Id": make_id("001", 1), "Name": "Globex", "Tier__c": "Gold"}],
    "Contact": [{"Id": make_id("003", 1), "LastName": "Smith", "AccountId": make_id("001", 1)}],
}
LAYOUT = re.compile(r"\n(?P<echo>[^\n]*)\n(?P<pad> *)\^\nERROR at Row:(?P<row>\d+):Column:(?P<col>\d+)\n(?P<text>.+)",
                    re.S)
FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)


def failure(soql: str, **kwargs: object) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        execute(soql, TABLES, **kwargs)  # type: ignore[arg-type]
    return caught.value


def layout(error: SoqlError) -> dict[str, str]:
    match = LAYOUT.fullmatch(error.message)
    assert match, error.message
    parts = match.groupdict()
    assert len(parts["pad"]) == int(parts["col"]) - 1
    return parts


def test_unknown_object_is_invalid_type_with_caret_at_the_name() -> None:
    error = failure("select count() from XYZZY")
    assert error.error_code == "INVALID_TYPE"
    parts = layout(error)
    assert (parts["echo"], parts["row"], parts["col"]) == ("select count() from XYZZY", "1", "21")
    assert parts["text"].startswith("sObject type 'XYZZY' is not supported.")


def test_object_of_the_other_api_is_invalid_type() -> None:
    assert failure("SELECT Id FROM RemoteProxy").error_code == "INVALID_TYPE"
    assert failure("SELECT Id FROM InstalledSubscriberPackage").error_code == "INVALID_TYPE"
    assert failure("SELECT Id FROM CronTrigger", api="tooling").error_code == "INVALID_TYPE"


def test_unknown_field_is_invalid_field_with_salesforce_wording() -> None:
    error = failure("SELECT Id, foo FROM Account")
    assert error.error_code == "INVALID_FIELD"
    parts = layout(error)
    assert parts["col"] == "12"
    assert parts["text"] == f"No such column 'foo' on entity 'Account'. {FIELD_HINT}"


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Account WHERE Foo = 'x'",
        "SELECT Id FROM Account ORDER BY Foo",
        "SELECT Owner.Foo FROM Account",
        "SELECT Missing__c FROM Account",
        "SELECT Id, (SELECT Foo FROM Contacts) FROM Account",
    ],
)
def test_unknown_fields_anywhere(soql: str) -> None:
    error = failure(soql)
    assert error.error_code == "INVALID_FIELD"
    assert "No such column 'Foo'" in error.message or "No such column 'Missing__c'" in error.message


def test_unknown_relationships() -> None:
    error = failure("SELECT Bogus.Name FROM Account")
    assert error.error_code == "INVALID_FIELD"
    assert layout(error)["text"].startswith("Didn't understand relationship 'Bogus' in field path.")
    child = failure("SELECT Id, (SELECT Id FROM Widgets) FROM Account")
    assert child.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship 'Widgets' in FROM part of query call." in child.message


@pytest.mark.parametrize(
    ("soql", "column", "token"),
    [
        ("SELECT Id FROMM Account", 11, "FROMM"),
        ("SELECT Id FROM Account WHERE", 29, "<EOF>"),
        ("SELECT Id FROM Account WHERE Name = 'a' AND Id = 'b' OR Id = 'c'", 54, "OR"),
        ("SELECT Id FROM Account WHERE Name = 'a' and Id = 'b' or Id = 'c'", 54, "or"),
        ("SELECT Id FROM Account WHERE Name = Globex", 37, "Globex"),
        ("SELECT Id FROM Account LIMIT x", 30, "x"),
        ("SELECT Id, FROM Account", 12, "FROM"),
        ("SELECT Id FROM Account ORDER BY Name WHERE Name = 'x'", 38, "WHERE"),
        ("SELECT Id FROM Account WHERE Name == 'x'", 36, "="),
        ("SELECT Id FROM Account WHERE Name = 'x' #", 41, "#"),
    ],
)
def test_syntax_errors_are_malformed_query(soql: str, column: int, token: str) -> None:
    error = failure(soql)
    assert error.error_code == "MALFORMED_QUERY"
    parts = layout(error)
    assert int(parts["col"]) == column
    bare = token == "<EOF>" or token.upper() in {"OR", "FROM", "WHERE"}
    assert parts["text"] == (f"unexpected token: {token}" if bare else f"unexpected token: '{token}'")


def test_error_row_and_echo_follow_the_line_of_a_multiline_query() -> None:
    parts = layout(failure("SELECT Id\nFROM Account\nWHERE Nme = 'x'"))
    assert (parts["row"], parts["col"], parts["echo"]) == ("3", "7", "WHERE Nme = 'x'")


@pytest.mark.parametrize("soql", ["", "   ", "\n\t"])
def test_empty_query(soql: str) -> None:
    error = failure(soql)
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message == "SOQL statements cannot be empty or null"


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        ("SELECT Id FROM Account WHERE Name = 5", "must be of type string and should be enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE CreatedDate = 'yesterday'",
         "must be of type dateTime and should not be enclosed in quotes"),
        ("SELECT Id FROM Account WHERE IsDeleted = 'true'", "must be of type boolean"),
        ("SELECT Id FROM Account WHERE Name = TODAY", "must be of type string"),
    ],
)
def test_literal_of_the_wrong_type_is_invalid_field(soql: str, message: str) -> None:
    error = failure(soql)
    assert error.error_code == "INVALID_FIELD"
    assert message in error.message


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        ("SELECT Name, COUNT(Id) FROM Account", "Field must be grouped or aggregated: Name"),
        ("SELECT COUNT(), Name FROM Account", "COUNT()"),
        ("SELECT Name, Name FROM Account", "duplicate field selected: Name"),
        ("SELECT Id FROM Account WHERE Name = 'a\\q'", "illegal escape sequence"),
        ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_FORTNIGHTS:2", "unexpected token"),
        ("SELECT Id FROM Account WHERE Name = 'unterminated", "unterminated string literal"),
    ],
)
def test_other_malformed_queries(soql: str, message: str) -> None:
    error = failure(soql)
    assert error.error_code == "MALFORMED_QUERY"
    assert message in error.message


def test_error_str_is_one_line_with_the_code() -> None:
    assert str(failure("SELECT Id FROM Nope")).startswith("INVALID_TYPE: ")


_WORDS = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "GROUP", "BY", "ORDER", "LIMIT",
    "OFFSET", "HAVING", "NULLS", "FIRST", "ASC", "DESC", "COUNT()", "COUNT(Id)", "Id", "Name",
    "Account", "Contacts", "Owner.Name", "(", ")", ",", "=", "!=", "<", ">=", "'x'", "'a\\'b'",
    "5", "-1.5", "null", "true", "TODAY", "LAST_N_DAYS:3", "2024-05-01", "2024-05-01T10:00:00Z",
    "Tier__c", ":", ".", "'", "\\", "\n", "FOR", "VIEW", "WITH", "é", "\x00", "((", "))",
]


def _random_queries(count: int) -> list[str]:
    rng = random.Random(20240501)
    out = []
    for _ in range(count):
        if rng.random() < 0.3:
            alphabet = "SELECTFROMWHEREId,Name() '=<>!%_\\\n.:0123456789-é"
            out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))))
        else:
            words = ["SELECT"] + [rng.choice(_WORDS) for _ in range(rng.randint(0, 14))]
            out.append(" ".join(words))
    base = "SELECT Id, Name, (SELECT Id FROM Contacts) FROM Account WHERE Name LIKE 'G%' ORDER BY Name LIMIT 5"
    for _ in range(count // 2):
        cut = rng.randint(0, len(base))
        out.append(base[:cut] + rng.choice(_WORDS) + base[cut + rng.randint(0, 5):])
    return out


@pytest.mark.parametrize("chunk", range(4))
def test_any_input_gives_a_result_or_a_soql_error(chunk: int) -> None:
    for text in _random_queries(2000)[chunk::4]:
        for api in ("data", "tooling"):
            try:
                execute(text, TABLES, api=api)
            except SoqlError as error:  # either answer is valid: a result, or one of these errors
                assert error.error_code in {"MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"}  # noqa: PT017


def test_deep_nesting_is_handled() -> None:
    text = "SELECT Id FROM Account WHERE " + "(" * 3000 + "Name = 'x'" + ")" * 3000
    try:
        result = execute(text, TABLES)
    except SoqlError as error:  # either answer is valid: an empty result, or this error
        assert error.error_code == "MALFORMED_QUERY"  # noqa: PT017
    else:
        assert result.total_size == 0
