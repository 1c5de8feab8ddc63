"""Properties panel: the fields of the selected item (or of the scene when nothing is selected).

Every edit goes through `SceneDocument.push` (one undo command; consecutive spin-box steps of
one field merge, a choice or a typed text is a step of its own). An edit the model refuses
(outside the room, out of range) leaves the model unchanged: the field shows the model's value
again, turns red, and the reason is shown under the form and in the status bar. The room's page
is `room_properties`; a source's signal file is chosen with
Browse… (`signal_file`), which shows the file's level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sim.scene import BUILTIN_SIGNALS, Scene
from workbench.gui.scene import edits, room_properties
from workbench.gui.scene.document import SceneDocument
from workbench.gui.scene.signal_file import SignalBrowser
from workbench.gui.shell.theme import current_theme, scene_colors

Getter = Callable[[Scene], Any]
Setter = Callable[[Scene, Any], Scene]


@dataclass
class Field:
    """One editable value: its widget and how to read/write it on a Scene."""

    name: str
    label: str
    widget: QWidget
    get: Getter
    set: Setter


def _spin(lo: float, hi: float, decimals: int = 3, step: float = 0.01, suffix: str = " m",
          ) -> QDoubleSpinBox:
    w = QDoubleSpinBox()
    w.setRange(lo, hi)
    w.setDecimals(decimals)
    w.setSingleStep(step)
    w.setSuffix(suffix)
    w.setKeyboardTracking(False)  # apply on Enter, focus out or arrow step, not per keystroke
    w.setAccelerated(True)
    w.setAlignment(Qt.AlignmentFlag.AlignRight)
    w.setMinimumWidth(110)
    return w


def _set_axis(scene: Scene, key: tuple[str, int], axis: int, value: float) -> Scene:
    p = list(edits.position_of(scene, key))
    p[axis] = float(value)
    return edits.with_position(scene, key, tuple(p))


class PropertiesPanel(QWidget):
    """Form for the selected item. `message(text)` reports refused edits for the status bar."""

    message = Signal(str)

    def __init__(self, document: SceneDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.key: tuple[str, int] | None = None
        self.fields: dict[str, Field] = {}
        self._errors: dict[str, str] = {}
        self._updating = False
        self.measured_decay = self.measured_room = None
        self.last_room = document.scene.room  # brought back when leaving free field

        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setObjectName("propertiesError")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        self.setMinimumWidth(270)
        document.changed.connect(self.refresh)
        self.set_target(None)

    # -- building ------------------------------------------------------------------------------
    def set_target(self, key: tuple[str, int] | None) -> None:
        """Show the fields of `key` (None: the scene)."""
        if key is not None and not edits.exists(self.document.scene, key):
            key = None
        self.key = key
        self.fields = {}
        self._infos: dict[str, QLabel] = {}
        self.rt60_table: room_properties.Rt60Table | None = None
        self._room_layout = room_properties.layout_of(self.document.scene.room)
        self._errors = {}
        self._show_error("")
        content = QWidget()
        box = QVBoxLayout(content)
        box.setContentsMargins(10, 8, 10, 8)
        box.setSpacing(10)
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title.setFont(font)
        box.addWidget(self.title)
        kind = key[0] if key else "scene"
        getattr(self, f"_build_{kind}")(box)
        box.addStretch(1)
        self._scroll.setWidget(content)
        self.refresh()

    def _group(self, box: QVBoxLayout, title: str) -> QFormLayout:
        group = QGroupBox(title)
        form = QFormLayout(group)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        box.addWidget(group)
        return form

    def _add(self, form: QFormLayout, name: str, label: str, widget: QWidget, get: Getter,
             set_: Setter) -> Field:
        field = Field(name, label, widget, get, set_)
        widget.setObjectName(f"field_{name}")
        self.fields[name] = field
        form.addRow(label, widget)
        if isinstance(widget, (QDoubleSpinBox, QSpinBox)):
            widget.valueChanged.connect(lambda _v, f=field: self._commit(f))
        elif isinstance(widget, QLineEdit):
            widget.editingFinished.connect(lambda f=field: self._commit(f))
        elif isinstance(widget, QComboBox):
            widget.activated.connect(lambda _i, f=field: self._commit(f))
            if widget.isEditable():
                widget.lineEdit().editingFinished.connect(lambda f=field: self._commit(f))
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(lambda _v, f=field: self._commit(f))
        return field

    def _info(self, form: QFormLayout, label: str, name: str) -> QLabel:
        w = QLabel()
        w.setObjectName(f"info_{name}")
        w.setWordWrap(True)
        w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(label, w)
        self._infos[name] = w
        return w

    def _position_fields(self, box: QVBoxLayout, kind: str) -> None:
        form = self._group(box, "Position (room frame)")
        key = (kind, self.key[1])
        for axis, name in enumerate("xyz"):
            self._add(form, name, f"{name}", _spin(-1000.0, 1000.0),
                      lambda s, axis=axis: edits.position_of(s, key)[axis],
                      lambda s, v, axis=axis: _set_axis(s, key, axis, v))

    def _build_scene(self, box: QVBoxLayout) -> None:
        form = self._group(box, "Scene")
        self._add(form, "name", "Name", QLineEdit(), lambda s: s.name,
                  lambda s, v: replace(s, name=str(v).strip() or s.name))
        self._info(form, "Description", "description")
        self._info(form, "Contents", "contents")
        form = self._group(box, "Simulation")
        fs = QComboBox()
        fs.setEditable(True)
        fs.addItems(["16000", "22050", "32000", "44100", "48000", "96000"])
        self._add(form, "fs", "Sample rate (Hz)", fs, lambda s: str(s.simulation.fs_hz),
                  lambda s, v: replace(s, simulation=replace(s.simulation, fs_hz=int(v))))
        self._add(form, "early_ms", "Early part", _spin(1.0, 1000.0, 1, 5.0, " ms"),
                  lambda s: s.simulation.early_ms,
                  lambda s, v: replace(s, simulation=replace(s.simulation, early_ms=float(v))))
        self._add(form, "ray_tracing", "Ray tracing", QCheckBox("late tail (room engine)"),
                  lambda s: s.simulation.ray_tracing,
                  lambda s, v: replace(s, simulation=replace(s.simulation, ray_tracing=bool(v))))

    def _build_room(self, box: QVBoxLayout) -> None:
        room_properties.build(self, box)

    def _build_device(self, box: QVBoxLayout) -> None:
        form = self._group(box, "Device")
        self._info(form, "Model", "model")
        self._position_fields(box, "device")
        form = self._group(box, "Orientation")
        self._add(form, "yaw", "Yaw", _spin(-360.0, 360.0, 1, 5.0, " °"),
                  lambda s: s.device.yaw_deg, lambda s, v: s.with_device(yaw_deg=float(v)))
        group = QGroupBox("Drivers (device frame)")
        lay = QVBoxLayout(group)
        tree = QTreeWidget()
        tree.setObjectName("drivers")
        tree.setRootIsDecorated(False)
        tree.setAlternatingRowColors(True)
        tree.setHeaderLabels(["Driver", "Position (m)", "Axis az/el", "Directivity"])
        device = self.document.scene.device
        self._parts_shown = (device.drivers, device.microphones)
        for d in self.document.scene.device.drivers:
            tree.addTopLevelItem(QTreeWidgetItem([
                d.name, ", ".join(f"{v:+.3f}" for v in d.position_m),
                f"{d.axis_deg[0]:g}° / {d.axis_deg[1]:g}°", d.directivity.describe()]))
        for i in range(4):
            tree.resizeColumnToContents(i)
        tree.setMinimumHeight(60 + 22 * min(len(self.document.scene.device.drivers), 8))
        lay.addWidget(tree)
        self.mics_label = QLabel()
        lay.addWidget(self.mics_label)
        box.addWidget(group)

    def _build_listener(self, box: QVBoxLayout) -> None:
        i = self.key[1]
        form = self._group(box, "Listener")
        self._add(form, "name", "Name", QLineEdit(), lambda s: s.listeners[i].name,
                  lambda s, v: s.with_listener(i, name=str(v).strip()))
        self._info(form, "Head model", "hrtf")
        self._position_fields(box, "listener")
        form = self._group(box, "Head")
        self._add(form, "yaw", "Yaw (nose)", _spin(-360.0, 360.0, 1, 5.0, " °"),
                  lambda s: s.listeners[i].yaw_deg,
                  lambda s, v: s.with_listener(i, yaw_deg=float(v)))
        self._add(form, "head_radius", "Head radius", _spin(0.0, 1.0, 4, 0.0025),
                  lambda s: s.listeners[i].head_radius_m,
                  lambda s, v: s.with_listener(i, head_radius_m=float(v)))
        self._add(form, "ear_left", "Left ear", _spin(-180.0, 180.0, 1, 1.0, " °"),
                  lambda s: s.listeners[i].ear_angles_deg[0],
                  lambda s, v: s.with_listener(
                      i, ear_angles_deg=(float(v), s.listeners[i].ear_angles_deg[1])))
        self._add(form, "ear_right", "Right ear", _spin(-180.0, 180.0, 1, 1.0, " °"),
                  lambda s: s.listeners[i].ear_angles_deg[1],
                  lambda s, v: s.with_listener(
                      i, ear_angles_deg=(s.listeners[i].ear_angles_deg[0], float(v))))

    def _build_source(self, box: QVBoxLayout) -> None:
        i = self.key[1]
        form = self._group(box, "Source")
        self._add(form, "name", "Name", QLineEdit(), lambda s: s.sources[i].name,
                  lambda s, v: s.with_source(i, name=str(v).strip()))
        kind = QComboBox()
        kind.addItems(["talker", "noise"])
        self._add(form, "kind", "Kind", kind, lambda s: s.sources[i].kind,
                  lambda s, v: s.with_source(i, kind=str(v)))
        signal = QComboBox()
        signal.setEditable(True)
        signal.addItems([f"builtin:{n}" for n in BUILTIN_SIGNALS])
        field = self._add(form, "signal", "Signal", signal, lambda s: s.sources[i].signal,
                          lambda s, v: s.with_source(i, signal=str(v).strip()))
        self.signal_browser = SignalBrowser(
            lambda path: (self._set_widget(signal, path), self._commit(field)),
            lambda reason: self._refuse(field, reason))
        form.addRow("", self.signal_browser)
        self._add(form, "level_db", "Level @ 1 m", _spin(-200.0, 200.0, 1, 1.0, " dB SPL"),
                  lambda s: s.sources[i].level_db,
                  lambda s, v: s.with_source(i, level_db=float(v)))
        self._position_fields(box, "source")

    # -- model → widgets -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the model's values (called on every document change)."""
        scene = self.document.scene
        if self.key is not None and not edits.exists(scene, self.key):
            self.set_target(None)
            return
        if self.key is not None and self.key[0] == "room" and \
                room_properties.layout_of(scene.room) != self._room_layout:
            self.set_target(self.key)  # the room changed type, wall description or corners
            return
        if self.key is not None and self.key[0] == "device" and \
                self._parts_shown != (scene.device.drivers, scene.device.microphones):
            self.set_target(self.key)  # the device editor changed the driver table
            return
        self._updating = True
        try:
            for field in self.fields.values():
                self._set_widget(field.widget, field.get(scene))
                self._mark(field, False)
            self._errors.clear()
            self._show_error("")
            self._refresh_infos(scene)
        finally:
            self._updating = False

    def _refresh_infos(self, scene: Scene) -> None:
        kind = self.key[0] if self.key else "scene"
        self.title.setText("Scene" if kind == "scene" else edits.label_of(scene, self.key)
                           .replace("'", "‘", 1).replace("'", "’", 1).capitalize())
        infos = self._infos
        if kind == "scene":
            infos["description"].setText(scene.description or "—")
            infos["contents"].setText(
                f"{scene.room.name or scene.room.kind} room, device {scene.device.name}, "
                f"{len(scene.listeners)} listener(s), {len(scene.sources)} source(s)")
        elif kind == "room":
            room_properties.refresh(self, scene)
        elif kind == "device":
            dev = scene.device
            infos["model"].setText(f"{dev.name}" + (f" ({dev.model})" if dev.model and
                                                    dev.model != dev.name else ""))
            self.mics_label.setText(f"{len(dev.drivers)} drivers, "
                                    f"{len(dev.microphones)} microphones")
        elif kind == "source":
            self.signal_browser.show_signal(scene.sources[self.key[1]].signal)
        elif kind == "listener":
            h = scene.listeners[self.key[1]].hrtf
            infos["hrtf"].setText("rigid sphere" if h.type == "sphere" else f"SOFA: {h.file}")

    @staticmethod
    def _set_widget(w: QWidget, value: Any) -> None:
        w.blockSignals(True)
        try:
            if isinstance(w, (QDoubleSpinBox, QSpinBox)):
                w.setValue(value)
            elif isinstance(w, QLineEdit):
                w.setText(str(value))
            elif isinstance(w, QComboBox):
                i = w.findText(str(value))
                if i < 0 and w.isEditable():
                    w.setEditText(str(value))
                else:
                    w.setCurrentIndex(i)
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
        finally:
            w.blockSignals(False)

    @staticmethod
    def _read_widget(w: QWidget) -> Any:
        if isinstance(w, (QDoubleSpinBox, QSpinBox)):
            return w.value()
        if isinstance(w, QLineEdit):
            return w.text()
        if isinstance(w, QComboBox):
            return w.currentText()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        raise TypeError(type(w))

    # -- widgets → model -------------------------------------------------------------------------
    def _commit(self, field: Field) -> None:
        if self._updating:
            return
        scene = self.document.scene
        value = self._read_widget(field.widget)
        try:
            new = field.set(scene, value)
        except (TypeError, ValueError) as e:
            self._refuse(field, f"{field.label} = {value!r}: {e}")
            return
        target = "scene" if self.key is None else edits.label_of(scene, self.key)
        # Spin-box steps of one field merge into one undo step; a choice (type, material,
        # kind) or a typed text is a step of its own.
        spin = isinstance(field.widget, (QDoubleSpinBox, QSpinBox))
        error = self.document.try_push(new, f"Set {field.label.lower()} of {target}",
                                       merge_key=("property", self.key, field.name) if spin
                                       else None)
        if error:
            self._refuse(field, error)
        elif field.name in self._errors:
            self._errors.pop(field.name)
            self._mark(field, False)
            self._show_error("\n".join(self._errors.values()))

    def _refuse(self, field: Field, reason: str) -> None:
        """Keep the model, show why, and put the model's value back in the field (a refused
        value left there would read as applied)."""
        self._updating = True
        try:
            self._set_widget(field.widget, field.get(self.document.scene))
        finally:
            self._updating = False
        self._errors[field.name] = reason
        self._mark(field, True)
        self._show_error("\n".join(self._errors.values()))
        self.message.emit(f"Not applied: {reason}")

    def _mark(self, field: Field, invalid: bool) -> None:
        w = field.widget
        w.setProperty("invalid", invalid)
        if invalid:
            err = QColor(scene_colors(current_theme()).error)
            pal = QPalette(w.palette())
            pal.setColor(QPalette.ColorRole.Base, _blend(pal.color(QPalette.ColorRole.Base), err,
                                                         0.28))
            w.setPalette(pal)
            w.setToolTip(self._errors.get(field.name, ""))
        else:
            w.setPalette(QPalette())
            w.setToolTip("")

    def _show_error(self, text: str) -> None:
        color = scene_colors(current_theme()).error
        self.error_label.setStyleSheet(f"color: {color}; padding: 6px 10px;")
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def start_over(self) -> None:
        """Another document: forget the measured decay times and the remembered room."""
        self.last_room = self.document.scene.room
        self.set_measured(None, None)

    def set_measured(self, decay, room) -> None:
        """Decay times (`dsp.room_acoustics.DecayTimes`) measured on a room simulation of
        `room`, shown beside the estimate while the room is unchanged (None: forget them)."""
        self.measured_decay, self.measured_room = decay, room
        if self.key is not None and self.key[0] == "room":
            self.refresh()

    # -- queries (tests, status bar) ---------------------------------------------------------------
    def field_error(self, name: str) -> str | None:
        return self._errors.get(name)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    def mix(u: int, v: int) -> int:
        return round(u * (1 - t) + v * t)

    return QColor(mix(a.red(), b.red()), mix(a.green(), b.green()), mix(a.blue(), b.blue()))
