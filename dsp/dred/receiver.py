"""DRED receiver: a jitter buffer over a container stream that switches decoders per 20 ms frame.

Sources per frame (issue #6, item 8), in :data:`SOURCES` order:

* ``regular`` - the packet arrived; libopus decodes it.
* ``lbrr`` - the *last* lost frame of a gap, when LBRR is on and the first packet after the gap
  carries LBRR (libopus ``decode_fec``).
* ``dred`` - earlier lost frames, as far back as the DRED of the first packet after the gap
  reaches: its features drive the vocoder. A frame counts as covered when DRED describes at
  least half of its samples.
* ``plc`` - the rest (the oldest frames of a gap longer than the redundancy): features from the
  neural PLC predictor, vocoded.
* ``opus_plc`` - with ``neural_plc`` off, libopus's own concealment instead of ``plc``.

Jitter-buffer delay: a gap's DRED arrives with the first packet after it, so DRED can replace
PLC for a lost frame only if that frame is still in the buffer then. We simulate a buffer
:data:`JITTER_BUFFER_MS` (1040 ms, the longest redundancy) deep: every frame DRED covers is
decoded from DRED. A real-time receiver with a shallower buffer would have played PLC for the
oldest of them; these results are the upper bound for that receiver.

Continuity: the libopus decoder sees every frame (``conceal`` for each lost frame that LBRR does
not cover, even when vocoded audio is played) so its state stays consistent. A vocoded span
starts from the vocoder run over ``CONTEXT_FRAMES`` of features computed from the audio already
played; it is shifted by the lag (within +-5 ms) that best matches the last 5 ms played,
then cross-faded over 10 ms from libopus's own concealment (which continues the waveform) into
the vocoded audio, and at the end from the vocoded audio into the next decoded frame. The fade
keeps power constant for the measured correlation of the two signals: linear for identical
signals, equal-power for unrelated ones. The neural predictor observes the features of
everything played (computed from the audio at each gap) and of DRED-recovered frames.

Timing: decoded audio lags the input by the Opus look-ahead; the output is cut back so that
it lines up with the sender's input sample for sample and has its length.

Hostile input (issue #12): no byte sequence makes :func:`receive` raise or play more than
0 dBFS. Every libopus call is guarded. An Opus frame is accepted only when libopus parses its
header as one 20 ms mono frame of at most wideband (all the chain's 16 kHz mono sender can
produce) and its decode is plausible: 320 finite samples peaking at most
:data:`PEAK_HEADROOM` times the larger of full scale and the loudest frame the stream has
carried. A libopus call that fails or decodes implausibly is undone (the decoder state is put
back to its snapshot from before the call, so libopus's concealment continues the waveform as
if the packet had been lost) and the frame concealed. Only when the concealment itself is
implausible (an earlier frame passed the checks but left a bad state) is the decoder replaced
by a fresh one, re-primed with the last :data:`REPRIME_FRAMES` accepted frames so that its
concealment continues the voice instead of starting from silence. Neural PLC fades once it has
predicted beyond its training horizon (:func:`dsp.dred.plc.prediction_gain`); the output is
finally limited to +-1 (full scale). :data:`EVENTS` counts each of these per stream.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dsp.dred.features import FRAME_SIZE, NB_FEATURES, compute_features
from dsp.dred.opus import (
    FRAME_SAMPLES,
    OpusDecoder,
    OpusError,
    packet_bandwidth_hz,
    packet_channels,
    packet_has_lbrr,
    packet_samples,
)
from dsp.dred.packet import Packet, PacketError, unpack_packet
from dsp.dred.plc import prediction_gain
from dsp.dred.sender import CHUNK_FRAMES, DredSettings, PayloadCodec
from sim.task import TaskState, check, report

SOURCES = ("regular", "lbrr", "dred", "plc", "opus_plc")
REGULAR, LBRR, DRED, PLC, OPUS_PLC = range(len(SOURCES))
JITTER_BUFFER_MS = 1040
FADE = 160  # samples, 10 ms cross-fades at both ends of a vocoded span
ALIGN = 80  # samples of played audio the vocoded signal is matched to (5 ms)
MAX_LAG = 80  # samples, +-5 ms alignment search (half a period of a 100 Hz voice)
CONTEXT_FRAMES = 8  # vocoder warm-up before a gap (80 ms)
PITCH_HISTORY_FRAMES = 4  # extra audio before the context: the pitch search looks 257 samples back
# A decoded frame may peak 6 dB above max(full scale, loudest frame carried): the sender's frames
# (SILK, voice) decode to at most full scale for any input in [-1, 1] (tests/test_dred_hostile.py),
# garbage bits decoded as CELT often reach more.
PEAK_HEADROOM = 2.0
REPRIME_FRAMES = 5  # accepted frames replayed into a fresh decoder: 100 ms of history
EVENTS = (
    "corrupt_containers",  # containers that do not parse: the packet counts as lost
    "corrupt_frames",  # Opus frames rejected (header or implausible decode): concealed in place
    "corrupt_lbrr",  # LBRR decodes rejected: the frame is concealed instead
    "corrupt_dred",  # DRED payloads rejected: ignored
    "decoder_resets",  # implausible concealment: fresh decoder, re-primed
    "faded_plc_frames",  # 10 ms frames of neural PLC played attenuated (beyond its horizon)
    "nonfinite_samples",  # non-finite vocoder output samples replaced by silence
    "clipped_samples",  # output samples limited to full scale
)


class ReceiverError(ValueError):
    """Unusable receiver arguments: a loss mask of the wrong shape or an n_samples that does not
    fit (packet bytes never raise: a corrupt packet is concealed)."""


class FeatureVocoder(Protocol):
    """``dsp.dred.vocoder.Vocoder``: features ``(n, 20)`` -> aligned audio ``(n*160,)``."""

    def synthesize(self, features: np.ndarray, seed: int = 0) -> np.ndarray: ...


class Predictor(Protocol):
    """``dsp.dred.plc.FeaturePredictor``."""

    def reset(self) -> None: ...

    def observe(self, frame: np.ndarray) -> None: ...

    def predict(self) -> np.ndarray: ...


@dataclass
class Reception:
    """Output of :func:`receive`.

    Attributes:
        audio: ``(n_samples,)`` float32, aligned with the sender's input.
        labels: ``(n_packets,)`` int8 index into :data:`SOURCES` per 20 ms frame.
        seam_lags: alignment lag (samples) chosen at the start of each vocoded span.
        corrupt: indices of received packets whose container, Opus frame or DRED payload was
            rejected; a bad container or Opus frame is concealed as if lost, a bad DRED payload
            is ignored.
        events: count per :data:`EVENTS` name (hostile-input handling, see the module doc).
    """

    audio: np.ndarray
    labels: np.ndarray
    seam_lags: list[int]
    corrupt: list[int]
    events: dict[str, int]

    def counters(self) -> dict[str, int]:
        """Frames per source name."""
        counts = np.bincount(self.labels, minlength=len(SOURCES))
        return {name: int(c) for name, c in zip(SOURCES, counts, strict=True)}


def crossfade(a: np.ndarray, b: np.ndarray, rho: float) -> np.ndarray:
    """Fade from ``a`` to ``b`` (same shape ``(n,)``) with constant power for correlation ``rho``.

    Linear ramps ``1 - w`` and ``w`` divided by ``sqrt((1-w)^2 + w^2 + 2 rho w (1-w))``, the
    RMS of the mix of two equal-power signals with correlation ``rho`` (clipped to 0..1):
    rho = 1 gives the linear fade, rho = 0 an equal-power fade (-3 dB each mid-way).
    """
    n = a.size
    w = (np.arange(n) + 0.5) / n
    r = float(np.clip(rho, 0.0, 1.0))
    norm = np.sqrt((1 - w) ** 2 + w**2 + 2 * r * w * (1 - w))
    return ((1 - w) * a + w * b) / norm


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Normalized correlation of two ``(n,)`` signals (0 when either is silent)."""
    den = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / den) if den > 1e-12 else 0.0


def best_lag(reference: np.ndarray, signal: np.ndarray, max_lag: int) -> int:
    """Lag ``tau`` in ``-max_lag..max_lag`` maximizing the normalized correlation of
    ``signal[max_lag - tau : max_lag - tau + n]`` with ``reference`` ``(n,)``.

    ``signal`` has ``n + 2 max_lag`` samples; shifting it later by ``tau`` lines it up.
    Returns 0 for a silent reference.
    """
    n = reference.size
    if np.dot(reference, reference) < 1e-12:
        return 0
    windows = np.lib.stride_tricks.sliding_window_view(signal, n)  # (2*max_lag + 1, n)
    num = windows @ reference
    den = np.sqrt(np.einsum("ij,ij->i", windows, windows) * np.dot(reference, reference)) + 1e-12
    start = int(np.argmax(num / den))  # window start = max_lag - tau
    return max_lag - start


def covered_packets(d0: int, d1: int, first: int, last: int, lookahead: int) -> np.ndarray:
    """Packets in ``first..last`` of which feature frames ``d0..d1`` describe >= half.

    Packet k's decoded audio is input samples ``[320k - L, 320k + 320 - L)`` (L = look-ahead);
    frame t is samples ``[160t, 160t + 160)``. Returns a bool array over ``first..last``.
    """
    k = np.arange(first, last + 1)
    lo = np.maximum(FRAME_SAMPLES * k - lookahead, FRAME_SIZE * d0)
    hi = np.minimum(FRAME_SAMPLES * (k + 1) - lookahead, FRAME_SIZE * (d1 + 1))
    return 2 * np.maximum(hi - lo, 0) >= FRAME_SAMPLES


def load_codec() -> PayloadCodec:
    """The trained payload codec (``assets/dred``)."""
    from dsp.dred.sender import load_models as load_sender

    return load_sender()[1]


def load_vocoder() -> FeatureVocoder:
    """The trained vocoder (``assets/dred/vocoder.npz``)."""
    from dsp.dred.vocoder import Vocoder

    return Vocoder.load()


def load_predictor() -> Predictor:
    """The trained neural PLC predictor (``assets/dred/plc.npz``)."""
    from dsp.dred.plc import FeaturePredictor

    return FeaturePredictor.load()


class ReceiverCore:
    """State of one receive pass: Opus decoder, output buffer (decoded timeline), predictor.

    :func:`receive` drives it over a whole stream; :class:`dsp.dred.receiver_stream.
    ReceiverStream` packet by packet (``parts``, ``out`` and ``labels`` are then sliding
    windows, :class:`dsp.dred.window.SlidingArray`, indexed by the same absolute positions)."""

    def __init__(self, parts: list[Packet | None], settings: DredSettings, lookahead: int,
                 codec: PayloadCodec | None, vocoder: FeatureVocoder | None,
                 predictor: Predictor | None, state: TaskState | None = None):
        self.parts, self.s, self.lookahead = parts, settings, lookahead
        self.state = state  # checked inside a long gap's feature analysis
        self.codec, self.vocoder, self.predictor = codec, vocoder, predictor
        self.n = len(parts)
        self.dec = OpusDecoder()
        self.out = np.zeros(self.n * FRAME_SAMPLES)  # decoded timeline: input time + lookahead
        self.labels = np.zeros(self.n, np.int8)
        self.observed = 0  # first feature frame the predictor has not seen
        self.seam_lags: list[int] = []
        self.corrupt: set[int] = set()
        self.events = dict.fromkeys(EVENTS, 0)
        self.loudest = 0.0  # peak of the loudest accepted regular frame
        self.recent: deque[bytes] = deque(maxlen=REPRIME_FRAMES)  # last accepted Opus frames
        if predictor is not None:
            predictor.reset()

    def _put(self, k: int, pcm: np.ndarray) -> None:
        self.out[k * FRAME_SAMPLES:(k + 1) * FRAME_SAMPLES] = pcm

    def _valid_frame(self, k: int) -> bool:
        """Whether packet k's Opus header is one 20 ms mono frame of at most wideband."""
        opus = self.parts[k].opus
        try:
            return (packet_samples(opus) == FRAME_SAMPLES and packet_channels(opus) == 1
                    and packet_bandwidth_hz(opus) <= self.dec.sample_rate // 2)
        except OpusError:
            return False

    def _plausible(self, pcm: np.ndarray) -> bool:
        """20 ms of finite samples within the level headroom (module doc)."""
        return (pcm.size == FRAME_SAMPLES and bool(np.all(np.isfinite(pcm)))
                and float(np.max(np.abs(pcm))) <= PEAK_HEADROOM * max(1.0, self.loudest))

    def _attempt(self, call: Callable[[], np.ndarray]) -> np.ndarray | None:
        """The output of one libopus decode ``call``; None, with the decoder state put back to
        what it was before the call, when libopus fails or the output is implausible."""
        state = self.dec.snapshot()
        try:
            pcm = call()
        except OpusError:
            pcm = None
        if pcm is not None and self._plausible(pcm):
            return pcm
        self.dec.restore(state)
        return None

    def _conceal(self) -> np.ndarray:
        """libopus's concealment of one frame; when it is implausible, a fresh decoder re-primed
        with the recent accepted frames conceals instead, and silence if that fails too."""
        pcm = self._attempt(self.dec.conceal)
        if pcm is None:
            self.events["decoder_resets"] += 1
            self.dec = OpusDecoder()
            for opus in self.recent:
                self._attempt(lambda opus=opus: self.dec.decode(opus))
            pcm = self._attempt(self.dec.conceal)
        if pcm is None:  # a re-priming frame is to blame: start from silence
            self.dec = OpusDecoder()
            self.recent.clear()
            pcm = np.zeros(FRAME_SAMPLES, np.float32)
        return pcm

    def regular(self, k: int) -> None:
        """Decode packet k; a frame that is rejected (header, implausible decode) is concealed
        by the codec's PLC (a lone bad frame between good ones: no vocoder seam for 20 ms)."""
        opus = self.parts[k].opus
        pcm = self._attempt(lambda: self.dec.decode(opus)) if self._valid_frame(k) else None
        if pcm is None:
            self.corrupt.add(k)
            self.events["corrupt_frames"] += 1
            pcm = self._conceal()
            self.labels[k] = OPUS_PLC
        else:
            self.loudest = max(self.loudest, float(np.max(np.abs(pcm))))
            self.recent.append(opus)
        self._put(k, pcm)

    def _has_lbrr(self, b: int) -> bool:
        """Whether packet b (arrived, < n) has a valid frame that carries LBRR."""
        if not self._valid_frame(b):
            return False
        try:
            return packet_has_lbrr(self.parts[b].opus)
        except OpusError:
            return False

    def gap(self, a: int, b: int, seed: int) -> None:
        """Conceal lost packets ``a..b-1``; packet b (if < n) arrived and is decoded here too."""
        nxt = self.parts[b] if b < self.n else None
        use_lbrr = self.s.lbrr and nxt is not None and self._has_lbrr(b)
        for k in range(a, b):
            pcm = None
            if use_lbrr and k == b - 1:
                pcm = self._attempt(lambda: self.dec.decode_fec(nxt.opus))
                if pcm is None:
                    self.corrupt.add(b)
                    self.events["corrupt_lbrr"] += 1
            if pcm is not None:
                self.labels[k] = LBRR
            else:
                pcm = self._conceal()
                self.labels[k] = PLC if self.s.neural_plc else OPUS_PLC
            self._put(k, pcm)
        if nxt is not None:
            self.regular(b)
        dred_rows, d0, d1 = self._dred(b)
        last = b - 2 if use_lbrr else b - 1
        if dred_rows is not None and last >= a:
            self.labels[a:last + 1][covered_packets(d0, d1, a, last, self.lookahead)] = DRED
        vocoded = np.flatnonzero(np.isin(self.labels[a:b], (DRED, PLC))) + a
        if vocoded.size:
            self._vocode(int(vocoded[0]), int(vocoded[-1]) + 1, dred_rows, d0, d1, seed)

    def _dred(self, b: int) -> tuple[np.ndarray | None, int, int]:
        """Features ``(rows, 20)`` of packet b's DRED and their frame range d0..d1."""
        if not self.s.dred or b >= self.n or not self.parts[b].dred:
            return None, 0, -1
        try:
            payload = self.codec.unpack(self.parts[b].dred)
            rows = np.asarray(self.codec.features(payload), dtype=np.float64)
        except ValueError:
            rows = None
        if (rows is None or rows.shape != (CHUNK_FRAMES * payload.n_chunks, NB_FEATURES)
                or not rows.size or not np.all(np.isfinite(rows))):
            self.corrupt.add(b)
            self.events["corrupt_dred"] += 1
            return None, 0, -1
        d1 = 2 * b + 1 - int(payload.offset_frames)
        return rows, d1 - rows.shape[0] + 1, d1

    def _played_features(self, t0: int, t1: int) -> np.ndarray:
        """Features ``(t1 - t0, 20)`` of played audio for frames t0..t1-1 (input time)."""
        lo = max(t0 - PITCH_HISTORY_FRAMES, 0)
        y0 = FRAME_SIZE * lo + self.lookahead  # input sample -> decoded-timeline index
        seg = self.out[y0:FRAME_SIZE * t1 + self.lookahead]
        return compute_features(seg, self.state)[t0 - lo:t1 - lo]

    def observe_played(self, t_end: int) -> None:
        """Let the neural predictor see the features of played frames ``observed..t_end-1``
        now (they must be final). :func:`receive` leaves it to the next gap; a streaming
        receiver calls it between gaps, so that a gap after a long loss-free stretch does not
        analyse all of it at once. Without a predictor the frames count as seen: one switched
        on later starts from the frames played after (and the stream keeps no older audio)."""
        if t_end <= self.observed:
            return
        if self.predictor is not None:
            for f in self._played_features(self.observed, t_end):
                self.predictor.observe(f)
        self.observed = t_end

    def _vocode(self, s: int, e: int, dred: np.ndarray | None, d0: int, d1: int,
                seed: int) -> None:
        """Replace decoded-timeline frames ``s..e-1`` by vocoded audio, with seams."""
        la = self.lookahead
        # frames t with [160t, 160t+160) overlapping the span's input samples [320s-L, 320e-L)
        t_s = max((FRAME_SAMPLES * s - la) // FRAME_SIZE, 0)
        t_e = (FRAME_SAMPLES * e - la - 1) // FRAME_SIZE
        t_last = -(-(FRAME_SAMPLES * e - la + FADE + MAX_LAG) // FRAME_SIZE) - 1
        t_ctx = max(t_s - CONTEXT_FRAMES, 0)
        first_seen = min(self.observed, t_ctx) if self.predictor is not None else t_ctx
        played = self._played_features(first_seen, t_s) if t_s > first_seen else np.zeros((0, 20))
        rows = np.empty((t_last + 1 - t_ctx, NB_FEATURES))
        rows[:t_s - t_ctx] = played[t_ctx - first_seen:]
        run = np.zeros(rows.shape[0], np.int64)  # consecutive predicted frames up to each row
        if self.predictor is not None:
            for f in played[max(self.observed - first_seen, 0):]:
                self.predictor.observe(f)
        for t in range(t_s, t_last + 1):
            i = t - t_ctx
            if dred is not None and d0 <= t <= d1:
                rows[i] = dred[t - d0]
                if t <= t_e and self.predictor is not None:
                    self.predictor.observe(rows[i])
            elif t <= t_e and self.predictor is not None:
                rows[i] = self.predictor.predict()
                run[i] = run[i - 1] + 1
            elif dred is not None and t < d0:
                rows[i] = dred[0]  # libopus PLC plays before; the first DRED frame starts early
            else:
                rows[i], run[i] = rows[i - 1], run[i - 1]  # beyond everything known: hold
        self.observed = max(self.observed, t_e + 1)
        voc = np.asarray(self.vocoder.synthesize(rows, seed=seed), dtype=np.float64)
        self._splice(s, e, self._bounded(voc, run), FRAME_SIZE * t_ctx + la)

    def _bounded(self, voc: np.ndarray, run: np.ndarray) -> np.ndarray:
        """Vocoded audio ``(len(run) * 160,)`` with non-finite samples silenced and frames that
        are the ``run``-th consecutive prediction faded (gain interpolated between frame
        centres, so the fade has no steps)."""
        bad = ~np.isfinite(voc)
        if bad.any():
            self.events["nonfinite_samples"] += int(bad.sum())
            voc = np.where(bad, 0.0, voc)
        gain = prediction_gain(run)
        faded = gain < 1.0
        if faded.any() and voc.size == run.size * FRAME_SIZE:
            self.events["faded_plc_frames"] += int(faded.sum())
            centres = FRAME_SIZE * (np.arange(run.size) + 0.5)
            voc = voc * np.interp(np.arange(voc.size) + 0.5, centres, gain)
        return voc

    def _splice(self, s: int, e: int, voc: np.ndarray, voc_start: int) -> None:
        """Write vocoded audio (decoded-timeline start ``voc_start``) over frames s..e-1."""
        out = self.out
        a0, e0 = FRAME_SAMPLES * s, FRAME_SAMPLES * e

        def vocoded(lo: int, hi: int, lag: int) -> np.ndarray:
            """voc shifted later by ``lag``, on decoded-timeline samples lo..hi-1 (0 outside)."""
            seg = np.zeros(hi - lo)
            src_lo, src_hi = lo - lag - voc_start, hi - lag - voc_start
            c_lo, c_hi = max(src_lo, 0), min(src_hi, voc.size)
            if c_hi > c_lo:
                seg[c_lo - src_lo:c_hi - src_lo] = voc[c_lo:c_hi]
            return seg

        lag = 0
        if a0 - ALIGN - MAX_LAG >= voc_start and s > 0:
            ref = out[a0 - ALIGN:a0]
            lag = best_lag(ref, vocoded(a0 - ALIGN - MAX_LAG, a0 + MAX_LAG, 0), MAX_LAG)
        self.seam_lags.append(lag)
        end = min(e0 + FADE, out.size)
        v = vocoded(a0, end, lag)
        head = out[a0:a0 + FADE].copy()
        tail = out[e0:end].copy()
        out[a0:end] = v
        out[a0:a0 + FADE] = crossfade(head, v[:FADE], correlation(head, v[:FADE]))
        if tail.size:
            vt = v[e0 - a0:]
            out[e0:end] = crossfade(vt, tail, correlation(vt, tail))

    def reception(self, n_samples: int) -> Reception:
        """The result: ``n_samples`` of output from the look-ahead on, limited to full scale."""
        audio = self.out[self.lookahead:self.lookahead + n_samples]
        over = np.abs(audio) > 1.0
        self.events["clipped_samples"] = int(over.sum())
        self.events["corrupt_containers"] = sum(self.parts[k] is None for k in self.corrupt)
        audio = np.clip(audio, -1.0, 1.0) if over.any() else audio
        return Reception(audio=audio.astype(np.float32), labels=self.labels,
                         seam_lags=self.seam_lags, corrupt=sorted(self.corrupt),
                         events=dict(self.events))


def receive(packets: Sequence[bytes], lost: np.ndarray, n_samples: int,
            settings: DredSettings | None = None, *, lookahead: int,
            codec: PayloadCodec | None = None, vocoder: FeatureVocoder | None = None,
            predictor: Predictor | None = None, state: TaskState | None = None) -> Reception:
    """Decode a container stream over a loss mask (``lost[k]`` True = packet k missing).

    Args:
        packets: one container per 20 ms (lost ones are never parsed).
        n_samples: length of the sender's input (samples at 16 kHz); the output has it.
        lookahead: the sender's Opus look-ahead in samples (``Stream.lookahead``).
        codec, vocoder, predictor: models; those the settings need default to the trained ones.
        state: :class:`sim.task.TaskState`: progress after each packet or gap, cancellation
            noticed between them and inside a gap's feature analysis.
    Corrupt input never stops the stream: a packet whose container or Opus frame is rejected
    is concealed like a lost one, a rejected DRED payload is ignored; their indices are in
    ``Reception.corrupt``, the handling counted in ``Reception.events``. Whatever the packet
    bytes, the output is finite, within +-1 (full scale) and ``n_samples`` long.
    Raises:
        ReceiverError: a mask of the wrong shape or an n_samples that does not fit.
    """
    s = (settings or DredSettings()).validate()
    mask = np.asarray(lost)
    if mask.shape != (len(packets),) or mask.dtype != bool:
        raise ReceiverError(f"lost must be a bool array of shape ({len(packets)},), "
                            f"got {mask.dtype} {mask.shape}")
    if not 0 <= int(n_samples) <= len(packets) * FRAME_SAMPLES - int(lookahead):
        raise ReceiverError(f"n_samples {n_samples} does not fit {len(packets)} packets "
                            f"with look-ahead {lookahead}")
    parts: list[Packet | None] = []
    bad_containers = []
    for k, data in enumerate(packets):
        if mask[k]:
            parts.append(None)
            continue
        try:
            parts.append(unpack_packet(data))
        except PacketError:  # a packet that cannot be parsed is as good as lost
            parts.append(None)
            bad_containers.append(k)
    if bad_containers:
        mask = mask.copy()
        mask[bad_containers] = True
    if codec is None and s.dred and any(p is not None and p.dred for p in parts):
        codec = load_codec()
    if vocoder is None and (s.dred or s.neural_plc):
        vocoder = load_vocoder()
    if predictor is None and s.neural_plc:
        predictor = load_predictor()
    rx = ReceiverCore(parts, s, int(lookahead), codec, vocoder,
                   predictor if s.neural_plc else None, state)
    rx.corrupt.update(bad_containers)
    k = n_gaps = 0
    n = len(packets)
    while k < n:
        check(state)
        if not mask[k]:
            rx.regular(k)
            k += 1
        else:
            b = k + int(np.argmin(mask[k:])) if not mask[k:].all() else n
            rx.gap(k, b, seed=n_gaps)
            n_gaps += 1
            k = b + 1
        report(state, min(k, n) / n, "decoding")
    return rx.reception(int(n_samples))
