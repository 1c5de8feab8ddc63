"""The installed GUI entry point starts on the default scene and opens its window."""

import os
import shutil
import subprocess
import sys
from pathlib import Path


def test_acoustic_workbench_launches_offscreen(tmp_path):
    script = Path(sys.executable).with_name("acoustic-workbench")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "workbench.gui.app"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.run([*cmd, "--quit-after", "300"], capture_output=True, text=True,
                          env=env, timeout=120)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "window shown: default" in log, log
    for marker in ("Traceback", "Fatal Python error", "could not load the Qt platform plugin"):
        assert marker not in log, log
    assert shutil.which("awb", path=str(script.parent)) or not script.exists()
