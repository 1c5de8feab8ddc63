"""One hook for the exceptions nothing caught: raised inside a Qt slot or event handler
(`sys.excepthook`, which PySide6 calls for them) or in a Python worker thread
(`threading.excepthook`). Each is logged with its traceback and shown in an error dialog
(`show_exception_dialog`, non-modal: the app keeps running), on the GUI thread whichever thread
raised it, after the failing slot has returned.

`install_exception_hook()` is called by `app.main` and by `app.build_window` (so tests run under
it); calling it again is harmless. A hook installed before ours that is not Python's default
(pytest-qt's, which fails the test; a debugger's) still sees every exception.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger("workbench")

TITLE = "Unexpected error"
MAX_SUMMARY_CHARS = 300


def show_exception_dialog(parent: QWidget | None, summary: str, details: str) -> QWidget | None:
    """Show a non-modal error dialog with the traceback under "Show Details…" (tests replace
    this); returns it (the hook shows no second one while it is open)."""
    box = QMessageBox(QMessageBox.Icon.Critical, TITLE,
                      f"{summary}\n\nThe operation was abandoned; the app keeps running. The "
                      "details are in the log. Saving your work under a new name is a good idea.",
                      QMessageBox.StandardButton.Ok, parent)
    box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setModal(False)
    box.show()
    return box


class ExceptionHook(QObject):
    """Logs uncaught exceptions at once (any thread) and shows them on the GUI thread."""

    raised = Signal(str, str)  # summary, traceback text

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.count = 0
        self._dialog: QWidget | None = None
        self._previous = (sys.__excepthook__, threading.__excepthook__)
        # Always queued: the dialog opens after the failing slot, from the GUI thread.
        self.raised.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        if sys.excepthook != self.on_exception:
            self._previous = (sys.excepthook, self._previous[1])
            sys.excepthook = self.on_exception
        if threading.excepthook != self.on_thread_exception:
            self._previous = (self._previous[0], threading.excepthook)
            threading.excepthook = self.on_thread_exception

    def uninstall(self) -> None:
        """Put back the hooks found at `install` (the app is shutting down)."""
        if sys.excepthook == self.on_exception:
            sys.excepthook = self._previous[0]
        if threading.excepthook == self.on_thread_exception:
            threading.excepthook = self._previous[1]

    def on_exception(self, exc_type: type[BaseException], exc: BaseException,
                     tb: TracebackType | None) -> None:
        self._report(exc_type, exc, tb, where="")
        previous = self._previous[0]
        if previous is not sys.__excepthook__:  # the default would print it a second time
            previous(exc_type, exc, tb)

    def on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        self._report(args.exc_type, args.exc_value, args.exc_traceback,
                     where=f" in thread {name}")
        previous = self._previous[1]
        if previous is not threading.__excepthook__:
            previous(args)

    def _report(self, exc_type, exc, tb, where: str) -> None:
        self.count += 1
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("uncaught exception%s:\n%s", where, details.rstrip())
        summary = f"{exc_type.__name__}{where}: {exc}"
        if len(summary) > MAX_SUMMARY_CHARS:
            summary = summary[:MAX_SUMMARY_CHARS - 1] + "…"
        if shiboken6.isValid(self):  # not after the application is gone
            self.raised.emit(summary, details)

    def _show(self, summary: str, details: str) -> None:
        if self._dialog is not None and shiboken6.isValid(self._dialog) \
                and self._dialog.isVisible():
            return  # one at a time: a failing timer would open one per tick
        self._dialog = show_exception_dialog(QApplication.activeWindow(), summary, details)


_hook: ExceptionHook | None = None


def install_exception_hook() -> ExceptionHook:
    """The application's hook (made once per QApplication, its child), installed."""
    global _hook
    app = QApplication.instance()
    if _hook is None or not shiboken6.isValid(_hook) or _hook.parent() is not app:
        _hook = ExceptionHook(app)
    _hook.install()
    return _hook
