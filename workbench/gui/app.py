"""Entry point of the desktop app: `acoustic-workbench [FILE|PRESET] [--theme dark|light]`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from workbench import APP_NAME, ORG_NAME, __version__

log = logging.getLogger("workbench")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="acoustic-workbench",
        description=f"{APP_NAME}: place a loudspeaker device, its drivers and listeners in "
                    "simulated rooms.")
    parser.add_argument("scene", nargs="?", metavar="FILE|PRESET",
                        help="scene file or scene preset name to open (default: the 'default' "
                             "preset)")
    parser.add_argument("--theme", choices=("dark", "light"),
                        help="colour theme (default: the last one used, else dark)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--quit-after", type=int, metavar="MS",
                        help="quit MS milliseconds after the window is shown (smoke tests)")
    return parser.parse_args(argv)


def configure_application(app) -> None:
    """Names that QSettings and QStandardPaths use; set once per QApplication."""
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)


def show_error(title: str, text: str) -> None:
    """Show a startup error (tests replace this)."""
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.critical(None, title, text)


def load_initial_scene(ref: str | None):
    """(scene, path or None) for `ref`; a bad file or name shows its SceneError and falls back
    to the `default` preset."""
    from sim.scene_io import SceneError, load_scene

    if ref:
        try:
            scene = load_scene(ref)
        except SceneError as e:
            log.error("cannot open %s: %s", ref, e)
            show_error("Cannot open scene", f"{e}\n\nOpening the default scene instead.")
        else:
            path = Path(ref)
            return scene, (path if path.is_file() else None)
    return load_scene("default"), None


def build_window(ref: str | None = None, *, recovery_dir=None, offer_recovery: bool = True):
    """The main window as the app starts it: the scene `ref` (or the default preset), the audio
    check, and the offer to restore an autosave left by a crash."""
    from workbench.gui.audio.portaudio import portaudio_problem
    from workbench.gui.shell.main_window import MainWindow

    scene, path = load_initial_scene(ref)
    window = MainWindow(scene, path, recovery_dir=recovery_dir)
    if path is not None:
        window.remember_recent(path)
    problem = portaudio_problem()
    if problem:
        log.warning("%s", problem)
    window.set_audio_status(problem)
    if offer_recovery:
        window.offer_recovery()
    return window


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from PySide6.QtWidgets import QApplication

    from workbench.gui.shell.settings import THEME
    from workbench.gui.shell.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    apply_theme(app, args.theme or THEME.get())
    window = build_window(args.scene)
    window.show()
    log.info("window shown: %s", window.windowTitle().replace("[*]", ""))
    if args.quit_after is not None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(max(args.quit_after, 0), window.close)
        QTimer.singleShot(max(args.quit_after, 0), app.quit)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
