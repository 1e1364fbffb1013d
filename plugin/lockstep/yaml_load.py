"""Reading files a user names: bounded, strict, and one line for every refusal.

:func:`read_regular_file` reads only regular files, up to a size limit, and never blocks
(a FIFO, a device like ``/dev/zero`` or a folder is refused before a byte is read).
:func:`load_yaml_file` adds strict UTF-8 and a YAML loader that refuses duplicate keys,
recursive aliases, tags other than the plain ones, nesting deeper than ``max_depth`` and
documents of more than ``max_nodes`` nodes, each alias counted at the full size of what it
repeats (so a "billion laughs" alias bomb stops after ``max_nodes`` nodes, in milliseconds).

Every refusal is a :class:`YamlError`: ``where`` is the key path when there is one
(``orgs[qa].kind``), ``problem`` one line that never quotes a file's bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YamlError", "file_problem", "load_yaml", "load_yaml_file",
           "read_regular_file", "read_text_file"]

MAX_BYTES = 1024 * 1024
MAX_NODES = 20_000  # the largest demo profile has 326 nodes
MAX_DEPTH = 50
_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in
               ("null", "bool", "int", "float", "str", "timestamp", "seq", "map", "merge")}
_MERGE = "tag:yaml.org,2002:merge"
_SHOWN_LEVELS = 5  # key path levels named in a refusal inside deep nesting
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class YamlError(Exception):
    """A file or document refused: ``where`` is the key path ('' for the whole file), ``problem`` one line."""

    def __init__(self, problem: str, where: str = "") -> None:
        where, problem = _printable(where), _printable(problem)
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where, self.problem = where, problem


def _printable(text: str) -> str:
    """Control characters escaped (a key may hold a newline), so a message stays one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _size(limit: int) -> str:
    return f"{limit // 1024} KiB" if limit < 1024 * 1024 else f"{limit / (1024 * 1024):g} MiB"


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"{kind}, not a regular file"


def file_problem(path: Path, limit: int) -> str | None:
    """Why ``path`` is not a readable regular file of at most ``limit`` bytes (None when it is one)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return "no such file" if isinstance(exc, FileNotFoundError) else f"cannot read: {exc.strerror or exc}"
    problem = _not_regular(info.st_mode)
    if problem is None and info.st_size > limit:
        problem = f"file too large ({info.st_size} bytes; the limit is {_size(limit)})"
    return problem


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; never blocks on a FIFO or device."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise YamlError("no such file" if isinstance(exc, FileNotFoundError)
                        else f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        problem = _not_regular(info.st_mode)
        if problem:
            raise YamlError(problem)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise YamlError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise YamlError(f"file too large (more than {_size(limit)})")
    return b"".join(chunks)


def read_text_file(path: Path, limit: int) -> str:
    """A regular file's strict UTF-8 text (no NUL byte); errors give the position, never the content."""
    data = read_regular_file(path, limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"not UTF-8 text: an invalid byte at {_position(data, exc.start)}") from None
    if "\0" in text:
        raise YamlError(f"not text: a NUL byte at {_position(data, data.index(0))}")
    return text


def _position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column} (byte offset {offset})"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at {_position(data, exc.start)}") from None


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _Refused(yaml.YAMLError):
    def __init__(self, problem: str, mark: Any = None, where: str = "") -> None:
        super().__init__(problem)
        self.problem, self.mark, self.where = problem, mark, where


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader composing at most ``max_nodes`` nodes (aliases at full size) and ``max_depth`` levels."""

    def __init__(self, text: str, max_nodes: int, max_depth: int) -> None:
        super().__init__(text)
        self.max_nodes, self.max_depth = max_nodes, max_depth
        self.nodes = 0
        self.sizes: dict[int, int] = {}  # id of an anchored node -> its size with aliases expanded
        self.trail: list[tuple[Node | None, Any]] = []  # (parent, index) of each node being composed

    def refuse(self, problem: str, mark: Any) -> _Refused:
        return _Refused(problem, mark, self.where())

    def where(self) -> str:
        """The key path of the node being composed (its first levels), items named by their ``name``."""
        parts: list[str] = []
        for level, (parent, index) in enumerate(self.trail):
            if len(parts) == _SHOWN_LEVELS:
                return "".join(parts) + "…"
            if isinstance(parent, MappingNode) and isinstance(index, ScalarNode):
                parts.append(f".{index.value}" if parts else str(index.value))
            elif isinstance(parent, SequenceNode) and isinstance(index, int):
                item = self.trail[level + 1][0] if level + 1 < len(self.trail) else None
                parts.append(f"[{_item_name(item) or index}]")
        return "".join(parts)

    def spend(self, count: int, mark: Any) -> None:
        self.nodes += count
        if self.nodes > self.max_nodes:
            raise self.refuse(f"more than {self.max_nodes} YAML nodes (an alias counts at the size of what it "
                              "repeats)", mark)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        self.trail.append((parent, index))
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self.sizes:
                raise self.refuse(f"alias *{event.anchor} repeats a node that contains it", event.start_mark)
            self.spend(self.sizes[id(node)], event.start_mark)
        else:
            if len(self.trail) > self.max_depth:
                raise self.refuse(f"nested deeper than {self.max_depth} levels", event.start_mark)
            before = self.nodes
            self.spend(1, event.start_mark)
            node = super().compose_node(parent, index)
            if event.anchor is not None:
                self.sizes[id(node)] = self.nodes - before
        self.trail.pop()
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            kind = node.tag.rsplit(":", 1)[-1]
            reason = " ".join(str(exc).split(";")[0].split())
            raise _Refused(f"invalid {kind} value: {reason}", node.start_mark) from None


def _check_nodes(loader: _BoundedLoader, root: Node) -> None:
    """Refuse duplicate keys (by value: ``1`` and ``0x1`` are one key) and tags other than the plain
    ones, naming the key path."""
    seen: set[int] = set()
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            raise _Refused(f"unsupported YAML tag {node.tag}", node.start_mark, where)
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                stack.append((item, f"{where}[{_item_name(item) or index}]"))
        elif isinstance(node, MappingNode):
            first: dict[Any, Node] = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.tag != _MERGE:
                    path = f"{where}.{key.value}" if where else str(key.value)
                    if key.tag not in _PLAIN_TAGS:
                        raise _Refused(f"unsupported YAML tag {key.tag}", key.start_mark, path)
                    earlier = first.setdefault(loader.construct_object(key), key)
                    if earlier is not key:
                        raise _Refused(f"duplicate key {key.value!r} at line {key.start_mark.line + 1} "
                                       f"(first at line {earlier.start_mark.line + 1})", None, path)
                    stack.append((value, path))
                else:
                    stack.extend(((key, where), (value, where)))


def _item_name(item: Node | None) -> str | None:
    if isinstance(item, MappingNode):
        for key, value in item.value:
            if isinstance(key, ScalarNode) and key.value == "name" and isinstance(value, ScalarNode):
                return str(value.value)
    return None


def load_yaml(text: str, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one YAML document under the limits above; :class:`YamlError` for anything refused."""
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text, max_nodes, max_depth)
        root = loader.get_single_node()
        if root is None:
            return None
        _check_nodes(loader, root)
        return loader.construct_document(root)
    except _Refused as exc:
        where = _at(exc.mark)
        raise YamlError(f"{exc.problem} at {where}" if where else exc.problem, exc.where) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise YamlError(f"YAML syntax error at {_at(mark)}: {problem}" if mark else f"YAML syntax error: {problem}"
                        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlError(f"YAML syntax error at line {line}, column {column}: "
                        f"unacceptable character #x{exc.character:04x}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML syntax error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise YamlError(f"nested too deeply (the limit is {max_depth} levels)") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml_file(path: Path, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES,
                   max_depth: int = MAX_DEPTH) -> Any:
    """:func:`load_yaml` of a regular file of at most ``max_bytes`` bytes of strict UTF-8."""
    return load_yaml(_decode(read_regular_file(path, max_bytes)), max_nodes=max_nodes, max_depth=max_depth)
