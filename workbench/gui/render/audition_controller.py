"""The audition behind the Renderer panel: the programme, the A/B/X player built for the open
scene, the audio engine that plays it, and the jobs that prepare them.

Everything that takes time runs off the GUI thread in a `JobRunner` with progress and cancel:
reading the file (any rate, resampled with soxr by `dsp.audio_io.read_audio`), building the
player (`dsp.audition.make_player`: network design, device and reference-pair simulation,
loudness matching) and the display overviews (`dsp.programme_view`, `dsp.spectrum`). The
previous programme and player stay in place until a new one is ready, and stay when the new
one fails (a bad file's one-line reason goes to `errorChanged`) or is cancelled.

Playback (`workbench.gui.audio.playback.EnginePlayback`):
`workbench.gui.audio.engine.AudioEngine` (PortAudio) is made on Play and closed after the
transport has been idle (paused or stopped) for a moment, so an idle window costs no CPU. Its
`on_state` callback runs on the audio worker thread: it only emits a signal, delivered queued
on the GUI thread. Meters and position are polled (`meter()`, `position_s`) by the panel's
timer. Commands (play, pause, seek, loop, select, network) are queued to the player,
which applies them at its next block, so a change while playing is ramped or crossfaded by the
engine, never cut.

Parameters: the upmix settings (centre width, smoothing, ambience, centre gain) are swapped into
the running network (the engine crossfades the filters, the upmix statistics carry over);
changes are coalesced (`LIVE_DELAY_MS`) so a slider drag sends a few swaps, not one per pixel.
The block size makes a new player over the same paths (no simulation), the renderer methods
and the paths' engine rebuild the player in the background; playing continues from the same
place after a short fade.

No PortAudio or no output device: `audio_problem` holds the one-sentence reason (ending with
the offer of offline rendering), play is refused, everything else works.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from dsp import audition
from dsp.audio_io import AudioFileError
from dsp.listening import PATHS
from dsp.params import DesignError
from dsp.programme_view import LevelTrack
from dsp.renderer import RenderError
from dsp.spectrum import Spectrogram
from dsp.upmix import UpmixError, check_upmix_params
from sim.scene import Scene
from sim.scene_io import SceneError
from workbench.gui.audio import engine as audio_engine
from workbench.gui.audio.playback import IDLE_CLOSE_S, EnginePlayback
from workbench.gui.render.remembered import remember_params, saved_params
from workbench.gui.scene.document import SceneDocument
from workbench.gui.shell.settings import AUDIO_DEVICE, RENDERER_BLOCK, RENDERER_PATHS
from workbench.gui.shell.signals import connect_signals
from workbench.gui.shell.worker import BusyFlag, JobRunner
from workbench.jobs import render as render_job
from workbench.jobs.design import design_relevant
from workbench.jobs.render import (
    MODES,
    AuditionRequest,
    AuditionSettings,
    LevelsRequest,
    Prepared,
    Programme,
)

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".ogg")
AUDIO_FILTER = "Audio files (*.wav *.flac *.aif *.aiff *.ogg);;All files (*)"
BLOCKS = (64, 128, 256, 512, 1024)
MODE_LABELS = {"auto": "Scene (room unless anechoic)", "room": "Room (full)",
               "early": "Room (early part, fast)", "freefield": "Free field"}
PATH_LABELS = {"A": "plain stereo through the device", "B": "spatial renderer through the device",
               "X": "reference stereo pair (the target)"}
LIVE_DELAY_MS = 120
MIN_LOOP_S = 0.1
SWAP_FADE_MS = 120


def is_audio_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_SUFFIXES


def describe_build_error(error: BaseException) -> str:
    """One line for users about a failed build."""
    if isinstance(error, AudioFileError):
        return str(error)
    if isinstance(error, (RenderError, DesignError, SceneError, UpmixError)):
        return f"Cannot prepare the audition: {error}"
    if isinstance(error, MemoryError):
        return "Cannot prepare the audition: not enough memory for this file"
    return f"Preparing the audition failed: {type(error).__name__}: {error}"


class AuditionController(EnginePlayback, BusyFlag, QObject):
    """Programme, player, engine and jobs of one window's Renderer panel.

    Signals: programmeChanged(Programme | None), playerChanged(Player | None),
    overviewChanged(), busyChanged(bool), progress(fraction, message), stateChanged(str:
    playing | paused | stopped), pathChanged(str), audioProblemChanged(str: "" = audio works),
    errorChanged(str: "" = none), message(str: for the status bar), staleChanged(bool: the
    scene changed since the player was built), settingsChanged(AuditionSettings).
    """

    programmeChanged = Signal(object)
    playerChanged = Signal(object)
    overviewChanged = Signal()
    busyChanged = Signal(bool)
    progress = Signal(float, str)
    stateChanged = Signal(str)
    pathChanged = Signal(str)
    audioProblemChanged = Signal(str)
    errorChanged = Signal(str)
    message = Signal(str)
    staleChanged = Signal(bool)
    settingsChanged = Signal(object)
    _workerState = Signal(str, float)

    def __init__(self, document: SceneDocument, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        block, mode = RENDERER_BLOCK.get(), RENDERER_PATHS.get()
        self.settings = AuditionSettings(params=saved_params(),
                                         block=block if block in BLOCKS else 512,
                                         mode=mode if mode in MODES else "auto")
        self.programme: Programme | None = None
        self.player: audition.Player | None = None
        self.levels: LevelTrack | None = None
        self.spectrogram: Spectrogram | None = None
        self.path = "B"
        self.loop: tuple[float, float] | None = None
        self.audio_problem = ""
        self.error = ""
        self.stale = False
        self.device: int | None = None
        self._built_scene: Scene | None = None
        self._network = None
        self._queued = None  # a build asked for while one runs: (source, resume)
        self._job: tuple | None = None
        self._swap: tuple | None = None
        self.build_runner = JobRunner(self)
        self.levels_runner = JobRunner(self)
        self._levels_dirty = False
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DELAY_MS)
        self._live_timer.timeout.connect(self._apply_live)
        self._init_playback()
        connect_signals(self.build_runner, progress=self.progress, finished=self._on_built,
                        failed=self._on_build_failed, cancelled=self._on_build_cancelled,
                        done=self._on_build_done)
        connect_signals(self.levels_runner, finished=self._on_levels, done=self._on_levels_done)
        document.changed.connect(self._check_stale)
        self.device = self._initial_device(AUDIO_DEVICE.get())
        self.refresh_audio()

    # -- properties ------------------------------------------------------------------------------
    @property
    def can_play(self) -> bool:
        return self.player is not None and not self.audio_problem

    @property
    def fs_hz(self) -> int:
        return int(self.player.fs_hz) if self.player is not None \
            else int(self.document.scene.simulation.fs_hz)

    @property
    def duration_s(self) -> float:
        return self.programme.duration_s if self.programme is not None else 0.0

    @property
    def position_s(self) -> float:
        """Programme time being heard (the seek target for a moment after a seek, while the
        engine's ring still holds the old place)."""
        if time.monotonic() < self._seek_until:
            return self._seek_target
        if self.engine is None:
            return self._position
        return self.engine.position_s

    def meter(self):
        """The engine's meter of what is heard now (dsp.audition.Meter), None when silent."""
        return self.engine.meter() if self.engine is not None else None

    # -- loading and building --------------------------------------------------------------------
    def load(self, path: str | Path) -> bool:
        """Open an audio file: read, resample, build the player in the background."""
        return self._build(Path(path), resume=None)

    def rebuild(self) -> bool:
        """Build the player again for the current scene and settings (same programme; playing
        continues where it was)."""
        if self.programme is None:
            self.message.emit("Open an audio file first.")
            return False
        return self._build(self.programme, resume=(self.position_s, self.state == "playing"))

    def cancel_build(self) -> None:
        self._queued = None
        if self.build_runner.is_running:
            self.build_runner.cancel()

    def _build(self, source, resume) -> bool:
        if self.build_runner.is_running:
            self._queued = (source, resume)
            self.build_runner.cancel()
            return True
        scene = self.document.scene
        name = source.name if isinstance(source, (Path, Programme)) else str(source)
        label = f"Opening {name}" if isinstance(source, Path) else "Rebuilding the paths"
        self._job = (source, resume, label)
        self.build_runner.start(render_job.prepare,
                                AuditionRequest(source, scene, self.settings, self.path),
                                label=label)
        self._set_busy(True)
        self.progress.emit(0.0, label)
        self.message.emit(f"{label}…")
        return True

    def _on_built(self, prep: Prepared) -> None:
        _source, resume, label = self._job
        self._set_error("")
        self.programme = prep.programme
        self.levels, self.spectrogram = prep.levels, prep.spectrogram
        self._built_scene = prep.scene
        self._network = prep.player.paths.network
        if self.loop is not None and (resume is None or self.loop[1] > self.duration_s):
            self.loop = None
        self._replace_player(prep.player, resume)
        self.programmeChanged.emit(self.programme)
        self.overviewChanged.emit()
        self._set_stale(False)
        self.refresh_audio()
        if self._network.upmix != self.settings.params.upmix:  # changed during the build
            self._live_timer.start()
        p = prep.player.paths
        self.message.emit(f"{label}: ready in {prep.wall_s:.1f} s — {p.engine} paths, latency"
                          f" {1e3 * p.latency / p.fs_hz:.0f} ms to the ears")

    def _on_build_failed(self, error: BaseException, _text: str) -> None:
        message = describe_build_error(error)
        log.error("%s", message)
        self._set_error(message)
        self.message.emit(message)

    def _on_build_cancelled(self) -> None:
        if self._queued is None:
            kept = " (the previous programme is kept)" if self.programme is not None else ""
            self.message.emit(f"{self._job[2]}: cancelled{kept}.")

    def _on_build_done(self) -> None:
        if self._queued is not None:
            source, resume = self._queued
            self._queued = None
            self._build(source, resume)
            return
        self._set_busy(False)

    def _set_error(self, message: str) -> None:
        if message != self.error:
            self.error = message
            self.errorChanged.emit(message)

    # -- the scene ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Another scene was opened: stop, and drop the programme and its player (built for the
        old scene); the settings stay."""
        self.cancel_build()
        if self.levels_runner.is_running:
            self.levels_runner.cancel()
        self._live_timer.stop()
        self._swap = None
        self._close_engine()
        self.programme = self.player = self.levels = self.spectrogram = self.loop = None
        self._built_scene = self._network = None
        self._position = 0.0
        self._set_error("")
        self._set_stale(False)
        self._set_state("stopped")
        self.playerChanged.emit(None)
        self.programmeChanged.emit(None)

    def _check_stale(self) -> None:
        if self._built_scene is not None:
            self._set_stale(design_relevant(self.document.scene)
                            != design_relevant(self._built_scene))

    def _set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self.staleChanged.emit(stale)

    # -- the player and the engine ---------------------------------------------------------------
    def _replace_player(self, player, resume) -> None:
        """Put a new player in place: fade the old one out first when it is playing."""
        if self.engine is not None and self.state == "playing":
            self.engine.pause()
            self._swap = (player, resume)
            QTimer.singleShot(SWAP_FADE_MS, self._finish_swap)
            return
        self._install(player, resume)

    def _finish_swap(self) -> None:
        if self._swap is None:
            return
        player, resume = self._swap
        self._swap = None
        if resume is not None:  # continue from where the fade-out left the old one
            resume = (self.engine.position_s if self.engine is not None else resume[0],
                      resume[1])
        self._install(player, resume)

    def _install(self, player, resume) -> None:
        self._close_engine()
        self.player = player
        if player.selected != self.path:
            player.select(self.path)
        net = self._network
        if net is not None and player.paths.network.upmix != net.upmix:
            player.command("network", net)  # a live change the old player had not applied
        if self.loop is not None:
            player.set_loop(*self.loop)
        self._seek_until = 0.0
        if resume is not None:
            pos, playing = resume
            player.seek(pos)
            self._position = pos
            self.playerChanged.emit(player)
            if not (playing and self.play()):
                self._set_state("paused" if pos > 0 else "stopped")
            return
        self._position = 0.0
        self._set_state("stopped")
        self.playerChanged.emit(player)

    def play(self) -> bool:
        """Start (or resume) playback. False, with the reason in `audio_problem`, when there
        is no audio output."""
        if self.player is None:
            self.message.emit("Open an audio file first.")
            return False
        return super().play()

    def _rest_position(self) -> float:
        return self.loop[0] if self.loop else 0.0

    def set_loop(self, start_s: float, end_s: float) -> str:
        """Loop [start, end) seconds; returns "" or why not (too short, outside the file)."""
        dur = self.duration_s
        start, end = max(0.0, float(start_s)), min(float(end_s), dur)
        if self.player is None:
            return "Open an audio file first."
        if end - start < MIN_LOOP_S:
            return (f"Loop {start:.2f}–{end:.2f} s is shorter than {MIN_LOOP_S:g} s"
                    f" (the file is {dur:.2f} s)")
        self.loop = (start, end)
        (self.engine or self.player).set_loop(start, end)
        return ""

    def clear_loop(self) -> None:
        self.loop = None
        if self.player is not None:
            (self.engine or self.player).set_loop(None)

    def select(self, path: str) -> None:
        """Switch the heard path (A, B or X): crossfaded by the player."""
        if path not in PATHS:
            raise ValueError(f"path = {path!r} must be one of {', '.join(PATHS)}")
        changed = path != self.path
        self.path = path
        if self.player is not None:
            (self.engine or self.player).select(path)
        if changed:
            self.pathChanged.emit(path)

    def heard_path(self) -> str:
        m = self.meter()
        return m.path if m is not None else self.path

    def _idle_close_s(self) -> float:
        tail = (self.player._tail / self.player.fs_hz) if self.player is not None else 0.0
        return IDLE_CLOSE_S + tail

    def _on_worker_state(self, state: str, position_s: float) -> None:
        if self._swap is None:  # while players swap, the outgoing one's states are stale
            super()._on_worker_state(state, position_s)

    def _close_if_idle(self) -> None:
        if self._swap is None:
            super()._close_if_idle()

    def _engine_closed(self, error: BaseException | None) -> None:
        if error is not None:
            self._set_error(f"Audio worker stopped: {type(error).__name__}: {error}")

    # -- settings --------------------------------------------------------------------------------
    def set_upmix(self, **changes) -> str:
        """Change upmix settings (UpmixParams fields); applied to the running player after
        LIVE_DELAY_MS (coalesced). A frame-length change rebuilds. Returns "" or the refusal."""
        new = replace(self.settings.params.upmix, **changes)
        try:
            check_upmix_params(new)
        except UpmixError as e:
            return str(e)
        if new == self.settings.params.upmix:
            return ""
        frame_changed = new.frame != self.settings.params.upmix.frame
        self._set_settings(replace(self.settings, params=replace(self.settings.params,
                                                                  upmix=new)))
        if frame_changed:
            if self.programme is not None:
                self.rebuild()
        elif self.player is not None:
            self._live_timer.start()
        return ""

    def _apply_live(self) -> None:
        """Send the current upmix settings to the player (crossfaded swap of B's network)."""
        if self.player is None or self._network is None:
            return
        if self._swap is not None:  # a new player is fading in: it gets it in _install
            self._live_timer.start()
            return
        upmix = self.settings.params.upmix
        if self._network.upmix == upmix:
            return
        net = replace(self._network, upmix=upmix)
        self._network = net
        if self.engine is not None:
            self.engine.set_network(net)
        else:
            self.player.command("network", net)
        self._request_levels()

    def set_render(self, **changes) -> None:
        """Change renderer methods (RenderParams fields other than upmix): rebuilds."""
        params = replace(self.settings.params, **changes)
        if params != self.settings.params:
            self._set_settings(replace(self.settings, params=params))
            if self.programme is not None:
                self.rebuild()

    def set_mode(self, mode: str) -> None:
        """Listening-path engine (a MODES key): rebuilds."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} must be one of {', '.join(MODES)}")
        if mode != self.settings.mode:
            RENDERER_PATHS.set(mode)
            self._set_settings(replace(self.settings, mode=mode))
            if self.programme is not None:
                self.rebuild()

    def set_block(self, block: int) -> None:
        """Player block size (64 .. 1024): a new player over the same paths, no simulation."""
        block = int(block)
        if block not in BLOCKS:
            raise ValueError(f"block {block} must be one of {BLOCKS}")
        if block == self.settings.block:
            return
        RENDERER_BLOCK.set(block)
        self._set_settings(replace(self.settings, block=block))
        current = self._swap[0] if self._swap is not None else self.player
        if current is not None and self.programme is not None:
            player = audition.Player(current.paths, self.programme.x, block=block,
                                     path=self.path)
            self._replace_player(player, (self.position_s, self.state == "playing"))

    def _set_settings(self, settings: AuditionSettings) -> None:
        if settings.params != self.settings.params:
            remember_params(settings.params)
        self.settings = settings
        self.settingsChanged.emit(settings)

    # -- L/R/C level overview after an upmix change ---------------------------------------------
    def _request_levels(self) -> None:
        if self.programme is None:
            return
        if self.levels_runner.is_running:
            self._levels_dirty = True
            return
        self._levels_dirty = False
        self.levels_runner.start(render_job.levels,
                                 LevelsRequest(self.programme, self.settings.params.upmix),
                                 label="L/R/C levels")

    def _on_levels(self, levels: LevelTrack) -> None:
        if not self._levels_dirty:
            self.levels = levels
            self.overviewChanged.emit()

    def _on_levels_done(self) -> None:
        if self._levels_dirty:
            self._request_levels()

    # -- audio output ----------------------------------------------------------------------------
    def devices(self) -> list[dict]:
        """Output devices (index, name, hostapi, channels, default_samplerate)."""
        return audio_engine.list_output_devices()

    def _initial_device(self, saved: str) -> int | None:
        return audio_engine.choose_output_device(saved, int(self.document.scene.simulation.fs_hz))

    def set_device(self, device: int | None) -> None:
        """Choose the output device (None = system default); playing continues on it."""
        if device == self.device:
            return
        resume = (self.position_s, self.state == "playing") if self.engine else None
        self.device = device
        label = next((audio_engine.device_label(d) for d in self.devices()
                      if d["index"] == device), "")
        AUDIO_DEVICE.set(label)
        self.refresh_audio()
        if resume is not None and self._swap is None:
            # Fade out, close the stream, reopen on the new device where it was.
            self._replace_player(self.player, resume)

    def refresh_audio(self, rescan: bool = False) -> str:
        """Check the output (PortAudio present, the device can play stereo at the player's
        rate); rescan: ask PortAudio for the devices again (a JACK server started since).
        Returns the problem ("" when none)."""
        if rescan and self.engine is None:
            _rescan_portaudio()
        problem = audio_engine.output_problem(self.device, self.fs_hz) or ""
        self._set_audio_problem(problem)
        return problem

    def _set_audio_problem(self, problem: str) -> None:
        if problem != self.audio_problem:
            self.audio_problem = problem
            if problem:
                log.warning("%s", problem)
            self.audioProblemChanged.emit(problem)

    # -- shutdown --------------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Close the engine and stop the jobs (window closing)."""
        self._live_timer.stop()
        self._swap = None
        self._close_engine()
        self._queued = None
        for runner in (self.build_runner, self.levels_runner):
            if runner.is_running:
                runner.cancel()
                if not runner.wait(timeout_ms):
                    log.warning("the %s job did not stop within %d ms", runner.label,
                                timeout_ms)


def _rescan_portaudio() -> None:
    """Re-initialize PortAudio so devices added since start (a JACK server) appear."""
    try:
        import sounddevice as sd

        sd._terminate()
        sd._initialize()
    except Exception as e:  # best effort: the device list stays as it was
        log.info("PortAudio rescan failed: %s", e)


__all__ = ["AUDIO_FILTER", "BLOCKS", "MODE_LABELS", "PATH_LABELS", "AuditionController",
           "describe_build_error", "is_audio_file"]
