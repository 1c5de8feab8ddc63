"""The voice-chain graph: the stages of :data:`dsp.chain.base.STAGES` on one 20 ms clock.

One graph serves the live stream and the offline run: :meth:`ChainGraph.step` makes one block;
a live runner calls it from its audio worker, an offline run calls it over a whole file
(:mod:`dsp.chain.offline`). Changes (:meth:`submit`, :meth:`set_responses`) may come from any
thread: they are queued and applied at the start of the next block, in order, so the same
changes before the same blocks give the same output whichever thread made them.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from dsp.chain.base import STAGES, Block, Stage
from dsp.chain.clock import FS_HZ
from dsp.chain.context import ChainContext, Responses, Voice, scene_responses
from dsp.chain.metrics import ChainMeters, ChainSnapshot, TapHistory, stage_quality
from dsp.chain.room import Mixer
from dsp.chain.settings import ChainSettings, ChainSettingsError

if TYPE_CHECKING:
    from sim.scene import Scene
    from sim.task import TaskState

REFERENCE = "clean"
SCORED = ("mic", "enhanced", "coded", "lossy", "output")
"""Mono voice taps scored against the reference, in chain order (the far end's is last)."""
HISTORY_S = 10.0


class ChainGraph:
    """Talker + noise -> room -> PercepNet -> sender -> network -> receiver -> playback.

    ``ctx``: responses, voice and models (:class:`dsp.chain.context.ChainContext`);
    ``settings``: the starting :class:`ChainSettings`; ``history_s``: seconds of every tap kept
    for :meth:`recent` and :meth:`quality`.
    """

    def __init__(self, ctx: ChainContext, settings: ChainSettings,
                 history_s: float = HISTORY_S):
        self.ctx = ctx
        self.settings = self._checked(settings)
        self.mixer = Mixer(self.settings)
        self.stages: list[Stage] = [cls(ctx, self.settings) for cls in STAGES.values()]
        self.latency = {"talker": 0, "noise": 0, "dry": 0, REFERENCE: 0}
        for st in self.stages:
            self.latency[st.tap] = self.latency[st.source] + st.own_latency
        self._apply(self.settings)
        self._pending: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.index = 0
        self.meters = ChainMeters(1000.0 * self.latency["output"] / FS_HZ)
        self.history = TapHistory(history_s)

    @classmethod
    def from_scene(cls, scene: Scene, talker: np.ndarray, noise: np.ndarray,
                   settings: ChainSettings, engine: str = "room",
                   state: TaskState | None = None, history_s: float = HISTORY_S) -> ChainGraph:
        """Simulate ``scene``'s responses (:func:`dsp.chain.context.scene_responses`) and build
        a graph playing ``talker`` and ``noise`` (16 kHz, ``(n,)`` or ``(n, channels)``).
        Raises :class:`dsp.chain.context.ChainInputError` for unusable audio or scene."""
        voice = Voice(talker, noise)
        responses = scene_responses(scene, engine, state=state)
        return cls(ChainContext(responses, voice), settings, history_s)

    @property
    def taps(self) -> tuple[str, ...]:
        """Tap names a listener may pick, in chain order (the reference first)."""
        return (REFERENCE, *(st.tap for st in self.stages))

    def tap_latency(self, tap: str) -> int:
        """Samples by which ``tap`` lags the talker at the microphone."""
        return self.latency[tap]

    def tap_channels(self, tap: str) -> int:
        return next((st.channels for st in self.stages if st.tap == tap), 1)

    # -- changes (any thread) ----------------------------------------------------------------

    def submit(self, settings: ChainSettings) -> None:
        """Queue new settings for the next block. Raises :class:`ChainSettingsError` at once for
        invalid ones and for a change of the fields fixed per graph (``buffer_ms``, ``seed``)."""
        s = self._checked(settings)
        if (s.buffer_ms, s.seed) != (self.settings.buffer_ms, self.settings.seed):
            raise ChainSettingsError("buffer_ms and seed are fixed when the graph is built")
        self._pending.put(lambda: self._apply(s))

    @staticmethod
    def _checked(settings: ChainSettings) -> ChainSettings:
        s = settings.validate()
        unknown = set(s.bypass) - set(STAGES)
        if unknown:
            raise ChainSettingsError(f"bypass names unknown stages {sorted(unknown)}; "
                                     f"stages are {', '.join(STAGES)}")
        return s

    def set_responses(self, responses: Responses) -> None:
        """Queue new room responses (e.g. after the talker moved); crossfaded in."""
        self._pending.put(lambda: self._set_responses(responses))

    def _apply(self, s: ChainSettings) -> None:
        self.settings = s
        self.mixer.configure(s)
        for st in self.stages:
            st.bypassed = st.name in s.bypass
            st.configure(s)

    def _set_responses(self, r: Responses) -> None:
        self.ctx.responses = r
        for st in self.stages:
            st.set_responses(r)

    # -- the clock (one thread) ----------------------------------------------------------------

    def step(self) -> Block:
        """Apply the queued changes, then make one 20 ms block through every stage."""
        t0 = time.perf_counter()
        while True:
            try:
                self._pending.get_nowait()()
            except queue.Empty:
                break
        block = Block(self.index)
        self.mixer.mix(block, *self.ctx.voice.block())
        busy = {}
        for st in self.stages:
            t = time.thread_time()  # CPU time: a stage's own cost, whatever else the box runs
            st.run(block)
            busy[st.name] = time.thread_time() - t
        self.index += 1
        self.history.push({t: block.taps[t] for t in self.taps})
        self.meters.update(block, time.perf_counter() - t0, busy)
        return block

    # -- reading (any thread) ------------------------------------------------------------------

    def snapshot(self) -> ChainSnapshot:
        """Levels, counters, kb/s, DRED reach, latency, real-time factor and packet fates."""
        return self.meters.snapshot()

    def recent(self, tap: str, seconds: float | None = None) -> np.ndarray:
        """The last ``seconds`` of a tap (16 kHz; ``(n,)``, ``(n, 2)`` for ``ears``)."""
        return self.history.recent(tap, seconds)

    def quality(self, seconds: float = HISTORY_S) -> dict[str, dict]:
        """PESQ-WB and STOI of every scored tap over the last ``seconds`` (slow: call it on a
        worker thread, never the audio thread)."""
        taps = {t: self.recent(t, seconds) for t in (REFERENCE, *SCORED)}
        return stage_quality(taps, self.latency, SCORED, REFERENCE)
