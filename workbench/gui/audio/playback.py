"""The transport both auditions share (the Renderer's A/B/X and the clip strip of Enhancement and
DRED): play, pause, stop and seek of one `dsp.audition.Player` through an audio engine that is
made on Play and closed after the transport has been idle a moment, so an idle window costs no
CPU.

`EnginePlayback` is a mixin of a QObject host. The host declares the `_workerState =
Signal(str, float)` it is told of the worker's state changes through, and the signals
`stateChanged(str)` and `message(str)`; it calls `_init_playback()` in its constructor, keeps
`player`, `device` and `audio_problem`, and implements `duration_s`, `position_s` and
`_set_audio_problem(problem)`. It may override the hooks: `_rest_position()` (where Stop and
the end of the programme go: 0 s), `_position_set(seconds)` (Stop or a seek moved the
position), `_idle_close_s()` and `_engine_closed(error)`.

Commands go to the engine when there is one, else straight to the player (both queue them to
the player's next block). The engine's state callback runs on the audio worker thread: it only
emits `_workerState`, delivered queued on the GUI thread.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer

from workbench.gui.audio import engine as audio_engine

IDLE_CLOSE_S = 1.5
"""The engine closes after the transport has been paused or stopped this long."""
SEEK_HOLD_S = 0.4
"""After a seek the position reads as the target this long: the engine's ring still plays the
old place until the command has gone through."""


class EnginePlayback:
    """Play / pause / stop / seek of `self.player` through an engine made on demand."""

    engine_factory = None
    """Callable(player, device=...) → engine; None = `audio_engine.AudioEngine` (tests put a
    stand-in here)."""
    engine_hint = audio_engine.OFFLINE_HINT
    """What still works without a sound card (ends the message when the engine cannot start)."""

    def _init_playback(self) -> None:
        self.engine = None
        self.state = "stopped"
        self._position = 0.0
        self._seek_target = 0.0
        self._seek_until = 0.0
        self._idle_timer = QTimer(self)
        self._idle_timer.setSingleShot(True)
        self._idle_timer.timeout.connect(self._close_if_idle)
        self._workerState.connect(self._on_worker_state, Qt.ConnectionType.QueuedConnection)

    # -- hooks -----------------------------------------------------------------------------------
    def _rest_position(self) -> float:
        """Where Stop and the end of the programme leave the position (s)."""
        return 0.0

    def _position_set(self, seconds: float) -> None:
        """Stop or a seek moved the position to `seconds`."""

    def _idle_close_s(self) -> float:
        return IDLE_CLOSE_S

    def _engine_closed(self, error: BaseException | None) -> None:
        """The engine was closed; `error` stopped its worker (None when none did)."""

    # -- transport -------------------------------------------------------------------------------
    def play(self) -> bool:
        """Start or resume; False (the reason in `audio_problem`) when there is no audio
        output or nothing to play."""
        if self.player is None:
            return False
        if self.audio_problem:
            self.message.emit(self.audio_problem)
            return False
        self._idle_timer.stop()
        if self.engine is None:
            engine, problem = audio_engine.start_engine(
                self.player, self.device, self.engine_factory or audio_engine.AudioEngine,
                self._workerState.emit, hint=self.engine_hint)
            if engine is None:
                self._set_audio_problem(problem)
                return False
            self.engine = engine
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
        rest = self._rest_position()
        self._hold_position(rest)
        self._set_state("stopped")
        self._position_set(rest)

    def seek(self, seconds: float) -> None:
        if self.player is None:
            return
        seconds = min(max(float(seconds), 0.0), self.duration_s)
        (self.engine or self.player).seek(seconds)
        self._hold_position(seconds)
        self._position_set(seconds)

    def _hold_position(self, seconds: float) -> None:
        """Report `seconds` as the position: at once without an engine, and for SEEK_HOLD_S
        with one."""
        self._position = self._seek_target = seconds
        self._seek_until = time.monotonic() + SEEK_HOLD_S if self.engine is not None else 0.0

    def _set_state(self, state: str) -> None:
        if state != "playing" and self.engine is not None:
            self._idle_timer.start(round(1e3 * self._idle_close_s()))
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _on_worker_state(self, state: str, _position_s: float) -> None:
        """The player changed state on the worker: what the user asked for stays
        authoritative; the one change only the worker knows of is the end of the programme
        (playing → stopped without a Stop)."""
        if self.engine is None or self.player is None:
            return
        if state == "stopped" and self.state == "playing" and self.player.state == "stopped":
            self._position = self._rest_position()
            self._seek_until = 0.0
            self._set_state("stopped")
            self._position_set(self._position)

    # -- the engine ------------------------------------------------------------------------------
    def _close_if_idle(self) -> None:
        if self.state != "playing":
            self._close_engine()

    def _close_engine(self) -> None:
        self._idle_timer.stop()
        engine, self.engine = self.engine, None
        if engine is None:
            return
        if self.state != "stopped":
            self._position = engine.position_s
        error = getattr(engine, "worker_error", None)
        engine.close()
        self._engine_closed(error)
