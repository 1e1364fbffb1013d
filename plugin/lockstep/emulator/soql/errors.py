"""SOQL errors with Salesforce's caret layout."""

from __future__ import annotations

__all__ = ["SoqlError", "invalid_field", "invalid_type", "malformed"]

_CUSTOM_TYPE_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)
_CUSTOM_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom "
    "field name. Please reference your WSDL or the describe call for the appropriate names."
)
_CUSTOM_REL_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the "
    "custom relationship name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)


class SoqlError(Exception):
    """A query Salesforce would refuse: ``error_code`` is its errorCode, ``message`` its text."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


def _layout(soql: str, line: int, column: int, explanation: str) -> str:
    lines = soql.split("\n")
    row = max(1, min(line, len(lines)))
    fragment = lines[row - 1]
    col = max(1, column)
    return f"\n{fragment}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{explanation}"


def malformed(soql: str, line: int, column: int, explanation: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", _layout(soql, line, column, explanation))


def invalid_type(soql: str, line: int, column: int, name: str) -> SoqlError:
    text = f"sObject type '{name}' is not supported. {_CUSTOM_TYPE_HINT}"
    return SoqlError("INVALID_TYPE", _layout(soql, line, column, text))


def invalid_field(
    soql: str, line: int, column: int, name: str, entity: str, *, kind: str = "column"
) -> SoqlError:
    if kind == "column":
        text = f"No such column '{name}' on entity '{entity}'. {_CUSTOM_FIELD_HINT}"
    elif kind == "relationship":
        text = f"Didn't understand relationship '{name}' in field path. {_CUSTOM_REL_HINT}"
    elif kind == "child":
        text = f"Didn't understand relationship '{name}' in FROM part of query call. {_CUSTOM_REL_HINT}"
    else:
        text = name
    return SoqlError("INVALID_FIELD", _layout(soql, line, column, text))
