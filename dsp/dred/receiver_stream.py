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
output equals ``receive``'s (tests/test_dred_stream.py), provided also that no loss-free stretch
is longer than :data:`CATCH_UP_PACKETS`: after that many packets without a gap the neural
predictor is shown the audio played so far (``ReceiverCore.observe_played``), which bounds the
work a later gap does at once (``receive`` shows it everything at the next gap).

Settings (LBRR, DRED, neural PLC) may change between pushes (:meth:`ReceiverStream.update`); the
buffer depth is fixed for a stream. Memory grows with the stream (the decoded timeline is kept,
8 bytes a sample: about 7.7 MB a minute).
"""

from __future__ import annotations

import numpy as np

from dsp.dred.features import FRAME_SIZE
from dsp.dred.opus import FRAME_SAMPLES
from dsp.dred.packet import PacketError, unpack_packet
from dsp.dred.receiver import (
    FADE,
    FeatureVocoder,
    Predictor,
    ReceiverCore,
    load_codec,
    load_predictor,
    load_vocoder,
)
from dsp.dred.sender import DredSettings, PayloadCodec

CATCH_UP_PACKETS = 25  # 0.5 s: the catch-up analyses at most this much audio at once
MARGIN_FRAMES = 2  # the newest frames' analysis window reaches past the decoded audio


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
        self.core.out = np.zeros(64 * FRAME_SAMPLES)
        self.gap_start: int | None = None
        self.n_gaps = 0
        self.emitted = 0
        self.caught_up = 0  # packet of the last catch-up or gap (the predictor saw up to it)

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
        core.parts.append(part)
        core.n += 1
        need = core.n * FRAME_SAMPLES + FADE
        if core.out.size < need:
            core.out = np.concatenate([core.out, np.zeros(max(need, core.out.size))])
        if core.labels.size < core.n:
            core.labels = np.concatenate([core.labels, np.zeros(max(core.n, 64), np.int8)])
        return core.n - 1

    def _close_gap(self, end: int) -> None:
        self.caught_up = end
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
            if k - self.caught_up >= CATCH_UP_PACKETS:
                self.caught_up = k
                end = (FRAME_SAMPLES * (k + 1) - self.core.lookahead) // FRAME_SIZE
                self.core.observe_played(end - MARGIN_FRAMES)
        due = k - self.depth
        if due < 0:
            return None
        if self.gap_start is not None and self.gap_start <= due:
            self._close_gap(k + 1)  # no packet after it yet: conceal what is lost so far
        return self._emit()

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
