"""The package's layout: no import cycles, and every deferred import says why."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lockstep

PACKAGE = Path(lockstep.__file__).parent
NAME = "lockstep"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((NAME, *parts))


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The package's modules an import statement loads (``from pkg import sub`` loads ``pkg.sub``)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if node.level:
        base = package
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    submodules = {f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in known}
    if submodules:
        return submodules
    return {source} if source in known else set()


def _graph() -> dict[str, set[str]]:
    """Every import between the package's modules: module level, deferred or TYPE_CHECKING alike."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _imported(module, path, node, known)
        graph[module] = edges - {module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_import_graph_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_imports_of_every_form() -> None:
    graph = _graph()
    assert f"{NAME}.emulator.soql.bind" in graph[f"{NAME}.emulator.soql.conditions"]  # relative
    assert f"{NAME}.emulator.http.unserved" in graph[f"{NAME}.emulator.http.app"]  # from package import module
    assert f"{NAME}.emulator.http.server" in graph[f"{NAME}.emulator"]  # deferred, in a function


def test_no_import_cycle_in_the_package() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_deferred_import_says_why() -> None:
    """An import inside a function needs a comment on the line above it or on the line itself."""
    unexplained = []
    for module, path in _modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    here, above = lines[inner.lineno - 1], lines[inner.lineno - 2].strip()
                    if "#" not in here and not above.startswith("#"):
                        unexplained.append(f"{module}:{inner.lineno}")
    assert unexplained == []


def _loaded_by(module: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with one of ``prefixes`` that importing ``module`` loads (in a fresh interpreter)."""
    code = f"import sys, {module}; print(*sorted(m for m in sys.modules if m.startswith({prefixes!r})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.split()


def test_the_plugin_module_loads_no_run_machinery() -> None:
    """Every pytest session of the environment imports the plugin: the run, the emulator and the
    network clients load only for a Lockstep run."""
    heavy = ("lockstep.session.run", "lockstep.session.gate_assembly", "lockstep.session.planning",
             "lockstep.emulator", "httpx", "jwt", "uvicorn")
    assert _loaded_by("lockstep.plugin", heavy) == []


def test_the_gate_commands_load_neither_pytest_nor_a_client() -> None:
    """`lockstep gate show/check/merge` run in CI stages without pytest or network: they load neither."""
    assert _loaded_by("lockstep.cli", ("pytest", "_pytest", "requests", "httpx", "lockstep.session",
                                       "lockstep.emulator")) == []


def test_the_readme_module_map_names_every_module() -> None:
    """README.md's Layout section is where a new maintainer finds a module by what it is for: every
    module and subpackage of the package is on it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    missing = [str(path.relative_to(PACKAGE)) for path in sorted(PACKAGE.rglob("*.py"))
               if path.name != "__init__.py" and path.name not in layout]
    folders = [f"{path.parent.name}/" for path in PACKAGE.rglob("__init__.py")
               if path.parent != PACKAGE and f"{path.parent.name}/" not in layout]
    assert missing == [] and folders == []
