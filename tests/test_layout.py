"""The house reads top-down: no module imports another that (through others) imports it back, command
modules never import the parser, and modules and functions stay small enough to read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "voicecoach"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# Longer, with a reason.
LONG_FUNCTIONS = {
    ("device/service.py", "render_unit"): "the systemd unit: a template read top to bottom",
    ("device/spoken_time.py", "load"): "one data file's checks, each with its own sentence",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every voicecoach module `path` imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from voicecoach.cli import main" imports voicecoach.cli; "from voicecoach import paths" the module
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                     for a in node.names]
        found |= {n for n in names if n in modules}
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(files)) - {name} for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph()
    assert len(graph) > 50 and "voicecoach.cli.main" in graph["voicecoach.__main__"] | graph["voicecoach.cli"]
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_circle() -> None:
    # Guards the test above: the old CLI's circle would be found.
    old = {"cli": {"commands"}, "commands": {"session_cli"}, "session_cli": {"journal_cli"}, "journal_cli": {"cli"}}
    assert _cycle(old) == ["cli", "commands", "session_cli", "journal_cli", "cli"]


def test_command_modules_never_import_the_parser() -> None:
    graph = _graph()
    commands = [m for m in graph if m.startswith("voicecoach.cli.commands")]
    assert len(commands) >= 4
    for module in commands:
        assert not graph[module] & {"voicecoach.cli.parser", "voicecoach.cli.main", "voicecoach.cli"}, module


def test_modules_and_functions_are_small() -> None:
    too_long: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(PACKAGE))
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and (where, node.name) not in LONG_FUNCTIONS:
                    too_long.append(f"{where}: {node.name}() {lines} lines")
    assert not too_long, too_long
