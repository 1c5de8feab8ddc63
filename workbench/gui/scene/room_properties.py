"""The room's page of the properties panel: type, size, wall absorption and reverberation.

Fields (each edit one undo command through the panel): room type (shoebox / polygon /
anechoic, converted by `room_edits.convert_room`); a shoebox's length, width and height or a
polygon's height; how the walls absorb — an RT60 target, one pyroomacoustics material for
every surface, a material per surface, or octave-band coefficients (125 Hz … 4 kHz) — with
scattering and air absorption. Under them `Rt60Table`: the Sabine and Eyring estimate per
octave band, live, and the EDT and T30 measured on the last full room simulation of this room
(`set_measured`).
"""

from __future__ import annotations

import math
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from dsp.room_acoustics import DecayTimes, estimate_rt60
from sim.scene import Room, Scene
from workbench.gui.scene import room_edits
from workbench.gui.shell.widgets import double_spin

WALL_MODE_LABELS = {"rt60": "RT60 target", "material": "one material",
                    "materials": "material per surface", "absorption": "octave-band absorption"}


def layout_of(room: Room) -> tuple:
    """What decides which fields the page has (rebuilt when it changes)."""
    n = len(room.floor_m) if room.kind == "polygon" else 0
    return room.kind, room_edits.walls_mode(room.walls), n


def _spin(lo: float, hi: float, decimals: int, step: float, suffix: str):
    w = double_spin(lo, hi, step, suffix, decimals)
    w.setMinimumWidth(110)
    return w


def _material_combo() -> QComboBox:
    combo = QComboBox()
    for _category, name, description in room_edits.material_names():
        combo.addItem(name)
        combo.setItemData(combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
    combo.setMaxVisibleItems(20)
    # Long database names must not widen the panel: the list pops up as wide as it needs.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)
    return combo


def _set_dimension(scene: Scene, axis: int, value: float) -> Scene:
    dims = list(scene.room.dimensions_m)
    dims[axis] = float(value)
    return replace(scene, room=replace(scene.room, dimensions_m=tuple(dims)))


def _with_walls(scene: Scene, **changes) -> Scene:
    return replace(scene, room=replace(scene.room, walls=replace(scene.room.walls, **changes)))


def build(panel, box: QVBoxLayout) -> None:
    """Add the room's groups to the properties `panel` (a `PropertiesPanel`)."""
    room = panel.document.scene.room
    form = panel._group(box, "Room")
    kind = QComboBox()
    kind.addItems(["shoebox", "polygon", "anechoic"])
    panel._add(form, "room_type", "Type", kind, lambda s: s.room.kind,
               lambda s, v: room_edits.convert_room(s, str(v), panel.last_room))
    panel._info(form, "Volume", "volume")
    if room.kind == "shoebox":
        form = panel._group(box, "Dimensions")
        for axis, (name, label) in enumerate((("lx", "Length x"), ("ly", "Width y"),
                                              ("lz", "Height z"))):
            panel._add(form, name, label, _spin(0.1, 200.0, 3, 0.05, " m"),
                       lambda s, axis=axis: s.room.dimensions_m[axis],
                       lambda s, v, axis=axis: _set_dimension(s, axis, v))
    elif room.kind == "polygon":
        form = panel._group(box, "Dimensions")
        panel._add(form, "height", "Height", _spin(0.1, 200.0, 3, 0.05, " m"),
                   lambda s: s.room.height_m,
                   lambda s, v: replace(s, room=replace(s.room, height_m=float(v))))
        panel._info(form, "Floor", "floor")
    if room.is_anechoic:
        return
    _build_walls(panel, box, room)
    group_form = panel._group(box, "Reverberation (octave bands)")
    panel.rt60_table = Rt60Table()
    group_form.addRow(panel.rt60_table)


def _build_walls(panel, box: QVBoxLayout, room: Room) -> None:
    form = panel._group(box, "Walls")
    mode = QComboBox()
    for key, label in WALL_MODE_LABELS.items():
        mode.addItem(label, key)
    panel._add(form, "walls_mode", "Absorption", mode,
               lambda s: WALL_MODE_LABELS[room_edits.walls_mode(s.room.walls)],
               lambda s, v: room_edits.convert_walls(
                   s, next(k for k, t in WALL_MODE_LABELS.items() if t == v)))
    walls_mode = room_edits.walls_mode(room.walls)
    if walls_mode == "rt60":
        panel._add(form, "rt60", "RT60", _spin(0.01, 20.0, 2, 0.05, " s"),
                   lambda s: s.room.walls.rt60_s,
                   lambda s, v: _with_walls(s, rt60_s=float(v)))
    elif walls_mode == "material":
        panel._add(form, "material", "Material", _material_combo(),
                   lambda s: s.room.walls.material,
                   lambda s, v: _with_walls(s, material=str(v)))
    elif walls_mode == "materials":
        for surface in room_edits.surfaces(room):
            panel._add(form, f"material_{surface}", surface, _material_combo(),
                       lambda s, surface=surface: dict(s.room.walls.materials)[surface],
                       lambda s, v, surface=surface: room_edits.with_surface_material(
                           s, surface, str(v)))
    else:
        line = QLineEdit()
        line.setToolTip("Energy absorption coefficients 0 … 1 at 125, 250, 500, 1000, 2000 and "
                        "4000 Hz, separated by commas")
        panel._add(form, "absorption", "α 125 Hz … 4 kHz", line,
                   lambda s: ", ".join(f"{a:g}" for a in s.room.walls.absorption),
                   lambda s, v: room_edits.with_absorption(s, room_edits.parse_absorption(v)))
    panel._add(form, "scattering", "Scattering", _spin(0.0, 1.0, 2, 0.05, ""),
               lambda s: s.room.walls.scattering,
               lambda s, v: _with_walls(s, scattering=float(v)))
    panel._add(form, "air_absorption", "Air absorption", QCheckBox(),
               lambda s: s.room.air_absorption,
               lambda s, v: replace(s, room=replace(s.room, air_absorption=bool(v))))


def refresh(panel, scene: Scene) -> None:
    """Update the page's read-only parts (volume, floor, the RT60 table) from `scene`."""
    room = scene.room
    if not room.is_anechoic:
        panel.last_room = room
    vol = room.volume_m3()
    panel._infos["volume"].setText("free field" if vol is None else f"{vol:.1f} m³")
    if "floor" in panel._infos:
        panel._infos["floor"].setText(f"{len(room.floor_m)} corners (drag one; double-click a"
                                      " wall to add one; right-click one to delete it)")
    table = getattr(panel, "rt60_table", None)
    if table is not None and not room.is_anechoic:
        measured = panel.measured_decay if panel.measured_room == room else None
        table.show_times(scene, measured)


class Rt60Table(QTableWidget):
    """Per octave band: Sabine and Eyring estimates of the room, EDT and T30 of its last
    simulation (— until there is one for this room)."""

    COLUMNS = ("Band", "Sabine", "Eyring", "EDT sim", "T30 sim")

    def __init__(self):
        super().__init__(0, len(self.COLUMNS))
        self.setObjectName("rt60Table")
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setToolTip("RT60 in s per octave band: Sabine's and Eyring's formulas on the walls "
                        "and air absorption; EDT and T30 from Schroeder decay curves of the last "
                        "full room simulation (Simulate ▸ Room (full))")

    def rows(self) -> list[list[str]]:
        """The table's text, row by row (tests, copy)."""
        return [[self.item(r, c).text() for c in range(self.columnCount())]
                for r in range(self.rowCount())]

    def show_times(self, scene: Scene, measured: DecayTimes | None) -> None:
        try:
            est = estimate_rt60(scene.room, scene.simulation.c_m_s)
        except ValueError as e:  # an RT60 target the room cannot reach
            self.setRowCount(0)
            self.setToolTip(str(e))
            return
        self.setRowCount(len(est.bands_hz))
        for r, band in enumerate(est.bands_hz):
            edt = t30 = math.nan
            if measured is not None and band in measured.bands_hz:
                j = measured.bands_hz.index(band)
                edt, t30 = measured.edt_s[j], measured.t30_s[j]
            label = f"{band / 1000:g} kHz" if band >= 1000 else f"{band:g} Hz"
            cells = [label] + [f"{v:.2f} s" if math.isfinite(v) else "—"
                               for v in (est.sabine_s[r], est.eyring_s[r], edt, t30)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)
        rows_h = self.verticalHeader().defaultSectionSize() * len(est.bands_hz)
        self.setFixedHeight(rows_h + self.horizontalHeader().height() + 4)


__all__ = ["Rt60Table", "build", "layout_of", "refresh"]
