"""The main window's docks and their layout: every dock's content scrolls (a dock never raises
the window's minimum size, so any set of open docks fits a 1366 × 768 screen), the default
layout (a fresh start and View ▸ Reset Layout), tool panels that join Transfer's tabs when first
shown, and the saved geometry and dock state (restored clamped to the screen).

The default layout, from the `Place` each dock is added with: Properties and History tabbed on
the right, Design on the left, Transfer, Cancellation and Filters tabbed at the bottom beside
Polar and Azimuth Map; the tool panels (Renderer, Enhancement, DRED) hidden. Docks join their
tab groups after the window is shown, one per group and event-loop turn: Qt 6.11 leaves a stale
tab bar painted over the window (and a group whose current tab cannot be changed) when docks are
tabified before the window is laid out or into an existing group in the same turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

from workbench.gui.shell.settings import WINDOW_GEOMETRY, WINDOW_STATE

DEFAULT_SIZE = (1380, 880)
"""The window's first size in px (made smaller to fit the screen)."""

Area = Qt.DockWidgetArea


@dataclass(frozen=True)
class Place:
    """Where a dock goes in the default layout. `tab_with`: the objectName of the dock whose
    tab group it joins; `front`: its tab is the group's current one; `tool`: hidden until
    first shown (`Docks.show_tool`), then a tab of `tab_with`; width, height: its size in px
    (0 = Qt's share); `width_share`: at least this fraction of the window's width. A dock
    with a width, and a tool panel, is at least as wide as its content's minimum."""

    area: Area
    tab_with: str = ""
    front: bool = False
    tool: bool = False
    width: int = 0
    height: int = 0
    width_share: float = 0.0


class _Sheet(QWidget):
    """Holds `content` at its own size and reports the content's size hints but not its
    height-for-width: a scroll area then fills its viewport with the content and scrolls only
    below the content's minimum (with height-for-width it sizes the content to its preferred
    height: plots would scroll in any dock shorter than that)."""

    def __init__(self, content: QWidget):
        super().__init__()
        self.content = content
        content.setParent(self)

    def sizeHint(self) -> QSize:
        return self.content.sizeHint()

    def minimumSizeHint(self) -> QSize:
        return self.content.minimumSizeHint().expandedTo(self.content.minimumSize())

    def resizeEvent(self, event) -> None:
        self.content.setGeometry(self.rect())

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the content's hints changed
            self.updateGeometry()
        return super().event(event)


def scrolling(widget: QWidget) -> QScrollArea:
    """`widget` in a frameless scroll area that gives it all the room there is: smaller than
    the widget's minimum, the area scrolls instead of holding the window open."""
    area = QScrollArea()
    area.setWidget(_Sheet(widget))
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def clamped(rect: QRect, available: QRect) -> QRect:
    """`rect` made no larger than `available` and moved inside it."""
    width, height = min(rect.width(), available.width()), min(rect.height(), available.height())
    left = min(max(rect.left(), available.left()), available.right() - width + 1)
    top = min(max(rect.top(), available.top()), available.bottom() - height + 1)
    return QRect(left, top, width, height)


class Docks(QObject):
    """The docks of `window` (a QMainWindow): `add` them, then `restore` once all are there."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.places: dict[str, Place] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._placed: set[str] = set()
        self._rounds: list[list[str]] = []
        self._shown = False
        self._restored = QRect()

    def add(self, title: str, name: str, widget: QWidget, place: Place) -> QDockWidget:
        """A dock `name` (its objectName, kept in the saved state) holding `widget`."""
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(scrolling(widget))
        self.window.addDockWidget(place.area, dock, _orientation(place.area))
        self.docks[name] = dock
        self.places[name] = place
        return dock

    # -- layout ----------------------------------------------------------------------------------
    def restore(self) -> None:
        """The saved geometry and dock state, else the default size and layout; the window
        clamped to its screen's available area either way."""
        w = self.window
        geometry = WINDOW_GEOMETRY.get()
        if geometry is None or not w.restoreGeometry(geometry):
            w.resize(*DEFAULT_SIZE)
        state = WINDOW_STATE.get()
        if state is not None and w.restoreState(state):
            self._placed = set(self.docks)
        else:
            self.arrange()
        self.fit_to_screen()
        self._restored = w.geometry()

    def save(self) -> None:
        WINDOW_GEOMETRY.set(self.window.saveGeometry())
        WINDOW_STATE.set(self.window.saveState())

    def fit_to_screen(self) -> None:
        """Keep the window (not maximized or full screen) and its frame, where the frame is
        known yet, inside its screen's available area."""
        w = self.window
        if w.isMaximized() or w.isFullScreen():
            return
        screen = QGuiApplication.screenAt(w.geometry().center()) or w.screen()
        if screen is None:
            return
        frame, inner = w.frameGeometry(), w.geometry()
        room = screen.availableGeometry().adjusted(
            inner.left() - frame.left(), inner.top() - frame.top(),
            inner.right() - frame.right(), inner.bottom() - frame.bottom())
        fitted = clamped(inner, room)
        if fitted != inner:
            w.setGeometry(fitted)

    def arrange(self) -> None:
        """The default layout: each dock in its area, tool panels hidden; the tab groups form
        once the window is shown (see the module's docstring)."""
        w = self.window
        for name, dock in self.docks.items():
            place = self.places[name]
            w.removeDockWidget(dock)  # out of any tab group; floating or not
            w.addDockWidget(place.area, dock, _orientation(place.area))
            dock.setFloating(False)
            dock.setVisible(not (place.tool or place.tab_with))
        self._placed = {n for n, p in self.places.items() if not p.tool}
        # Round k holds the k-th dock to join each group: one round per event-loop turn.
        self._rounds = []
        joined: dict[str, int] = {}
        for name, place in self.places.items():
            if place.tab_with and not place.tool:
                k = joined[place.tab_with] = joined.get(place.tab_with, -1) + 1
                if k == len(self._rounds):
                    self._rounds.append([])
                self._rounds[k].append(name)
        self._apply_sizes(sorted(self._placed))
        if self._shown:
            QTimer.singleShot(0, self._join_next)

    def reset_layout(self) -> None:
        """View ▸ Reset Layout: the default layout now."""
        self.arrange()

    def window_shown(self) -> None:
        """Call from the window's first show: the default layout's tab groups form."""
        if not self._shown:
            self._shown = True
            if self.window.geometry() == self._restored:  # not resized since: fit the frame too
                self.fit_to_screen()
            if self._rounds:
                QTimer.singleShot(0, self._join_next)

    def _join_next(self) -> None:
        """The next round of docks into their tab groups; the sizes after the last."""
        if not self._rounds:
            return
        for name in self._rounds.pop(0):
            self._tabify(name)
        if self._rounds:
            QTimer.singleShot(0, self._join_next)
            return
        # The rows that gained a tab group share their room out again.
        areas = {p.area for p in self.places.values() if p.tab_with and not p.tool}
        self._apply_sizes(sorted(n for n in self._placed if self.places[n].area in areas
                                 and not self.places[n].tab_with))

    def _tabify(self, name: str) -> None:
        """Join `name`'s tab group; the group's front tab stays (or comes) in front."""
        dock, group = self.docks[name], self.places[name].tab_with
        self.window.tabifyDockWidget(self.docks[group], dock)
        dock.show()
        for n, place in self.places.items():
            if place.front and (n == group or place.tab_with == group) \
                    and not self.docks[n].isHidden():
                self.docks[n].raise_()

    def _apply_sizes(self, names: list[str]) -> None:
        w = self.window
        for orientation, size in ((Qt.Orientation.Horizontal, self._width),
                                  (Qt.Orientation.Vertical, lambda n: self.places[n].height)):
            sized = [(self.docks[n], size(n)) for n in names
                     if size(n) and not self.docks[n].isHidden()]
            if sized:
                w.resizeDocks([d for d, _ in sized], [s for _, s in sized], orientation)

    def _width(self, name: str) -> int:
        """A dock's default width in px (0 = Qt's share); a sized dock or a tool panel gets at
        least its content's minimum width (a scrolling dock could be narrower)."""
        place = self.places[name]
        wanted = max(place.width, round(place.width_share * self.window.width()))
        if not (wanted or place.tool):
            return 0
        return max(wanted, self.docks[name].widget().widget().minimumSizeHint().width())

    # -- tool panels -----------------------------------------------------------------------------
    def show_tool(self, name: str) -> None:
        """Show and raise a dock; a tool panel not yet placed since the default layout first
        joins its tab group, and gets its size once it is laid out there."""
        dock = self.docks[name]
        if name not in self._placed:
            self._placed.add(name)
            self.window.tabifyDockWidget(self.docks[self.places[name].tab_with], dock)
            dock.show()
            QTimer.singleShot(0, self, lambda: self._size_tool(name))
        dock.show()
        dock.raise_()

    def _size_tool(self, name: str) -> None:
        """The tool panel's height, and its width taken from the docks beside it, each giving
        up room in proportion to its width (Qt alone gives a dock only part of a new width)."""
        w, dock = self.window, self.docks[name]
        if dock.isHidden():
            return
        if self.places[name].height:
            w.resizeDocks([dock], [self.places[name].height], Qt.Orientation.Vertical)
        wanted = self._width(name)
        band = dock.geometry()
        row = [d for d in self.docks.values()
               if d is not dock and not d.isHidden() and not d.isFloating()
               and w.dockWidgetArea(d) == w.dockWidgetArea(dock)
               and w.rect().contains(d.geometry().center())  # not a tab behind another
               and d.geometry().top() < band.bottom() and band.top() < d.geometry().bottom()]
        widths = [d.width() for d in row]
        rest = max(sum(widths) + dock.width() - wanted, 0)
        shares = [round(rest * x / sum(widths)) for x in widths] if sum(widths) else []
        w.resizeDocks([dock, *row], [wanted, *shares], Qt.Orientation.Horizontal)

def _orientation(area: Area) -> Qt.Orientation:
    """Docks side by side along the window's bottom or top edge, stacked on its sides."""
    if area in (Area.TopDockWidgetArea, Area.BottomDockWidgetArea):
        return Qt.Orientation.Horizontal
    return Qt.Orientation.Vertical
