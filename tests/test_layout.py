"""The layout keeps the architecture visible: no import circles, poserec_core free of the live
side's libraries, small modules, and realtime/ made of folders, one per part of the data path."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("poserec_core", "realtime", "poserec_ray")
MAX_LINES = 400
CORE_MUST_NOT_IMPORT = ("realtime", "poserec_ray", "PyQt5", "cv2", "mediapipe", "ray")


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, top_level_only: bool) -> set[str]:
    """Modules `name` imports (absolute dotted names), at module level or anywhere."""
    tree = ast.parse(path.read_text())
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module-level imports between the project's modules; a package importing its own
    submodules (its __init__ re-exporting them) is not an edge."""
    mods = modules()
    graph = {}
    for name, path in mods.items():
        deps = {dep for dep in imported(name, path, top_level_only=True) if dep in mods}
        if path.name == "__init__.py":
            deps = {dep for dep in deps if not dep.startswith(name + ".")}
        graph[name] = deps - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    graph = import_graph()
    # relative imports resolve: the pipeline's `.channels` and `..messages` are edges
    assert {"realtime.engine.channels", "realtime.messages"} <= graph["realtime.engine.pipeline"]
    assert cycles(graph) == []


@pytest.mark.parametrize("name, path", [(n, p) for n, p in modules().items()
                                        if n.startswith("poserec_core")])
def test_poserec_core_imports_nothing_from_the_live_side(name, path):
    bad = {dep for dep in imported(name, path, top_level_only=False)
           if dep.split(".")[0] in CORE_MUST_NOT_IMPORT}
    assert bad == set()


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_realtime_is_folders_with_at_most_three_loose_modules():
    loose = sorted(p.name for p in (ROOT / "realtime").glob("*.py"))
    assert len(loose) <= 3, loose
    folders = {p.name for p in (ROOT / "realtime").iterdir()
               if p.is_dir() and (p / "__init__.py").is_file()}
    assert {"sources", "pose", "engine", "drawing", "ui", "outputs", "bench", "cli"} <= folders
