"""The live runner: a :class:`ChainGraph` as the audition engine's player.

:class:`LiveChain` follows the player protocol of ``workbench.gui.audio.engine.AudioEngine``
(``block``, ``fs_hz``, ``state``, ``latency``, ``meter``, ``position_s``, ``next_block``,
``play``/``pause``/``stop``), so the engine's worker thread drives the graph (one 20 ms graph
block per engine block) and its PortAudio callback only copies samples::

    live = LiveChain(graph)                    # dsp, no Qt
    engine = AudioEngine(live, device=..., ring_ms=LIVE_RING_MS)
    engine.start(); live.play()
    live.select("enhanced")                    # any thread: crossfaded tap switch
    graph.submit(replace(graph.settings, snr_db=0))   # any thread: applied at the next block
    live.graph.snapshot(); live.graph.quality(5.0)    # poll (quality on a worker thread)
    engine.close()

The chosen tap is played at :data:`OUT_HZ` (16 kHz upsampled, polyphase FIR), mono taps on both
channels, ``ears`` as they are. A tap switch crossfades over 10 ms (taps differ in latency, so a
switch jumps in time, without a click). Paused or stopped, the graph keeps still (silence out).
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.signal

from dsp.audition import Meter
from dsp.chain.base import Ramp
from dsp.chain.clock import BLOCK, FS_HZ
from dsp.chain.graph import ChainGraph
from dsp.chain.threads import raise_thread_priority, single_blas_thread

OUT_HZ = 48000
UP = OUT_HZ // FS_HZ
LIVE_RING_MS = 60.0
"""Engine ring for live use: what bounds how late a change is heard. A submitted change is applied
at the graph's next block (ramped over 10 ms), which the engine's worker writes behind at most
this much queued audio: heard about 60 ms later plus the device's own latency
(tests/test_chain_latency.py, an SNR change on the ``mic`` tap: <= 2914 frames at 48 kHz, the
ring plus the noise's path to the microphone; 82 ms with JACK's two 512-frame periods; the issue
asks <= 100 ms, an 80 ms ring would make it 102 ms). The worker starts a block when a block's
room is free, so the ring still holds 40 ms then: the chain's slowest block (closing a DRED gap:
vocoder, redundancy decoding, features of the audio played since the predictor last saw it)
takes <= 18 ms of CPU, the mean block 3..4 ms; the rest absorbs the scheduling delays of a busy
box (tests/test_chain_realtime.py; the worker runs at raised priority, dsp.chain.threads)."""
_TAPS_PER_PHASE = 32
_UPSAMPLER = scipy.signal.firwin(UP * _TAPS_PER_PHASE, 0.9 * FS_HZ / 2, fs=OUT_HZ) * UP


class Upsampler:
    """16 kHz -> 48 kHz, block by block, ``(n, channels)`` -> ``(3 n, channels)``."""

    def __init__(self, channels: int = 2):
        self.hist = np.zeros((_TAPS_PER_PHASE, channels))

    def process(self, x: np.ndarray) -> np.ndarray:
        xx = np.concatenate([self.hist, x])
        self.hist = xx[-_TAPS_PER_PHASE:]
        up = np.zeros((xx.shape[0] * UP, x.shape[1]))
        up[::UP] = xx
        y = scipy.signal.oaconvolve(up, _UPSAMPLER[:, None], axes=0)
        start = _TAPS_PER_PHASE * UP
        return y[start:start + x.shape[0] * UP]


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(max(float(x), 1e-6)))


class LiveChain:
    """A graph as a player: 20 ms per :meth:`next_block`, ``(960, 2)`` at 48 kHz."""

    def __init__(self, graph: ChainGraph, tap: str = "output"):
        single_blas_thread()  # a DRED gap's block: 35 ms instead of 200 (dsp.chain.threads)
        self.graph = graph
        self.fs_hz = OUT_HZ
        self.block = BLOCK * UP
        self.latency = 0
        self.state = "stopped"
        self.meter: Meter | None = None
        self.tap = tap
        if tap not in graph.taps:
            raise ValueError(f"unknown tap {tap!r}; taps are {', '.join(graph.taps)}")
        self._old: str | None = None
        self._mix = Ramp(1.0)
        self._up = Upsampler(2)
        self._pending_tap: str | None = None
        self._driver: int | None = None  # native id of the thread calling next_block
        self.prioritized = False  # whether that thread runs at raised priority (threads.py)

    @property
    def taps(self) -> tuple[str, ...]:
        return self.graph.taps

    def select(self, tap: str) -> None:
        """Listen to ``tap`` (one of :attr:`taps`) from the next block, crossfaded."""
        if tap not in self.graph.taps:
            raise ValueError(f"unknown tap {tap!r}; taps are {', '.join(self.graph.taps)}")
        self._pending_tap = tap

    def play(self) -> None:
        self.state = "playing"

    def pause(self) -> None:
        self.state = "paused"

    def stop(self) -> None:
        self.state = "stopped"

    @property
    def position_s(self) -> float:
        return self.graph.index * BLOCK / FS_HZ

    @staticmethod
    def _stereo(x: np.ndarray) -> np.ndarray:
        return x if x.ndim == 2 else np.repeat(x[:, None], 2, axis=1)

    def next_block(self) -> np.ndarray:
        """The next 20 ms of the chosen tap at 48 kHz stereo (silence unless playing)."""
        if self._driver != threading.get_native_id():  # a (new) engine worker drives the graph
            self._driver = threading.get_native_id()
            # the caller's main thread (a GUI) fills the ring before the worker starts: not it
            worker = threading.current_thread() is not threading.main_thread()
            self.prioritized = worker and raise_thread_priority()
        if self.state != "playing":
            y = np.zeros((self.block, 2))
        else:
            if self._pending_tap is not None and self._pending_tap != self.tap:
                self._old, self.tap = self.tap, self._pending_tap
                self._mix.value, self._mix.target = 0.0, 1.0
            self._pending_tap = None
            block = self.graph.step()
            x = self._stereo(block.taps[self.tap])
            w = self._mix.block()[:, None]
            if self._old is not None:
                x = w * x + (1.0 - w) * self._stereo(block.taps[self._old])
                if w[-1, 0] >= 1.0:
                    self._old = None
            y = self._up.process(x)
        peak = np.max(np.abs(y), axis=0)
        rms = np.sqrt(np.mean(y * y, axis=0))
        self.meter = Meter(peak_dbfs=(_db(peak[0]), _db(peak[1])),
                           rms_dbfs=(_db(rms[0]), _db(rms[1])), gain_reduction_db=0.0,
                           lrc_rms_dbfs=(), path=self.tap, position_s=self.position_s)
        return y
