"""The filter-design part of the main window: the Design panel (left), the plot docks
(bottom: cancellation, filters, polar, azimuth map), the listening-zone overlay on the scene
editor, the Design menu and the View toggles, wired to one `DesignController`.

Docks that are hidden are not fed: when every design dock is closed the controller stops
redesigning until one is shown again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMainWindow

from dsp.plant_timing import PlantTiming
from workbench.gui.design.controller import METHOD_PRESETS, DesignController
from workbench.gui.design.export_dialog import FilterExporter
from workbench.gui.design.panel import DesignPanel
from workbench.gui.design.zone_overlay import ZoneOverlay
from workbench.gui.plots.azimuth_map import AzimuthMapView
from workbench.gui.plots.cancellation import CancellationView
from workbench.gui.plots.figure_export import ask_figure_path, save_figure
from workbench.gui.plots.filters import FilterView
from workbench.gui.plots.polar import PolarView
from workbench.gui.shell.actions import Action
from workbench.gui.shell.docks import Place
from workbench.gui.shell.settings import AUTO_REDESIGN, PLANT_DIR, PLANT_TIMING, ZONE_OVERLAY
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.jobs.design import DesignOutcome

log = logging.getLogger(__name__)

_BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
DOCKS = (  # attribute, title, objectName, default place
    ("design_dock", "Design", "designDock",
     Place(Qt.DockWidgetArea.LeftDockWidgetArea, width=360)),
    ("cancellation_dock", "Cancellation", "cancellationDock",
     Place(_BOTTOM, tab_with="transferDock", front=True)),
    ("filter_dock", "Filters", "filtersDock", Place(_BOTTOM, tab_with="transferDock")),
    ("polar_dock", "Polar", "polarDock", Place(_BOTTOM, width=320)),
    ("map_dock", "Azimuth Map", "azimuthMapDock", Place(_BOTTOM, width=480)),
)


def _dock_toggle(attr: str, title: str) -> Action:
    return Action("actionView" + title.replace(" ", ""), menu="view",
                  make=lambda ws: getattr(ws, attr).toggleViewAction())


def _preset(label: str, changes: dict) -> Action:
    suffix = "_robust" if changes.get("robust_cm") else ""
    return Action(f"actionDesignPreset_{changes['method']}{suffix}", label,
                  lambda ws: ws.controller.apply_preset(changes), tip=f"Design with {label}",
                  menu="design/presets")


ACTIONS = (
    *(_dock_toggle(attr, title) for attr, title, _name, _place in DOCKS),
    Action("actionZoneOverlay", "Listening &Zone Overlay", lambda ws, on: ws.set_zone(on),
           ("Ctrl+L",), "Show the listening-zone map on the floor", menu="view",
           checkable=True, checked_when=lambda _ws: ZONE_OVERLAY.get(), attr="action_zone"),
    *(_preset(label, changes) for label, changes in METHOD_PRESETS),
    Action("actionRedesign", "&Redesign", lambda ws: ws.controller.redesign_now(), ("F6",),
           "Redesign the filters now", menu="design", group=1, toolbar=4,
           attr="action_redesign"),
    Action("actionAutoRedesign", "&Automatic Redesign", lambda ws, on: ws.set_auto(on),
           tip="Redesign on every change of the scene or a parameter", menu="design", group=1,
           checkable=True, checked_when=lambda _ws: AUTO_REDESIGN.get(), attr="action_auto"),
    Action("actionExportFilters", "&Export Filters…", lambda ws: ws.export_filters(),
           ("Ctrl+E",), "Write the filters in DSP formats", menu="design", group=2,
           toolbar=4, attr="action_export"),
    Action("actionSaveZoneFigure", "Save &Zone Map Figure…", lambda ws: ws.on_save_zone(),
           tip="Save the listening-zone map as PNG or PDF", menu="design", group=2,
           attr="action_save_zone"),
    Action("actionUseMeasuredPlant", "Use &Measured Plant…", lambda ws: ws.choose_plant(),
           tip="Design on measured driver → ear responses: a SOFA file (SingleRoomMIMOSRIR) "
               "or a folder of <driver>.wav", menu="design", group=3),
    Action("actionKeepMeasuredTiming", "&Keep Measured Timing Between Drivers",
           lambda ws, on: ws.set_plant_timing(PlantTiming.MEASURED if on
                                              else PlantTiming.GEOMETRY),
           tip="The measured plant is one synchronous capture (all drivers on one clock): keep "
               "its time between drivers. Off: each driver is aligned on its own and the time "
               "between drivers is the scene's geometry (drivers measured one after another)",
           menu="design", group=3, checkable=True,
           checked_when=lambda _ws: PLANT_TIMING.get() == PlantTiming.MEASURED.value,
           attr="action_plant_timing"),
    Action("actionUseSimulatedPlant", "Use &Simulated Plant",
           lambda ws: ws.controller.set_params(plant=None),
           tip="Design on the simulated driver → ear responses again", menu="design", group=3,
           attr="action_simulated_plant"),
)
"""The Design menu and the design docks' View entries (owner: the `DesignWorkspace`)."""


class DesignWorkspace(QObject):
    """Builds and wires the design UI of `window` (a MainWindow with `document`, `view`,
    `docks`, `registry`)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.controller = DesignController(window.document, self)
        self.panel = DesignPanel(self.controller)
        self.cancellation_view = CancellationView()
        self.filter_view = FilterView()
        self.polar_view = PolarView()
        self.map_view = AzimuthMapView()
        self.plots = (self.cancellation_view, self.filter_view, self.polar_view, self.map_view)
        self.overlay = ZoneOverlay(window.view, scene_colors(current_theme()))
        self.exporter = FilterExporter(self)
        for (attr, title, name, place), widget in zip(DOCKS, (self.panel, *self.plots),
                                                      strict=True):
            setattr(self, attr, window.docks.add(title, name, widget, place))
        self.docks = tuple(getattr(self, attr) for attr, *_ in DOCKS)
        window.registry.add(self, ACTIONS)
        for dock in self.docks:
            dock.visibilityChanged.connect(lambda _v: self._update_active())
        for dock, plot in zip(self.docks[1:], self.plots, strict=True):
            dock.visibilityChanged.connect(lambda v, p=plot: p.ensure_drawn() if v else None)
        c = self.controller
        c.outcomeChanged.connect(self._on_outcome)
        self.panel.exportRequested.connect(self.export_filters)
        self.panel.plantRequested.connect(self.choose_plant)
        c.paramsChanged.connect(self._on_params)
        self._on_params(c.params)
        self.exporter.progress.connect(self._on_export_progress)
        self.exporter.finished.connect(self._on_export_finished)
        self.exporter.failed.connect(self._on_export_failed)
        self.overlay.set_enabled(self.action_zone.isChecked())
        c.set_auto(self.action_auto.isChecked())

    # -- results ---------------------------------------------------------------------------------
    def _on_outcome(self, o: DesignOutcome | None) -> None:
        if o is None:
            message = self.controller.error or "No design."
            for plot in self.plots:
                plot.clear(message, error=bool(self.controller.error))
            self.overlay.set_zone(None)
            return
        for plot in self.plots:
            plot.set_outcome(o)
        self.overlay.set_zone(o.redesign.zone, updating=not o.current)
        if o.params.plant is not None:
            from dsp.measured_plant import align

            self.window.transfer_view.set_measured(
                align(o.scene, o.params.plant, o.params.listener), o.params.listener, o.scene)

    def _on_params(self, p) -> None:
        self.action_simulated_plant.setEnabled(p.plant is not None)
        if p.plant is None:
            self.window.transfer_view.set_measured(None, 0, self.window.document.scene)

    # -- measured plant ----------------------------------------------------------------------------
    def choose_plant(self) -> bool:
        """Design ▸ Use Measured Plant…: a SOFA file, or any WAV of a <driver>.wav folder (the
        folder is the plant)."""
        from PySide6.QtWidgets import QFileDialog

        chosen, _ = QFileDialog.getOpenFileName(
            self.window, "Measured Plant: a SOFA File, or Any WAV of a <driver>.wav Folder",
            PLANT_DIR.get(), "Measured plant (*.sofa *.wav);;All files (*)")
        if not chosen:
            return False
        path = Path(chosen)
        PLANT_DIR.set(str(path.parent))
        return self.use_plant(path.parent if path.suffix.lower() == ".wav" else path)

    def use_plant(self, path: Path) -> bool:
        """Design on the measured plant at `path` (SOFA file or WAV folder) for the open
        scene's device; a plant that does not fit is refused with its reason in the status bar
        and the panel, and nothing changes."""
        from dsp.plant_files import PlantError, read_measured_plant

        scene = self.window.document.scene
        try:
            plant = read_measured_plant(path, [d.name for d in scene.device.drivers],
                                        scene.simulation.fs_hz, PlantTiming(PLANT_TIMING.get()))
        except PlantError as e:
            self.panel.show_error(f"Measured plant not used: {e}")
            self.window.statusBar().showMessage(f"Measured plant not used: {e}", 10000)
            return False
        self.controller.set_params(plant=plant)
        self.window.statusBar().showMessage(
            f"Designing on the measured plant {path} ({plant.timing.value} timing)", 6000)
        return True

    def set_plant_timing(self, timing: PlantTiming) -> None:
        """Design ▸ Keep Measured Timing Between Drivers (remembered): how the measured plant in
        use, and the next one chosen, is put on the scene's time axis (`dsp.plant_timing`)."""
        PLANT_TIMING.set(timing.value)
        plant = self.controller.params.plant
        if plant is not None and plant.timing is not timing:
            self.controller.set_params(plant=replace(plant, timing=timing))
            self.window.statusBar().showMessage(
                f"Designing on the measured plant {plant.path} ({timing.value} timing)", 6000)

    def _update_active(self) -> None:
        shown = any(d.isVisible() for d in self.docks) or self.action_zone.isChecked()
        self.controller.set_active(shown)

    def set_auto(self, on: bool) -> None:
        """Design ▸ Automatic Redesign (remembered)."""
        AUTO_REDESIGN.set(on)
        self.controller.set_auto(on)

    def set_zone(self, on: bool) -> None:
        """View ▸ Listening Zone Overlay (remembered)."""
        ZONE_OVERLAY.set(on)
        self.overlay.set_enabled(on)
        self._update_active()

    # -- export ----------------------------------------------------------------------------------
    def export_filters(self) -> bool:
        o = self.controller.outcome
        if o is None or not o.current:
            self.window.statusBar().showMessage(
                "Nothing to export: the design is refused or still updating.", 6000)
            return False
        doc = self.window.document
        base = doc.path.parent if doc.path else Path.home()
        suggestion = base / f"{doc.display_name}-{o.params.method}-filters"
        f = o.filters
        summary = (f"{o.params.method}: {f.n_inputs} inputs → {f.n_drivers} drivers, "
                   f"{f.n_taps} taps at {f.fs_hz} Hz, delay {f.delay_samples} samples")
        started = self.exporter.start(self.window, o, suggestion, summary,
                                      reads=(doc.path,) if doc.path else ())
        if started:
            bar = self.panel.export_progress
            bar.setValue(0)
            bar.setFormat("Export: %p%")
            bar.setVisible(True)
        return started

    def _on_export_progress(self, fraction: float, message: str) -> None:
        self.panel.export_progress.setValue(round(100 * fraction))

    def _on_export_finished(self, written: dict) -> None:
        self.panel.export_progress.setVisible(False)
        n = sum(len(v) for v in written.values())
        folder = self.exporter.request.folder
        self.window.statusBar().showMessage(f"Exported {n} files and report.json to {folder}",
                                            8000)
        log.info("exported %d files to %s", n, folder)

    def _on_export_failed(self, message: str) -> None:
        self.panel.export_progress.setVisible(False)
        self.panel.show_error(message)
        self.window.statusBar().showMessage(message, 10000)

    def on_save_zone(self) -> None:
        try:
            path = self.save_zone_figure()
        except (OSError, ValueError) as e:
            self.window.statusBar().showMessage(f"Figure not saved: {e}", 10000)
            return
        if path is not None:
            self.window.statusBar().showMessage(f"Saved {path}", 5000)

    def save_zone_figure(self, path=None):
        o = self.controller.outcome
        if o is None or self.overlay.zone is None:
            self.window.statusBar().showMessage("No listening-zone map to save.", 5000)
            return None
        if path is None:
            path = ask_figure_path(self.window, "zone-map.png")
            if path is None:
                return None
        return save_figure(self.overlay.figure(o.scene, o.params.method), path)

    # -- the feature pattern ----------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        for plot in self.plots:
            plot.apply_theme(colors)
        self.overlay.apply_theme(colors)
        self.panel.apply_theme()

    def reset(self) -> None:
        """Another scene was opened: the old design's plots and zone go; the design of the new
        scene follows (its method adapted to the device)."""
        for plot in self.plots:
            plot.clear("Designing for the new scene…")
        self.overlay.set_zone(None)
        self.controller.adapt_to_scene()

    def shutdown(self) -> None:
        self.controller.shutdown()
        if self.exporter.is_running:
            self.exporter.wait()
