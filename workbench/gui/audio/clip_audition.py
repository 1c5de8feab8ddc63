"""A/B playback of precomputed clips (e.g. Noisy / Enhanced / Clean) through the audition engine.

`ClipAudition` is a strip for any panel that produces clips: Play/Pause, Stop, one button per
clip (keys 1, 2, 3 … while the host panel has the focus, Space plays and pauses), a position
slider with the time, and output meters (peak/RMS per ear after the −1 dBFS limiter, gain
reduction). The clips play through `dsp.clip_paths.clip_player` — the Renderer's `Player`
with the same transport fades, crossfaded switching, limiter and meters — streamed by
`workbench.gui.audio.engine.AudioEngine` exactly as the Renderer panel does: the engine is made on
Play and closed after the transport has been idle a moment, its PortAudio callback only copies
from the ring its worker fills, its state callback only emits a signal (delivered queued on the
GUI thread), and meters and position are polled by a timer.

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
    QAbstractSlider,
    QApplication,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dsp.audition import Player
from dsp.clip_paths import ClipSet, clip_player
from workbench.gui.audio import engine as audio_engine
from workbench.gui.audio.meters import LevelMeters
from workbench.gui.shell.settings import AUDIO_DEVICE
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.jobs.render import format_time

POLL_MS = 33
IDLE_CLOSE_S = 1.5
SEEK_HOLD_S = 0.4
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


class ClipAudition(QWidget):
    """Clip player strip. `set_clips(ClipSet | None)` loads; `set_shortcut_scope(panel)`
    makes the keys work anywhere in the host panel. Signals: message(str) for the status bar,
    saveRequested() from the Save button offered when audio cannot play, stateChanged(str:
    playing | paused | stopped)."""

    message = Signal(str)
    saveRequested = Signal()
    stateChanged = Signal(str)
    _workerState = Signal(str, float)

    engine_factory = None
    """Callable(player, device=...) → engine; None = `audio_engine.AudioEngine` (tests put a
    stand-in here)."""

    def __init__(self, save_text: str = "Save Output Instead…", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("clipAudition")
        self.colors = scene_colors(current_theme())
        self.clips: ClipSet | None = None
        self.player: Player | None = None
        self.path: str | None = None  # the clip asked for (the player applies it at its next block)
        self.engine = None
        self.device: int | None = None
        self.state = "stopped"
        self.audio_problem = ""
        self._scope: QWidget | None = None
        self._swallow: tuple | None = None  # (key, widget): its next key press is dropped
        self._position = 0.0
        self._seek_target = 0.0
        self._seek_until = 0.0
        self._dragging = False
        self._build(save_text)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._idle_timer = QTimer(self)
        self._idle_timer.setSingleShot(True)
        self._idle_timer.timeout.connect(self._close_if_idle)
        self._workerState.connect(self._on_worker_state, Qt.ConnectionType.QueuedConnection)
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
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("clipPosition")
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1000)
        self.slider.setSingleStep(100)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        self.time_label.setMinimumWidth(100)
        self.clip_row = QHBoxLayout()
        self.clip_group = QButtonGroup(self)
        self.clip_group.setExclusive(True)
        self.clip_buttons: dict[str, QPushButton] = {}
        self.hearing_label = QLabel()
        self.hearing_label.setObjectName("clipHearing")
        self.meters = OutputMeters()

        self.problem_label = QLabel()
        self.problem_label.setObjectName("clipAudioProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_instead = QPushButton(save_text)
        self.save_instead.setObjectName("clipSaveInstead")
        self.problem_box = QFrame()
        self.problem_box.setObjectName("clipAudioBox")
        box = QHBoxLayout(self.problem_box)
        box.setContentsMargins(6, 2, 6, 2)
        box.addWidget(self.problem_label, 1)
        box.addWidget(self.save_instead)

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
        self.slider.sliderPressed.connect(self._on_slider_pressed)
        self.slider.sliderReleased.connect(self._on_slider_released)
        self.slider.sliderMoved.connect(lambda v: self._show_time(v / 1000.0))
        self.slider.actionTriggered.connect(self._on_slider_action)

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
    def play(self) -> bool:
        """Start or resume; False (the reason shown) when there is no audio output."""
        if self.player is None:
            return False
        if self.audio_problem:
            self.message.emit(self.audio_problem)
            return False
        self._idle_timer.stop()
        if self.engine is None:
            engine, problem = audio_engine.start_engine(
                self.player, self.device, self.engine_factory or audio_engine.AudioEngine,
                self._workerState.emit, hint="save the output and play it elsewhere")
            if engine is None:
                self._set_problem(problem)
                return False
            self.engine = engine
            self._poll.start()
        else:
            self.engine.play()
        self._set_state("playing")
        return True

    def pause(self) -> None:
        if self.player is None or self.state != "playing":
            return
        self._position = self.position_s
        (self.engine or self.player).pause()
        self._set_state("paused")

    def play_pause(self) -> bool:
        if self.state == "playing":
            self.pause()
            return True
        return self.play()

    def stop(self) -> None:
        if self.player is None:
            return
        (self.engine or self.player).stop()
        self._hold_position(0.0)
        self._set_state("stopped")
        self._show_position(0.0)

    def seek(self, seconds: float) -> None:
        if self.player is None:
            return
        seconds = min(max(float(seconds), 0.0), self.duration_s)
        (self.engine or self.player).seek(seconds)
        self._hold_position(seconds)
        self._show_position(seconds)

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

    def _hold_position(self, seconds: float) -> None:
        self._position = self._seek_target = seconds
        self._seek_until = time.monotonic() + SEEK_HOLD_S if self.engine is not None else 0.0

    def _set_state(self, state: str) -> None:
        if state != "playing" and self.engine is not None:
            self._idle_timer.start(round(1e3 * IDLE_CLOSE_S))
        playing = state == "playing"
        self.play_button.setText("❚❚ Pause" if playing else "▶ Play")
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _on_worker_state(self, state: str, _position_s: float) -> None:
        """The end of the programme is the one change only the worker knows of (playing →
        stopped without a Stop)."""
        if self.engine is None or self.player is None:
            return
        if state == "stopped" and self.state == "playing" and self.player.state == "stopped":
            self._position = 0.0
            self._seek_until = 0.0
            self._set_state("stopped")
            self._show_position(0.0)

    def _close_if_idle(self) -> None:
        if self.state != "playing":
            self._close_engine()

    def _close_engine(self) -> None:
        self._idle_timer.stop()
        self._poll.stop()
        engine, self.engine = self.engine, None
        self.meters.reset()
        if engine is None:
            return
        if self.state != "stopped":
            self._position = engine.position_s
        error = getattr(engine, "worker_error", None)
        engine.close()
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
        self._set_problem(problem)
        return problem

    def _set_problem(self, problem: str) -> None:
        self.audio_problem = problem
        self.problem_label.setText(problem)
        self.problem_label.setToolTip(problem)
        self.problem_box.setVisible(bool(problem))
        if problem:
            self.message.emit(problem)
        self._update_enabled()

    # -- slider and display ----------------------------------------------------------------------
    def _on_slider_pressed(self) -> None:
        self._dragging = True

    def _on_slider_released(self) -> None:
        self._dragging = False
        self.seek(self.slider.value() / 1000.0)

    def _on_slider_action(self, action: int) -> None:
        if action != QAbstractSlider.SliderAction.SliderMove.value:
            QTimer.singleShot(0, lambda: self.seek(self.slider.value() / 1000.0))

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
        if not self._dragging:
            self.slider.blockSignals(True)
            self.slider.setRange(0, round(1000 * self.duration_s))
            self.slider.setValue(round(1000 * seconds))
            self.slider.blockSignals(False)
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
        self.problem_box.setStyleSheet(
            f"#clipAudioBox {{ border: 1px solid {colors.error}; border-radius: 3px; }}"
            f" #clipAudioProblem {{ color: {colors.error}; }}")
        self._style_buttons()

    def _style_buttons(self) -> None:
        c = self.colors
        for b in self.clip_buttons.values():
            b.setStyleSheet(f"QPushButton:checked {{ background: {c.listener};"
                            f" color: {c.background}; border-radius: 3px; }}")

    def shutdown(self) -> None:
        """Close the engine (the host is closing)."""
        self._close_engine()
