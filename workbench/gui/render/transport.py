"""The Renderer panel's transport: Play/Pause and Stop (the panel's actions), the position
slider (drag or click to seek; a click on the overview seeks too) with the time, and the loop
region (spin boxes, or its edges dragged in the overview).

`TransportControls` is a mixin of `RendererPanel` (it uses the panel's `controller`, `view`,
`message`, `action_play`, `action_stop`, `_show_error` and `_show_error_or_stale`).
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QToolButton

from workbench.gui.audio.widgets import PositionSlider
from workbench.gui.shell.widgets import double_spin
from workbench.jobs.render import format_time


def _seconds_spin(name: str) -> QDoubleSpinBox:
    spin = double_spin(0.0, 0.0, 0.5, " s", 2, name=name)
    spin.setEnabled(False)
    return spin


class TransportControls:
    """The transport widgets of a `RendererPanel` and their wiring."""

    def _create_transport_widgets(self) -> None:
        self.play_button = QToolButton()
        self.play_button.setObjectName("playButton")
        self.play_button.setDefaultAction(self.action_play)
        self.play_button.setMinimumWidth(64)
        self.stop_button = QToolButton()
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setDefaultAction(self.action_stop)
        self.position_slider = PositionSlider("positionSlider", page_ms=5000, step_ms=1000)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        self.time_label.setObjectName("timeLabel")
        self.time_label.setMinimumWidth(110)
        self.loop_check = QCheckBox("Loop")
        self.loop_check.setObjectName("loopCheck")
        self.loop_start = _seconds_spin("loopStart")
        self.loop_end = _seconds_spin("loopEnd")

    def _transport_row(self) -> QHBoxLayout:
        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.stop_button)
        transport.addWidget(self.position_slider, 1)
        transport.addWidget(self.time_label)
        transport.addSpacing(8)
        transport.addWidget(self.loop_check)
        transport.addWidget(self.loop_start)
        transport.addWidget(QLabel("–"))
        transport.addWidget(self.loop_end)
        return transport

    def _connect_transport(self) -> None:
        self.position_slider.seekRequested.connect(self.seek)
        self.position_slider.dragged.connect(self._show_time)
        self.loop_check.toggled.connect(self._on_loop_toggled)
        self.loop_start.valueChanged.connect(lambda _v: self._apply_loop())
        self.loop_end.valueChanged.connect(lambda _v: self._apply_loop())
        self.view.seekRequested.connect(self.seek)
        self.view.loopEdited.connect(self._on_loop_dragged)

    def play_pause(self) -> None:
        self.controller.play_pause()

    def seek(self, seconds: float) -> None:
        self.controller.seek(seconds)
        self._show_position(self.controller.position_s)

    def _on_loop_toggled(self, on: bool) -> None:
        self.loop_start.setEnabled(on)
        self.loop_end.setEnabled(on)
        if on:
            if self.loop_end.value() <= self.loop_start.value():
                self._set_loop_spins(0.0, self.controller.duration_s)
            self._apply_loop()
        else:
            self.controller.clear_loop()
            self.view.set_loop(None)

    def _apply_loop(self) -> None:
        if not self.loop_check.isChecked():
            return
        problem = self.controller.set_loop(self.loop_start.value(), self.loop_end.value())
        if problem:
            self.message.emit(problem)
            self._show_error(problem)
        else:
            self._show_error_or_stale()
        self.view.set_loop(self.controller.loop)

    def _on_loop_dragged(self, start: float, end: float) -> None:
        self._set_loop_spins(start, end)
        self._apply_loop()

    def _set_loop_spins(self, start: float, end: float) -> None:
        for spin, value in ((self.loop_start, start), (self.loop_end, end)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    def _show_position(self, seconds: float) -> None:
        if self.position_slider.show_position(seconds):
            self._show_time(seconds)
        self.view.set_position(seconds)

    def _show_time(self, seconds: float) -> None:
        self.time_label.setText(f"{format_time(seconds)} / "
                                f"{format_time(self.controller.duration_s)}")
