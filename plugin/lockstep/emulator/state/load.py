"""Emulator state files (YAML, one org per file) read into validated org definitions."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from lockstep.config.errors import ConfigError
from lockstep.config.suggest import did_you_mean
from lockstep.config.yaml_load import load_yaml_file
from lockstep.emulator.api.limits import default_limits
from lockstep.emulator.state.definition import Credentials, OrgDefinition
from lockstep.emulator.state.faults import Faults
from lockstep.emulator.state.tables import build_tables
from lockstep.emulator.state.validation import check_keys, expect_mapping, state_error

__all__ = ["load_states", "state_files"]

KINDS = ("production", "sandbox", "developer", "scratch")
DAILY_API_MAX = {"developer": 15000, "scratch": 15000, "sandbox": 5000000, "production": 1000000}
TOP_LEVEL_KEYS = (
    "org", "username", "credentials", "limits", "users", "permission_sets", "packages",
    "package_installs", "deployments", "flows", "apex_triggers", "apex_classes",
    "validation_rules", "named_credentials", "remote_sites", "scheduled_jobs", "async_jobs",
    "event_subscribers", "automation", "records", "apex_rest", "faults", "packaging",
)
ORG_KEYS = (
    "name", "org_id", "display_name", "kind", "organization_type", "instance_name",
    "namespace_prefix", "created_date", "api_versions",
)
CREDENTIAL_KEYS = (
    "client_id", "client_secret", "password", "security_token", "refresh_token", "jwt_certificate",
)
_MAX_BYTES, _MAX_NODES = 32 * 1024 * 1024, 2_000_000  # a state file may list many records


def _version(source: Path, key: str, value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"\d{2}\.0", text):
        raise state_error(source, key, f"expected an API version like \"62.0\", got {value!r}")
    return text


def _credentials(source: Path, data: dict[str, Any]) -> Credentials:
    check_keys(source, "credentials", data, CREDENTIAL_KEYS)
    values = {k: (None if data.get(k) is None else str(data[k])) for k in CREDENTIAL_KEYS}
    pem: bytes | None = None
    if values["jwt_certificate"]:
        path = source.parent / values["jwt_certificate"]
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise state_error(source, "credentials.jwt_certificate", f"cannot read {path}: {exc.strerror}") from None
        if b"-----BEGIN CERTIFICATE-----" not in pem:
            raise state_error(source, "credentials.jwt_certificate", f"{path} is not a PEM certificate")
    return Credentials(
        client_id=values["client_id"], client_secret=values["client_secret"],
        password=values["password"], security_token=values["security_token"],
        refresh_token=values["refresh_token"], jwt_certificate_pem=pem,
    )


def _limits(source: Path, kind: str, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    limits = default_limits(DAILY_API_MAX[kind])
    for name, value in data.items():
        entry = expect_mapping(source, f"limits.{name}", value)
        for sub in ("Max", "Remaining"):
            if sub in entry and (isinstance(entry[sub], bool) or not isinstance(entry[sub], int)):
                raise state_error(source, f"limits.{name}.{sub}", f"expected an integer, got {entry[sub]!r}")
        merged = dict(limits.get(name, {}))
        merged.update(entry)
        if "Max" not in merged:
            raise state_error(source, f"limits.{name}", "needs Max")
        if "Remaining" not in entry:
            merged["Remaining"] = merged["Max"] if name not in limits else merged.get("Remaining", merged["Max"])
        limits[name] = merged
    return limits


def _load_file(source: Path, now: dt.datetime) -> OrgDefinition:
    try:
        data = load_yaml_file(source, max_bytes=_MAX_BYTES, max_nodes=_MAX_NODES)
    except ConfigError as exc:
        raise exc.at(file=str(source)) from None
    data = expect_mapping(source, "(top level)", data)
    check_keys(source, "", data, TOP_LEVEL_KEYS)
    org = expect_mapping(source, "org", data.get("org"))
    check_keys(source, "org", org, ORG_KEYS)
    name = org.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise state_error(source, "org.name", f"required: letters, digits, '-', '_' or '.', got {name!r}")
    kind = str(org.get("kind") or "production")
    if kind not in KINDS:
        hint = did_you_mean(kind, KINDS)
        raise state_error(source, "org.kind", f"expected one of {', '.join(KINDS)}, got {kind!r}{hint}")
    versions = expect_mapping(source, "org.api_versions", org.get("api_versions"))
    check_keys(source, "org.api_versions", versions, ("min", "max"))
    api_min = _version(source, "org.api_versions.min", versions.get("min", "31.0"))
    api_max = _version(source, "org.api_versions.max", versions.get("max", "62.0"))
    if float(api_min) > float(api_max):
        raise state_error(source, "org.api_versions", f"min {api_min} is above max {api_max}")
    credentials = _credentials(source, expect_mapping(source, "credentials", data.get("credentials")))
    limits = _limits(source, kind, expect_mapping(source, "limits", data.get("limits")))
    try:
        faults = Faults().merged(expect_mapping(source, "faults", data.get("faults")))
    except ConfigError as exc:
        raise exc.at(file=str(source)) from None
    username = data.get("username") or f"admin@{name}.example.com"
    if not isinstance(username, str) or "@" not in username:
        raise state_error(source, "username", f"expected an e-mail-like username, got {username!r}")
    definition = OrgDefinition(
        name=name, org_id="", display_name=str(org.get("display_name") or name), kind=kind,
        username=username, user_id="", source=source, credentials=credentials,
        api_min=api_min, api_max=api_max, limits=limits, faults=faults, raw=data,
    )
    build_tables(definition, now)
    return definition


def state_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise ConfigError("no *.yaml state files in this folder", file=str(path))
        return files
    if not path.exists():
        raise ConfigError("no such state file or folder", file=str(path))
    return [path]


def load_states(path: Path | str, now: dt.datetime | None = None) -> list[OrgDefinition]:
    """Every org of a state file or folder; org names and ids must be unique."""
    moment = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    definitions: list[OrgDefinition] = []
    seen: dict[str, Path] = {}
    seen_ids: dict[str, Path] = {}
    for source in state_files(Path(path)):
        definition = _load_file(source, moment)
        if definition.name in seen:
            raise state_error(source, "org.name", f"{definition.name!r} is already used by {seen[definition.name]}")
        if definition.org_id[:15] in seen_ids:
            raise state_error(source, "org.org_id",
                              f"{definition.org_id} is already used by {seen_ids[definition.org_id[:15]]}")
        seen[definition.name] = source
        seen_ids[definition.org_id[:15]] = source
        definitions.append(definition)
    return definitions
