"""The layers hold: sim/, dsp/, workbench/jobs and workbench/cli never import Qt (the core and
both Qt-free faces run headless and are testable without it), and no module imports itself back
through others (an import cycle)."""

import ast
import subprocess
import sys

from conftest import REPO

QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")
QT_FREE = ("sim", "dsp", "workbench/jobs", "workbench/cli")
PACKAGES = ("sim", "dsp", "workbench")



def _module(path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(*folders) -> dict:
    return {_module(p): p for folder in folders for p in sorted((REPO / folder).rglob("*.py"))}


def _imports(path):
    """(module, imported names) of every import statement in the file, function-level and
    TYPE_CHECKING imports included, relative imports resolved; names are () for `import M`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((a.name, ()) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            yield ".".join([*base, node.module] if node.module else base), tuple(
                a.name for a in node.names)


def import_graph(modules: dict) -> dict[str, set[str]]:
    """module → the modules of `modules` it imports: `from M import N` imports the submodule M.N
    when there is one, else M."""
    graph = {}
    for name, path in modules.items():
        targets = set()
        for module, names in _imports(path):
            for target in [f"{module}.{n}" if f"{module}.{n}" in modules else module
                           for n in names] or [module]:
                if target in modules and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The modules of each import cycle: every strongly connected component of more than one
    module (Tarjan)."""
    index, low, stack, on_stack, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(frozenset(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * len(graph)))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(comps, key=sorted)


def cycle_path(graph: dict[str, set[str]], comp: frozenset[str]) -> list[str]:
    """A concrete cycle through the component's first module: breadth-first back to it."""
    start = min(comp)
    previous, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if w not in previous:
                    previous[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def test_qt_free_sources_do_not_import_qt():
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in _modules(*QT_FREE).values()
        for name, _ in _imports(path)
        if name.split(".")[0] in QT_MODULES
    ]
    assert not offenders, offenders


def test_importing_core_jobs_and_cli_loads_no_qt():
    """A fresh interpreter imports every module of sim/, dsp/, workbench/jobs and workbench/cli
    (not `__main__`, which runs the command line) and finds no Qt module loaded."""
    modules = sorted(m for m in _modules(*QT_FREE) if not m.endswith(".__main__"))
    assert {"workbench.jobs.enhance", "workbench.cli.main", "dsp.dred.chain"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_no_import_cycle():
    """The import graph of sim/, dsp/ and workbench/ (function-level imports included) has no
    cycle but the known ones."""
    graph = import_graph(_modules(*PACKAGES))
    cycles = import_cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(
        f"{' → '.join(cycle_path(graph, c))} (of {', '.join(sorted(c))})" for c in cycles)


def test_the_cycle_finder_finds_a_cycle_and_names_its_path():
    graph = {"a": {"b"}, "b": {"c", "x"}, "c": {"a", "d"}, "d": set(), "e": {"e"},
             "x": {"b"}}
    assert import_cycles(graph) == [frozenset("abcx")]
    assert cycle_path(graph, frozenset("abcx")) == ["a", "b", "c", "a"]
