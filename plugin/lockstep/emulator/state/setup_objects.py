"""Setup metadata of a state file as tables: packages, flows, Apex, rules, integrations, jobs."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from lockstep.emulator.schema.registry import SCHEMA, make_id
from lockstep.emulator.state.table_builder import Builder
from lockstep.emulator.state.validation import check_keys, expect_list, expect_mapping

__all__ = ["add_setup_objects"]

_TERMINAL_DEPLOY = ("Succeeded", "SucceededPartial", "Failed", "Canceled")


def _items(b: Builder, section: str, keys: tuple[str, ...],
           required: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for index, raw in enumerate(expect_list(b.source, section, b.definition.raw.get(section))):
        key = f"{section}[{index}]"
        # YAML 1.1 reads a bare `on:` key as the boolean True, so keys are not all strings.
        fields: dict[Any, Any] = expect_mapping(b.source, key, raw)
        item = {("on" if k is True else k): v for k, v in fields.items()}
        check_keys(b.source, key, item, keys)
        for name in required:
            if item.get(name) in (None, ""):
                raise b.fail(f"{key}.{name}", "required")
        out.append((key, item))
    return out


def _entity(b: Builder, obj: str) -> str:
    table = b.tables.setdefault("EntityDefinition", [])
    if not any(row["DurableId"] == obj for row in table):
        spec = SCHEMA.get(obj)
        table.append({
            "Id": "000000000000000AAA", "DurableId": obj, "QualifiedApiName": obj,
            "DeveloperName": obj.removesuffix("__c"),
            "Label": obj, "MasterLabel": obj, "PluralLabel": obj + "s",
            "KeyPrefix": spec.key_prefix if spec else None, "NamespacePrefix": None,
            "IsCustomizable": True, "IsQueryable": True, "IsTriggerable": True,
            "IsCustomSetting": False, "IsApexTriggerable": True, "LastModifiedDate": b.now,
        })
    return obj


def _packages(b: Builder) -> None:
    by_key: dict[str, tuple[str, str]] = {}
    for key, item in _items(b, "packages", ("namespace", "name", "version", "managed", "beta"), ("name", "version")):
        version = str(item["version"])
        if not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", version):
            raise b.fail(f"{key}.version", f"expected M.m.p.b like 2.4.0.1, got {version!r}")
        namespace = item.get("namespace")
        ident = str(namespace or item["name"])
        package_id = make_id("033", f"package/{ident}")
        version_id = _package_version(b, package_id, ident, str(item["name"]), version,
                                      bool(item.get("managed", namespace is not None)), bool(item.get("beta", False)))
        b.add("SubscriberPackage", {"Id": package_id, "Name": str(item["name"]), "NamespacePrefix": namespace,
                                    "Description": None, "IsPackageValid": True})
        b.add("InstalledSubscriberPackage",
              {"SubscriberPackageId": package_id, "SubscriberPackageVersionId": version_id,
                                             "MinPackageVersionId": version_id}, seed=ident)
        by_key[ident] = (package_id, str(item["name"]))
        by_key[str(item["name"])] = by_key[ident]
    _package_installs(b, by_key)


def _package_installs(b: Builder, by_key: dict[str, tuple[str, str]]) -> None:
    """Install requests; ``by_key`` maps a package's namespace or name to its (id, name)."""
    for key, item in _items(b, "package_installs", ("id", "package", "version", "status", "created", "errors")):
        version_id: str | None = None  # a request copied from an org (lockstep snapshot) may name no package
        if item.get("package") is not None or item.get("version") is not None:
            missing = "version" if item.get("version") is None else "package" if item.get("package") is None else None
            if missing:
                raise b.fail(f"{key}.{missing}", "required with " + ("package" if missing == "version" else "version"))
            package = str(item["package"])
            if package not in by_key:
                by_key[package] = (make_id("033", f"package/{package}"), package)
            package_id, name = by_key[package]
            version_id = _package_version(b, package_id, package, name, str(item["version"]), True, False)
        status = str(item.get("status") or "IN_PROGRESS")
        if status not in ("ERROR", "IN_PROGRESS", "SUCCESS", "UNKNOWN"):
            raise b.fail(f"{key}.status", f"expected ERROR, IN_PROGRESS, SUCCESS or UNKNOWN, got {status!r}")
        created = b.when(f"{key}.created", item.get("created")) or b.now
        b.add("PackageInstallRequest", {
            "Id": item.get("id"), "SubscriberPackageVersionKey": version_id, "NameConflictResolution": "Block",
            "SecurityType": "None",
            "PackageInstallSource": "U", "UpgradeType": "mixed-mode", "ApexCompileType": "all",
            "EnableRss": False, "SkipHandlers": None, "Status": status, "Errors": item.get("errors"),
            "CreatedDate": created,
        })


def _package_version(b: Builder, package_id: str, ident: str, name: str, version: str, managed: bool,
                     beta: bool) -> str:
    version_id = make_id("04t", f"package/{ident}/{version}")
    table = b.tables.setdefault("SubscriberPackageVersion", [])
    if not any(row["Id"] == version_id for row in table):
        major, minor, patch, build = (int(part) for part in version.split("."))
        b.add("SubscriberPackageVersion", {
            "Id": version_id, "Name": f"{name} {major}.{minor}", "SubscriberPackageId": package_id,
            "MajorVersion": major, "MinorVersion": minor, "PatchVersion": patch, "BuildNumber": build,
            "IsBeta": beta, "IsManaged": managed, "IsDeprecated": False, "IsPasswordProtected": False,
            "ReleaseState": "Beta" if beta else "Released", "IsSecurityReviewed": managed,
        })
    return version_id


@dataclass(frozen=True)
class _Flow:
    """One flow of a state file: the names and ids its definition and version rows repeat."""

    api_name: str
    label: str
    process_type: str
    api_version: float
    namespace: str | None
    definition_id: str
    version_ids: tuple[str, ...]
    active_version: int | None

    @property
    def active_id(self) -> str | None:
        return self.version_ids[self.active_version - 1] if self.active_version else None

    @property
    def manageable_state(self) -> str:
        return "installed" if self.namespace else "unmanaged"


def _flows(b: Builder) -> None:
    active: set[str] = set()
    keys = ("api_name", "label", "process_type", "trigger_type", "object", "versions", "active_version", "description",
            "api_version")
    for key, item in _items(b, "flows", keys, ("api_name",)):
        flow = _flow(b, key, item)
        _add_flow_definition(b, flow, item)
        _add_flow_versions(b, flow)
        if flow.active_version:
            active.add(flow.api_name)
    b.definition.active_flows = frozenset(active)


def _flow(b: Builder, key: str, item: dict[str, Any]) -> _Flow:
    api_name = str(item["api_name"])
    versions = item.get("versions", 1)
    active_version = item.get("active_version")
    if isinstance(versions, bool) or not isinstance(versions, int) or versions < 1:
        raise b.fail(f"{key}.versions", f"expected a positive integer, got {versions!r}")
    if active_version is not None and (not isinstance(active_version, int) or not 1 <= active_version <= versions):
        raise b.fail(f"{key}.active_version",
                     f"expected null or a version between 1 and {versions}, got {active_version!r}")
    return _Flow(
        api_name=api_name,
        label=str(item.get("label") or api_name),
        process_type=str(item.get("process_type") or "AutoLaunchedFlow"),
        api_version=float(item.get("api_version") or 61.0),
        namespace=api_name.split("__")[0] if "__" in api_name else None,
        definition_id=b.new_id("FlowDefinition", api_name),
        version_ids=tuple(b.new_id("Flow", f"{api_name}/{n}") for n in range(1, versions + 1)),
        active_version=active_version,
    )


def _add_flow_definition(b: Builder, flow: _Flow, item: dict[str, Any]) -> None:
    versions = len(flow.version_ids)
    obj = item.get("object")
    b.add("FlowDefinition", {
        "Id": flow.definition_id, "DeveloperName": flow.api_name, "MasterLabel": flow.label,
        "NamespacePrefix": flow.namespace, "ActiveVersionId": flow.active_id, "LatestVersionId": flow.version_ids[-1],
        "Description": item.get("description"), "ManageableState": flow.manageable_state, "FullName": flow.api_name,
    })
    b.add("FlowDefinitionView", {
        "Id": flow.definition_id, "DurableId": flow.definition_id, "ApiName": flow.api_name, "Label": flow.label,
        "ProcessType": flow.process_type, "TriggerType": item.get("trigger_type"),
        "IsActive": flow.active_version == versions,
        "IsOutOfDate": bool(flow.active_version and flow.active_version != versions),
        "IsTemplate": False, "IsOverridable": False, "IsSwingFlow": False,
        "ActiveVersionId": flow.active_id, "LatestVersionId": flow.version_ids[-1],
        "NamespacePrefix": flow.namespace, "Builder": "Flow Builder", "ManageableState": flow.manageable_state,
        "TriggerObjectOrEventId": _entity(b, str(obj)) if obj else None, "ApiVersion": flow.api_version,
        "Description": item.get("description"), "LastModifiedDate": b.now,
    })


def _add_flow_versions(b: Builder, flow: _Flow) -> None:
    latest = len(flow.version_ids)
    for number, version_id in enumerate(flow.version_ids, start=1):
        status = "Active" if number == flow.active_version else ("Draft" if number == latest else "Obsolete")
        b.add("Flow", {
            "Id": version_id, "DefinitionId": flow.definition_id, "MasterLabel": flow.label, "VersionNumber": number,
            "Status": status, "ProcessType": flow.process_type, "ApiVersion": flow.api_version,
            "FullName": f"{flow.api_name}-{number}", "ManageableState": flow.manageable_state,
        })
        b.add("FlowVersionView", {
            "Id": version_id, "DurableId": version_id, "FlowDefinitionViewId": flow.definition_id,
            "Label": flow.label, "VersionNumber": number, "Status": status, "ProcessType": flow.process_type,
            "ApiVersion": flow.api_version, "LastModifiedDate": b.now,
        })


def _apex(b: Builder) -> None:
    for key, item in _items(b, "apex_triggers", ("name", "object", "status", "api_version", "namespace"),
                            ("name", "object")):
        status = str(item.get("status") or "Active")
        if status not in ("Active", "Inactive", "Deleted"):
            raise b.fail(f"{key}.status", f"expected Active, Inactive or Deleted, got {status!r}")
        obj = str(item["object"])
        _entity(b, obj)
        body = f"trigger {item['name']} on {obj} (after insert, after update) {{\n}}"
        b.add("ApexTrigger", {
            "Name": str(item["name"]), "TableEnumOrId": obj, "Status": status, "IsValid": True,
            "ApiVersion": float(item.get("api_version") or 61.0), "NamespacePrefix": item.get("namespace"),
            "Body": body, "BodyCrc": _crc(body), "LengthWithoutComments": len(body),
            "UsageAfterInsert": True, "UsageAfterUpdate": True, "UsageIsBulk": True,
            "ManageableState": "installed" if item.get("namespace") else "unmanaged",
        }, seed=str(item["name"]))
    for _key, item in _items(b, "apex_classes", ("name", "api_version", "status", "namespace"), ("name",)):
        _apex_class(b, str(item["name"]), item)


def _apex_class(b: Builder, name: str, item: dict[str, Any]) -> str:
    for row in b.tables.get("ApexClass", []):
        if row["Name"] == name:
            return str(row["Id"])
    body = f"public with sharing class {name} {{\n}}"
    return str(b.add("ApexClass", {
        "Name": name, "ApiVersion": float(item.get("api_version") or 61.0),
        "Status": str(item.get("status") or "Active"),
        "IsValid": True, "NamespacePrefix": item.get("namespace"), "Body": body,
        "BodyCrc": _crc(body), "LengthWithoutComments": len(body),
        "ManageableState": "installed" if item.get("namespace") else "unmanaged",
    }, seed=name)["Id"])


def _rules_and_integrations(b: Builder) -> None:
    for _key, item in _items(b, "validation_rules", ("name", "object", "active", "error_message", "description"),
                            ("name", "object")):
        obj = _entity(b, str(item["object"]))
        b.add("ValidationRule", {
            "ValidationName": str(item["name"]), "Active": bool(item.get("active", True)), "EntityDefinitionId": obj,
            "ErrorMessage": item.get("error_message"), "ErrorDisplayField": None,
            "Description": item.get("description"),
            "NamespacePrefix": None, "ManageableState": "unmanaged", "FullName": f"{obj}.{item['name']}",
        }, seed=f"{obj}/{item['name']}")
    for _key, item in _items(b, "named_credentials", ("name", "label", "endpoint", "principal_type"),
                            ("name", "endpoint")):
        b.add("NamedCredential", {
            "DeveloperName": str(item["name"]), "MasterLabel": str(item.get("label") or item["name"]),
            "Endpoint": str(item["endpoint"]), "PrincipalType": str(item.get("principal_type") or "Anonymous"),
            "NamespacePrefix": None, "CalloutOptionsGenerateAuthorizationHeader": True,
        }, seed=str(item["name"]))
    for _key, item in _items(b, "remote_sites", ("name", "url", "active", "description"), ("name", "url")):
        b.add("RemoteProxy", {
            "SiteName": str(item["name"]), "EndpointUrl": str(item["url"]), "IsActive": bool(item.get("active", True)),
            "DisableProtocolSecurity": False, "ProtocolMismatch": False, "Description": item.get("description"),
            "NamespacePrefix": None, "ManageableState": "unmanaged", "FullName": str(item["name"]),
        }, seed=str(item["name"]))


def _jobs(b: Builder) -> None:
    _scheduled_jobs(b)
    _async_jobs(b)
    _event_subscribers(b)
    _deployments(b)


def _scheduled_jobs(b: Builder) -> None:
    keys = ("name", "job_type", "state", "cron", "next_fire", "previous_fire", "times_triggered")
    for key, item in _items(b, "scheduled_jobs", keys, ("name",)):
        detail = b.add("CronJobDetail", {"Name": str(item["name"]), "JobType": str(item.get("job_type") or "7")},
                       seed=str(item["name"]))
        previous = b.when(f"{key}.previous_fire", item.get("previous_fire"))
        b.add("CronTrigger", {
            "CronJobDetailId": detail["Id"], "CronExpression": str(item.get("cron") or "0 0 2 * * ?"),
            "State": str(item.get("state") or "WAITING"),
            "NextFireTime": b.when(f"{key}.next_fire", item.get("next_fire")),
            "PreviousFireTime": previous, "StartTime": previous or b.now, "EndTime": None,
            "TimeZoneSidKey": "Europe/London",
            "TimesTriggered": int(item.get("times_triggered") or (1 if previous else 0)),
        }, seed=str(item["name"]))


def _async_jobs(b: Builder) -> None:
    keys = ("id", "job_type", "status", "class", "errors", "extended_status", "created", "completed", "method", "items")
    for key, item in _items(b, "async_jobs", keys, ("job_type",)):
        class_id = _apex_class(b, str(item["class"]), {}) if item.get("class") else None
        created = b.when(f"{key}.created", item.get("created")) or b.now
        items = int(item.get("items") or 1)
        b.add("AsyncApexJob", {
            "Id": item.get("id"), "JobType": str(item["job_type"]), "Status": str(item.get("status") or "Completed"),
            "ApexClassId": class_id,
            "NumberOfErrors": int(item.get("errors") or 0), "ExtendedStatus": item.get("extended_status"),
            "MethodName": item.get("method"), "JobItemsProcessed": items, "TotalJobItems": items,
            "CreatedDate": created, "CompletedDate": b.when(f"{key}.completed", item.get("completed")),
        })


def _event_subscribers(b: Builder) -> None:
    keys = ("name", "topic", "type", "status", "position", "tip", "retries", "last_error")
    for _key, item in _items(b, "event_subscribers", keys, ("name", "topic")):
        b.add("EventBusSubscriber", {
            "Name": str(item["name"]), "Topic": str(item["topic"]), "Type": str(item.get("type") or "ApexTrigger"),
            "Status": str(item.get("status") or "Running"),
            "ExternalId": b.new_id("EventBusSubscriber", f"ext/{item['name']}")[:15],
            "Position": int(item.get("position") or 0), "Tip": int(item.get("tip") or 0),
            "Retries": int(item.get("retries") or 0), "LastError": item.get("last_error"), "IsPartitioned": False,
        }, seed=str(item["name"]))


def _deployments(b: Builder) -> None:
    keys = ("id", "status", "check_only", "created", "completed", "components", "errors")
    for key, item in _items(b, "deployments", keys):
        status = str(item.get("status") or "InProgress")
        created = b.when(f"{key}.created", item.get("created")) or b.now
        completed = b.when(f"{key}.completed", item.get("completed"))
        if completed is None and status in _TERMINAL_DEPLOY:
            completed = created
        b.add("DeployRequest", {
            "Id": item.get("id"), "Status": status, "CheckOnly": bool(item.get("check_only", False)),
            "CreatedDate": created,
            "StartDate": created, "CompletedDate": completed, "RunTestsEnabled": False,
            "NumberComponentsTotal": int(item.get("components") or 10),
            "NumberComponentErrors": int(item.get("errors") or 0),
            "NumberComponentsDeployed": int(item.get("components") or 10) if status == "Succeeded" else 0,
            "NumberTestsCompleted": 0, "NumberTestsTotal": 0, "NumberTestErrors": 0,
        })


def _automation_and_rest(b: Builder) -> None:
    d = b.definition
    flows = {str(row["DeveloperName"]) for row in b.tables.get("FlowDefinition", [])}
    for key, item in _items(b, "automation", ("flow", "object", "on", "set"), ("flow", "object", "set")):
        if item["flow"] not in flows:
            raise b.fail(f"{key}.flow", f"no flow {item['flow']!r} in flows")
        obj = SCHEMA.get(str(item["object"]))
        if obj is None:
            raise b.fail(f"{key}.object", f"no such object {item['object']!r}")
        if str(item.get("on") or "create") != "create":
            raise b.fail(f"{key}.on", "only create is supported")
        values = expect_mapping(b.source, f"{key}.set", item["set"])
        for name in values:
            if obj.find_field(str(name)) is None:
                raise b.fail(f"{key}.set.{name}", f"no such field on {obj.name}")
        d.automation.append({"flow": str(item["flow"]), "object": obj.name, "set": dict(values)})
    for key, item in _items(b, "apex_rest", ("path", "status", "body", "method"), ("path",)):
        status = item.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise b.fail(f"{key}.status", f"expected an HTTP status, got {status!r}")
        method = str(item.get("method") or "GET").upper()
        d.apex_rest[f"{method} {str(item['path']).strip('/')}"] = (status, item.get("body"))


def add_setup_objects(b: Builder) -> None:
    _packages(b)
    _flows(b)
    _apex(b)
    _rules_and_integrations(b)
    _jobs(b)
    _automation_and_rest(b)


def _crc(body: str) -> float:
    """``BodyCrc``: a checksum of the body, the same in every run (Salesforce's is a CRC too)."""
    return float(zlib.crc32(body.encode("utf-8")))
