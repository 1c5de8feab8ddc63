"""Precomputed clips as listening paths: A/B playback of k time-aligned signals (e.g. "Noisy",
"Enhanced", "Clean") through the audition `Player`, with its transport, crossfade, safety
limiter and meters.

The clips play side by side: one `Transport` over the (n, 2k) programme of all clips (clip i in
columns 2i and 2i + 1), so seek, loop seam and end are the same for every clip; `ClipStream` only
reshapes that block into (k, block, 2) and applies the
loudness gains. A switch is then the Player's linear crossfade between clips at the same
programme time, with no processing latency of its own.

Loudness matching (`make_clips(match_loudness=True)`): every clip gets the gain that brings its
integrated loudness (ITU-R BS.1770, `dsp.loudness`) to the first clip's, so a comparison is not
won by the louder clip. The gains live beside the signals: they are heard, never written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from dsp.audition import Player
from dsp.loudness import LoudnessError, integrated_loudness


class ClipError(ValueError):
    """Clips that cannot be played together (shapes, lengths, rates, NaN, names)."""


@dataclass(frozen=True)
class ClipSet:
    """k named clips at one rate: signals (k, n, 2) float64 at fs_hz (Hz); gains_db (k,) the
    loudness-matching gain of each clip in dB (0 when not matched)."""

    names: tuple[str, ...]
    signals: np.ndarray
    fs_hz: int
    gains_db: tuple[float, ...]

    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    def resampled(self, fs_hz: int) -> ClipSet:
        """The same clips at fs_hz (soxr, very high quality): for an output device that
        cannot play the clips' own rate."""
        from dsp.audio_io import resample

        fs_hz = int(fs_hz)
        if fs_hz == self.fs_hz:
            return self
        signals = np.stack([resample(s, self.fs_hz, fs_hz) for s in self.signals])
        return replace(self, signals=signals, fs_hz=fs_hz)


def _stereo(name: str, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = np.repeat(x[:, None], 2, axis=1)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ClipError(f"clip {name!r} must be (n,) or (n, 2), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ClipError(f"clip {name!r} holds NaN or infinite samples")
    return x


def _loudness_db(x: np.ndarray, fs_hz: int) -> float:
    try:
        return integrated_loudness(x, fs_hz)
    except LoudnessError:  # shorter than one 400 ms block: no measurement, no gain
        return -math.inf


def make_clips(clips: Mapping[str, np.ndarray], fs_hz: int,
               match_loudness: bool = True) -> ClipSet:
    """A ClipSet from {name: signal (n,) or (n, 2)} (mono is heard on both ears), all of the
    same length n > 0 at fs_hz. match_loudness: gains that give every clip the first clip's
    integrated loudness (a silent or too-short clip keeps 0 dB). Raises ClipError."""
    if not clips:
        raise ClipError("no clips to play")
    if int(fs_hz) <= 0:
        raise ClipError(f"sample rate must be positive, got {fs_hz!r}")
    names = tuple(str(k) for k in clips)
    if any(not n for n in names):
        raise ClipError("every clip needs a name")
    signals = [_stereo(n, x) for n, x in zip(names, clips.values(), strict=True)]
    lengths = {len(s) for s in signals}
    if len(lengths) != 1:
        raise ClipError("clips must be time-aligned and of one length, got "
                        + ", ".join(f"{n} {len(s)}" for n, s in zip(names, signals, strict=True))
                        + " samples")
    if lengths == {0}:
        raise ClipError("the clips are empty")
    gains = [0.0] * len(signals)
    if match_loudness:
        levels = [_loudness_db(s, int(fs_hz)) for s in signals]
        if math.isfinite(levels[0]):
            gains = [levels[0] - v if math.isfinite(v) else 0.0 for v in levels]
    return ClipSet(names=names, signals=np.stack(signals), fs_hz=int(fs_hz),
                   gains_db=tuple(float(g) for g in gains))


class ClipStream:
    """The `dsp.audition.PathSource` of a ClipSet: (block, 2k) → (k, block, 2) with the
    loudness gains; no latency, no tail, no upmix."""

    latency = 0
    tail = 0

    def __init__(self, clips: ClipSet):
        self.names = clips.names
        self.fs_hz = clips.fs_hz
        self.channels = 2 * len(clips.names)
        self._gain = 10.0 ** (np.asarray(clips.gains_db) / 20.0)
        self.lrc_rms = np.zeros(0)

    def process(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), len(self.names), 2).transpose(1, 0, 2) * self._gain[:, None, None]


def clip_player(clips: ClipSet, block: int = 512, switch_ms: float = 20.0,
                fade_ms: float = 10.0, ceiling_db: float = -1.0,
                path: str | None = None) -> Player:
    """A stopped Player over the clips (path: the clip heard first, default the first one)."""
    programme = clips.signals.transpose(1, 0, 2).reshape(clips.n_samples, -1)
    return Player(ClipStream(clips), programme, block=block, switch_ms=switch_ms,
                  fade_ms=fade_ms, ceiling_db=ceiling_db, path=path)
