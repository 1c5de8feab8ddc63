"""The installed GUI entry point starts on the default scene and opens its window."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from workbench import APP_NAME, ORG_NAME

from .test_gui_recovery_hostile import BROKEN, DEAD_PID, leave_autosave

SCRIPT = Path(sys.executable).with_name("acoustic-workbench")
CRASH_MARKERS = ("Traceback", "Fatal Python error", "could not load the Qt platform plugin")


def launch(home: Path, *args: str) -> str:
    """Run the installed app offscreen with `home` as its home (settings, autosaves) for
    300 ms; returns its log after checking that it exited 0 and never crashed."""
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "workbench.gui.app"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(home),
               XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"))
    proc = subprocess.run([*cmd, *args, "--quit-after", "300"], capture_output=True,
                          text=True, env=env, timeout=120)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "window shown: default" in log, log
    for marker in CRASH_MARKERS:
        assert marker not in log, log
    return log


def test_acoustic_workbench_launches_offscreen(tmp_path):
    launch(tmp_path)
    assert shutil.which("awb", path=str(SCRIPT.parent)) or not SCRIPT.exists()


def test_broken_autosaves_and_a_corrupt_scene_argument_never_stop_start_up(tmp_path):
    """Issue 12's acceptance: the app starts and stays up with every broken autosave state and
    a corrupt scene file given; the next start is clean."""
    recovery = tmp_path / "data" / ORG_NAME / APP_NAME / "recovery"
    for i, (scene, meta) in enumerate(BROKEN.values()):
        leave_autosave(recovery, DEAD_PID + i, scene, meta)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_bytes(b'{"schema_version": 1, "kind": "scene", "name": "\xff\xfe' + b"[" * 5000)
    log = launch(tmp_path, str(corrupt))
    assert f"cannot open {corrupt}" in log
    assert log.count("could not be used") == len(BROKEN)
    assert not list(recovery.glob("autosave-*.json"))
    log = launch(tmp_path)
    assert "could not be used" not in log and "cannot open" not in log
