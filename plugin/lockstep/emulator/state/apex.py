"""Tooling views of an Apex class: SymbolTable, Metadata, FullName, and managed-code Body stubs.

The symbol table comes from a small scan of the class source (top-level class header,
constructors, methods and member variables); it is no Apex compiler.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["complete_apex_class", "symbol_table"]

_MODIFIERS = frozenset({
    "global", "public", "private", "protected", "static", "final", "override", "virtual", "abstract",
    "webservice", "testmethod", "transient", "with", "without", "inherited", "sharing",
})
_HEADER = re.compile(
    r"(?P<annotations>(?:@\w+(?:\s*\([^)]*\))?\s*)*)(?P<modifiers>(?:\w+\s+)*?)class\s+(?P<name>\w+)"
    r"(?:\s+extends\s+(?P<parent>[\w.]+))?(?:\s+implements\s+(?P<interfaces>[\w.<>,\s]+?))?\s*\{",
    re.IGNORECASE,
)
_ANNOTATION = re.compile(r"@(\w+)")
_STUB_HEADER = (
    "/*\nThis file is generated and isn't the actual source code for this\nmanaged global class.\n"
    "This read-only file shows the class's global constructors,\nmethods, variables, and properties.\n"
    "To enable code to compile, all methods return null.\n*/\n"
)


def _blank_comments(source: str) -> str:
    """The source with comments and string contents replaced by spaces (positions kept)."""
    def spaces(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return re.sub(r"/\*.*?\*/|//[^\n]*|'(?:\\.|[^'\\])*'", spaces, source, flags=re.DOTALL)


def _location(source: str, index: int) -> dict[str, int]:
    line = source.count("\n", 0, index) + 1
    return {"column": index - (source.rfind("\n", 0, index) + 1) + 1, "line": line}


def _split_modifiers(words: list[str]) -> tuple[list[str], list[str]]:
    sharing = ("with", "without", "inherited", "sharing")
    modifiers = [w for w in words if w.lower() in _MODIFIERS and w.lower() not in sharing]
    rest = [w for w in words if w.lower() not in _MODIFIERS]
    return modifiers, rest


def _parameters(text: str) -> list[dict[str, str]]:
    params = []
    for part in (p.strip() for p in text.split(",")):
        words = [w for w in part.split() if w.lower() != "final"]
        if len(words) >= 2:
            params.append({"name": words[-1], "type": " ".join(words[:-1])})
    return params


def _members(text: str, start: int, class_name: str) -> dict[str, list[dict[str, Any]]]:
    """Constructors, methods and variables declared directly in the class body at ``start``."""
    out: dict[str, list[dict[str, Any]]] = {"constructors": [], "methods": [], "variables": []}
    depth, segment_start = 0, start
    for index in range(start, len(text)):
        char = text[index]
        if char in "{;}" and depth == 0:
            segment = text[segment_start:index]
            member = _member(text, segment_start, segment, class_name, char)
            if member is not None:
                kind, entry = member
                out[kind].append(entry)
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                break
            depth -= 1
        if char in "{;}" and depth == 0:
            segment_start = index + 1
    return out


def _member(text: str, offset: int, segment: str, class_name: str, end: str) -> tuple[str, dict[str, Any]] | None:
    annotations = [{"name": name} for name in _ANNOTATION.findall(segment)]
    body = _ANNOTATION.sub(" ", re.sub(r"@\w+\s*\([^)]*\)", " ", segment))
    call = re.search(r"(\w+)\s*\(([^)]*)\)\s*$", body.strip()) if end == "{" else None
    if call is not None:
        words = body[: body.rfind(call.group(1), 0, body.rfind("("))].split()
        modifiers, rest = _split_modifiers(words)
        if "class" in (w.lower() for w in rest):
            return None
        where = _location(text, offset + segment.rfind(call.group(1), 0, segment.rfind("(")))
        entry: dict[str, Any] = {"annotations": annotations, "location": where, "modifiers": modifiers,
                                 "name": call.group(1), "parameters": _parameters(call.group(2)), "references": []}
        if call.group(1).lower() == class_name.lower() and not rest:
            return "constructors", {**entry, "type": None}
        return "methods", {**entry, "returnType": " ".join(rest) or "void", "type": None}
    words = body.split("=")[0].split()
    modifiers, rest = _split_modifiers(words)
    if end == ";" and len(rest) >= 2 and "class" not in (w.lower() for w in rest):
        name = rest[-1]
        where = _location(text, offset + segment.rfind(name, 0, len(segment.split("=")[0])))
        return "variables", {"annotations": annotations, "location": where, "modifiers": modifiers, "name": name,
                             "references": [], "type": " ".join(rest[:-1])}
    return None


def symbol_table(name: str, namespace: str | None, source: str | None) -> dict[str, Any] | None:
    """The Tooling ``SymbolTable`` of a class, or None when its source has no class declaration."""
    text = _blank_comments(source or "")
    header = _HEADER.search(text)
    if header is None:
        return None
    qualified = f"{namespace}.{name}" if namespace else name
    annotations = [{"name": a} for a in _ANNOTATION.findall(header.group("annotations"))]
    modifiers, _rest = _split_modifiers(header.group("modifiers").split())
    if any(a["name"].lower() == "istest" for a in annotations):
        modifiers = ["testMethod", *modifiers]
    interfaces = [i.strip() for i in (header.group("interfaces") or "").split(",") if i.strip()]
    members = _members(text, header.end(), header.group("name"))
    return {
        "constructors": members["constructors"], "externalReferences": [], "id": qualified, "innerClasses": [],
        "interfaces": interfaces, "key": qualified, "methods": members["methods"], "name": name,
        "namespace": namespace, "parentClass": header.group("parent") or "", "properties": [],
        "tableDeclaration": {
            "annotations": annotations, "location": _location(text, header.start("name")), "modifiers": modifiers,
            "name": name, "references": [], "type": qualified,
        },
        "variables": members["variables"],
    }


def _global_stub(table: dict[str, Any]) -> str:
    """The generated Body Salesforce shows for a managed global class: global signatures only."""
    def is_global(entry: dict[str, Any]) -> bool:
        return "global" in (m.lower() for m in entry["modifiers"])

    def params(entry: dict[str, Any]) -> str:
        return ", ".join(f"{p['type']} {p['name']}" for p in entry["parameters"])

    implements = f" implements {', '.join(table['interfaces'])}" if table["interfaces"] else ""
    extends = f" extends {table['parentClass']}" if table["parentClass"] else ""
    modifiers = " ".join(m for m in table["tableDeclaration"]["modifiers"] if m != "testMethod")
    lines = [f"{modifiers} class {table['name']}{extends}{implements} {{"]
    for var in filter(is_global, table["variables"]):
        lines.append(f"    {' '.join(var['modifiers'])} {var['type']} {var['name']};")
    for ctor in filter(is_global, table["constructors"]):
        lines += [f"    {' '.join(ctor['modifiers'])} {ctor['name']}({params(ctor)}) {{", "", "    }"]
    for method in filter(is_global, table["methods"]):
        returns = "" if method["returnType"].lower() == "void" else "        return null;"
        lines += [f"    {' '.join(method['modifiers'])} {method['returnType']} {method['name']}({params(method)}) {{",
                  returns, "    }"]
    return _STUB_HEADER + "\n".join(lines) + "\n}\n"


def complete_apex_class(row: dict[str, Any]) -> None:
    """Fill an ApexClass row's Tooling columns; hide a managed (installed) class's source.

    Managed code shows a generated stub of its global signatures as ``Body`` (``(hidden)``
    when the class is not global), with ``BodyCrc`` and ``LengthWithoutComments`` -1.
    """
    name, namespace = str(row.get("Name") or ""), row.get("NamespacePrefix")
    if row.get("ManageableState") is None:
        row["ManageableState"] = "installed" if namespace else "unmanaged"
    if row.get("FullName") is None:
        row["FullName"] = f"{namespace}__{name}" if namespace else name
    if row.get("Metadata") is None:
        row["Metadata"] = {"apiVersion": row.get("ApiVersion"), "packageVersions": [], "status": row.get("Status"),
                           "urls": None}
    if row.get("SymbolTable") is None:
        row["SymbolTable"] = symbol_table(name, namespace, row.get("Body"))
    table = row["SymbolTable"]
    if row["ManageableState"] == "installed" and row.get("Body") is not None:
        is_global = table is not None and "global" in (m.lower() for m in table["tableDeclaration"]["modifiers"])
        row["Body"] = _global_stub(table) if is_global and table is not None else "(hidden)"
        row["BodyCrc"] = -1.0
        row["LengthWithoutComments"] = -1
