"""``Builder``: collects the rows of one org's tables, with deterministic ids and audit fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lockstep.config.errors import ConfigError
from lockstep.emulator.schema.registry import SCHEMA, make_id, to_18
from lockstep.emulator.state.definition import OrgDefinition
from lockstep.emulator.state.validation import state_error
from lockstep.emulator.state.values import parse_when

__all__ = ["Builder"]


class Builder:
    """Collects rows for one org, with deterministic ids and audit fields."""

    def __init__(self, definition: OrgDefinition, now: dt.datetime) -> None:
        self.definition = definition
        self.source = definition.source
        self.now = now
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.admin_id = ""
        self.profiles: dict[str, str] = {}
        self.users: dict[str, str] = {}

    def fail(self, key: str, message: str) -> ConfigError:
        return state_error(self.source, key, message)

    def new_id(self, sobject: str, seed: str) -> str:
        return make_id(SCHEMA[sobject].key_prefix, f"{self.definition.name}/{sobject}/{seed}")

    def add(self, sobject: str, row: dict[str, Any], seed: str | None = None) -> dict[str, Any]:
        table = self.tables.setdefault(sobject, [])
        if not row.get("Id"):
            row["Id"] = self.new_id(sobject, seed if seed is not None else str(len(table)))
        elif len(str(row["Id"])) == 15:
            row["Id"] = to_18(str(row["Id"]))
        fields = SCHEMA[sobject].fields
        if "CreatedDate" in fields:
            row.setdefault("CreatedDate", self.now)
            row.setdefault("LastModifiedDate", row["CreatedDate"])
            row.setdefault("SystemModstamp", row["LastModifiedDate"])
            row.setdefault("CreatedById", self.admin_id)
            row.setdefault("LastModifiedById", row["CreatedById"])
        if "OwnerId" in fields:
            row.setdefault("OwnerId", self.admin_id)
        table.append(row)
        return row

    def when(self, key: str, value: Any) -> dt.datetime | None:
        try:
            return parse_when(value, self.now)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
