"""Profiles: YAML files describing the orgs of one stage, loaded into frozen objects.

Everything is validated before any API call. Every mistake raises a
:class:`~lockstep.config.errors.ConfigError` whose message is one line naming the file, the
key path and the problem, e.g.
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

from lockstep.config.auth import ENV_REF, PATH_KEYS, check_auth, secret_options
from lockstep.config.errors import ConfigError
from lockstep.config.expectations import Known, validate_expect
from lockstep.config.merge import freeze, merge, prune, without
from lockstep.config.profile_shape import check_shape
from lockstep.config.release_policy import parse_release
from lockstep.config.scalars import api_version
from lockstep.config.schema import type_name
from lockstep.config.suggest import did_you_mean
from lockstep.config.waivers import Rule, parse_rules
from lockstep.config.yaml_load import MAX_BYTES, file_problem, load_yaml_file, read_text_file
from lockstep.gate.upstream import parse_upstream
from lockstep.salesforce.errors import Secret
from lockstep.session.bundled import demo_profile

__all__ = ["AuthConfig", "OrgConfig", "Profile", "check_expectations", "load_profile", "resolve_profile_path"]

SECRET_FILE_BYTES = 64 * 1024


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
    # each file of the extends chain as written (most derived first), shown as a message shows it:
    # the file that declares an expectation a later validation refuses
    sources: tuple[tuple[str, Mapping[str, Any]], ...] = field(default=(), repr=False, compare=False)

    def org(self, name: str) -> OrgConfig:
        for org in self.orgs:
            if org.name == name:
                return org
        raise KeyError(name)


class _Rel:
    """A path written in a profile file, remembered with that file's folder."""

    __slots__ = ("as_text", "base", "text")

    def __init__(self, base: Path, text: Any, *, as_text: bool = False) -> None:
        self.base, self.text, self.as_text = base, text, as_text


def _mark_probe_files(base: Path, expect: dict[str, Any]) -> dict[str, Any]:
    """``expect.probes.<name>.ca_file``, like the auth files, relative to the profile file that names it."""
    probes = expect.get("probes")
    if not isinstance(probes, dict):
        return expect
    marked = {name: {**probe, "ca_file": _Rel(base, probe["ca_file"], as_text=True)}
              if isinstance(probe, dict) and isinstance(probe.get("ca_file"), str) else probe
              for name, probe in probes.items()}
    return {**expect, "probes": marked}


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
            raise ConfigError(f"{problem}: {spec}", key="--org-profile")
        return path.resolve()
    folder = rootdir / "profiles"
    for suffix in (".yaml", ".yml"):
        candidate = folder / f"{spec}{suffix}"
        if candidate.is_file():
            return candidate.resolve()
        if os.path.lexists(candidate):  # a folder, a FIFO, a dangling link: say so, not "unknown"
            raise ConfigError(f"{file_problem(candidate, MAX_BYTES)}: profiles/{spec}{suffix}", key="--org-profile")
    if spec == "demo":  # the demo ships with Lockstep; a project's own profiles/demo.yaml wins
        return demo_profile().resolve()
    names = sorted({p.stem for p in folder.glob("*.y*ml")}) if folder.is_dir() else []
    available = ", ".join(names) if names else "none"
    raise ConfigError(f"unknown profile {spec!r}{did_you_mean(spec, names)}; "
                      f"available profiles in profiles/: {available}", key="--org-profile")


class _Loader:
    def __init__(self, rootdir: Path | None, environ: Mapping[str, str]) -> None:
        self.rootdir = rootdir
        self.environ = environ
        self.files: list[tuple[Path, dict[str, Any]]] = []  # each file of the extends chain, most derived first

    def fail(self, path: Path, where: str, problem: str, org: str | None = None) -> ConfigError:
        return ConfigError(problem, file=self.shown(path), org=org, key=where or None)

    def shown(self, path: Path) -> str:
        return _display(path, self.rootdir)

    def read(self, path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (raw, resolved) merged trees of ``path`` and its ``extends`` chain."""
        if path in chain:
            raise self.fail(path, "extends", "circular extends chain")
        try:
            data = load_yaml_file(path)
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise ConfigError(f"a profile must be a mapping, got {type_name(data)}")
            check_shape(data, lambda file: _display(file, self.rootdir))
        except ConfigError as exc:
            raise exc.at(file=self.shown(path)) from None
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

    def declaring(self, path: Path, keys: tuple[Any, ...]) -> Path:
        """The file of the extends chain that declares the value at ``keys`` (the most derived one)."""
        return Path(_declaring(str(path), ((str(file), data) for file, data in self.files), keys))

    def mark_paths(self, base: Path, data: dict[str, Any]) -> dict[str, Any]:
        resolved = dict(data)
        if isinstance(data.get("emulator"), str):
            resolved["emulator"] = _Rel(base, data["emulator"])
        if isinstance(data.get("expect"), dict):
            resolved["expect"] = _mark_probe_files(base, data["expect"])
        orgs = []
        for org in data.get("orgs", []):
            org = dict(org)
            if isinstance(org.get("expect"), dict):
                org["expect"] = _mark_probe_files(base, org["expect"])
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
                except ConfigError as exc:
                    raise self.fail(path, where, f"secret file {text[5:]!r}: {exc.problem}") from None
            return str(value.base / text) if value.as_text else value.base / text
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


def _declaring(default: str, files: Iterable[tuple[str, Mapping[str, Any]]], keys: tuple[Any, ...]) -> str:
    """The file of the extends chain that declares the value at ``keys`` (the most derived one)."""
    best, depth = default, 0
    for file, data in files:
        node: Any = data
        for found, key in enumerate(keys):
            if isinstance(node, list) and isinstance(key, str):
                node = next((item for item in node if isinstance(item, dict) and item.get("name") == key), None)
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                node = node.get(key) if isinstance(node, Mapping) else None
            if node is None:
                break
            if found + 1 > depth:
                best, depth = file, found + 1
    return best


def _item_label(where: str, index: int, item: Any) -> str:
    if where == "orgs" and isinstance(item, dict) and isinstance(item.get("name"), str):
        return f"orgs[{item['name']}]"
    return f"{where}[{index}]"


def _sha256(data: Any) -> str:
    """The profile's hash, whatever its keys (``true:``, ``~:`` or a date beside text keys: the
    mistake is reported by the validation that follows, not a crash here)."""
    canonical = json.dumps(_text_keys(data), sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text_keys(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {key if isinstance(key, str) else f"{type(key).__name__}:{key}": _text_keys(value)
                for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_text_keys(item) for item in data]
    return data


def load_profile(spec: str | Path, rootdir: Path | None = None, environ: Mapping[str, str] | None = None,
                 expectations: Known | None = None) -> Profile:
    """Load, merge, interpolate and validate a profile (by name or path).

    ``expectations``: the ``expect:`` keys known (default: the built-in catalog's); a pytest
    run validates again with every collected check file's (:func:`check_expectations`)."""
    root = Path(rootdir) if rootdir is not None else Path.cwd()
    path = resolve_profile_path(str(spec), root) if not isinstance(spec, Path) else spec.resolve()
    loader = _Loader(root, os.environ if environ is None else environ)
    raw, resolved = loader.read(path, ())
    data = loader.interpolate(path, "", resolved)
    try:
        parse_release(data.get("release"))
        parse_upstream((data.get("release") or {}).get("upstream"))
    except ConfigError as exc:
        raise exc.at(file=loader.shown(path)) from None
    emulator = data.get("emulator")
    orgs = [_org_config(loader, path, raw, data, org) for org in data.get("orgs", [])]
    if not orgs:
        raise loader.fail(path, "orgs", "the profile declares no orgs")
    if emulator is not None and not Path(emulator).exists():
        raise loader.fail(path, "emulator", f"no such state file or folder: {raw.get('emulator')}")
    profile = Profile(
        name=path.stem,
        path=path,
        description=data.get("description", ""),
        orgs=tuple(sorted(orgs, key=lambda o: o.name)),
        expect=freeze(data.get("expect") or {}),
        release=freeze(data.get("release") or {}),
        emulator=Path(emulator) if emulator is not None else None,
        sha256=_sha256(raw),
        waivers=_rules(loader, path, data, orgs, "waivers"),
        severity=_rules(loader, path, data, orgs, "severity"),
        sources=tuple((loader.shown(file), data) for file, data in loader.files),
    )
    check_expectations(profile, expectations)
    return profile


def _org_config(loader: _Loader, path: Path, raw: Mapping[str, Any], data: Mapping[str, Any],
                org: Mapping[str, Any]) -> OrgConfig:
    """One org's entry, merged and interpolated, with its auth complete and its expectations merged."""
    name = org["name"]
    if "kind" not in org:
        raise loader.fail(path, "", "missing required key 'kind'", org=name)
    auth = dict(org.get("auth") or {})
    if data.get("emulator") is not None and "method" not in auth:
        auth["method"] = "emulator"
    if not auth:
        raise loader.fail(path, "", "missing required key 'auth'", org=name)
    written = next((o.get("auth") for o in raw.get("orgs", []) if o.get("name") == name), None)
    try:
        check_auth(auth, "auth", partial=False, display=lambda file: _display(file, loader.rootdir),
                   references=written)
    except ConfigError as exc:
        raise exc.at(file=loader.shown(path), org=name) from None
    method = auth.pop("method")
    if (org.get("expect") or {}).get("fleet") is not None and org["kind"] != "packaging":
        raise loader.fail(path, "expect.fleet", "a fleet is read from the package's owner org: "
                                                "declare this org with kind: packaging", org=name)
    if (data.get("expect") or {}).get("fleet") is not None and org["kind"] != "packaging":
        raise loader.fail(path, "expect.fleet", f"a fleet is read from the package's owner org, and org {name} "
                                                f"is kind {org['kind']}: declare fleet: in the packaging org's expect:")
    return OrgConfig(
        name=name,
        kind=org["kind"],
        tags=tuple(org.get("tags", ())),
        auth=AuthConfig(method, MappingProxyType(secret_options(method, auth))),
        allow_writes=org.get("allow_writes", org["kind"] not in ("production", "subscriber", "packaging")),
        expect=freeze(prune(merge(data.get("expect") or {}, org.get("expect") or {}))),
        api_version=api_version(org.get("api_version")),
        timeout=float(org["timeout"]) if "timeout" in org else None,
        deadline=float(org["deadline"]) if "deadline" in org else None,
        description=org.get("description", ""),
    )


def _rules(loader: _Loader, path: Path, data: Mapping[str, Any], orgs: list[OrgConfig], key: str) -> tuple[Rule, ...]:
    """The profile's ``waivers:`` or ``severity:`` entries, each naming orgs of the profile."""
    declared = [{"name": o.name, "kind": o.kind, "tags": o.tags} for o in orgs]
    try:
        return parse_rules(key, data.get(key), declared)
    except ConfigError as exc:
        file = loader.declaring(path, tuple((exc.key or key).split("[", 1)[:1]))
        raise exc.at(file=loader.shown(file)) from None


def check_expectations(profile: Profile, expectations: Known | None = None, *,
                       complete: bool = False) -> None:
    """Validate the shared ``expect:`` and every org's (merged over it) against ``expectations``
    (default: the built-in catalog's); ``complete``: every other key is refused. The error
    names the file of the extends chain that declares the value."""
    emulator = profile.emulator is not None
    default = str(profile.sources[0][0]) if profile.sources else str(profile.path)
    for org in (None, *profile.orgs):
        expect = profile.expect if org is None else org.expect
        try:
            validate_expect(expect, expectations, emulator=emulator, complete=complete)
        except ConfigError as exc:
            keys = ("orgs", org.name, "expect", *exc.keys) if org else ("expect", *exc.keys)
            file = _declaring(default, profile.sources, keys)
            raise exc.at(file=file, org=org.name if org else None) from None
