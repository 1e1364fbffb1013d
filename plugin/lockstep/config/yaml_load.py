"""Reading files a user names: bounded, strict, and one line for every refusal.

:func:`read_regular_file` reads only regular files, up to a size limit, and never blocks
(a FIFO, a device like ``/dev/zero`` or a folder is refused before a byte is read).
:func:`load_yaml_file` adds strict UTF-8 and a YAML loader that refuses duplicate keys,
recursive aliases, tags other than the plain ones, nesting deeper than ``max_depth`` and
documents of more than ``max_nodes`` nodes, each alias counted at the full size of what it
repeats (so a "billion laughs" alias bomb stops after ``max_nodes`` nodes, in milliseconds).

Every refusal is a :class:`~lockstep.config.errors.ConfigError`: ``key`` is the key path when
there is one (``orgs[qa].kind``), ``problem`` one line that never quotes a file's bytes; the
caller adds the file.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from lockstep.config.errors import ConfigError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "file_problem", "load_yaml", "load_yaml_file",
           "read_regular_file", "read_text_file"]

MAX_BYTES = 16 * 1024 * 1024  # a profile of 10,000 orgs, each with its own expectations
MAX_NODES = 1_000_000
MAX_DEPTH = 50
_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in
               ("null", "bool", "int", "float", "str", "timestamp", "seq", "map", "merge")}
_MERGE = "tag:yaml.org,2002:merge"
_SHOWN_LEVELS = 5  # key path levels named in a refusal inside deep nesting
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


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
        raise ConfigError("no such file" if isinstance(exc, FileNotFoundError)
                        else f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        problem = _not_regular(info.st_mode)
        if problem:
            raise ConfigError(problem)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise ConfigError(f"file too large (more than {_size(limit)})")
    return b"".join(chunks)


def read_text_file(path: Path, limit: int) -> str:
    """A regular file's strict UTF-8 text (no NUL byte); errors give the position, never the content."""
    data = read_regular_file(path, limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: an invalid byte at {_position(data, exc.start)}") from None
    if "\0" in text:
        raise ConfigError(f"not text: a NUL byte at {_position(data, data.index(0))}")
    return text


def _position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column} (byte offset {offset})"


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _Refused(yaml.YAMLError):
    def __init__(self, problem: str, mark: Any = None, where: str = "") -> None:
        super().__init__(problem)
        self.problem, self.mark, self.where = problem, mark, where


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader (libyaml's parser and composer when PyYAML has them) with one-line value errors."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            kind = node.tag.rsplit(":", 1)[-1]
            reason = " ".join(str(exc).split(";")[0].split())
            raise _Refused(f"invalid {kind} value: {reason}", node.start_mark) from None


class _Level:
    """One open mapping or sequence of the event pass: where its next node sits."""

    __slots__ = ("anchor", "at_key", "index", "is_map", "key", "name", "size_from")

    def __init__(self, is_map: bool, size_from: int, anchor: str | None) -> None:
        self.is_map, self.at_key, self.index = is_map, True, -1
        self.key: str | None = None  # the key whose value comes next, once read
        self.name: str | None = None  # a mapping's scalar ``name`` value, once read
        self.size_from, self.anchor = size_from, anchor


def _where(levels: list[_Level]) -> str:
    """The key path of the node at the top of ``levels`` (its first levels), items named by their ``name``."""
    parts: list[str] = []
    for depth, level in enumerate(levels):
        if len(parts) == _SHOWN_LEVELS:
            return "".join(parts) + "…"
        if level.is_map and level.key is not None:
            parts.append(f".{level.key}" if parts else level.key)
        elif not level.is_map and level.index >= 0:
            item = levels[depth + 1].name if depth + 1 < len(levels) else None
            parts.append(f"[{item or level.index}]")
    return "".join(parts)


def _prepass(text: str, max_nodes: int, max_depth: int, loader: type = _Loader) -> None:
    """Walk the parser's events once, before anything is built: refuse more than ``max_nodes`` nodes
    (each alias at the full size of what it repeats), nesting deeper than ``max_depth`` and aliases
    of a node that contains them, naming the key path. Linear in the text, whatever its aliases."""
    levels: list[_Level] = []
    sizes: dict[str, int] = {}  # anchor -> size of its node with aliases expanded
    nodes = 0

    def refuse(problem: str, mark: Any) -> _Refused:
        return _Refused(problem, mark, _where(levels))

    for event in yaml.parse(text, Loader=loader):
        kind: type[yaml.Event] | None = type(event)
        anchor: str | None = getattr(event, "anchor", None)  # the stubs type events as their base class
        if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            done = levels.pop()
            if done.anchor is not None:
                sizes[done.anchor] = nodes - done.size_from
            kind = None  # a finished collection is a finished value of its parent
        elif kind not in (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent):
            continue
        parent = levels[-1] if levels else None
        if kind is not None and parent is not None:  # a node starts: place it in its parent
            if not parent.is_map:
                parent.index += 1
            elif parent.at_key:
                parent.key = None
        if kind is yaml.AliasEvent:
            if anchor not in sizes:
                if any(level.anchor == anchor for level in levels):
                    raise refuse(f"alias *{anchor} repeats a node that contains it", event.start_mark)
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {anchor!r}",
                                                  getattr(event, "start_mark", None))
            nodes += sizes[anchor]
        elif kind is not None:
            nodes += 1
            if len(levels) + 1 > max_depth:
                raise refuse(f"nested deeper than {max_depth} levels", event.start_mark)
        if nodes > max_nodes:
            raise refuse(f"more than {max_nodes} YAML nodes (an alias counts at the size of what it repeats)",
                         event.start_mark)
        if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            levels.append(_Level(kind is yaml.MappingStartEvent, nodes - 1, anchor))
            continue
        if kind is yaml.ScalarEvent and anchor is not None:
            sizes[anchor] = 1
        if parent is not None and parent.is_map:  # a key or a value of the parent mapping is complete
            if parent.at_key:
                parent.key = str(getattr(event, "value", "")) if kind is yaml.ScalarEvent else None
            elif parent.key == "name" and kind is yaml.ScalarEvent:
                parent.name = str(getattr(event, "value", ""))
            parent.at_key = not parent.at_key


def _check_nodes(loader: _Loader, root: Node) -> None:
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a document is built. Parsing allocates a few
    hundred thousand nodes and values that form no cycle (a recursive alias is refused), and each
    allocation threshold crossed re-scanned all of them: loading a 10,000-subscriber state file
    spent almost half of its CPU time there (2.4 s -> 1.3 s in a fresh process; more where the
    heap is already large, as in the emulator)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def load_yaml(text: str, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one YAML document under the limits above; :class:`ConfigError` for anything refused."""
    with _collector_paused():
        return _load_yaml(text, max_nodes, max_depth)


def _load_yaml(text: str, max_nodes: int, max_depth: int) -> Any:
    loader: _Loader | None = None
    try:
        try:
            _prepass(text, max_nodes, max_depth)
        except yaml.MarkedYAMLError as exc:
            if "maximum nesting depth" not in str(exc.problem):
                raise
            _prepass(text, max_nodes, max_depth, yaml.SafeLoader)  # libyaml stops at 1,000 levels, unnamed
        loader = _Loader(text)
        root = loader.get_single_node()
        if root is None:
            return None
        _check_nodes(loader, root)
        return loader.construct_document(root)
    except _Refused as exc:
        where = _at(exc.mark)
        raise ConfigError(f"{exc.problem} at {where}" if where else exc.problem, key=exc.where or None) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split()).removeprefix("did not find ")
        raise ConfigError(f"YAML syntax error at {_at(mark)}: {problem}" if mark else f"YAML syntax error: {problem}"
                        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ConfigError(f"YAML syntax error at line {line}, column {column}: "
                        f"unacceptable character #x{exc.character:04x}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML syntax error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"nested too deeply (the limit is {max_depth} levels)") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml_file(path: Path, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES,
                   max_depth: int = MAX_DEPTH) -> Any:
    """:func:`load_yaml` of a regular file of at most ``max_bytes`` bytes of strict UTF-8."""
    return load_yaml(read_text_file(path, max_bytes), max_nodes=max_nodes, max_depth=max_depth)
