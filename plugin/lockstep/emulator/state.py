"""Emulator state files (YAML, one org per file) read into validated org definitions."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from lockstep.emulator.faults import FaultError, Faults
from lockstep.yaml_load import YamlError, load_yaml_file

__all__ = ["Credentials", "OrgDefinition", "StateError", "load_states", "parse_when"]

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
_DURATION = re.compile(
    r"^(?P<sign>[+-])P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


class StateError(Exception):
    """A state file that cannot be loaded; ``str()`` is one line naming the file and key."""


@dataclass(frozen=True)
class Credentials:
    client_id: str | None = None
    client_secret: str | None = None
    password: str | None = None
    security_token: str | None = None
    refresh_token: str | None = None
    jwt_certificate_pem: bytes | None = None


@dataclass
class OrgDefinition:
    name: str
    org_id: str
    display_name: str
    kind: str
    username: str
    user_id: str
    source: Path
    credentials: Credentials
    api_min: str
    api_max: str
    limits: dict[str, dict[str, Any]]
    faults: Faults
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    apex_rest: dict[str, tuple[int, Any]] = field(default_factory=dict)
    automation: list[dict[str, Any]] = field(default_factory=list)
    active_flows: frozenset[str] = frozenset()
    raw: dict[str, Any] = field(default_factory=dict)


def _fail(source: Path, key: str, message: str) -> StateError:
    return StateError(f"{source}: {key}: {message}")


def check_keys(source: Path, where: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            prefix = f"{where}." if where else ""
            raise _fail(source, f"{prefix}{key}", f"unknown key{hint}")


def expect_mapping(source: Path, key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(source, key, f"expected a mapping, got {type(value).__name__}")
    return value


def expect_list(source: Path, key: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(source, key, f"expected a list, got {type(value).__name__}")
    return value


def parse_when(value: Any, now: dt.datetime) -> dt.datetime | None:
    """A relative ISO-8601 duration (``-PT30M``), an absolute datetime, or None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    text = str(value).strip()
    match = _DURATION.match(text)
    if match and any(match.group(g) for g in "dhms"):
        delta = dt.timedelta(
            days=int(match["d"] or 0), hours=int(match["h"] or 0),
            minutes=int(match["m"] or 0), seconds=int(match["s"] or 0),
        )
        return now - delta if match["sign"] == "-" else now + delta
    cleaned = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text.replace("Z", "+00:00"))
    try:
        parsed = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"expected a datetime or a duration like -PT30M, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _version(source: Path, key: str, value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"\d{2}\.0", text):
        raise _fail(source, key, f"expected an API version like \"62.0\", got {value!r}")
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
            raise _fail(source, "credentials.jwt_certificate", f"cannot read {path}: {exc.strerror}") from None
        if b"-----BEGIN CERTIFICATE-----" not in pem:
            raise _fail(source, "credentials.jwt_certificate", f"{path} is not a PEM certificate")
    return Credentials(
        client_id=values["client_id"], client_secret=values["client_secret"],
        password=values["password"], security_token=values["security_token"],
        refresh_token=values["refresh_token"], jwt_certificate_pem=pem,
    )


def _limits(source: Path, kind: str, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from lockstep.emulator.limits import default_limits

    limits = default_limits(DAILY_API_MAX[kind])
    for name, value in data.items():
        entry = expect_mapping(source, f"limits.{name}", value)
        for sub in ("Max", "Remaining"):
            if sub in entry and (isinstance(entry[sub], bool) or not isinstance(entry[sub], int)):
                raise _fail(source, f"limits.{name}.{sub}", f"expected an integer, got {entry[sub]!r}")
        merged = dict(limits.get(name, {}))
        merged.update(entry)
        if "Max" not in merged:
            raise _fail(source, f"limits.{name}", "needs Max")
        if "Remaining" not in entry:
            merged["Remaining"] = merged["Max"] if name not in limits else merged.get("Remaining", merged["Max"])
        limits[name] = merged
    return limits


def _load_file(source: Path, now: dt.datetime) -> OrgDefinition:
    from lockstep.emulator.tables import build_tables

    try:
        data = load_yaml_file(source, max_bytes=_MAX_BYTES, max_nodes=_MAX_NODES)
    except YamlError as exc:
        raise StateError(f"{source}: {exc}") from None
    data = expect_mapping(source, "(top level)", data)
    check_keys(source, "", data, TOP_LEVEL_KEYS)
    org = expect_mapping(source, "org", data.get("org"))
    check_keys(source, "org", org, ORG_KEYS)
    name = org.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise _fail(source, "org.name", f"required: letters, digits, '-', '_' or '.', got {name!r}")
    kind = str(org.get("kind") or "production")
    if kind not in KINDS:
        raise _fail(source, "org.kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
    versions = expect_mapping(source, "org.api_versions", org.get("api_versions"))
    check_keys(source, "org.api_versions", versions, ("min", "max"))
    api_min = _version(source, "org.api_versions.min", versions.get("min", "31.0"))
    api_max = _version(source, "org.api_versions.max", versions.get("max", "62.0"))
    if float(api_min) > float(api_max):
        raise _fail(source, "org.api_versions", f"min {api_min} is above max {api_max}")
    credentials = _credentials(source, expect_mapping(source, "credentials", data.get("credentials")))
    limits = _limits(source, kind, expect_mapping(source, "limits", data.get("limits")))
    try:
        faults = Faults().merged(expect_mapping(source, "faults", data.get("faults")))
    except FaultError as exc:
        raise StateError(f"{source}: {exc}") from None
    username = data.get("username") or f"admin@{name}.example.com"
    if not isinstance(username, str) or "@" not in username:
        raise _fail(source, "username", f"expected an e-mail-like username, got {username!r}")
    definition = OrgDefinition(
        name=name, org_id="", display_name=str(org.get("display_name") or name), kind=kind,
        username=username, user_id="", source=source, credentials=credentials,
        api_min=api_min, api_max=api_max, limits=limits, faults=faults, raw=data,
    )
    try:
        build_tables(definition, now)
    except StateError:
        raise
    return definition


def state_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise StateError(f"{path}: no *.yaml state files in this folder")
        return files
    if not path.exists():
        raise StateError(f"{path}: no such state file or folder")
    return [path]


def load_states(path: Path | str, now: dt.datetime | None = None) -> list[OrgDefinition]:
    """Every org of a state file or folder; org names and ids must be unique."""
    moment = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    definitions: list[OrgDefinition] = []
    seen: dict[str, Path] = {}
    seen_ids: dict[str, Path] = {}
    for source in state_files(Path(path)):
        definition = _load_file(source, moment)
        if definition.name in seen:
            raise _fail(source, "org.name", f"{definition.name!r} is already used by {seen[definition.name]}")
        if definition.org_id[:15] in seen_ids:
            raise _fail(source, "org.org_id", f"{definition.org_id} is already used by {seen_ids[definition.org_id[:15]]}")
        seen[definition.name] = source
        seen_ids[definition.org_id[:15]] = source
        definitions.append(definition)
    return definitions
