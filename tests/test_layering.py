"""sim/ and dsp/ never import Qt (the core must run headless and be testable without it)."""

import ast
import subprocess
import sys

from conftest import REPO

QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_core_sources_do_not_import_qt():
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for pkg in ("sim", "dsp")
        for path in sorted((REPO / pkg).rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in QT_MODULES
    ]
    assert not offenders, offenders


def test_importing_core_and_cli_loads_no_qt():
    core = sorted(
        ".".join(p.relative_to(REPO).with_suffix("").parts)
        for pkg in ("sim", "dsp")
        for p in (REPO / pkg).rglob("*.py")
        if p.name != "__init__.py"
    )
    modules = [*core, "workbench.cli.main"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True)
    assert out.stdout.strip() == "[]", out.stdout
