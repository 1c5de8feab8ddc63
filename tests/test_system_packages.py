"""README's apt-get line holds what Qt's xcb platform plugin really loads (issue #12 item 8).

A bare machine with only README's packages must launch the app: every library that `ldd` finds
missing for the xcb plugin is a README omission, and every library it resolves must come from a
README package, one of their dependencies, or the base system.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

BASE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}  # on every Debian/Ubuntu


def readme_packages() -> list[str]:
    line = re.search(r"^sudo apt-get install -y (.+)$", (REPO / "README.md").read_text(), re.M)
    assert line, "README has no 'sudo apt-get install -y …' line"
    return line.group(1).split()


def xcb_libraries() -> list[Path]:
    """The xcb plugin: ldd lists what it loads, its Qt libraries' needs included."""
    import PySide6

    return [Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"]


def _ldd(paths) -> str:
    return subprocess.run(["ldd", *map(str, paths)], capture_output=True, text=True).stdout


def _installed(pkg: str) -> bool:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return out.stdout.endswith("installed")


def _closure(pkgs) -> set[str]:
    """The packages and, recursively, what they depend on (installed ones; :arch dropped)."""
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        out = subprocess.run(["dpkg-query", "-W", "-f=${Depends},${Pre-Depends}", p],
                             capture_output=True, text=True).stdout
        for alt in re.split(r"[,|]", out):
            name = alt.strip().split(" ")[0].split(":")[0]
            if name:
                todo.append(name)
    return seen


needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-query") is None or shutil.which("ldd") is None,
                                reason="needs dpkg and ldd (Debian/Ubuntu)")


@needs_dpkg
def test_readme_packages_cover_the_xcb_plugin():
    missing_pkgs = [p for p in readme_packages() if not _installed(p)]
    if missing_pkgs:
        pytest.skip(f"README's packages not installed here: {' '.join(missing_pkgs)}"
                    " (.ci/run installs them)")
    not_found = sorted(set(re.findall(r"^\s*(\S+) => not found", _ldd(xcb_libraries()), re.M)))
    assert not not_found, f"Qt's xcb plugin misses {not_found}: add their packages to README"


@needs_dpkg
def test_every_library_the_plugin_loads_comes_from_a_readme_package():
    resolved = set(re.findall(r"=> (/\S+) \(", _ldd(xcb_libraries())))
    allowed = _closure([*readme_packages(), *BASE])
    owners = {}
    for lib in resolved:
        if "PySide6" in lib or "shiboken6" in lib:
            continue
        out = subprocess.run(["dpkg", "-S", str(Path(lib).resolve())], capture_output=True,
                             text=True).stdout or subprocess.run(
            ["dpkg", "-S", lib], capture_output=True, text=True).stdout
        if out:
            owners[lib] = out.split(":")[0]
    strays = sorted({f"{pkg} ({lib})" for lib, pkg in owners.items() if pkg not in allowed})
    assert not strays, f"libraries from packages README does not name: {strays}"


@pytest.mark.skipif(shutil.which("Xvfb") is None,
                    reason="needs Xvfb (package xvfb; .ci/run installs it)")
def test_the_app_launches_on_a_real_x_server(tmp_path):
    """README's launch command as a user runs it: the xcb plugin on an X server (Xvfb here)."""
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        script = Path(sys.executable).with_name("acoustic-workbench")
        cmd = [str(script)] if script.exists() else [sys.executable, "-m", "workbench.gui.app"]
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=display, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
                   XDG_DATA_HOME=str(tmp_path / "data"))
        for _ in range(50):  # Xvfb needs a moment before it accepts clients
            if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
                break
            time.sleep(0.1)
        proc = subprocess.run([*cmd, "--quit-after", "300"], capture_output=True, text=True,
                              env=env, timeout=120)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "window shown: default" in log and "Traceback" not in log, log
