"""The filter-design part of the main window: the Design panel (left), the plot docks
(bottom: cancellation, filters, polar, azimuth map), the listening-zone overlay on the scene
editor, the Design menu and the View toggles, wired to one `DesignController`.

Docks that are hidden are not fed: when every design dock is closed the controller stops
redesigning until one is shown again.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from workbench.gui.design.controller import METHOD_PRESETS, DesignController
from workbench.gui.design.export_dialog import FilterExporter
from workbench.gui.design.panel import DesignPanel
from workbench.gui.design.zone_overlay import ZoneOverlay
from workbench.gui.plots.azimuth_map import AzimuthMapView
from workbench.gui.plots.cancellation import CancellationView
from workbench.gui.plots.figure_export import ask_figure_path, save_figure
from workbench.gui.plots.filters import FilterView
from workbench.gui.plots.polar import PolarView
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.jobs.design import DesignOutcome

log = logging.getLogger(__name__)
ZONE_KEY = "design/zoneOverlay"
AUTO_KEY = "design/autoRedesign"


def _bool_setting(key: str, default: bool) -> bool:
    v = QSettings().value(key, default)
    return v if isinstance(v, bool) else str(v).lower() == "true"


class DesignWorkspace(QObject):
    """Builds and wires the design UI of `window` (a MainWindow with `document`, `view`,
    `transfer_dock`)."""

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
        self._create_docks()
        self._create_actions()
        for dock in self.docks:
            dock.visibilityChanged.connect(lambda _v: self._update_active())
        for dock, plot in zip(self.docks[1:], self.plots, strict=True):
            dock.visibilityChanged.connect(lambda v, p=plot: p.ensure_drawn() if v else None)
        c = self.controller
        c.outcomeChanged.connect(self._on_outcome)
        self.panel.exportRequested.connect(self.export_filters)
        self.exporter.progress.connect(self._on_export_progress)
        self.exporter.finished.connect(self._on_export_finished)
        self.exporter.failed.connect(self._on_export_failed)
        self.overlay.set_enabled(self.action_zone.isChecked())
        c.set_auto(self.action_auto.isChecked())

    # -- construction ----------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock, Qt.Orientation.Horizontal)
        return dock

    def _create_docks(self) -> None:
        w = self.window
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.design_dock = self._dock("Design", "designDock", self.panel, left)
        # Bottom row, beside Transfer; Cancellation and Filters join Transfer's tabs once the
        # window is shown (`window_shown`).
        self.cancellation_dock = self._dock("Cancellation", "cancellationDock",
                                            self.cancellation_view, bottom)
        self.filter_dock = self._dock("Filters", "filtersDock", self.filter_view, bottom)
        self.polar_dock = self._dock("Polar", "polarDock", self.polar_view, bottom)
        self.map_dock = self._dock("Azimuth Map", "azimuthMapDock", self.map_view, bottom)
        w.resizeDocks([self.design_dock], [360], Qt.Orientation.Horizontal)
        self.docks = (self.design_dock, self.cancellation_dock, self.filter_dock,
                      self.polar_dock, self.map_dock)
        self._arrange_tabs = QSettings().value("window/state") is None
        self._shown = False
        if self._arrange_tabs:  # until they join the tabs: side by side they widen the window
            self.cancellation_dock.hide()
            self.filter_dock.hide()

    def window_shown(self) -> None:
        """First show: put Cancellation and Filters in Transfer's tabs (a fresh layout only;
        a saved one is the user's). Done after the show and one tab per event-loop turn:
        Qt 6.11 leaves a stale tab bar painted over the window when docks are tabified into
        an existing tab group before the window is laid out."""
        if self._shown:
            return
        self._shown = True
        if self._arrange_tabs:
            QTimer.singleShot(0, self._tabify_cancellation)

    def _tabify_cancellation(self) -> None:
        self.window.tabifyDockWidget(self.window.transfer_dock, self.cancellation_dock)
        self.cancellation_dock.show()
        QTimer.singleShot(0, self._tabify_filters)

    def _tabify_filters(self) -> None:
        w = self.window
        w.tabifyDockWidget(w.transfer_dock, self.filter_dock)
        self.filter_dock.show()
        self.cancellation_dock.raise_()
        w.resizeDocks([self.cancellation_dock, self.polar_dock, self.map_dock], [480, 320, 480],
                      Qt.Orientation.Horizontal)

    def _create_actions(self) -> None:
        w = self.window
        self.action_redesign = w._action("&Redesign", self.controller.redesign_now, "F6",
                                         "Redesign the filters now", "actionRedesign")
        self.action_auto = w._action("&Automatic Redesign", self._set_auto, None,
                                     "Redesign on every change of the scene or a parameter",
                                     "actionAutoRedesign", checkable=True)
        self.action_auto.blockSignals(True)
        self.action_auto.setChecked(_bool_setting(AUTO_KEY, True))
        self.action_auto.blockSignals(False)
        self.action_export = w._action("&Export Filters…", self.export_filters, "Ctrl+E",
                                       "Write the filters in DSP formats", "actionExportFilters")
        self.action_zone = w._action("Listening &Zone Overlay", self._set_zone, "Ctrl+L",
                                     "Show the listening-zone map on the floor",
                                     "actionZoneOverlay", checkable=True)
        self.action_zone.blockSignals(True)
        self.action_zone.setChecked(_bool_setting(ZONE_KEY, True))
        self.action_zone.blockSignals(False)
        self.action_save_zone = w._action("Save &Zone Map Figure…", self._on_save_zone, None,
                                          "Save the listening-zone map as PNG or PDF",
                                          "actionSaveZoneFigure")
        self.preset_actions: list[QAction] = []
        for label, changes in METHOD_PRESETS:
            action = QAction(label, w)
            action.setObjectName("actionDesignPreset_" + changes["method"]
                                 + ("_robust" if changes.get("robust_cm") else ""))
            action.setStatusTip(f"Design with {label}")
            action.triggered.connect(lambda _c=False, ch=changes: self.controller.apply_preset(ch))
            self.preset_actions.append(action)

    def populate_design_menu(self, menu: QMenu) -> None:
        presets = menu.addMenu("&Method Presets")
        presets.setObjectName("menuDesignPresets")
        for action in self.preset_actions:
            presets.addAction(action)
        menu.addSeparator()
        menu.addAction(self.action_redesign)
        menu.addAction(self.action_auto)
        menu.addSeparator()
        menu.addAction(self.action_export)
        menu.addAction(self.action_save_zone)

    def populate_view_menu(self, menu: QMenu) -> None:
        for dock in self.docks:
            menu.addAction(dock.toggleViewAction())
        menu.addAction(self.action_zone)

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

    def _update_active(self) -> None:
        shown = any(d.isVisible() for d in self.docks) or self.action_zone.isChecked()
        self.controller.set_active(shown)

    def _set_auto(self, on: bool) -> None:
        QSettings().setValue(AUTO_KEY, on)
        self.controller.set_auto(on)

    def _set_zone(self, on: bool) -> None:
        QSettings().setValue(ZONE_KEY, on)
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

    def _on_save_zone(self) -> None:
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

    # -- theme and shutdown ------------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        for plot in self.plots:
            plot.apply_theme(colors)
        self.overlay.apply_theme(colors)
        self.panel.apply_theme()

    def scene_replaced(self) -> None:
        self.controller.adapt_to_scene()

    def shutdown(self) -> None:
        self.controller.shutdown()
        if self.exporter.is_running:
            self.exporter.wait()
