"""Drift: the same components compared across the orgs of a profile.

Each org is reduced to a snapshot, ``{item key: value}`` in plain words (``"active v4"``,
``"read, create, edit"``, ``"2.5.0.1"``), built from its facts. :func:`compare` lines the
snapshots up into a :class:`DriftMatrix`: every item with every org's value, and which
items differ (from each other, or from a baseline org). The matrix renders as one readable
line per differing item and as plain data for reports.

Item keys are ``<category>:<name>``, the form ``ignore`` patterns (globs) match:
``packages:acme_cpq``, ``flows:Case_Triage``, ``apex_triggers:CaseTrigger``,
``validation_rules:Case.Require_Close_Reason``, ``permission_sets:Sales_Ops`` (exists),
``permission_sets:Sales_Ops/Account`` (object access), ``permission_sets:Sales_Ops/Account.Rating``
(field access).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CATEGORIES", "FACTS", "DriftItem", "DriftMatrix", "compare", "snapshot"]

CATEGORIES = ("packages", "permission_sets", "flows", "apex_triggers", "validation_rules")
FACTS = {"packages": "packages", "permission_sets": "permission_sets", "flows": "flows",
         "apex_triggers": "apex_triggers", "validation_rules": "validation_rules"}
MISSING = "missing"
NO_ACCESS = "no access"
_NOUNS = {"packages": "package", "permission_sets": "permission set", "flows": "flow",
          "apex_triggers": "apex trigger", "validation_rules": "validation rule"}
_OBJECT_RIGHTS = ("read", "create", "edit", "delete", "view_all", "modify_all")
_FIELD_RIGHTS = ("read", "edit")


def _rights(granted: Iterable[str], order: Sequence[str]) -> str:
    granted = set(granted)
    words = [right for right in order if right in granted] + sorted(granted - set(order))
    return ", ".join(words) or NO_ACCESS


def snapshot(facts: Any, categories: Iterable[str] = CATEGORIES) -> dict[str, str]:
    """One org's comparable items, read from its facts (only the named categories)."""
    items: dict[str, str] = {}
    for category in categories:
        if category == "packages":
            for package in facts.packages:
                items[f"packages:{package.namespace or package.name}"] = package.version
        elif category == "permission_sets":
            for permission_set in facts.permission_sets:
                if permission_set.is_profile:
                    continue
                name = permission_set.name
                items[f"permission_sets:{name}"] = "exists"
                for obj, granted in permission_set.objects.items():
                    items[f"permission_sets:{name}/{obj}"] = _rights(granted, _OBJECT_RIGHTS)
                for fld, granted in permission_set.fields.items():
                    items[f"permission_sets:{name}/{fld}"] = _rights(granted, _FIELD_RIGHTS)
        elif category == "flows":
            for flow in facts.flows:
                items[f"flows:{flow.api_name}"] = (
                    f"active v{flow.active_version}" if flow.active_version is not None else "inactive"
                )
        elif category == "apex_triggers":
            for trigger in facts.apex_triggers:
                items[f"apex_triggers:{trigger.name}"] = trigger.status
        elif category == "validation_rules":
            for rule in facts.validation_rules:
                key = f"{rule.object}.{rule.name}" if rule.object else rule.name
                items[f"validation_rules:{key}"] = "active" if rule.active else "inactive"
        else:
            raise ValueError(f"unknown drift category {category!r}; categories: {', '.join(CATEGORIES)}")
    return items


def label(key: str) -> str:
    """``permission_sets:Sales_Ops/Account.Rating`` -> ``permission set Sales_Ops field Account.Rating``."""
    category, _, name = key.partition(":")
    noun = _NOUNS.get(category, category)
    if category == "permission_sets" and "/" in name:
        owner, _, component = name.partition("/")
        return f"{noun} {owner} {'field' if '.' in component else 'object'} {component}"
    return f"{noun} {name}"


@dataclass(frozen=True)
class DriftItem:
    key: str
    values: Mapping[str, str]
    differs: bool

    @property
    def label(self) -> str:
        return label(self.key)

    def groups(self, baseline: str | None = None) -> list[tuple[str, list[str]]]:
        """(value, orgs) pairs: the baseline's value first, then the most common first."""
        by_value: dict[str, list[str]] = {}
        for org, value in sorted(self.values.items()):
            by_value.setdefault(value, []).append(org)
        base_value = self.values.get(baseline) if baseline else None
        return sorted(by_value.items(), key=lambda pair: (pair[0] != base_value, -len(pair[1]), pair[0]))

    def line(self, baseline: str | None = None) -> str:
        parts = []
        for value, orgs in self.groups(baseline):
            names = ", ".join(f"{o} (baseline)" if o == baseline else o for o in orgs)
            parts.append(f"{value} on {names}")
        return f"{self.label}: {'; '.join(parts)}"


@dataclass(frozen=True)
class DriftMatrix:
    orgs: tuple[str, ...]
    baseline: str | None
    categories: tuple[str, ...]
    items: tuple[DriftItem, ...]
    ignored: tuple[str, ...] = ()

    @property
    def differing(self) -> list[DriftItem]:
        return [item for item in self.items if item.differs]

    def lines(self) -> list[str]:
        """One readable line per differing item, every org's value named."""
        return [item.line(self.baseline) for item in self.differing]

    def summary(self) -> str:
        differing = self.differing
        count = f"{len(differing)} item{'s' if len(differing) != 1 else ''} differ{'s' if len(differing) == 1 else ''}"
        if self.baseline is None:
            return f"drift: {count} between {', '.join(self.orgs)}"
        off = sorted({org for item in differing for org, value in item.values.items()
                      if value != item.values[self.baseline]})
        return f"drift: {count} from baseline {self.baseline} on {', '.join(off) or 'no org'}"

    def as_data(self) -> dict[str, Any]:
        """Plain data for reports (the drift matrix): no objects, only str/bool/list/dict."""
        return {
            "orgs": list(self.orgs),
            "baseline": self.baseline,
            "categories": list(self.categories),
            "ignored": list(self.ignored),
            "differing": len(self.differing),
            "items": [{"key": i.key, "label": i.label, "differs": i.differs, "values": dict(i.values)}
                      for i in self.items],
        }


def _fill(key: str, snapshot_of_org: Mapping[str, str]) -> str:
    """The value of an item an org does not list: no access when its permission set exists."""
    category, _, name = key.partition(":")
    if category == "permission_sets" and "/" in name:
        owner = name.partition("/")[0]
        if f"permission_sets:{owner}" in snapshot_of_org:
            return NO_ACCESS
    return MISSING


def compare(snapshots: Mapping[str, Mapping[str, str]], baseline: str | None = None,
            ignore: Iterable[str] = (), categories: Iterable[str] = CATEGORIES) -> DriftMatrix:
    """Line up the orgs' snapshots. An item differs when any two orgs disagree; a baseline org
    is named first in every line, so each other org reads as "same as" or "unlike" it."""
    if baseline is not None and baseline not in snapshots:
        raise ValueError(f"baseline org {baseline!r} is not among the compared orgs")
    patterns = tuple(ignore)
    orgs = tuple(sorted(snapshots))
    order = {category: index for index, category in enumerate(CATEGORIES)}
    keys = sorted({key for snap in snapshots.values() for key in snap},
                  key=lambda key: (order.get(key.partition(":")[0], len(order)), key))
    ignored = tuple(k for k in keys if any(fnmatch.fnmatchcase(k, p) for p in patterns))
    items = []
    for key in keys:
        if key in ignored:
            continue
        values = {org: snapshots[org].get(key) or _fill(key, snapshots[org]) for org in orgs}
        items.append(DriftItem(key, values, len(set(values.values())) > 1))
    return DriftMatrix(orgs, baseline, tuple(categories), tuple(items), ignored)
