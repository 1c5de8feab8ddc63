"""Actions declared once as data, made into QActions in one place, and the menu bar and the
toolbar built from them (the napari `_app_model` pattern).

An `Action` says what a command is — its id (the QAction's objectName, which tests and code
look up), text, keys, tip, where it appears (a menu of `MENUS` and a section in it, a section
of the main toolbar) — and what it does: `handler(owner)` when triggered (`handler(owner,
checked)` for a checkable one), enabled while `enabled_when(owner)`, first checked when
`checked_when(owner)`. `ActionSet(owner, actions)` makes the QActions of one owner (the
window, a workspace, a panel); `ActionRegistry` collects a window's sets and builds the menus
and the toolbar from them.

The window's own commands (File, Edit, View, Simulate, Help) are declared here
(`window_actions`); a feature declares its commands next to their handlers (the Design menu in
`gui.design.workspace`, the Audio menu in `gui.render.panel`) and adds its set to the window's
registry. `MENUS` is the menu bar's layout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget

from sim.presets import list_presets
from workbench import APP_NAME
from workbench.gui.shell.theme import THEMES, current_theme

Key = str | QKeySequence.StandardKey
"""A key sequence ("Ctrl+G") or a standard key (all its platform bindings)."""


@dataclass(frozen=True)
class Action:
    """One command. `menu`: a `Menu.id` ("" = in no menu), `group`: its section there
    (separators between sections); `toolbar`: its section of the main toolbar (None = not
    there); entries keep their declaration order within a section. `make(owner)`: a QAction
    Qt makes itself (undo, a dock's toggle), given this action's id, keys and tips (and its
    text when `text` is not empty). `exclusive`: actions with the same name are one radio
    group. `panel_only`: the keys work only while focus is in the owner (a widget)."""

    id: str
    text: str = ""
    handler: Callable[..., Any] | None = None
    keys: tuple[Key, ...] = ()
    tip: str = ""
    menu: str = ""
    group: int = 0
    toolbar: int | None = None
    checkable: bool = False
    exclusive: str = ""
    enabled_when: Callable[[Any], bool] | None = None
    checked_when: Callable[[Any], bool] | None = None
    panel_only: bool = False
    make: Callable[[Any], QAction] | None = None
    attr: str = ""
    """The owner's attribute that holds the QAction ("" = none)."""


@dataclass(frozen=True)
class Menu:
    """A menu: `id` "file" is in the menu bar, "file/recent" in the File menu (in section
    `group`, after that section's actions); `name` is its objectName."""

    id: str
    title: str
    name: str
    group: int = 0

    @property
    def parent(self) -> str:
        return self.id.rpartition("/")[0]


MENUS = (
    Menu("file", "&File", "menuFile"),
    Menu("file/presets", "New from &Preset", "menuNewFromPreset", group=0),
    Menu("file/recent", "Open &Recent", "menuRecent", group=1),
    Menu("edit", "&Edit", "menuEdit"),
    Menu("device", "Dev&ice", "menuDevice"),
    Menu("view", "&View", "menuView"),
    Menu("view/theme", "&Theme", "menuTheme", group=3),
    Menu("simulate", "&Simulate", "menuSimulate"),
    Menu("design", "&Design", "menuDesign"),
    Menu("design/presets", "&Method Presets", "menuDesignPresets", group=0),
    Menu("audio", "&Audio", "menuAudio"),
    Menu("help", "&Help", "menuHelp"),
)


def key_sequences(keys: Iterable[Key]) -> list[QKeySequence]:
    """Every binding of `keys`, in order, without repeats."""
    out: list[QKeySequence] = []
    for key in keys:
        for seq in (QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey)
                    else [QKeySequence(key)]):
            if not seq.isEmpty() and seq not in out:
                out.append(seq)
    return out


def _tooltip(action: Action, tip: str) -> str:
    """The tip with the declared keys (a standard key: its first binding)."""
    firsts = [seq[0] for seq in (key_sequences([k]) for k in action.keys) if seq]
    shown = " / ".join(dict.fromkeys(
        s.toString(QKeySequence.SequenceFormat.NativeText) for s in firsts))
    return f"{tip} ({shown})" if shown else tip


class ActionSet:
    """The QActions of `actions` for `owner`, by id (`action_set["actionSave"]`). A widget
    owner also gets each action added (its keys work while it is shown)."""

    def __init__(self, owner: QObject, actions: Iterable[Action]):
        self.owner = owner
        self.specs = tuple(actions)
        self.qactions: dict[str, QAction] = {}
        groups: dict[str, QActionGroup] = {}
        for spec in self.specs:
            action = self._make(spec)
            if spec.exclusive:
                if spec.exclusive not in groups:
                    groups[spec.exclusive] = QActionGroup(owner)
                groups[spec.exclusive].addAction(action)
            self.qactions[spec.id] = action
            if spec.attr:
                setattr(owner, spec.attr, action)
            if isinstance(owner, QWidget):
                owner.addAction(action)
        self.refresh()

    def _make(self, spec: Action) -> QAction:
        action = spec.make(self.owner) if spec.make is not None else QAction(spec.text,
                                                                              self.owner)
        if spec.text:
            action.setText(spec.text)
        action.setObjectName(spec.id)
        if spec.keys:
            action.setShortcuts(key_sequences(spec.keys))
        if spec.panel_only:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        tip = spec.tip or action.text().replace("&", "").rstrip(".…")
        action.setStatusTip(tip)
        action.setToolTip(_tooltip(spec, tip))
        if spec.checkable:
            action.setCheckable(True)
        if spec.checked_when is not None:
            action.blockSignals(True)  # the first state is a setting, not a user's choice
            action.setChecked(spec.checked_when(self.owner))
            action.blockSignals(False)
        if spec.handler is not None:
            self._connect(action, spec)
        return action

    def _connect(self, action: QAction, spec: Action) -> None:
        owner, handler = self.owner, spec.handler
        if not action.isCheckable():
            action.triggered.connect(lambda _checked=False: handler(owner))
        elif spec.exclusive or spec.make is not None:
            # a radio item or a dock's toggle: the user's choice only (a toggle also follows
            # the dock's visibility)
            action.triggered.connect(lambda checked: handler(owner, checked))
        else:
            action.toggled.connect(lambda checked: handler(owner, checked))

    def __getitem__(self, action_id: str) -> QAction:
        return self.qactions[action_id]

    def refresh(self) -> None:
        """Enable each action as its `enabled_when` says."""
        for spec in self.specs:
            if spec.enabled_when is not None:
                self.qactions[spec.id].setEnabled(bool(spec.enabled_when(self.owner)))


class ActionRegistry:
    """The action sets of one window, and the menus and the toolbar built from them."""

    def __init__(self) -> None:
        self.sets: list[ActionSet] = []
        self.menus: dict[str, QMenu] = {}

    def add(self, owner: QObject, actions: Iterable[Action]) -> ActionSet:
        """Make `actions` for `owner` and register them."""
        return self.include(ActionSet(owner, actions))

    def include(self, action_set: ActionSet) -> ActionSet:
        """Register a set made by its owner."""
        self.sets.append(action_set)
        return action_set

    def _entries(self) -> list[tuple[Action, QAction]]:
        return [(spec, s.qactions[spec.id]) for s in self.sets for spec in s.specs]

    def __getitem__(self, action_id: str) -> QAction:
        return next(q for spec, q in self._entries() if spec.id == action_id)

    def refresh(self) -> None:
        for s in self.sets:
            s.refresh()

    def build_menus(self, bar: QMenuBar, menus: tuple[Menu, ...] = MENUS) -> None:
        """Fill the menu bar: each top-level menu of `menus`, its actions and submenus."""
        for menu in menus:
            if not menu.parent:
                self._fill(bar.addMenu(menu.title), menu, menus)

    def _fill(self, qmenu: QMenu, menu: Menu, menus: tuple[Menu, ...]) -> None:
        qmenu.setObjectName(menu.name)
        self.menus[menu.id] = qmenu
        items: list[tuple[int, int, QAction | Menu]] = [
            (spec.group, 0, q) for spec, q in self._entries() if spec.menu == menu.id]
        items += [(sub.group, 1, sub) for sub in menus if sub.parent == menu.id]
        items.sort(key=lambda item: item[:2])  # stable: declaration order within a section
        section = None
        for group, _kind, item in items:
            if section is not None and group != section:
                qmenu.addSeparator()
            section = group
            if isinstance(item, Menu):
                self._fill(qmenu.addMenu(item.title), item, menus)
            else:
                qmenu.addAction(item)

    def build_toolbar(self, toolbar: QToolBar) -> None:
        """The actions with a toolbar section, by section, separators between sections."""
        entries = sorted(((spec.toolbar, q) for spec, q in self._entries()
                          if spec.toolbar is not None), key=lambda e: e[0])
        section = None
        for group, action in entries:
            if section is not None and group != section:
                toolbar.addSeparator()
            section = group
            toolbar.addAction(action)


# -- the window's commands ---------------------------------------------------------------------
def _dock_toggle(attr: str) -> Callable[[Any], QAction]:
    return lambda w: getattr(w, attr).toggleViewAction()


def _theme_actions() -> tuple[Action, ...]:
    return tuple(Action(f"actionTheme_{t}", f"&{t.capitalize()}",
                        lambda w, _on, t=t: w.set_theme(t), tip=f"Switch to the {t} theme",
                        menu="view/theme", checkable=True, exclusive="theme",
                        checked_when=lambda _w, t=t: current_theme() == t)
                 for t in THEMES)


def _preset_actions() -> tuple[Action, ...]:
    return tuple(Action(f"actionPreset_{info.name}", info.name,
                        lambda w, n=info.name: w.new_from_preset(n), tip=info.description,
                        menu="file/presets")
                 for info in list_presets("scene"))


def _edit_actions() -> tuple[Action, ...]:
    """Edit ▸ Add …, Delete, Duplicate (owner: the `MainWindow`, its `scene_editor`)."""
    selection = lambda w: w.scene_editor.can_edit_selection()  # noqa: E731 — two actions
    adds = tuple(Action(f"actionAdd{name}", f"Add {text}", lambda w, k=kind: w.scene_editor.add(k),
                        tip=f"Add a {tip} at the centre of the view (right-click the floor plan"
                        " to add one where you click)", menu="edit", group=1)
                 for name, text, kind, tip in (
                     ("Listener", "&Listener", "listener", "listener"),
                     ("Talker", "&Talker", "talker", "talker"),
                     ("Noise", "&Noise Source", "noise", "noise source")))
    return (*adds,
            Action("actionDelete", "&Delete", lambda w: w.scene_editor.delete(), ("Del",),
                   "Delete the selected listener or source", menu="edit", group=2,
                   enabled_when=selection, attr="action_delete"),
            Action("actionDuplicate", "D&uplicate", lambda w: w.scene_editor.duplicate(),
                   ("Ctrl+D",), "Duplicate the selected listener or source", menu="edit",
                   group=2, enabled_when=selection, attr="action_duplicate"))


def window_actions() -> tuple[Action, ...]:
    """The commands of the main window (owner: the `MainWindow`)."""
    ks = QKeySequence.StandardKey
    idle = lambda w: not w.runner.is_running  # noqa: E731 — one predicate, three actions
    return (
        Action("actionNew", "&New", lambda w: w.new_from_preset("default"), (ks.New,),
               "New scene from the default preset", menu="file", attr="action_new"),
        Action("actionNewEmptyRoom", "New &Empty Room", lambda w: w.new_empty_room(),
               ("Ctrl+Shift+N",), "New scene: the default room and device, no listeners and no"
               " sources", menu="file", attr="action_new_empty_room"),
        *_preset_actions(),
        Action("actionOpen", "&Open…", lambda w: w.open_file(), (ks.Open,),
               "Open a scene file", menu="file", group=1, toolbar=0, attr="action_open"),
        Action("actionSave", "&Save", lambda w: w.save(), (ks.Save,), "Save the scene",
               menu="file", group=2, toolbar=0, attr="action_save"),
        Action("actionSaveAs", "Save &As…", lambda w: w.save_as(), (ks.SaveAs, "Ctrl+Shift+S"),
               "Save the scene to a new file", menu="file", group=2, attr="action_save_as"),
        Action("actionQuit", "&Quit", lambda w: w.close(), (ks.Quit, "Ctrl+Q"),
               "Quit the application", menu="file", group=3, attr="action_quit"),
        Action("actionUndo", keys=(ks.Undo,), tip="Undo", menu="edit", toolbar=1,
               make=lambda w: w.document.undo_stack.createUndoAction(w, "&Undo"),
               attr="action_undo"),
        Action("actionRedo", keys=(ks.Redo, "Ctrl+Y"), tip="Redo", menu="edit", toolbar=1,
               make=lambda w: w.document.undo_stack.createRedoAction(w, "&Redo"),
               attr="action_redo"),
        *_edit_actions(),
        Action("actionViewProperties", menu="view", make=_dock_toggle("properties_dock")),
        Action("actionViewTransfer", menu="view", make=_dock_toggle("transfer_dock")),
        Action("actionViewHistory", menu="view", make=_dock_toggle("history_dock")),
        Action("actionResetLayout", "&Reset Layout", lambda w: w.docks.reset_layout(),
               tip="Put every dock back where it starts and hide the tool panels",
               menu="view", group=1, attr="action_reset_layout"),
        Action("actionSnap", "&Snap to Grid (5 cm, 5°)", lambda w, on: w.set_snapping(on),
               ("Ctrl+G",), "Snap moves to a 5 cm grid and rotations to 5°", menu="view",
               group=2, toolbar=2, checkable=True, checked_when=lambda w: w.view.snapping,
               attr="action_snap"),
        Action("actionFit", "&Fit to Room", lambda w: w.view.fit_to_room(), ("Ctrl+0",),
               "Zoom to show the whole room", menu="view", group=2, toolbar=2,
               attr="action_fit"),
        Action("actionZoomIn", "Zoom &In", lambda w: w.view.zoom_by(1.25), (ks.ZoomIn,),
               "Zoom in", menu="view", group=2, attr="action_zoom_in"),
        Action("actionZoomOut", "Zoom &Out", lambda w: w.view.zoom_by(0.8), (ks.ZoomOut,),
               "Zoom out", menu="view", group=2, attr="action_zoom_out"),
        *_theme_actions(),
        Action("actionSimulateFreeField", "&Free Field", lambda w: w.simulate("freefield"),
               ("F5",), "Simulate the free-field transfer", menu="simulate", toolbar=3,
               enabled_when=idle, attr="action_sim_free"),
        Action("actionSimulateRoomEarly", "Room (&early only)",
               lambda w: w.simulate("room", early_only=True), ("Shift+F5",),
               "Simulate the early part of the room response (fast)", menu="simulate",
               toolbar=3, enabled_when=idle, attr="action_sim_early"),
        Action("actionSimulateRoom", "&Room (full)", lambda w: w.simulate("room"),
               ("Ctrl+F5",), "Simulate the room (image sources + ray tracing)",
               menu="simulate", toolbar=3, enabled_when=idle, attr="action_sim_room"),
        Action("actionStop", "&Stop", lambda w: w.cancel_job(), ("Ctrl+.",),
               "Cancel the running simulation", menu="simulate", group=1, toolbar=3,
               enabled_when=lambda w: w.runner.is_running, attr="action_stop"),
        Action("actionMouseHelp", "&Mouse and Keys", lambda w: w.show_mouse_help(), ("F1",),
               menu="help", attr="action_help_mouse"),
        Action("actionAbout", f"&About {APP_NAME}", lambda w: w.show_about(), menu="help",
               attr="action_about"),
    )
