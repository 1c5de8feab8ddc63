"""Screenshots of the main window on the default scene, dark and light, for the docs.

    python scripts/screenshots.py [--out docs/screenshots] [--no-simulate] [--size 1440x900]

Runs offscreen (no display needed) with throw-away settings, selects the listener, optionally
runs a free-field simulation so the transfer plots have data, and writes main-dark.png and
main-light.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--no-simulate", action="store_true",
                        help="skip the free-field simulation (empty plots)")
    parser.add_argument("--size", default="1440x900", help="window size WxH in pixels")
    parser.add_argument("--scene", default="default", help="scene file or preset")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from workbench import recovery
    from workbench.app import build_window, configure_application
    from workbench.theme import apply_theme

    scratch = Path(tempfile.mkdtemp(prefix="awb-screenshots-"))
    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    recovery.default_recovery_dir = lambda: scratch / "recovery"
    args.out.mkdir(parents=True, exist_ok=True)

    def settle(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    written = []
    for theme in ("dark", "light"):
        apply_theme(app, theme)
        window = build_window(args.scene, recovery_dir=scratch / "recovery",
                              offer_recovery=False)
        window.set_theme(theme)
        window.resize(width, height)
        window.show()
        settle()
        window.view.fit_to_room()
        if window.document.scene.listeners:
            window.view.select(("listener", 0))
        if not args.no_simulate:
            loop = QEventLoop()
            window.runner.done.connect(loop.quit)
            QTimer.singleShot(60000, loop.quit)
            if window.simulate("freefield"):
                loop.exec()
            if window.transfer_view.result is None:
                print(f"note: no simulation shown ({window.transfer_view.message_label.text()})")
            else:
                window.transfer_view.driver_combo.setCurrentIndex(
                    max(window.transfer_view.driver_combo.findText("tweeter"), 0))
        window.view.cursorMoved.emit(*window.view.room_point(
            window.view.viewport().rect().center()))
        settle()
        path = args.out / f"main-{theme}.png"
        if not window.grab().save(str(path)):
            print(f"error: could not write {path}", file=sys.stderr)
            return 1
        written.append(path)
        window.document.undo_stack.setClean()
        window.close()
        settle(0.1)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
