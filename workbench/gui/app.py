"""Entry point of the desktop app: `acoustic-workbench [FILE|PRESET] [--theme dark|light]`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from workbench import APP_NAME, ORG_NAME, __version__

if TYPE_CHECKING:
    from sim.scene import Scene

log = logging.getLogger("workbench")

MAX_REASON_CHARS = 500


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


def show_error(parent, title: str, text: str) -> None:
    """Show a start-up error without blocking start-up (window-modal over `parent`; tests
    replace this)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok,
                      parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def load_initial_scene(ref: str | None) -> tuple[Scene, Path | None, str]:
    """(scene, path or None, problem) for `ref`: a file or name that does not load gives the
    `default` preset and the one-line reason ("" when it loaded)."""
    from sim.scene_io import SceneError, load_scene

    if ref:
        try:
            scene = load_scene(ref)
        except Exception as e:  # any bad file (SceneError, OSError, worse): start-up goes on
            reason = str(e) if isinstance(e, SceneError) else f"{type(e).__name__}: {e}"
            if len(reason) > MAX_REASON_CHARS:
                reason = reason[:MAX_REASON_CHARS - 1] + "…"
            log.error("cannot open %s: %s", ref, reason)
            return load_scene("default"), None, f"Cannot open {ref}: {reason}"
        path = Path(ref)
        return scene, (path if path.is_file() else None), ""
    return load_scene("default"), None, ""


def build_window(ref: str | None = None, *, recovery_dir=None, offer_recovery: bool = True):
    """The main window as the app starts it: the exception hook, the scene `ref` (or the
    default preset, with a message, when it does not load), the audio check, and the offer to
    restore an autosave left by a crash."""
    from workbench.gui.audio.portaudio import portaudio_problem
    from workbench.gui.shell.exception_hook import install_exception_hook
    from workbench.gui.shell.main_window import MainWindow

    install_exception_hook()
    scene, path, problem = load_initial_scene(ref)
    window = MainWindow(scene, path, recovery_dir=recovery_dir)
    if path is not None:
        window.remember_recent(path)
    audio = portaudio_problem()
    if audio:
        log.warning("%s", audio)
    window.set_audio_status(audio)
    if problem:
        window.statusBar().showMessage(f"{problem} — opened the default scene instead.", 15000)
        show_error(window, "Cannot open scene", f"{problem}\n\nOpening the default scene instead.")
    if offer_recovery:
        window.offer_recovery()
    return window


def _close_then_quit(app, window) -> None:
    """Close the window (its closeEvent stops the audio and joins the job threads), then quit:
    never the other way round."""
    if window.close():
        app.quit()


def _tear_down(window, hook) -> None:
    """After the event loop, in a fixed order: jobs and audio stopped (a quit that closed no
    window skipped closeEvent), queued signals delivered (the job runners drop their finished
    threads), no more error dialogs, the window and its children deleted while the
    QApplication still exists."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.shut_down()
    QCoreApplication.sendPostedEvents()
    hook.uninstall()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _exit_now(code: int) -> NoReturn:
    """End the process without Python's finalization. By now every window, thread and stream
    is gone; what is left are the QApplication and module-level Qt wrappers (pyqtgraph's among
    them), which the interpreter would destroy in whatever order its garbage collection finds
    them — Qt wants them gone in one order, and `acoustic-workbench --quit-after 300` segfaulted
    in that teardown about once in 60 launches. The log and stdio are flushed first; the
    settings are on disk already (each `Setting.set` writes through a QSettings it drops)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or a broken pipe: nothing more to say there
            pass
    os._exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the app; the process ends here with the event loop's exit code (`_exit_now`)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from workbench.gui.shell.exception_hook import install_exception_hook
    from workbench.gui.shell.settings import THEME
    from workbench.gui.shell.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    hook = install_exception_hook()
    apply_theme(app, args.theme or THEME.get())
    window = build_window(args.scene)
    window.show()
    log.info("window shown: %s", window.windowTitle().replace("[*]", ""))
    if args.quit_after is not None:
        QTimer.singleShot(max(args.quit_after, 0), lambda: _close_then_quit(app, window))
    code = app.exec()
    _tear_down(window, hook)
    _exit_now(code)


if __name__ == "__main__":
    main()
