"""The whole DRED transmission chain on one signal: sender -> loss -> receiver, with statistics.

``simulate(clean, fs, settings, loss)`` resamples any input to 16 kHz mono, encodes it
(:mod:`dsp.dred.sender`), drops packets by a loss model or an explicit mask, decodes with the
switching receiver (:mod:`dsp.dred.receiver`) and returns a :class:`DredRun` with the decoded
audio (16 kHz, aligned with the input), per-frame sources, bitrates and real-time factors.
Progress and cancellation go through one :class:`sim.task.TaskState`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from dsp.dred.loss import LossModel, burst_stats
from dsp.dred.opus import FRAME_MS, SAMPLE_RATE
from dsp.dred.receiver import JITTER_BUFFER_MS, SOURCES, FeatureVocoder, Predictor, receive
from dsp.dred.sender import (
    DredSettings,
    InputError,
    LatentEncoder,
    PayloadCodec,
    check_audio,
    encode_stream,
    load_models,
)
from sim.task import TaskState, sub


@dataclass
class DredRun:
    """Result of :func:`simulate`.

    Attributes:
        clean16: ``(n,)`` float32 input at 16 kHz mono (the reference).
        decoded: ``(n,)`` float32 receiver output, aligned with ``clean16``.
        lost: ``(n_packets,)`` bool loss mask used.
        sources: ``(n_packets,)`` int8 index into :attr:`SOURCES` per 20 ms frame.
        counters: frames per source name.
        kbps: mean payload kb/s of ``opus``, ``dred``, ``container`` and ``total`` (no
            IP/UDP/RTP headers).
        bits_per_chunk_by_q: ``(16,)`` mean DRED bits per 40 ms chunk at each quality level
            (empty when no DRED is sent).
        mean_dred_reach_ms: mean redundancy depth per packet (ms).
        rtf_encode, rtf_decode: processing time over audio duration (one process).
        settings: the chain settings.
        loss: one-line description of the loss model.
        events: the receiver's hostile-input counters (``dsp.dred.receiver.EVENTS``).
    """

    clean16: np.ndarray
    decoded: np.ndarray
    lost: np.ndarray
    sources: np.ndarray
    counters: dict[str, int]
    kbps: dict[str, float]
    bits_per_chunk_by_q: np.ndarray
    mean_dred_reach_ms: float
    rtf_encode: float
    rtf_decode: float
    settings: DredSettings
    loss: str
    events: dict[str, int]

    SOURCES = SOURCES

    def to_report(self) -> dict:
        """JSON-able summary (no audio)."""
        return {
            "settings": asdict(self.settings),
            "loss": self.loss,
            "loss_stats": burst_stats(self.lost),
            "duration_s": round(self.clean16.size / SAMPLE_RATE, 3),
            "n_packets": int(self.lost.size),
            "counters": dict(self.counters),
            "kbps": {k: round(v, 3) for k, v in self.kbps.items()},
            "mean_dred_reach_ms": round(self.mean_dred_reach_ms, 1),
            "bits_per_chunk_by_q": [round(float(b), 2) for b in self.bits_per_chunk_by_q],
            "rtf_encode": round(self.rtf_encode, 4),
            "rtf_decode": round(self.rtf_decode, 4),
            "jitter_buffer_ms": JITTER_BUFFER_MS,
            "receiver_events": dict(self.events),
        }


def to_mono16k(x: np.ndarray, fs: float) -> np.ndarray:
    """Mono mix (mean of channels, ``(n,)`` or ``(n, channels)``) resampled to 16 kHz (soxr),
    float32. Raises :class:`InputError` for empty, NaN/inf, silent or oddly shaped audio."""
    a = np.asarray(x)
    if a.ndim == 2 and a.shape[1] >= 1 and np.issubdtype(a.dtype, np.number):
        a = a.mean(axis=1)
    a = check_audio(a).astype(np.float64)
    if not (isinstance(fs, int | float | np.number) and np.isfinite(fs) and 4000 <= fs <= 384000):
        raise InputError(f"sample rate must be 4000..384000 Hz, got {fs!r}")
    if fs != SAMPLE_RATE:
        import soxr

        a = soxr.resample(a, float(fs), SAMPLE_RATE)
    if a.size < SAMPLE_RATE * FRAME_MS // 1000:
        raise InputError(f"audio is shorter than one 20 ms packet ({a.size} samples at 16 kHz)")
    if not np.any(np.abs(a) >= 1.0 / 32768.0):
        raise InputError("audio is digital silence (nothing reaches one 16-bit step)")
    return a.astype(np.float32)


def _loss_mask(loss: LossModel | np.ndarray, n: int, seed: int) -> tuple[np.ndarray, str]:
    if isinstance(loss, LossModel):
        return loss.mask(n, seed), loss.describe()
    mask = np.asarray(loss)
    if mask.shape != (n,) or not (mask.dtype == bool or np.isin(mask, (0, 1)).all()):
        raise InputError(f"loss mask must be bool (or 0/1) of shape ({n},) for this signal "
                         f"(one per 20 ms packet), got {mask.dtype} {mask.shape}")
    mask = mask.astype(bool)
    return mask, f"explicit mask, {100 * mask.mean():.1f} % lost"


def simulate(clean: np.ndarray, fs: float, settings: DredSettings | None = None,
             loss: LossModel | np.ndarray | None = None, seed: int = 0,
             state: TaskState | None = None, *,
             vae: LatentEncoder | None = None, codec: PayloadCodec | None = None,
             vocoder: FeatureVocoder | None = None,
             predictor: Predictor | None = None) -> DredRun:
    """Send ``clean`` (``(n,)`` or ``(n, channels)`` at ``fs`` Hz) through the DRED chain.

    Args:
        settings: chain settings (default :class:`DredSettings`).
        loss: a :class:`LossModel` (mask drawn with ``seed``), or a bool mask with one entry
            per packet (``dsp.dred.sender.n_packets``); None = no loss.
        state: progress per packet (encoding 0..0.5, decoding 0.5..1); a cancel is noticed
            within a few milliseconds of work and raises :class:`sim.task.Cancelled`.
        vae, codec, vocoder, predictor: model overrides (default: the trained ones).
    Raises:
        InputError: unusable audio or mask; SettingsError: bad settings.
    """
    s = (settings or DredSettings()).validate()
    x = to_mono16k(clean, fs)
    if s.n_chunks and (vae is None or codec is None):
        vae, codec = load_models()

    t0 = time.perf_counter()
    stream = encode_stream(x, s, vae=vae, codec=codec, state=sub(state, 0.0, 0.5))
    t_enc = time.perf_counter() - t0
    mask, desc = _loss_mask(LossModel() if loss is None else loss, stream.n_packets, seed)
    t0 = time.perf_counter()
    rx = receive(stream.packets, mask, stream.n_samples, s, lookahead=stream.lookahead,
                 codec=codec, vocoder=vocoder, predictor=predictor, state=sub(state, 0.5, 1.0))
    t_dec = time.perf_counter() - t0
    duration = x.size / SAMPLE_RATE
    chunk_bits = np.asarray(codec.chunk_bits(), np.float64) if s.n_chunks else np.zeros(0)
    return DredRun(clean16=x, decoded=rx.audio, lost=mask, sources=rx.labels,
                   counters=rx.counters(), kbps=stream.kbps(), bits_per_chunk_by_q=chunk_bits,
                   mean_dred_reach_ms=stream.mean_reach_ms(), rtf_encode=t_enc / duration,
                   rtf_decode=t_dec / duration, settings=s, loss=desc, events=rx.events)
