"""Profiles: YAML files describing the orgs of one stage, loaded into frozen objects.

Everything is validated before any API call. Every mistake raises :class:`ProfileError`
whose message is one line naming the file, the key path and the problem, e.g.
``profiles/prod.yaml: orgs[prod-emea].auth.method: unknown value 'jwtt' (did you mean 'jwt'?)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lockstep.config.auth import ENV_REF, PATH_KEYS, AuthConfigError, check_auth, secret_options
from lockstep.config.expectations import ExpectationError, dotted, validate_expect
from lockstep.config.merge import freeze, merge, prune, without
from lockstep.config.release_policy import ReleasePolicyError, parse_release
from lockstep.config.scalars import api_version, seconds_problem
from lockstep.config.suggest import did_you_mean
from lockstep.config.waivers import Rule, WaiverError, parse_rules
from lockstep.config.yaml_load import MAX_BYTES, YamlError, file_problem, load_yaml_file, read_text_file
from lockstep.gate.upstream import parse_upstream
from lockstep.salesforce.errors import Secret
from lockstep.session.bundled import demo_profile

__all__ = ["AuthConfig", "OrgConfig", "Profile", "ProfileError", "load_profile", "resolve_profile_path"]

KINDS = ("dev", "sandbox", "staging", "production", "subscriber", "packaging")
_TOP_KEYS = ("description", "extends", "emulator", "expect", "release", "waivers", "severity", "orgs")
_ORG_KEYS = ("name", "kind", "tags", "auth", "allow_writes", "expect", "description", "api_version", "timeout",
             "deadline")
_ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SECONDS_LIMIT = {"timeout": 3600.0, "deadline": 86400.0}  # one read; all requests of an org in one run
SECRET_FILE_BYTES = 64 * 1024


class ProfileError(Exception):
    """A mistake in a profile or in the org selection; the message is one line."""


@dataclass(frozen=True)
class AuthConfig:
    method: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass(frozen=True)
class OrgConfig:
    name: str
    kind: str
    tags: tuple[str, ...]
    auth: AuthConfig
    allow_writes: bool
    expect: Mapping[str, Any]
    api_version: str | None = None
    description: str = ""
    timeout: float | None = None
    deadline: float | None = None

    @property
    def is_production(self) -> bool:
        return self.kind == "production"


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    description: str
    orgs: tuple[OrgConfig, ...]
    expect: Mapping[str, Any]
    release: Mapping[str, Any]
    emulator: Path | None
    sha256: str
    waivers: tuple[Rule, ...] = ()
    severity: tuple[Rule, ...] = ()

    def org(self, name: str) -> OrgConfig:
        for org in self.orgs:
            if org.name == name:
                return org
        raise KeyError(name)


class _Rel:
    """A path written in a profile file, remembered with that file's folder."""

    __slots__ = ("base", "text")

    def __init__(self, base: Path, text: Any) -> None:
        self.base, self.text = base, text


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _one_line(text: str) -> str:
    """Control characters (a newline in a key, say) escaped, so a message stays one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _display(path: Path, rootdir: Path | None) -> str:
    for base in (rootdir, Path.cwd()):
        if base is not None:
            try:
                return path.resolve().relative_to(base.resolve()).as_posix()
            except ValueError:
                pass
    return str(path)


def resolve_profile_path(spec: str, rootdir: Path) -> Path:
    """``NAME`` -> ``<rootdir>/profiles/NAME.yaml``; anything path-like is a path."""
    if spec.endswith((".yaml", ".yml")) or "/" in spec or os.sep in spec:
        path = Path(spec).expanduser()
        if not path.is_file():
            problem = "no such profile file" if not os.path.lexists(path) else file_problem(path, MAX_BYTES)
            raise ProfileError(f"--org-profile: {problem}: {spec}")
        return path.resolve()
    folder = rootdir / "profiles"
    for suffix in (".yaml", ".yml"):
        candidate = folder / f"{spec}{suffix}"
        if candidate.is_file():
            return candidate.resolve()
        if os.path.lexists(candidate):  # a folder, a FIFO, a dangling link: say so, not "unknown"
            raise ProfileError(f"--org-profile: {file_problem(candidate, MAX_BYTES)}: profiles/{spec}{suffix}")
    if spec == "demo":  # the demo ships with Lockstep; a project's own profiles/demo.yaml wins
        return demo_profile().resolve()
    names = sorted({p.stem for p in folder.glob("*.y*ml")}) if folder.is_dir() else []
    available = ", ".join(names) if names else "none"
    raise ProfileError(
        f"--org-profile: unknown profile {spec!r}{did_you_mean(spec, names)}; "
        f"available profiles in profiles/: {available}"
    )


class _Loader:
    def __init__(self, rootdir: Path | None, environ: Mapping[str, str]) -> None:
        self.rootdir = rootdir
        self.environ = environ
        self.files: list[tuple[Path, dict[str, Any]]] = []  # each file of the extends chain, most derived first

    def fail(self, path: Path, where: str, problem: str) -> ProfileError:
        prefix = f"{_display(path, self.rootdir)}: "
        return ProfileError(_one_line(prefix + (f"{where}: {problem}" if where else problem)))

    def read(self, path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (raw, resolved) merged trees of ``path`` and its ``extends`` chain."""
        if path in chain:
            raise self.fail(path, "extends", "circular extends chain")
        try:
            data = load_yaml_file(path)
        except YamlError as exc:
            raise self.fail(path, exc.where, exc.problem) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise self.fail(path, "", f"a profile must be a mapping, got {_type_name(data)}")
        self.check_shape(path, data)
        self.files.append((path, data))
        resolved = self.mark_paths(path.parent, data)
        extends = data.get("extends")
        if extends is None:
            return without(data, "extends"), without(resolved, "extends")
        base_path = (path.parent / extends).resolve()
        problem = file_problem(base_path, MAX_BYTES)
        if problem:
            raise self.fail(path, "extends", f"{problem}: {extends}")
        base_raw, base_resolved = self.read(base_path, (*chain, path))
        return (
            merge(base_raw, without(data, "extends")),
            merge(base_resolved, without(resolved, "extends")),
        )

    def check_keys(self, path: Path, where: str, data: Mapping[str, Any], allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in data:
            if not isinstance(key, str) or key not in allowed:
                at = f"{where}.{key}" if where else str(key)
                raise self.fail(path, at, f"unknown key{did_you_mean(str(key), allowed)}")

    def check_type(self, path: Path, where: str, value: Any, kinds: tuple[type, ...], what: str) -> None:
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            raise self.fail(path, where, f"expected {what}, got {_type_name(value)}")

    def check_shape(self, path: Path, data: dict[str, Any]) -> None:
        self.check_keys(path, "", data, _TOP_KEYS)
        for key in ("description", "extends", "emulator"):
            if key in data:
                self.check_type(path, key, data[key], (str,), "a string")
        for key in ("expect", "release"):
            if key in data:
                self.check_type(path, key, data[key], (dict,), "a mapping")
        orgs = data.get("orgs", [])
        self.check_type(path, "orgs", orgs, (list,), "a list of orgs")
        seen: set[str] = set()
        for index, org in enumerate(orgs):
            named = isinstance(org, dict) and isinstance(org.get("name"), str)
            label = f"orgs[{org.get('name')}]" if named else f"orgs[{index}]"
            self.check_type(path, label, org, (dict,), "a mapping")
            self.check_keys(path, label, org, _ORG_KEYS)
            if "name" not in org:
                raise self.fail(path, label, "missing required key 'name'")
            name = org["name"]
            self.check_type(path, f"{label}.name", name, (str,), "a string")
            if not _ORG_NAME.match(name):
                raise self.fail(path, f"{label}.name",
                                f"invalid org name {name!r} (use letters, digits, '.', '_', '-')")
            if name in seen:
                raise self.fail(path, label, f"duplicate org name {name!r}")
            seen.add(name)
            for key, kinds, what in (
                ("kind", (str,), "a string"),
                ("auth", (dict,), "a mapping"),
                ("allow_writes", (bool,), "true or false"),
                ("expect", (dict,), "a mapping"),
                ("description", (str,), "a string"),
                ("api_version", (str, float, int), "a version like '62.0'"),
            ):
                if key in org:
                    self.check_type(path, f"{label}.{key}", org[key], kinds, what)
            for key, limit in _SECONDS_LIMIT.items():
                problem = seconds_problem(org[key], limit) if key in org else None
                if problem:
                    raise self.fail(path, f"{label}.{key}", problem)
            if "api_version" in org and api_version(org["api_version"]) is None:
                raise self.fail(path, f"{label}.api_version",
                                f"expected an API version like '62.0' (20.0 to 99.0), got {org['api_version']!r}")
            if "kind" in org and org["kind"] not in KINDS:
                raise self.fail(path, f"{label}.kind",
                                f"unknown value {org['kind']!r}{did_you_mean(org['kind'], KINDS)}")
            tags = org.get("tags", [])
            if not isinstance(tags, list):
                raise self.fail(path, f"{label}.tags", f"expected a list of strings, got {_type_name(tags)}")
            for index, tag in enumerate(tags):
                if not isinstance(tag, str):
                    raise self.fail(path, f"{label}.tags[{index}]",
                                    f"expected a string, got {_type_name(tag)} (quote it)")
            if "auth" in org:
                self.check_auth(path, f"{label}.auth", org["auth"], partial=True)

    def check_auth(self, path: Path, where: str, auth: Mapping[str, Any], partial: bool,
                   references: Mapping[str, Any] | None = None) -> None:
        try:
            check_auth(auth, where, partial=partial, display=lambda file: _display(file, self.rootdir),
                       references=references)
        except AuthConfigError as exc:
            raise self.fail(path, exc.where, exc.problem) from None

    def check_expect(self, path: Path, expect: Mapping[str, Any], emulator: bool, org: str | None = None) -> None:
        """Validate one ``expect`` (shared, or an org's merged over it) against the catalog's schema."""
        try:
            validate_expect(expect, emulator=emulator)
        except ExpectationError as exc:
            keys = ("orgs", org, "expect", *exc.path) if org else ("expect", *exc.path)
            prefix = f"orgs[{org}].expect" if org else "expect"
            raise self.fail(self.declaring(path, keys), dotted(exc.path, prefix), exc.problem) from None

    def declaring(self, path: Path, keys: tuple[Any, ...]) -> Path:
        """The file of the extends chain that declares the value at ``keys`` (the most derived one)."""
        best, depth = path, 0
        for file, data in self.files:
            node: Any = data
            for found, key in enumerate(keys):
                if isinstance(node, list) and isinstance(key, str):
                    node = next((item for item in node if isinstance(item, dict) and item.get("name") == key), None)
                elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                    node = node[key]
                else:
                    node = node.get(key) if isinstance(node, dict) else None
                if node is None:
                    break
                if found + 1 > depth:
                    best, depth = file, found + 1
        return best

    def mark_paths(self, base: Path, data: dict[str, Any]) -> dict[str, Any]:
        resolved = dict(data)
        if isinstance(data.get("emulator"), str):
            resolved["emulator"] = _Rel(base, data["emulator"])
        orgs = []
        for org in data.get("orgs", []):
            org = dict(org)
            if isinstance(org.get("auth"), dict):
                org["auth"] = {
                    k: _Rel(base, v) if k in PATH_KEYS or (isinstance(v, str) and v.startswith("file:")) else v
                    for k, v in org["auth"].items()
                }
            orgs.append(org)
        if "orgs" in data:
            resolved["orgs"] = orgs
        return resolved

    def interpolate(self, path: Path, where: str, value: Any) -> Any:
        if isinstance(value, _Rel):
            text = self.interpolate(path, where, value.text)
            if text.startswith("file:"):
                try:
                    return Secret(read_text_file(value.base / text[5:], SECRET_FILE_BYTES).strip())
                except YamlError as exc:
                    raise self.fail(path, where, f"secret file {text[5:]!r}: {exc.problem}") from None
            return value.base / text
        if isinstance(value, str):

            def env(match: re.Match[str]) -> str:
                name, default = match.group(1), match.group(2)
                if name in self.environ:
                    return self.environ[name]
                if default is not None:
                    return default
                raise self.fail(path, where, f"environment variable {name} is not set")

            return ENV_REF.sub(env, value)
        if isinstance(value, dict):
            return {k: self.interpolate(path, f"{where}.{k}" if where else str(k), v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.interpolate(path, _item_label(where, i, v), v) for i, v in enumerate(value)]
        return value


def _item_label(where: str, index: int, item: Any) -> str:
    if where == "orgs" and isinstance(item, dict) and isinstance(item.get("name"), str):
        return f"orgs[{item['name']}]"
    return f"{where}[{index}]"


def _sha256(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_profile(spec: str | Path, rootdir: Path | None = None, environ: Mapping[str, str] | None = None) -> Profile:
    """Load, merge, interpolate and validate a profile (by name or path)."""
    root = Path(rootdir) if rootdir is not None else Path.cwd()
    path = resolve_profile_path(str(spec), root) if not isinstance(spec, Path) else spec.resolve()
    loader = _Loader(root, os.environ if environ is None else environ)
    raw, resolved = loader.read(path, ())
    data = loader.interpolate(path, "", resolved)
    try:
        parse_release(data.get("release"))
        parse_upstream((data.get("release") or {}).get("upstream"))
    except ReleasePolicyError as exc:
        raise loader.fail(path, exc.key, exc.problem) from None
    emulator = data.get("emulator")
    loader.check_expect(path, data.get("expect") or {}, emulator is not None)
    orgs = []
    for org in data.get("orgs", []):
        label = f"orgs[{org['name']}]"
        if "kind" not in org:
            raise loader.fail(path, label, "missing required key 'kind'")
        auth = dict(org.get("auth") or {})
        if emulator is not None and "method" not in auth:
            auth["method"] = "emulator"
        if not auth:
            raise loader.fail(path, label, "missing required key 'auth'")
        written = next((o.get("auth") for o in raw.get("orgs", []) if o.get("name") == org["name"]), None)
        loader.check_auth(path, f"{label}.auth", auth, partial=False, references=written)
        method = auth.pop("method")
        expect = prune(merge(data.get("expect") or {}, org.get("expect") or {}))
        if (org.get("expect") or {}).get("fleet") is not None and org["kind"] != "packaging":
            raise loader.fail(path, f"{label}.expect.fleet", "a fleet is read from the package's owner org: "
                                                             "declare this org with kind: packaging")
        loader.check_expect(path, expect, emulator is not None, org["name"])
        orgs.append(
            OrgConfig(
                name=org["name"],
                kind=org["kind"],
                tags=tuple(org.get("tags", ())),
                auth=AuthConfig(method, MappingProxyType(secret_options(method, auth))),
                allow_writes=org.get("allow_writes", org["kind"] not in ("production", "subscriber", "packaging")),
                expect=freeze(expect),
                api_version=api_version(org.get("api_version")),
                timeout=float(org["timeout"]) if "timeout" in org else None,
                deadline=float(org["deadline"]) if "deadline" in org else None,
                description=org.get("description", ""),
            )
        )
    if not orgs:
        raise loader.fail(path, "orgs", "the profile declares no orgs")
    if emulator is not None and not Path(emulator).exists():
        raise loader.fail(path, "emulator", f"no such state file or folder: {raw.get('emulator')}")
    declared = [{"name": o.name, "kind": o.kind, "tags": o.tags} for o in orgs]
    try:
        waivers = parse_rules("waivers", data.get("waivers"), declared)
        severity = parse_rules("severity", data.get("severity"), declared)
    except WaiverError as exc:
        raise loader.fail(loader.declaring(path, tuple(exc.key.split("[", 1)[:1])), exc.key, exc.problem) from None
    return Profile(
        name=path.stem,
        path=path,
        description=data.get("description", ""),
        orgs=tuple(sorted(orgs, key=lambda o: o.name)),
        expect=freeze(data.get("expect") or {}),
        release=freeze(data.get("release") or {}),
        emulator=Path(emulator) if emulator is not None else None,
        sha256=_sha256(raw),
        waivers=waivers,
        severity=severity,
    )
