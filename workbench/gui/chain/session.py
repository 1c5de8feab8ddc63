"""One live voice chain for the Voice Chain panel: the graph built off the GUI thread, played
through the audition engine (or a silent clock where there is no sound card), steered from the
GUI thread, with the room responses re-simulated when the scene changes and the per-stage quality
scored in a separate process.

`ChainSession` (a QObject; every method is called on the GUI thread):

- `start(inputs, settings)` reads the talker and noise files, simulates the scene's responses,
  builds a `dsp.chain.ChainGraph` and starts playing it as a `dsp.chain.LiveChain` through
  `workbench.gui.audio.engine.AudioEngine` on the saved output device, all on a worker
  (`JobRunner`; an engine's start runs the chain to fill its ring); where PortAudio or an output
  device is missing it runs on a `SilentEngine` instead and says why (`audio_problem`).
  Signals: `started(mode)` ("audio" or "silent"), `failed(text)` (one line: bad input or why
  the build failed), `stopped()`.
- `submit(settings)`: to the running graph (`ChainSettingsError` raised at once for bad ones),
  applied at its next 20 ms block; `select(tap)`: the tap heard, crossfaded.
- `scene_changed(scene)`: while running, the scene's responses are simulated again on a worker
  (while the talker is dragged the room's early part, once it rests the full responses) and
  handed to the graph (crossfaded there); the latest change always wins: a newer one cancels a
  full simulation in flight, or follows a quick early one. `responsesFailed(text)` when the new
  scene cannot be simulated (no talker any more): the chain goes on with the old responses.
- `poll_quality(seconds)`: starts scoring the last `seconds` of every tap (PESQ-WB, STOI) in a
  worker process unless one is in flight; `quality(dict)` delivers {tap: {"pesq_wb", "stoi"}}.
  A process, not a thread: the scorers hold the GIL for up to a quarter of a second at a time,
  which stalls the event loop and the audio worker. The process is started with the chain (from
  a helper thread: starting it takes 100 ms) and runs niced, so the chain and the GUI come first.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from dsp.chain import REFERENCE, SCORED, ChainGraph, ChainSettings, LiveChain
from dsp.chain.live import LIVE_RING_MS, OUT_HZ
from dsp.chain.metrics import stage_quality
from sim.scene import Scene
from workbench.gui.audio import engine as audio_engine
from workbench.gui.chain.clock import SilentEngine
from workbench.gui.shell.job_panel import one_line
from workbench.gui.shell.settings import AUDIO_DEVICE
from workbench.gui.shell.signals import connect_signals
from workbench.gui.shell.worker import JobRunner

SCORER_NICE = 10
RESIMULATE_DELAY_MS = 60
"""A scene change is simulated this long after it (the latest one then; a drag sends one per
mouse move)."""
SETTLE_MS = 800
"""After the last scene edit, the early responses of a drag make way for the full ones."""
SILENT_HINT = "the chain runs silently (meters, spectrograms, packets), or use Save Run…"


@dataclass(frozen=True)
class ChainInputs:
    """What a graph is built from besides its settings: the scene, the talker and noise files
    and the room engine ("room" or "freefield")."""

    scene: Scene
    talker: Path
    noise: Path
    engine: str = "room"


def build_graph(inputs: ChainInputs, settings: ChainSettings, *, state=None) -> ChainGraph:
    """Read the voice files (as `awb chain` does), simulate the responses, build the graph
    (worker thread). Raises the chain job's input errors for unusable input."""
    from dsp.chain import ChainContext, Voice, scene_responses
    from workbench.jobs.chain import read_voice

    voice = Voice(read_voice(inputs.talker, "talker"), read_voice(inputs.noise, "noise"))
    responses = scene_responses(inputs.scene, inputs.engine, state=state)
    return ChainGraph(ChainContext(responses, voice), settings)


@dataclass
class LiveRun:
    """A graph playing: `mode` "audio" (through `engine` on the sound card) or "silent" (a
    `SilentEngine`; `audio_problem` says why, in one line ending with what still works)."""

    graph: ChainGraph
    live: LiveChain
    engine: object
    mode: str
    audio_problem: str = ""


def silent_reason(problem: str) -> str:
    """The audio problem in one line, ending with what still works."""
    first = problem.split(";")[0].strip() or "No audio output"
    return f"{first}; {SILENT_HINT}"


def start_live(inputs: ChainInputs, settings: ChainSettings, tap: str, saved_device: str,
               factory, *, state=None) -> LiveRun:
    """Build the graph and start playing it (worker thread: starting an engine runs the chain
    for its first blocks) on the saved output device (`saved_device`: a `device_label`) through
    `factory`, else on a `SilentEngine`."""
    graph = build_graph(inputs, settings, state=state)
    live = LiveChain(graph, tap=tap)
    device = audio_engine.choose_output_device(saved_device, OUT_HZ)
    problem = audio_engine.output_problem(device, OUT_HZ) or ""
    engine = None
    if not problem:
        engine, problem = audio_engine.start_engine(live, device, factory, _ignore_state,
                                                    hint=SILENT_HINT)
    if engine is not None:
        return LiveRun(graph, live, engine, "audio")
    engine, _ = audio_engine.start_engine(live, None, SilentEngine, _ignore_state)
    return LiveRun(graph, live, engine, "silent", silent_reason(problem))


def simulate_responses(scene: Scene, engine: str, early_only: bool, *, state=None):
    """The scene's chain responses (worker thread); early_only: the room's quick early part."""
    from dsp.chain import scene_responses

    return scene_responses(scene, engine, early_only=early_only, state=state)


def describe_failure(error: BaseException, what: str) -> str:
    """One line for the panel: the message of a bad-input error, else what failed and why."""
    from workbench.jobs.chain import input_errors

    if isinstance(error, input_errors()):
        return one_line(error)
    return f"{what} failed: {type(error).__name__}: {one_line(error)}"


def _ignore_state(_state: str, _position_s: float) -> None:
    """The engine's state callback: a live chain changes state only when told to."""


def audio_factory(player, device=None):
    """The audition engine for a live chain (its ring short: changes are heard soon)."""
    return audio_engine.AudioEngine(player, device=device, ring_ms=LIVE_RING_MS)


class ChainSession(QObject):
    """The live chain of one panel (see the module docstring)."""

    started = Signal(str)
    stopped = Signal()
    failed = Signal(str)
    responsesFailed = Signal(str)
    quality = Signal(object)

    engine_factory = None
    """Callable(player, device=...) -> engine for the sound card; None = `audio_factory`
    (tests put a stand-in here)."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.graph: ChainGraph | None = None
        self.live: LiveChain | None = None
        self.engine = None
        self.mode = ""
        self.audio_problem = ""
        self.inputs: ChainInputs | None = None
        self.tap = "output"
        self._discard_build = False
        self.build_runner = JobRunner(self)
        self.sim_runner = JobRunner(self)
        connect_signals(self.build_runner, finished=self._on_built, failed=self._on_build_failed)
        connect_signals(self.sim_runner, finished=self._on_responses,
                        failed=self._on_responses_failed, done=self._next_simulation)
        self._pending: tuple[Scene, bool] | None = None  # (scene, early part only)
        self._simulating_early = False
        self._sim_timer = QTimer(self)
        self._sim_timer.setSingleShot(True)
        self._sim_timer.setInterval(RESIMULATE_DELAY_MS)
        self._sim_timer.timeout.connect(self._next_simulation)
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_MS)
        self._settle_timer.timeout.connect(self._settled)
        self._pool: ProcessPoolExecutor | None = None
        self._scoring: Future | None = None
        self._score_timer = QTimer(self)
        self._score_timer.setInterval(100)
        self._score_timer.timeout.connect(self._collect_quality)

    # -- state -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.engine is not None

    @property
    def busy(self) -> bool:
        """A graph is being built."""
        return self.build_runner.is_running

    # -- start / stop ----------------------------------------------------------------------
    def start(self, inputs: ChainInputs, settings: ChainSettings) -> bool:
        """Build a graph for `inputs` and `settings` on a worker and play it (`started`, or
        `failed` with the reason). False when a build is already under way."""
        if self.busy:
            return False
        self.stop()
        self.inputs = inputs
        self._discard_build = False
        return self.build_runner.start(start_live, inputs, settings, self.tap,
                                       AUDIO_DEVICE.get(), self.engine_factory or audio_factory,
                                       label="voice chain")

    def _on_built(self, run: LiveRun) -> None:
        if self._discard_build:  # reset while it was built
            self._discard_build = False
            run.engine.close()
            return
        self.graph, self.live, self.engine = run.graph, run.live, run.engine
        self.mode, self.audio_problem = run.mode, run.audio_problem
        self._start_scorer()
        self.started.emit(self.mode)

    def _on_build_failed(self, error: BaseException, _text: str) -> None:
        if self._discard_build:
            self._discard_build = False
            return
        self.failed.emit(describe_failure(error, "Starting the voice chain"))

    def stop(self) -> None:
        """Stop the stream (the graph stays, for its last meters and spectrograms)."""
        self._sim_timer.stop()
        self._settle_timer.stop()
        self._pending = None
        if self.sim_runner.is_running:
            self.sim_runner.cancel()
        engine, self.engine = self.engine, None
        if engine is None:
            return
        engine.stop()
        engine.close()
        self.mode = ""
        self.stopped.emit()

    def reset(self) -> None:
        """Another scene was opened: stop, drop a build under way, forget the graph."""
        self._discard_build = self.build_runner.is_running
        self.stop()
        self.graph = self.live = self.inputs = None
        self.audio_problem = ""

    def shutdown(self) -> None:
        """The window closes: stop and wait for every worker; end the scoring process."""
        self.reset()
        for runner in (self.build_runner, self.sim_runner):
            runner.wait()
        # A build that ended meanwhile: deliver its result now, so its engine is closed.
        QCoreApplication.sendPostedEvents(self.build_runner)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- steering --------------------------------------------------------------------------
    def submit(self, settings: ChainSettings) -> None:
        """Apply `settings` to the running graph at its next block (ChainSettingsError)."""
        if self.graph is not None:
            self.graph.submit(settings)

    def select(self, tap: str) -> None:
        """Hear `tap` (now, or from the next start)."""
        self.tap = tap
        if self.live is not None:
            self.live.select(tap)

    def scene_changed(self, scene: Scene, engine: str | None = None) -> None:
        """While running: simulate `scene` again and swap the responses in, the latest change
        winning. A scene edit (a drag sends one per mouse move) gets the room's early part
        first and the full responses once the edits have stopped for `SETTLE_MS`; another
        `engine` gets its full responses at once."""
        if not self.running or self.inputs is None:
            return
        self.inputs = ChainInputs(scene, self.inputs.talker, self.inputs.noise,
                                  engine or self.inputs.engine)
        early = engine is None and self.inputs.engine == "room"
        self._request(scene, early)
        if early:
            self._settle_timer.start()

    def _settled(self) -> None:
        if self.running and self.inputs is not None:
            self._request(self.inputs.scene, False)

    def _request(self, scene: Scene, early: bool) -> None:
        """Simulate `scene` next. A full simulation in flight is cancelled (it is slow, and
        outdated); an early one finishes and is heard (it is quick, and nearer than what plays),
        so a drag keeps updating the sound; `done` then starts the latest request."""
        self._pending = (scene, early)
        if self.sim_runner.is_running:
            if not self._simulating_early:
                self.sim_runner.cancel()
        elif not self._sim_timer.isActive():
            self._sim_timer.start()

    def _next_simulation(self) -> None:
        if self._pending is None or not self.running or self.sim_runner.is_running:
            return
        (scene, early), self._pending = self._pending, None
        self._simulating_early = early
        self.sim_runner.start(simulate_responses, scene, self.inputs.engine, early,
                              label="chain responses")

    def _on_responses(self, responses) -> None:
        if self.graph is not None and not self.sim_runner.is_cancelling:
            self.graph.set_responses(responses)

    def _on_responses_failed(self, error: BaseException, _text: str) -> None:
        self.responsesFailed.emit(describe_failure(error, "Simulating the moved scene") +
                                  "; the chain goes on with the previous responses")

    # -- quality ---------------------------------------------------------------------------
    def poll_quality(self, seconds: float) -> bool:
        """Score the last `seconds` of every tap in the worker process, unless a scoring is
        in flight or nothing runs. True when one was started."""
        if self.graph is None or not self.running or self._scoring is not None:
            return False
        graph = self.graph
        taps = {t: graph.recent(t, seconds) for t in (REFERENCE, *SCORED)}
        latency = {t: graph.tap_latency(t) for t in taps}
        self._start_scorer()
        self._scoring = self._pool.submit(partial(stage_quality, taps, latency, SCORED,
                                                  REFERENCE))
        self._score_timer.start()
        return True

    def _start_scorer(self) -> None:
        """The scoring process, started once (its start runs on a helper thread)."""
        if self._pool is not None:
            return
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=os.nice, initargs=(SCORER_NICE,))
        threading.Thread(target=self._pool.submit, args=(int,), name="chain-scorer-start",
                         daemon=True).start()

    def _collect_quality(self) -> None:
        future = self._scoring
        if future is None or not future.done():
            return
        self._scoring = None
        self._score_timer.stop()
        try:
            scores = future.result()
        except Exception as e:  # a scorer's failure is shown, not raised in the event loop
            self.responsesFailed.emit(f"Scoring failed: {type(e).__name__}: {one_line(e)}")
            return
        if self.running:
            self.quality.emit(scores)

