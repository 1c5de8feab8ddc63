"""A/B playback of precomputed clips (e.g. Noisy / Enhanced / Clean) through the audition engine.

`ClipAudition` is a strip for any panel that produces clips: Play/Pause, Stop, one button per
clip (keys 1, 2, 3 … while the host panel has the focus, Space plays and pauses), a position
slider with the time, and output meters (peak/RMS per ear after the −1 dBFS limiter, gain
reduction). The clips play through `dsp.clip_paths.clip_player` — the Renderer's `Player`
with the same transport fades, crossfaded switching, limiter and meters — streamed by
`workbench.gui.audio.engine.AudioEngine` through the transport the Renderer panel uses
(`workbench.gui.audio.playback.EnginePlayback`): the engine is made on Play and closed after
the transport has been idle a moment, its PortAudio callback only copies from the ring its
worker fills, its state callback only emits a signal (delivered queued on the GUI thread), and
meters and position are polled by a timer.

The output device is the Renderer's choice (the saved "audio/device"), else the system default
or the first that can play. Clips at a rate the device cannot play (16 kHz speech on a 48 kHz
JACK server) are resampled to its own rate. Without PortAudio or an output device, Play is
disabled, the reason (`output_problem`) is shown, and a Save button is offered instead
(`saveRequested`).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dsp.audition import Player
from dsp.clip_paths import ClipSet, clip_player
from workbench.gui.audio import engine as audio_engine
from workbench.gui.audio.meters import LevelMeters
from workbench.gui.audio.playback import EnginePlayback
from workbench.gui.audio.widgets import AudioProblemBox, PositionSlider, choice_button_style
from workbench.gui.shell.settings import AUDIO_DEVICE
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.jobs.render import format_time

POLL_MS = 33
BLOCK = 512
CLIP_KEYS = (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5,
             Qt.Key.Key_6, Qt.Key.Key_7, Qt.Key.Key_8, Qt.Key.Key_9)


class OutputMeters(LevelMeters):
    """The output part of `LevelMeters`: L/R peak and RMS, and the limiter's gain reduction
    (clips have no upmix to show)."""

    NAMES = ("L", "R", "GR")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(96, 76)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setToolTip("Output peak (marker, held) and RMS (bar) per ear after the −1 dBFS "
                        "limiter; GR: the limiter's gain reduction")

    def sizeHint(self) -> QSize:
        return QSize(120, 96)


class ClipAudition(EnginePlayback, QWidget):
    """Clip player strip. `set_clips(ClipSet | None)` loads; `set_shortcut_scope(panel)`
    makes the keys work anywhere in the host panel. Signals: message(str) for the status bar,
    saveRequested() from the Save button offered when audio cannot play, stateChanged(str:
    playing | paused | stopped)."""

    message = Signal(str)
    saveRequested = Signal()
    stateChanged = Signal(str)
    _workerState = Signal(str, float)
    engine_hint = "save the output and play it elsewhere"

    def __init__(self, save_text: str = "Save Output Instead…", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("clipAudition")
        self.colors = scene_colors(current_theme())
        self.clips: ClipSet | None = None
        self.player: Player | None = None
        self.path: str | None = None  # the clip asked for (the player applies it at its next block)
        self.device: int | None = None
        self.audio_problem = ""
        self._scope: QWidget | None = None
        self._swallow: tuple | None = None  # (key, widget): its next key press is dropped
        self._build(save_text)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._init_playback()
        self.apply_theme(self.colors)
        self.set_clips(None)

    # -- construction ----------------------------------------------------------------------------
    def _build(self, save_text: str) -> None:
        self.play_button = QToolButton()
        self.play_button.setObjectName("clipPlay")
        self.play_button.setText("▶ Play")
        self.play_button.setMinimumWidth(64)
        self.play_button.setToolTip("Play or pause (Space)")
        self.stop_button = QToolButton()
        self.stop_button.setObjectName("clipStop")
        self.stop_button.setText("■ Stop")
        self.stop_button.setToolTip("Stop and go back to the start")
        self.slider = PositionSlider("clipPosition", page_ms=1000, step_ms=100)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        self.time_label.setMinimumWidth(100)
        self.clip_row = QHBoxLayout()
        self.clip_group = QButtonGroup(self)
        self.clip_group.setExclusive(True)
        self.clip_buttons: dict[str, QPushButton] = {}
        self.hearing_label = QLabel()
        self.hearing_label.setObjectName("clipHearing")
        self.meters = OutputMeters()

        self.problem_box = AudioProblemBox("clipAudioBox", "clipAudioProblem", save_text,
                                           "clipSaveInstead")
        self.problem_label, self.save_instead = self.problem_box.label, self.problem_box.button

        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.stop_button)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.time_label)
        clips = QHBoxLayout()
        clips.addWidget(QLabel("Listen"))
        clips.addLayout(self.clip_row)
        clips.addWidget(self.hearing_label, 1)
        left = QVBoxLayout()
        left.addWidget(self.problem_box)
        left.addLayout(transport)
        left.addLayout(clips)
        left.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(left, 1)
        row.addWidget(self.meters)

        self.play_button.clicked.connect(self.play_pause)
        self.stop_button.clicked.connect(self.stop)
        self.save_instead.clicked.connect(self.saveRequested)
        self.slider.seekRequested.connect(self.seek)
        self.slider.dragged.connect(self._show_time)

    def _make_clip_buttons(self, names: tuple[str, ...]) -> None:
        if tuple(self.clip_buttons) == names:
            return
        for b in self.clip_buttons.values():
            self.clip_group.removeButton(b)
            self.clip_row.removeWidget(b)
            b.deleteLater()
        self.clip_buttons = {}
        for i, name in enumerate(names):
            b = QPushButton(name)
            b.setObjectName(f"clipButton{i + 1}")
            b.setCheckable(True)
            b.setMinimumHeight(30)
            f = b.font()
            f.setBold(True)
            b.setFont(f)
            b.clicked.connect(lambda _c=False, n=name: self.select(n))
            self.clip_group.addButton(b)
            self.clip_row.addWidget(b)
            self.clip_buttons[name] = b
        self._style_buttons()

    def set_shortcut_scope(self, widget: QWidget) -> None:
        """Keys 1 … k (clips) and Space (play/pause) work while the focus is anywhere inside
        `widget`. There they win over window-wide shortcuts of the same keys (the Renderer's
        A/B/X), while text fields keep their typing."""
        if self._scope is not None:
            self._scope.removeEventFilter(self)
        self._scope = widget
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A key the focus widget does not claim as text reaches the scope as a ShortcutOverride
        # (propagated up the parents). Acting there and accepting it keeps any shortcut of the
        # key from firing; the key press that then goes to the focus widget is dropped, so a
        # list or combo box there does not also jump to an item starting with that digit.
        kind = event.type()
        if kind == QEvent.Type.ShortcutOverride and watched is self._scope:
            action = self._key_action(event)
            if action is not None:
                event.accept()
                focus = QApplication.focusWidget()
                if focus is not None:
                    self._swallow = (event.key(), focus)
                    focus.installEventFilter(self)
                action()
                return True
        elif kind == QEvent.Type.KeyPress and self._swallow is not None \
                and watched is self._swallow[1]:
            key, focus = self._swallow
            self._swallow = None
            if focus is not self._scope:
                focus.removeEventFilter(self)
            return event.key() == key
        return super().eventFilter(watched, event)

    def _key_action(self, event):
        if self.player is None or event.modifiers() not in (
                Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier):
            return None
        key = event.key()
        if key == Qt.Key.Key_Space:
            return self.play_pause
        names = self.player.names
        if key in CLIP_KEYS[:len(names)]:
            name = names[CLIP_KEYS.index(key)]
            return lambda: self.select(name)
        return None

    # -- clips -----------------------------------------------------------------------------------
    def set_clips(self, clips: ClipSet | None, selected: str | None = None) -> None:
        """Play these clips from now on (None: nothing to play). Playing stops; the clip
        selected is `selected` when given, else the one of the previous selection's name,
        else the first."""
        self._close_engine()
        previous = self.path
        self.clips = clips
        self.player = None
        self._position = 0.0
        self._seek_until = 0.0
        self._set_state("stopped")
        if clips is None:
            self._make_clip_buttons(())
            self.path = None
            self.refresh_audio()
            self._show_position(0.0)
            self._update_enabled()
            return
        self._make_clip_buttons(clips.names)
        for i, (name, gain) in enumerate(zip(clips.names, clips.gains_db, strict=True)):
            key = f" (key {i + 1})" if i < len(CLIP_KEYS) else ""
            matched = f"; heard {gain:+.1f} dB to match the loudness" if gain else ""
            self.clip_buttons[name].setToolTip(f"Listen to {name}{key}{matched}")
        path = selected if selected in clips.names else (
            previous if previous in clips.names else clips.names[0])
        self.refresh_audio()
        self._make_player(path)
        self.path = path
        self.clip_buttons[path].setChecked(True)
        self._show_hearing(path, heard=False)
        self._show_position(0.0)
        self._update_enabled()

    def _make_player(self, path: str) -> None:
        """A player over the clips at a rate the device plays (resampled when needed)."""
        rate = audio_engine.output_rate(self.device, self.clips.fs_hz)
        self.player = clip_player(self.clips.resampled(rate), block=BLOCK, path=path)

    @property
    def duration_s(self) -> float:
        return self.clips.duration_s if self.clips is not None else 0.0

    # -- transport -------------------------------------------------------------------------------
    def select(self, name: str) -> None:
        """Switch to clip `name` (crossfaded by the player)."""
        if self.player is None:
            return
        (self.engine or self.player).select(name)
        self.path = name
        self.clip_buttons[name].setChecked(True)
        self._show_hearing(name, heard=False)

    @property
    def position_s(self) -> float:
        """Programme time being heard while playing (the seek target for a moment after a
        seek, while the engine's ring still holds the old place); where it paused or
        stopped otherwise."""
        if self.engine is None or self.state != "playing":
            return self._position
        if time.monotonic() < self._seek_until:
            return self._seek_target
        return self.engine.position_s

    def heard_clip(self) -> str | None:
        m = self.engine.meter() if self.engine is not None else None
        return m.path if m is not None else self.path

    def _position_set(self, seconds: float) -> None:
        self._show_position(seconds)

    def _set_state(self, state: str) -> None:
        if state == "playing":
            self._poll.start()  # meters and position follow the engine until it closes
        self.play_button.setText("❚❚ Pause" if state == "playing" else "▶ Play")
        super()._set_state(state)

    def _close_engine(self) -> None:
        self._poll.stop()
        self.meters.reset()
        super()._close_engine()

    def _engine_closed(self, error: BaseException | None) -> None:
        if error is not None:
            self.message.emit(f"Audio worker stopped: {type(error).__name__}: {error}")
        if self.path is not None:
            self._show_hearing(self.path, heard=False)

    # -- audio output ----------------------------------------------------------------------------
    def refresh_audio(self) -> str:
        """Choose the output device (the Renderer's saved choice, else the default or the
        first that plays) and check it; returns the problem ("" when none)."""
        fs = self.clips.fs_hz if self.clips is not None else None
        saved = AUDIO_DEVICE.get()
        # Any rate will do: the clips are resampled to the device's own when it needs that.
        self.device = audio_engine.choose_output_device(saved, None)
        # Nothing to play yet: nothing to warn about (the Save offer needs clips too).
        problem = "" if fs is None else audio_engine.output_problem(
            self.device, audio_engine.output_rate(self.device, fs)) or ""
        self._set_audio_problem(problem)
        return problem

    def _set_audio_problem(self, problem: str) -> None:
        self.audio_problem = problem
        self.problem_box.show_problem(problem)
        if problem:
            self.message.emit(problem)
        self._update_enabled()

    # -- slider and display ----------------------------------------------------------------------
    def _on_poll(self) -> None:
        if self.engine is None:
            self._poll.stop()
            return
        self.meters.set_meter(self.engine.meter())
        self._show_position(self.position_s)
        heard = self.heard_clip()
        if heard is not None:
            self._show_hearing(heard, heard=True)

    def _show_position(self, seconds: float) -> None:
        if self.slider.show_position(seconds, self.duration_s):
            self._show_time(seconds)

    def _show_time(self, seconds: float) -> None:
        self.time_label.setText(f"{format_time(seconds)} / {format_time(self.duration_s)}")

    def _show_hearing(self, name: str, heard: bool) -> None:
        verb = "hearing" if heard and self.state == "playing" else "selected"
        self.hearing_label.setText(f"{verb} <b>{name}</b>")

    def _update_enabled(self) -> None:
        loaded = self.player is not None
        self.play_button.setEnabled(loaded and not self.audio_problem)
        self.play_button.setToolTip(self.audio_problem or "Play or pause (Space)")
        self.stop_button.setEnabled(loaded and not self.audio_problem)
        self.slider.setEnabled(loaded)
        for b in self.clip_buttons.values():
            b.setEnabled(loaded)
        self.save_instead.setEnabled(loaded)
        if not loaded:
            self.hearing_label.setText("Process first: the clips appear here")

    # -- theme and shutdown ----------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        self.colors = colors
        self.meters.apply_theme(colors)
        self.problem_box.apply_theme(colors)
        self._style_buttons()

    def _style_buttons(self) -> None:
        style = choice_button_style(self.colors)
        for b in self.clip_buttons.values():
            b.setStyleSheet(style)

    def shutdown(self) -> None:
        """Close the engine (the host is closing)."""
        self._close_engine()
