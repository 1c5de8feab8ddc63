"""GUI test fixtures: offscreen Qt, isolated QSettings and recovery folder, no native dialogs."""

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from workbench.gui.app import build_window, configure_application
from workbench.gui.shell import recovery
from workbench.gui.shell.theme import apply_theme

SB = QMessageBox.StandardButton


@dataclass
class Dialogs:
    """Stand-ins for the static QMessageBox / QFileDialog functions.

    `answers[kind]` is what a message box of that kind returns; `save_path` / `open_path` are
    what the file dialogs return ("" = cancelled). Every call is recorded in `calls` as
    (kind, title, text).
    """

    calls: list = field(default_factory=list)
    answers: dict = field(default_factory=lambda: {"question": SB.No, "warning": SB.Discard,
                                                   "critical": SB.Ok, "information": SB.Ok})
    save_path: str | None = None
    open_path: str | None = None

    def kinds(self) -> list[str]:
        return [c[0] for c in self.calls]

    def texts(self, kind: str) -> list[str]:
        return [c[2] for c in self.calls if c[0] == kind]


@pytest.fixture(autouse=True)
def collect_garbage_between_tests():
    """No automatic garbage collection during a GUI test, one collection between two
    tests (set up first: the previous test's fixtures are gone by then, its windows with
    them). A collection that ran inside Qt's event loop while a job thread was busy segfaulted
    once; this keeps the wrappers of one test's widgets from being finalized in the middle of
    the next test's events.

    What survives that collection is frozen (`gc.freeze`): the modules and caches all tests
    share are then not walked again by every later collection (that walk was most of each
    test's teardown), which only looks at what was made since. Frozen objects are still freed
    by reference counting.

    The widgets qtbot closed are deleted at teardown: qtbot calls `deleteLater()`, but
    `processEvents()` outside an event loop never runs deferred deletes, so without this every
    window of the session stayed alive (thousands of widgets each) and every later test got
    slower (the theme re-polishes every widget, each event walks them)."""
    gc.collect()
    gc.freeze()
    gc.disable()
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.enable()


@pytest.fixture(autouse=True)
def isolated_app(qapp, tmp_path, monkeypatch):
    """Fresh QSettings (INI in tmp_path), recovery folder in tmp_path, dark theme."""
    configure_application(qapp)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    QSettings().clear()
    monkeypatch.setattr(recovery, "default_recovery_dir", lambda: tmp_path / "recovery")
    apply_theme(qapp, "dark")
    yield
    QSettings().clear()


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    d = Dialogs()

    def box(kind):
        def show(parent, title, text, *args, **kwargs):
            d.calls.append((kind, title, text))
            return d.answers.get(kind, SB.Ok)

        return staticmethod(show)

    for kind in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, box(kind))
    monkeypatch.setattr(QMessageBox, "about", staticmethod(
        lambda parent, title, text: d.calls.append(("about", title, text))))

    def save_name(parent=None, caption="", directory="", filter="", *a, **k):
        d.calls.append(("save-dialog", caption, directory))
        assert d.save_path is not None, "unexpected Save dialog"
        return d.save_path, filter

    def open_name(parent=None, caption="", directory="", filter="", *a, **k):
        d.calls.append(("open-dialog", caption, directory))
        assert d.open_path is not None, "unexpected Open dialog"
        return d.open_path, filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_name))
    return d


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build main windows the way the app does (`build_window`), shown and exposed."""

    def make(ref=None, **kwargs):
        w = build_window(ref, recovery_dir=tmp_path / "recovery", **kwargs)
        qtbot.addWidget(w)
        w.resize(1280, 860)
        w.show()
        qtbot.waitExposed(w)
        w.view.fit_to_room()
        return w

    return make


@pytest.fixture
def window(make_window):
    return make_window()
