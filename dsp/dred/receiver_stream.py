"""The DRED receiver packet by packet, behind a playout (jitter) buffer of ``depth`` packets.

:meth:`ReceiverStream.push` takes packet k (its bytes, or None when it was lost or came too late)
and returns 20 ms of output: decoded-timeline frame ``k - depth`` (samples ``[320 (k - depth),
320 (k - depth + 1))`` of the sender's input delayed by the Opus look-ahead), i.e. the output lags
the input by ``depth`` packets plus the look-ahead. The decoding is :class:`dsp.dred.receiver.
ReceiverCore`'s, the same calls in the same order as :func:`dsp.dred.receiver.receive`: an arrived
packet after a gap conceals the gap (LBRR for its last frame, DRED as far back as the arrived
packet's redundancy reaches, PLC for the rest) and is decoded. A gap longer than the buffer cannot
wait for its DRED: when its first frame is due, the frames lost so far are concealed without it
(PLC), and the packets lost after them start a new gap. So when no gap outlasts the buffer the
output equals ``receive``'s (tests/test_dred_stream.py), provided also that the predictor is never
:data:`CATCH_UP_PACKETS` behind: once the audio decoded since the last frame it saw (at a
vocoded gap) is that long, the neural predictor is shown it (``ReceiverCore.observe_played``),
which bounds the work a later gap does at once (``receive`` shows it everything at the next
vocoded gap).

Settings (LBRR, DRED, neural PLC) may change between pushes (:meth:`ReceiverStream.update`); the
buffer depth is fixed for a stream. While neural PLC is off the predictor skips the audio played
(a predictor switched back on starts from the audio played after it).

Memory is bounded: the decoded timeline, labels and packets are :class:`dsp.dred.window.
SlidingArray` windows from which everything before what a later packet can still reach is
dropped (:meth:`ReceiverStream.reach`: the frames not yet played, the vocoder's context and the
pitch history before the earliest span a gap can still vocode, and the audio the predictor has not
yet seen, at most :data:`CATCH_UP_PACKETS` behind). Trimming changes no output
(tests/test_dred_stream.py); at most ``depth + ``:data:`KEPT_PACKETS` (85) packets are kept,
2.6 KB each (decoded audio, float64) plus :data:`TRIM_PACKETS` of spare room to grow into:
under 0.5 MB for a 1 s buffer, whatever the stream's length. The seam lags are those of the last
:data:`SEAM_LAGS_KEPT` gaps.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from dsp.dred.features import FRAME_SIZE
from dsp.dred.opus import FRAME_SAMPLES
from dsp.dred.packet import PacketError, unpack_packet
from dsp.dred.receiver import (
    ALIGN,
    CONTEXT_FRAMES,
    FADE,
    PITCH_HISTORY_FRAMES,
    FeatureVocoder,
    Predictor,
    ReceiverCore,
    load_codec,
    load_predictor,
    load_vocoder,
)
from dsp.dred.sender import DredSettings, PayloadCodec
from dsp.dred.window import SlidingArray

CATCH_UP_PACKETS = 25  # 0.5 s: the catch-up analyses at most this much audio at once
MARGIN_FRAMES = 2  # the newest frames' analysis window reaches past the decoded audio
TRIM_PACKETS = 50  # the windows are trimmed once this much (1 s) can go: one copy a second
SEAM_LAGS_KEPT = 64
KEPT_PACKETS = CATCH_UP_PACKETS + TRIM_PACKETS + 10
"""Packets kept beyond the buffer's ``depth``: the predictor's catch-up, the vocoder context and
pitch history (+-28 packets before the next frame to play), and the packets awaiting a trim."""


class ReceiverStream:
    """Stateful receiver: one :meth:`push` per 20 ms packet slot, one 20 ms frame out."""

    def __init__(self, settings: DredSettings, lookahead: int, depth: int, *,
                 codec: PayloadCodec | None = None, vocoder: FeatureVocoder | None = None,
                 predictor: Predictor | None = None):
        s = settings.validate()
        if not isinstance(depth, int) or depth < 0:
            raise ValueError(f"depth must be a whole number of packets >= 0, got {depth!r}")
        self.depth = depth
        self.predictor = predictor or load_predictor()
        self.core = ReceiverCore([], s, int(lookahead), codec or load_codec(),
                                 vocoder or load_vocoder(),
                                 self.predictor if s.neural_plc else None)
        self.core.out = SlidingArray(np.float64, spare=TRIM_PACKETS * FRAME_SAMPLES)
        self.core.labels = SlidingArray(np.int8, spare=TRIM_PACKETS)
        self.core.parts = SlidingArray(object, fill=None, spare=TRIM_PACKETS)
        self.core.seam_lags = deque(maxlen=SEAM_LAGS_KEPT)
        self.gap_start: int | None = None
        self.n_gaps = 0
        self.emitted = 0

    @property
    def settings(self) -> DredSettings:
        return self.core.s

    def update(self, settings: DredSettings) -> None:
        """New receiver settings from the next push on."""
        s = settings.validate()
        self.core.s = s
        self.core.predictor = self.predictor if s.neural_plc else None

    def _append(self, data: bytes | None) -> int:
        """Add packet slot k (parsed; None when lost or corrupt); returns k."""
        core = self.core
        part = None
        if data is not None:
            try:
                part = unpack_packet(data)
            except PacketError:  # a packet that cannot be parsed is as good as lost
                core.corrupt.add(core.n)
        core.n += 1
        core.parts.grow(core.n)
        core.parts[core.n - 1] = part
        core.labels.grow(core.n)
        core.out.grow(core.n * FRAME_SAMPLES + FADE)
        return core.n - 1

    def reach(self) -> int:
        """First packet any later push or flush may read or write (its decoded-timeline frame,
        label or bytes): the vocoded span of a gap starts at the earliest at the next frame to
        play; its vocoder context and pitch history, and the played audio the predictor has not
        seen (all analysed by the gap), lie before it."""
        core = self.core
        t_s = max((FRAME_SAMPLES * self.emitted - core.lookahead) // FRAME_SIZE, 0)
        first = max(min(core.observed, t_s - CONTEXT_FRAMES) - PITCH_HISTORY_FRAMES, 0)
        sample = min(FRAME_SIZE * first + core.lookahead, FRAME_SAMPLES * self.emitted - ALIGN)
        return max(sample, 0) // FRAME_SAMPLES

    def _trim(self) -> None:
        """Drop the packets before :meth:`reach` once there are ``TRIM_PACKETS`` of them."""
        core = self.core
        base = self.reach()
        if base - core.labels.start < TRIM_PACKETS:
            return
        core.parts.trim(base)
        core.labels.trim(base)
        core.out.trim(base * FRAME_SAMPLES)
        core.corrupt = {k for k in core.corrupt if k >= base}

    def _close_gap(self, end: int) -> None:
        self.core.gap(self.gap_start, end, seed=self.n_gaps)
        self.n_gaps += 1
        self.gap_start = None

    def push(self, data: bytes | None) -> tuple[np.ndarray, int] | None:
        """Packet slot k's bytes (None = lost). Returns ``(frame (320,) float64 within +-1,
        source index into dsp.dred.receiver.SOURCES)`` of frame ``k - depth``, or None while
        the buffer fills."""
        k = self._append(data)
        if self.core.parts[k] is None:
            if self.gap_start is None:
                self.gap_start = k
        elif self.gap_start is not None:
            self._close_gap(k)
        else:
            self.core.regular(k)
            end = (FRAME_SAMPLES * (k + 1) - self.core.lookahead) // FRAME_SIZE - MARGIN_FRAMES
            if end - self.core.observed >= 2 * CATCH_UP_PACKETS:
                self.core.observe_played(end)
        due = k - self.depth
        if due < 0:
            return None
        if self.gap_start is not None and self.gap_start <= due:
            self._close_gap(k + 1)  # no packet after it yet: conceal what is lost so far
        frame = self._emit()
        self._trim()
        return frame

    def flush(self) -> list[tuple[np.ndarray, int]]:
        """End of stream: conceal an open gap and return the frames still buffered."""
        if self.gap_start is not None:
            self._close_gap(self.core.n)
        out = []
        while self.emitted < self.core.n:
            out.append(self._emit())
        return out

    def _emit(self) -> tuple[np.ndarray, int]:
        j = self.emitted
        self.emitted += 1
        frame = np.clip(self.core.out[j * FRAME_SAMPLES:(j + 1) * FRAME_SAMPLES], -1.0, 1.0)
        return frame, int(self.core.labels[j])
