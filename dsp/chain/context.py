"""What a voice-chain graph is built from: the room's responses and the talker/noise signals.

:class:`Responses` (16 kHz, modelling delay removed): ``talker`` and ``noise`` ``(n,)``, the
talker/noise source -> device microphone responses; ``direct`` ``(n,)``, the talker response cut
to its direct path (the metrics' reference: the clean talker at the microphone); ``ears``
``(n, 2)`` or None, the device's drivers (all playing the far-end voice) -> the first listener's
ears. :func:`scene_responses` simulates them from a scene (the GUI calls it on a worker after the
talker moves, then ``ChainGraph.set_responses``).

:class:`Voice`: the talker and noise signals at 16 kHz mono, unit RMS, read block by block and
looped (a live stream runs as long as it is told to).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dsp.chain.clock import BLOCK, FS_HZ

if TYPE_CHECKING:
    from sim.scene import Scene
    from sim.task import TaskState

MAX_IR_S = 1.0  # responses are cut here (the convolution's cost grows with their length)
DIRECT_MS = 2.0  # the direct path: from the first arrival to this much after it
SILENCE_PEAK = 1.0 / 32768.0


class ChainInputError(ValueError):
    """Unusable chain input: a scene without microphone or talker, silent or non-finite audio."""


@dataclass(frozen=True)
class Responses:
    """Source -> microphone (and drivers -> ears) responses at 16 kHz; see the module doc."""

    talker: np.ndarray
    noise: np.ndarray
    direct: np.ndarray
    ears: np.ndarray | None = None


def direct_path(h: np.ndarray) -> np.ndarray:
    """``h`` ``(n,)`` cut to its direct path: zero after :data:`DIRECT_MS` past the first
    sample reaching half the peak, with a 1 ms half-cosine taper."""
    h = np.asarray(h, dtype=np.float64)
    peak = float(np.max(np.abs(h))) if h.size else 0.0
    if peak == 0.0:
        return np.zeros_like(h)
    first = int(np.flatnonzero(np.abs(h) >= 0.5 * peak)[0])
    end = min(h.size, first + round(DIRECT_MS * FS_HZ / 1000))
    taper = FS_HZ // 1000
    out = np.zeros_like(h)
    out[:end] = h[:end]
    fade = 0.5 + 0.5 * np.cos(np.pi * (np.arange(taper) + 1) / (taper + 1))
    out[end:end + taper] = h[end:end + taper] * fade[:max(0, min(taper, h.size - end))]
    return out


def scene_responses(scene: Scene, engine: str = "room", mic: int = 0, noise_source: int = 0,
                    early_only: bool = False, state: TaskState | None = None) -> Responses:
    """Simulate ``scene`` at 16 kHz (``sim.transfer.simulate`` with talkers) and pick the first
    talker and the ``noise_source``-th noise source at microphone ``mic``. ``early_only``: the
    room engine's quick early part (``scene.simulation.early_ms``; for dragging the talker).

    Raises :class:`ChainInputError` for a scene without a device microphone or a talker (a scene
    without noise sources gets a silent noise response)."""
    if not scene.device.microphones:
        raise ChainInputError(f"scene {scene.name!r} has no device microphone (add one to the "
                              "device: presets/SCHEMA.md, \"microphones\")")
    kinds = [s.kind for s in scene.sources]
    if "talker" not in kinds:
        raise ChainInputError(f"scene {scene.name!r} has no talker source (add a source with "
                              "\"kind\": \"talker\")")
    if not 0 <= mic < len(scene.device.microphones):
        raise ChainInputError(f"microphone {mic} out of range (the device has "
                              f"{len(scene.device.microphones)})")
    from sim.transfer import simulate

    tr = simulate(scene, engine, fs_hz=FS_HZ, talkers=True, early_only=early_only, state=state)
    t0, n = int(tr.t0_samples), round(MAX_IR_S * FS_HZ)
    talker = tr.ir_mic[kinds.index("talker"), mic, t0:t0 + n]
    noises = [i for i, k in enumerate(kinds) if k == "noise"]
    noise = (tr.ir_mic[noises[noise_source % len(noises)], mic, t0:t0 + n] if noises
             else np.zeros(1))
    ears = None
    if scene.listeners:
        ears = tr.ir[:, 0, :, t0:t0 + n].sum(axis=0).T  # every driver plays the voice
        ears = ears / max(float(np.sqrt(np.max(np.sum(ears**2, axis=0)))), 1e-12)
    return Responses(talker=np.array(talker, float), noise=np.array(noise, float),
                     direct=direct_path(talker), ears=None if ears is None else np.array(ears))


def check_voice(x: np.ndarray, what: str) -> np.ndarray:
    """``x`` ``(n,)`` or ``(n, channels)`` as finite mono float64 that is not digital silence
    (:class:`ChainInputError` naming ``what`` otherwise)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2:
        a = a.mean(axis=1)
    if a.ndim != 1 or a.size < BLOCK:
        raise ChainInputError(f"{what}: needs at least 20 ms of audio, got shape {np.shape(x)}")
    if not np.all(np.isfinite(a)):
        raise ChainInputError(f"{what}: contains NaN or infinite samples")
    if not np.any(np.abs(a) >= SILENCE_PEAK):
        raise ChainInputError(f"{what}: is digital silence")
    return a


class Voice:
    """Talker and noise, unit RMS at 16 kHz, read in 20 ms blocks, each looped on its own."""

    def __init__(self, talker: np.ndarray, noise: np.ndarray):
        self.talker = self._unit(check_voice(talker, "talker"))
        self.noise = self._unit(check_voice(noise, "noise"))
        self.pos = 0

    @staticmethod
    def _unit(x: np.ndarray) -> np.ndarray:
        return x / float(np.sqrt(np.mean(x * x)))

    @property
    def n_samples(self) -> int:
        """The talker's length (an offline run covers it once)."""
        return self.talker.size

    def block(self) -> tuple[np.ndarray, np.ndarray]:
        """The next 20 ms of talker and noise ``(320,)`` each."""
        idx = self.pos + np.arange(BLOCK)
        self.pos += BLOCK
        return self.talker[idx % self.talker.size], self.noise[idx % self.noise.size]


class Models:
    """The trained models: the stateless ones loaded once per process on first use
    (:data:`SHARED`), the neural PLC predictor (which keeps state) fresh for each graph."""

    @functools.cached_property
    def percepnet(self):
        from dsp.percepnet.model import PercepNetModel, weight_path

        return PercepNetModel.load(weight_path())

    @functools.cached_property
    def dred(self) -> tuple:
        """``(RdoVae, DredCodec)``."""
        from dsp.dred.sender import load_models

        return load_models()

    @functools.cached_property
    def vocoder(self):
        from dsp.dred.receiver import load_vocoder

        return load_vocoder()

    def predictor(self):
        from dsp.dred.receiver import load_predictor

        return load_predictor()


SHARED = Models()


@dataclass
class ChainContext:
    """Everything the stages are built from: responses, voice and models."""

    responses: Responses
    voice: Voice
    models: Models = SHARED
