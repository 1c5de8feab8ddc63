"""The Sweep panel: a robustness sweep of the current scene, run off the GUI thread, with its
percentile curves, floor map and cases.

A self-contained widget (`SweepPanel`): `set_scene(scene)` gives it the scene to sweep. The
user picks parameters from that scene (every numeric field a sweep can vary, listeners and
room first, plus the design's real-valued parameters) with a range each — a grid from..to in
n steps, n uniform draws in from..to, or n normal draws (mean, sd) — the engine, the design,
and where it runs: a local cluster of N worker processes, a Dask scheduler address, or serial.
Run builds a sweep spec (`dsp.sweep.spec.spec_from_dict`; a bad one is shown in red, nothing
runs) and runs `workbench.jobs.sweep.run` through `JobRunner` with progress and Cancel; the
results folder defaults to one per spec digest in the user cache folder, so running the same
sweep again resumes it. When done it shows P10/P50/P90 of cancellation and of the ILD error
per band, the floor map (median or P10 per swept position) and the case × listener table.

Clicking a case in the table, or a position on the floor map (its worst case there), emits
`scene_requested(scene)` with that case's Scene, for the window to load as the current scene.
`sweep_started()` comes when a run starts, `sweep_finished(view)` with the `SweepView` (results
and summaries) of each run that finishes; `floor_which` (median / p10) picks the floor map's
statistic (the editor's overlay, `floor_overlay`, follows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsp.sweep import summary as S
from dsp.sweep.spec import DESIGN_METHODS, ENGINES, VARIABLE_DESIGN_FIELDS, spec_from_dict
from sim.scene_fields import SceneError
from workbench.gui.shell.theme import current_theme, scene_colors
from workbench.gui.shell.worker import JobRunner
from workbench.gui.sweep.plots import FloorPlot, PercentilePlot

KINDS = ("grid", "uniform", "normal")
WHERE = ("local cluster", "scheduler address", "serial")
_PICK_FIRST = ("listeners", "room", "device.position", "device.yaw_deg", "device.drivers",
               "simulation")


@dataclass
class SweepView:
    """What a finished run shows: the job's outcome, the result rows and _sweep.json, and the
    summaries (cancellation and ILD error percentiles, floor map, per-listener scalars)."""

    outcome: object
    frame: object
    info: dict
    bands: list
    floor: S.FloorMap | None
    scalars: object


def run_sweep(request, state=None) -> SweepView:
    """The sweep job, then its results read and summarized (all off the GUI thread)."""
    from dsp.sweep.results import read_results
    from workbench.jobs.sweep import run

    outcome = run(request, state)
    frame, info = read_results(outcome.out)
    if S.ok_rows(frame).empty:
        return SweepView(outcome, frame, info, [], None, None)
    bands = [S.band_percentiles(frame, m) for m in ("cancellation_db", "ild_error_db")
             if m in frame.columns]
    return SweepView(outcome, frame, info, bands, S.floor_map(frame), S.listener_scalars(frame))


def pickable_paths(scene_dict: dict) -> list[str]:
    """What the parameter combos offer: the scene's numbers (listeners, room, device,
    simulation, in that order) and the design's real-valued parameters."""
    from dsp.sweep.paths import number_paths

    paths = number_paths(scene_dict)
    ordered = [p for head in _PICK_FIRST for p in paths if p.startswith(head)]
    return ordered + [f"design.{f}" for f in VARIABLE_DESIGN_FIELDS]


def default_cache_folder(digest: str) -> Path:
    """Results folder of a sweep in the user cache folder (one per spec digest)."""
    from platformdirs import user_cache_dir

    folder = Path(user_cache_dir("acoustic-workbench")) / "sweeps"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{digest[:16]}.parquet"


class SweepPanel(QWidget):
    """See the module docstring. Signals: scene_requested(Scene), sweep_started(),
    sweep_finished(SweepView), message(str) (a line for the window's status bar). A `Feature`
    of the main window (`apply_theme`, `reset`, `shutdown`)."""

    scene_requested = Signal(object)
    sweep_started = Signal()
    sweep_finished = Signal(object)
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scene = None
        self.view: SweepView | None = None
        self.runner = JobRunner(self)
        self._paths: list[str] = []
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_parameters())
        layout.addLayout(self._build_settings())
        layout.addLayout(self._build_run_row())
        layout.addWidget(self._build_results(), 1)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.done.connect(self._update_buttons)
        self._update_buttons()

    # -- construction ----------------------------------------------------------------------------
    def _build_parameters(self) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["parameter", "kind", "from / mean",
                                              "to / sd", "n"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(90)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add parameter")
        self.remove_button = QPushButton("Remove")
        self.add_button.clicked.connect(lambda: self.add_parameter())
        self.remove_button.clicked.connect(self._remove_parameter)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        v.addWidget(self.table)
        v.addLayout(row)
        return box

    def _build_settings(self) -> QFormLayout:
        form = QFormLayout()
        self.engine_combo = QComboBox()
        self.engine_combo.addItems(ENGINES)
        self.method_combo = QComboBox()
        self.method_combo.addItems(DESIGN_METHODS)
        self.effort_spin = QDoubleSpinBox()
        self.effort_spin.setRange(-20.0, 40.0)
        self.effort_spin.setValue(18.0)
        self.effort_spin.setSuffix(" dB")
        self.per_case_check = QCheckBox("design per case")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2 ** 31 - 1)
        self.where_combo = QComboBox()
        self.where_combo.addItems(WHERE)
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, 256)
        self.workers_spin.setValue(2)
        self.address_edit = QLineEdit()
        self.address_edit.setPlaceholderText("tcp://HOST:8786")
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("default: one folder per sweep in the user cache")
        self.where_combo.currentIndexChanged.connect(self._update_buttons)
        design = QHBoxLayout()
        for w in (self.method_combo, self.effort_spin, self.per_case_check):
            design.addWidget(w)
        where = QHBoxLayout()
        for w in (self.where_combo, QLabel("workers"), self.workers_spin, self.address_edit):
            where.addWidget(w)
        form.addRow("engine", self.engine_combo)
        form.addRow("design", design)
        form.addRow("seed", self.seed_spin)
        form.addRow("run on", where)
        form.addRow("results folder", self.folder_edit)
        return form

    def _build_run_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.run_button = QPushButton("Run sweep")
        self.cancel_button = QPushButton("Cancel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.runner.cancel)
        for w in (self.run_button, self.cancel_button, self.progress_bar):
            row.addWidget(w)
        row.addWidget(self.status_label, 1)
        return row

    def _build_results(self) -> QTabWidget:
        tabs = QTabWidget()
        self.percentile_plot = PercentilePlot("dB")
        floor = QWidget()
        fv = QVBoxLayout(floor)
        self.floor_which = QComboBox()
        self.floor_which.addItems(["median", "p10"])
        self.floor_which.currentIndexChanged.connect(self._draw_floor)
        self.floor_range = QLabel()
        self.floor_plot = FloorPlot()
        self.floor_plot.position_clicked.connect(self._on_position_clicked)
        top = QHBoxLayout()
        top.addWidget(self.floor_which)
        top.addWidget(self.floor_range, 1)
        fv.addLayout(top)
        fv.addWidget(self.floor_plot, 1)
        self.case_table = QTableWidget(0, 0)
        self.case_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.case_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.case_table.cellClicked.connect(self._on_case_clicked)
        tabs.addTab(self.percentile_plot, "Percentiles")
        tabs.addTab(floor, "Floor map")
        tabs.addTab(self.case_table, "Cases")
        return tabs

    # -- parameters ------------------------------------------------------------------------------
    def set_scene(self, scene) -> None:
        """The scene to sweep (its numbers fill the parameter combos; the design method
        follows its driver count: ctc for 2, null-steering for more)."""
        from sim.scene_json import scene_to_dict

        self.scene = scene
        self._paths = pickable_paths(scene_to_dict(scene))
        self.method_combo.setCurrentText("ctc" if len(scene.device.drivers) == 2
                                         else "nullsteer")
        for r in range(self.table.rowCount()):
            combo = self.table.cellWidget(r, 0)
            keep = combo.currentText()
            combo.clear()
            combo.addItems(self._paths)
            combo.setCurrentText(keep)
        self.floor_plot.show_map(None, scene)
        self._update_buttons()

    def add_parameter(self, path: str | None = None, kind: str = "grid",
                      a: float | None = None, b: float | None = None, n: int = 5) -> None:
        """A parameter row; defaults: the first pickable path, a grid of its value ± 10 %."""
        from dsp.sweep.paths import get_path, parse_path
        from sim.scene_json import scene_to_dict

        path = path or (self._paths[0] if self._paths else "")
        if a is None or b is None:
            value = 0.0
            if self.scene is not None and not path.startswith("design."):
                value = float(get_path(scene_to_dict(self.scene), parse_path(path)))
            a, b = value - 0.1 * abs(value or 1.0), value + 0.1 * abs(value or 1.0)
        r = self.table.rowCount()
        self.table.insertRow(r)
        combo = QComboBox()
        combo.addItems(self._paths)
        combo.setCurrentText(path)
        kinds = QComboBox()
        kinds.addItems(KINDS)
        kinds.setCurrentText(kind)
        self.table.setCellWidget(r, 0, combo)
        self.table.setCellWidget(r, 1, kinds)
        for col, value in ((2, a), (3, b)):
            spin = QDoubleSpinBox()
            spin.setDecimals(4)
            spin.setRange(-1e6, 1e6)
            spin.setValue(value)
            self.table.setCellWidget(r, col, spin)
        count = QSpinBox()
        count.setRange(0, 100000)
        count.setValue(n)
        self.table.setCellWidget(r, 4, count)
        self._update_buttons()

    def _remove_parameter(self) -> None:
        r = self.table.currentRow() if self.table.currentRow() >= 0 else self.table.rowCount() - 1
        if r >= 0:
            self.table.removeRow(r)
        self._update_buttons()

    def spec_dict(self) -> dict:
        """The sweep spec (JSON-ready) the controls describe."""
        from sim.scene_json import scene_to_dict

        vary = {}
        for r in range(self.table.rowCount()):
            path = self.table.cellWidget(r, 0).currentText()
            kind = self.table.cellWidget(r, 1).currentText()
            a = self.table.cellWidget(r, 2).value()
            b = self.table.cellWidget(r, 3).value()
            n = self.table.cellWidget(r, 4).value()
            vary[path] = ({"grid": np.linspace(a, b, n).tolist()} if kind == "grid"
                          else {kind: [a, b], "n": n})
        return {"schema_version": 1, "kind": "sweep", "scene": scene_to_dict(self.scene),
                "engine": self.engine_combo.currentText(), "seed": self.seed_spin.value(),
                "vary": vary,
                "design": {"method": self.method_combo.currentText(),
                           "max_effort_db": self.effort_spin.value(),
                           "per_case": self.per_case_check.isChecked()}}

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> bool:
        """Validate the controls and start the sweep; False (with the reason shown) if not."""
        # pandas/pyarrow are imported here, on the GUI thread, before the job's thread needs
        # them: their first import inside a worker thread while Qt ran its event loop crashed
        # the process once (a segfault in a garbage collection on the GUI thread).
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        from workbench.jobs.sweep import SweepRequest

        if self.runner.is_running or self.scene is None:
            return False
        try:
            spec = spec_from_dict(self.spec_dict())
        except SceneError as e:
            self._show_status(str(e), error=True)
            return False
        where = self.where_combo.currentText()
        folder = self.folder_edit.text().strip()
        request = SweepRequest(
            spec=spec, out=Path(folder) if folder else default_cache_folder(spec.digest()),
            workers=self.workers_spin.value(), serial=where == "serial",
            scheduler=self.address_edit.text().strip() if where == "scheduler address" else None,
            notify=None)
        self.progress_bar.setValue(0)
        self._show_status(f"{spec.n_cases} cases on {where}…")
        self.runner.start(run_sweep, request, label="sweep")
        self.sweep_started.emit()
        self._update_buttons()
        return True

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(round(1000 * fraction))
        self._show_status(message)

    def _on_finished(self, view: SweepView) -> None:
        self.view = view
        o = view.outcome
        self._show_status(f"{o.n_computed} cases computed ({o.n_failed} failed),"
                          f" {o.n_resumed} resumed, {o.seconds:.1f} s — {o.out}")
        self.progress_bar.setValue(1000)
        self.percentile_plot.show_bands(view.bands)
        self._draw_floor()
        self._fill_cases(view)
        self.sweep_finished.emit(view)

    def _on_failed(self, error: object, _text: str) -> None:
        self._show_status(f"Sweep failed: {error}", error=True)

    def _on_cancelled(self) -> None:
        self._show_status("Sweep cancelled: the finished cases are kept (Run resumes)")

    # -- as a feature of the main window ----------------------------------------------------------
    def apply_theme(self, _colors=None) -> None:
        self._draw_floor()

    def reset(self) -> None:
        """Another scene was opened: stop a running sweep and drop the old scene's results (the
        window then hands the new scene to `set_scene`)."""
        self.runner.cancel()
        self.view = None
        self.percentile_plot.show_bands([])
        self._show_status("")

    def shutdown(self) -> None:
        self.runner.cancel()
        self.runner.wait(10000)

    def _show_status(self, text: str, error: bool = False) -> None:
        c = scene_colors(current_theme())
        self.status_label.setStyleSheet(f"color: {c.error};" if error else "")
        self.status_label.setText(text)

    def _update_buttons(self) -> None:
        busy = self.runner.is_running
        self.run_button.setEnabled(not busy and self.scene is not None
                                   and self.table.rowCount() > 0)
        self.cancel_button.setEnabled(busy)
        self.remove_button.setEnabled(self.table.rowCount() > 0)
        where = self.where_combo.currentText()
        self.workers_spin.setEnabled(where == "local cluster")
        self.address_edit.setEnabled(where == "scheduler address")

    # -- results ---------------------------------------------------------------------------------
    def _draw_floor(self) -> None:
        if self.scene is not None:
            fmap = self.view.floor if self.view is not None else None
            span = self.floor_plot.show_map(fmap, self.scene, self.floor_which.currentText())
            self.floor_range.setText("" if span is None else
                                     f"cancellation {span[0]:.1f} dB (dark) … {span[1]:.1f} dB"
                                     " (bright); click a square: its worst case")

    def _fill_cases(self, view: SweepView) -> None:
        rows = view.scalars
        vary = view.info.get("vary", [])
        cols = ["case", "listener", *vary, "cancellation_db"]
        self.case_table.clear()
        self.case_table.setColumnCount(len(cols))
        self.case_table.setHorizontalHeaderLabels(cols)
        if rows is None:
            self.case_table.setRowCount(0)
            return
        rows = rows.sort_values("cancellation_db") if "cancellation_db" in rows else rows
        self.case_table.setRowCount(len(rows))
        for r, (_, row) in enumerate(rows.iterrows()):
            for c, col in enumerate(cols):
                v = row.get(col, np.nan)
                text = str(int(v)) if col in ("case", "listener") else f"{float(v):.4g}"
                self.case_table.setItem(r, c, QTableWidgetItem(text))

    def case_values(self, case: int) -> dict[str, float]:
        """The varied values of a case of the last run."""
        rows = self.view.frame[self.view.frame["case"] == case]
        return {p: float(rows[p].iloc[0]) for p in self.view.info.get("vary", [])}

    def load_case(self, case: int) -> None:
        """Emit scene_requested with the Scene of case `case` of the last run."""
        from dsp.sweep.case import case_scene

        try:
            scene = case_scene(self.view.info["scene"], self.case_values(case))
        except SceneError as e:
            self._show_status(f"case {case}: {e}", error=True)
            return
        self.scene_requested.emit(scene)

    def _on_case_clicked(self, row: int, _col: int) -> None:
        item = self.case_table.item(row, 0)
        if item is not None and self.view is not None:
            self.load_case(int(item.text()))

    def _on_position_clicked(self, x: float, y: float) -> None:
        s = self.view.scalars if self.view is not None else None
        if s is None or s.empty:
            return
        here = s[(np.abs(s["x_m"] - x) < S.FLOOR_GRID_M) & (np.abs(s["y_m"] - y) < S.FLOOR_GRID_M)]
        if not here.empty:
            worst = here.nsmallest(1, "cancellation_db") if "cancellation_db" in here else here
            self.load_case(int(worst["case"].iloc[0]))
