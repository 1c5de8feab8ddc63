"""The last sweep's floor map on the scene editor's floor: per swept listener position, the
median or the P10 (as the Sweep panel's floor-map tab shows) of the per-listener cancellation
(`dsp.sweep.summary.floor_map`), drawn by a `ZoneOverlay` in the listening zone's colours and
scale, over the zone's map, its legend stacked above the zone's. Toggled by View ▸ Sweep Floor
Map Overlay (remembered).

The map belongs to the room and device it was swept in: it is cleared when the room's floor
plan or height or the device's pose changes (moving a listener or loading a swept case keeps
it), when a new sweep starts and when another scene is opened.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject

from dsp.summary import CANCELLATION_BAND_HZ
from dsp.sweep.summary import FloorMap, floor_raster
from sim.scene import Scene
from workbench.gui.design.zone_overlay import SCALE_DB, ZoneOverlay
from workbench.gui.shell.actions import Action
from workbench.gui.shell.settings import SWEEP_OVERLAY
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors

ACTIONS = (
    Action("actionSweepOverlay", "S&weep Floor Map Overlay", lambda o, on: o.set_enabled(on),
           tip="Show the last sweep's median or P10 cancellation per swept position on the"
               " floor", menu="view", checkable=True,
           checked_when=lambda _o: SWEEP_OVERLAY.get(), attr="action_overlay"),
)


def floor_shape(scene: Scene) -> tuple:
    """What a sweep's floor map depends on besides the swept values: the room's geometry and
    the device's pose."""
    r, d = scene.room, scene.device
    return r.kind, r.dimensions_m, r.floor_m, r.height_m, tuple(d.position_m), d.yaw_deg


class SweepFloorOverlay(QObject):
    """The overlay on `window`'s scene view (a MainWindow with `view`, `document`,
    `registry`), fed by `panel` (the SweepPanel). A `panel_dock.Feature` of the window."""

    def __init__(self, window, panel):
        super().__init__(window)
        self.window, self.panel = window, panel
        self.overlay = ZoneOverlay(window.view, scene_colors(current_theme()), legend_row=1)
        self.overlay.item.setZValue(self.overlay.item.zValue() + 1)  # over the listening zone
        self.fmap: FloorMap | None = None
        self.shape: tuple | None = None
        window.registry.add(self, ACTIONS)
        self.overlay.set_enabled(self.action_overlay.isChecked())
        panel.sweep_started.connect(self.clear)
        panel.sweep_finished.connect(self.show_sweep)
        panel.floor_which.currentTextChanged.connect(lambda _text: self._draw())
        window.document.changed.connect(self._on_scene_changed)

    def set_enabled(self, on: bool) -> None:
        """View ▸ Sweep Floor Map Overlay (remembered)."""
        SWEEP_OVERLAY.set(on)
        self.overlay.set_enabled(on)

    def show_sweep(self, view) -> None:
        """Show the floor map of a finished sweep (a `SweepView`), if the scene still has the
        shape the sweep's base scene had."""
        from sim.scene_io import scene_from_dict

        shape = floor_shape(scene_from_dict(view.info["scene"]))
        if view.floor is None or view.floor.x_m.size == 0 \
                or shape != floor_shape(self.window.document.scene):
            self.clear()
            return
        self.fmap, self.shape = view.floor, shape
        self._draw()

    def clear(self) -> None:
        self.fmap = self.shape = None
        self.overlay.show_grid(None)

    def _draw(self) -> None:
        if self.fmap is None:
            return
        which = self.panel.floor_which.currentText()
        x, y, values = floor_raster(self.fmap, which)
        finite = values[np.isfinite(values)]
        span = f"{finite.min():.1f} … {finite.max():.1f} dB" if finite.size else "no values"
        lo, hi = CANCELLATION_BAND_HZ
        self.overlay.show_grid(
            values, x, y, SCALE_DB["cancellation"],
            f"Sweep {'P10' if which == 'p10' else 'median'} (dB), {lo:g} Hz–{hi / 1000:g} kHz",
            f"{self.fmap.x_m.size} positions: {span}")

    def _on_scene_changed(self) -> None:
        if self.shape is not None and floor_shape(self.window.document.scene) != self.shape:
            self.clear()

    # -- the feature pattern ----------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        self.overlay.apply_theme(colors)

    def reset(self) -> None:
        self.clear()

    def shutdown(self) -> None:
        pass
