"""The frozen dataclasses checks read from ``org.facts`` (re-exported by :mod:`lockstep.facts.fetch`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ApexTrigger", "Assignment", "AsyncJob", "Deployment", "EventSubscriber", "Flow", "InstalledPackage",
    "NamedCredential", "Organization", "PackageInstall", "PermissionSet", "RemoteSite", "ScheduledJob",
    "ValidationRule",
]


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    is_sandbox: bool
    instance_name: str | None
    organization_type: str | None


@dataclass(frozen=True)
class InstalledPackage:
    namespace: str | None
    name: str
    version: str
    managed: bool
    beta: bool


@dataclass(frozen=True)
class PackageInstall:
    id: str
    status: str
    created: dt.datetime | None


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str
    created: dt.datetime | None
    check_only: bool


@dataclass(frozen=True)
class Flow:
    api_name: str
    label: str
    process_type: str | None
    trigger_type: str | None
    active_version: int | None
    latest_version: int | None


@dataclass(frozen=True)
class ApexTrigger:
    name: str
    object: str | None
    status: str


@dataclass(frozen=True)
class ValidationRule:
    name: str
    object: str | None
    active: bool


@dataclass(frozen=True)
class NamedCredential:
    name: str
    label: str
    endpoint: str | None


@dataclass(frozen=True)
class RemoteSite:
    name: str
    url: str | None
    active: bool


@dataclass(frozen=True)
class ScheduledJob:
    name: str | None
    job_type: str | None
    state: str
    next_fire: dt.datetime | None
    previous_fire: dt.datetime | None


@dataclass(frozen=True)
class AsyncJob:
    id: str
    job_type: str
    status: str
    class_name: str | None
    errors: int
    extended_status: str | None
    created: dt.datetime | None
    completed: dt.datetime | None


@dataclass(frozen=True)
class EventSubscriber:
    name: str
    topic: str
    type: str | None
    status: str


@dataclass(frozen=True)
class PermissionSet:
    name: str
    label: str
    is_profile: bool
    system: Mapping[str, bool]
    objects: Mapping[str, frozenset[str]]
    fields: Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Assignment:
    permission_set: str
    username: str
