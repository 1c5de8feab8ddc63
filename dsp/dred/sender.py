"""DRED sender: Opus frames (optionally with LBRR) plus deep redundancy, one container per 20 ms.

Timing (all at 16 kHz; packet k holds input samples ``[320 k, 320 k + 320)``):

* Features are computed once over the whole (packet-padded) signal, 20 per 10 ms frame; frame
  t's window is centred on sample ``160 t`` and the vocoder renders it as samples
  ``[160 t, 160 t + 160)``. Their pitch has a 2-frame (20 ms) look-ahead, so
  when packet k leaves, frames up to ``2k + 1 - 2`` are final: the payload's newest frame is
  ``2k - 1`` (``offset_frames = 2``).
* ``RdoVae.encode`` runs once over all frames; step j's latent describes frames ``2j-2 .. 2j+1``.
  Packet k carries the initial state of step ``j = k - 1`` and the latents of steps
  ``j, j-2, j-4, ...`` (one per 40 ms chunk, newest first) back to the requested depth, never
  before the start of the signal.
* Redundancy whose frames are all digital silence is not sent: the oldest all-silent chunks are
  dropped, and a packet whose whole history is silent carries no DRED (as libopus does).

The DRED bits are *added* to the Opus bitrate here (libopus takes them out of it); every bit
rate is payload only, no IP/UDP/RTP headers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dsp.dred.features import compute_features
from dsp.dred.opus import FRAME_MS, FRAME_SAMPLES, OpusEncoder
from dsp.dred.packet import pack_packet
from sim.task import TaskState, check, report

CHUNK_MS = 40
CHUNK_FRAMES = 4
MAX_CHUNKS = 26
OFFSET_FRAMES = 2  # the pitch tracker's look-ahead, in 10 ms frames
LIBOPUS_DQ = 5
# First-chunk quantizer when no DRED budget is given (0 finest .. 15 coarsest). Measured on 6
# held-out files, GE 20 % loss / 10-packet bursts, 1 s of history at dq 5: q0 = 3 / 6 / 9 / 12
# cost 30.6 / 18.3 / 11.6 / 9.2 kb/s of DRED for PESQ-WB 3.23 / 3.08 / 2.83 / 2.58; 6 is the
# knee (3 costs 12 kb/s more for +0.15, 9 saves 7 kb/s for -0.25).
DEFAULT_Q0 = 6
# Under a tight budget, coarser than this costs more than it saves: at q >= 12 a third of the
# voiced pitch values are gross errors (rdovae_manifest.json), so fewer, finer chunks win
# (measured at 9 kb/s of DRED, GE 20 % burst 10: PESQ-WB 2.43 trimmed at q0 <= 9, 2.03 at q 15).
BUDGET_MAX_Q0 = 9
# A 10 ms frame is digital silence when no sample reaches one int16 step.
SILENCE_PEAK = 1.0 / 32768.0


class SettingsError(ValueError):
    """An invalid :class:`DredSettings` field; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class InputError(ValueError):
    """Unusable input audio (wrong shape, NaN/inf, empty, silent) for the DRED chain."""


class LatentEncoder(Protocol):
    """What the sender needs of ``dsp.dred.rdovae.RdoVae``."""

    def encode(self, features: np.ndarray, state: TaskState | None = None
               ) -> tuple[np.ndarray, np.ndarray]: ...


class PayloadCodec(Protocol):
    """What sender and receiver need of ``dsp.dred.payload.DredCodec``."""

    def pack(self, state: np.ndarray, latents_newest_first: np.ndarray, q0: int, dq: int,
             qmax: int = 15, offset_frames: int = 0, max_bits: int | None = None) -> bytes: ...

    def unpack(self, data: bytes): ...

    def features(self, payload) -> np.ndarray: ...

    def chunk_bits(self) -> np.ndarray: ...

    def choose_quality(self, budget_bits: float, n_chunks: int, dq: int) -> int: ...


@dataclass(frozen=True)
class DredSettings:
    """Sender and receiver configuration of the DRED chain.

    Attributes:
        bitrate: Opus target bitrate in bit/s (LBRR bits come out of it).
        complexity: Opus encoder complexity 0..10.
        lbrr: Opus in-band FEC (LBRR) on; the receiver uses it for the last lost frame.
        loss_perc: expected loss in percent (0..100), passed to libopus; sizes LBRR.
        dred_ms: requested redundancy depth in ms, 0..1040, rounded to whole 40 ms chunks.
        dred_kbps: None = every packet at the default quality :data:`DEFAULT_Q0`; a number =
            DRED budget in kb/s: each packet picks the finest q0 that fits (never coarser than
            :data:`BUDGET_MAX_Q0`) and sends fewer chunks when that does not fit.
        dq: quantizer slope index 0..7 (libopus table {0,2,3,4,6,8,12,16}/16 per chunk).
        neural_plc: frames no redundancy covers are concealed by the neural PLC and vocoder;
            False = libopus's own PLC.
        dred: send (and use) deep redundancy.
    """

    bitrate: int = 24000
    complexity: int = 10
    lbrr: bool = True
    loss_perc: int = 20
    dred_ms: int = 1000
    dred_kbps: float | None = None
    dq: int = LIBOPUS_DQ
    neural_plc: bool = True
    dred: bool = True

    def validate(self) -> DredSettings:
        """Return self, or raise :class:`SettingsError` naming the first bad field."""
        for name in ("lbrr", "neural_plc", "dred"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise SettingsError(name, f"must be True or False, got {getattr(self, name)!r}")
        for name, lo, hi in (("bitrate", 6000, 510000), ("complexity", 0, 10),
                             ("loss_perc", 0, 100), ("dq", 0, 7)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or not lo <= v <= hi:
                raise SettingsError(name, f"must be an integer in {lo}..{hi}, got {v!r}")
        d = self.dred_ms
        if isinstance(d, bool) or not isinstance(d, int | float | np.number) \
                or not math.isfinite(d) or not 0 <= round(d / CHUNK_MS) <= MAX_CHUNKS:
            raise SettingsError("dred_ms", f"must be 0..1040 ms (whole 40 ms chunks), got {d!r}")
        k = self.dred_kbps
        if k is not None and (isinstance(k, bool) or not isinstance(k, int | float | np.number)
                              or not math.isfinite(k) or not 0 < k <= 64):
            raise SettingsError("dred_kbps", f"must be None or a number in (0, 64] kb/s, got {k!r}")
        return self

    @property
    def n_chunks(self) -> int:
        """Requested redundancy depth in 40 ms chunks (0..26)."""
        return round(float(self.dred_ms) / CHUNK_MS) if self.dred else 0


@dataclass
class Stream:
    """Output of :func:`encode_stream`.

    Attributes:
        packets: one container (``dsp.dred.packet``) per 20 ms.
        opus_bytes, dred_bytes, overhead_bytes: ``(n_packets,)`` int, the byte split of each.
        dred_chunks: ``(n_packets,)`` int, 40 ms chunks of redundancy per packet (0 = none).
        dred_q0: ``(n_packets,)`` int, first-chunk quantizer, -1 where no DRED was sent.
        n_samples: input length in samples (16 kHz).
        lookahead: Opus encoder look-ahead in samples (decoded audio lags the input by it).
        settings: the sender settings.
    """

    packets: list[bytes]
    opus_bytes: np.ndarray
    dred_bytes: np.ndarray
    overhead_bytes: np.ndarray
    dred_chunks: np.ndarray
    dred_q0: np.ndarray
    n_samples: int
    lookahead: int
    settings: DredSettings

    @property
    def n_packets(self) -> int:
        return len(self.packets)

    def kbps(self) -> dict[str, float]:
        """Mean payload rates in kb/s: ``opus``, ``dred``, ``container``, ``total``."""
        ms = max(self.n_packets, 1) * FRAME_MS
        parts = {"opus": self.opus_bytes, "dred": self.dred_bytes,
                 "container": self.overhead_bytes}
        out = {k: 8.0 * float(np.sum(v)) / ms for k, v in parts.items()}
        out["total"] = sum(out.values())
        return out

    def mean_reach_ms(self) -> float:
        """Mean redundancy depth per packet in ms (packets without DRED count as 0)."""
        return float(np.mean(self.dred_chunks)) * CHUNK_MS if self.n_packets else 0.0


def n_packets(n_samples: int, lookahead: int) -> int:
    """Packets for a signal of ``n_samples``: whole 20 ms frames covering it plus the look-ahead."""
    return -(-(int(n_samples) + int(lookahead)) // FRAME_SAMPLES)


def check_audio(x: np.ndarray) -> np.ndarray:
    """Validated float32 mono 16 kHz samples ``(n,)``; :class:`InputError` otherwise."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise InputError(f"audio must be 1-D mono samples, got shape {a.shape}")
    if a.size == 0:
        raise InputError("audio is empty")
    if not np.issubdtype(a.dtype, np.number):
        raise InputError(f"audio must be numeric, got dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        first = int(np.flatnonzero(~np.isfinite(a))[0])
        raise InputError(f"audio contains NaN/inf (first at sample {first})")
    return a.astype(np.float32)


def silent_steps(x: np.ndarray, n_steps: int) -> np.ndarray:
    """``(n_steps,)`` bool: encoder step j's chunk (frames ``2j-2 .. 2j+1``, samples
    ``[320j - 320, 320j + 320)``) is digital silence: no sample reaches one int16 step."""
    padded = np.zeros((n_steps + 1) * FRAME_SAMPLES, np.float32)
    m = min(x.size, n_steps * FRAME_SAMPLES)
    padded[FRAME_SAMPLES:FRAME_SAMPLES + m] = np.abs(x[:m])
    peak = padded.reshape(n_steps + 1, FRAME_SAMPLES).max(axis=1)  # per 20 ms, from -320
    return np.maximum(peak[:-1], peak[1:]) < SILENCE_PEAK


def history_steps(k: int, n_chunks: int) -> np.ndarray:
    """Encoder steps whose latents packet k carries, newest first: ``k-1, k-3, ...`` (>= 0)."""
    newest = k - 1
    if newest < 0 or n_chunks <= 0:
        return np.zeros(0, np.int64)
    return np.arange(newest, max(newest - 2 * n_chunks, -1), -2)


def pack_redundancy(codec: PayloadCodec, state: np.ndarray, latents: np.ndarray,
                    silent: np.ndarray, settings: DredSettings, budget: int | None,
                    offset_frames: int) -> tuple[bytes, int, int]:
    """One packet's DRED payload from its history, newest first: the initial ``state`` of the
    newest step, ``latents`` ``(m, latent_dim)`` and ``silent`` ``(m,)`` of steps newest,
    newest - 2, ...; the oldest all-silent chunks are not sent. ``budget``: bits per packet
    (None = :data:`DEFAULT_Q0`). Returns ``(payload, q0, chunks sent)``, ``(b"", -1, 0)`` when
    nothing is sent."""
    active = np.flatnonzero(~np.asarray(silent, bool))
    m = int(active[-1]) + 1 if active.size else 0
    if m == 0:
        return b"", -1, 0
    if budget is None:
        q0 = DEFAULT_Q0
    else:
        q0 = min(int(codec.choose_quality(budget, m, settings.dq)), BUDGET_MAX_Q0)
    dred = codec.pack(state, latents[:m], q0, settings.dq, offset_frames=offset_frames,
                      max_bits=budget)
    if not dred:
        return b"", -1, 0
    return dred, q0, m if budget is None else codec.unpack(dred).n_chunks


def load_models() -> tuple[LatentEncoder, PayloadCodec]:
    """The trained RDO-VAE and its payload codec (``assets/dred``)."""
    from dsp.dred.payload import DredCodec
    from dsp.dred.rdovae import RdoVae

    vae = RdoVae.load()
    return vae, DredCodec(vae)


def encode_stream(clean16k: np.ndarray, settings: DredSettings | None = None, *,
                  vae: LatentEncoder | None = None, codec: PayloadCodec | None = None,
                  state: TaskState | None = None) -> Stream:
    """Encode 16 kHz mono audio ``(n,)`` in [-1, 1] to a container stream.

    ``vae``/``codec`` default to the trained models (loaded only when DRED is on).
    ``state`` (:class:`sim.task.TaskState`): progress once per packet (after the feature
    analysis and the latent encoding, 0.3 and 0.4 of the way when DRED is on); cancellation
    is noticed inside those two stages too, not only between packets.
    """
    s = (settings or DredSettings()).validate()
    x = check_audio(clean16k)
    enc = OpusEncoder(bitrate=s.bitrate, complexity=s.complexity, fec=s.lbrr,
                      packet_loss_perc=s.loss_perc)
    lookahead = enc.lookahead
    n = n_packets(x.size, lookahead)
    padded = np.zeros(n * FRAME_SAMPLES, np.float32)
    padded[: x.size] = x
    n_chunks = s.n_chunks
    first = 0.0  # progress where the packets start
    if n_chunks:
        if vae is None or codec is None:
            vae, codec = load_models()
        report(state, 0.0, "analysing the speech")
        features = compute_features(padded, state=state)
        report(state, 0.3, "encoding the redundancy")
        latents, states = vae.encode(features, state=state)  # 2n frames -> n steps
        silent = silent_steps(x, latents.shape[0])
        first = 0.4
    budget = None if s.dred_kbps is None else int(s.dred_kbps * FRAME_MS)
    packets: list[bytes] = []
    split = np.zeros((n, 3), np.int64)
    chunks = np.zeros(n, np.int64)
    q0s = np.full(n, -1, np.int64)
    for k in range(n):
        check(state)
        opus = enc.encode(padded[k * FRAME_SAMPLES:(k + 1) * FRAME_SAMPLES])
        dred = b""
        steps = history_steps(k, n_chunks)
        steps = steps[steps < latents.shape[0]] if steps.size else steps
        if steps.size:
            dred, q0s[k], chunks[k] = pack_redundancy(
                codec, states[steps[0]], latents[steps], silent[steps], s, budget, OFFSET_FRAMES)
        packets.append(pack_packet(opus, dred))
        split[k] = (len(opus), len(dred), len(packets[-1]) - len(opus) - len(dred))
        report(state, first + (1.0 - first) * (k + 1) / n, "encoding packets")
    return Stream(packets=packets, opus_bytes=split[:, 0], dred_bytes=split[:, 1],
                  overhead_bytes=split[:, 2], dred_chunks=chunks, dred_q0=q0s,
                  n_samples=int(x.size), lookahead=int(lookahead), settings=s)

