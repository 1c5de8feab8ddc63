"""The DRED sender packet by packet: push 20 ms of 16 kHz audio, get that packet's container.

The same packets as :func:`dsp.dred.sender.encode_stream` but causal: features come from
:class:`dsp.dred.features_stream.FeatureStream` (3 frames of look-ahead instead of the whole
signal) and the RDO-VAE runs one step per packet (:meth:`dsp.dred.rdovae.RdoVae.encode_step`).
The features of frame ``2k - 1`` are not final when packet k leaves, so packet k's newest chunk
is step ``k - 2`` (``offset_frames`` :data:`STREAM_OFFSET_FRAMES` = 4, 10 ms more than the
offline sender's); the receiver reads the offset from the payload. Settings may change between
pushes (:meth:`SenderStream.update`): Opus bitrate, complexity, LBRR and expected loss at the next
packet, DRED depth, budget and quantizer slope from the next payload on.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from dsp.dred.features import FRAME_SIZE
from dsp.dred.features_stream import FeatureStream
from dsp.dred.opus import FRAME_MS, FRAME_SAMPLES, OpusEncoder
from dsp.dred.packet import pack_packet
from dsp.dred.sender import (
    MAX_CHUNKS,
    OFFSET_FRAMES,
    SILENCE_PEAK,
    DredSettings,
    LatentEncoder,
    PayloadCodec,
    history_steps,
    load_models,
    pack_redundancy,
)

STREAM_OFFSET_FRAMES = OFFSET_FRAMES + 2
_HISTORY = 2 * MAX_CHUNKS  # encoder steps kept: the deepest history a packet may carry


@dataclass(frozen=True)
class SentPacket:
    """One container and its byte split: ``opus``, ``dred``, ``overhead`` bytes, the DRED
    chunks it carries (40 ms each) and their first quantizer (-1 without DRED)."""

    data: bytes
    opus: int
    dred: int
    overhead: int
    chunks: int
    q0: int


class SenderStream:
    """Stateful sender: :meth:`push` one 20 ms block ``(320,)`` float in [-1, 1] per packet."""

    def __init__(self, settings: DredSettings, vae: LatentEncoder | None = None,
                 codec: PayloadCodec | None = None):
        self.s = settings.validate()
        if vae is None or codec is None:
            vae, codec = load_models()
        self.vae, self.codec = vae, codec
        self.enc = OpusEncoder(bitrate=self.s.bitrate, complexity=self.s.complexity,
                               fec=self.s.lbrr, packet_loss_perc=self.s.loss_perc)
        self.lookahead = self.enc.lookahead
        self.features = FeatureStream()
        self.pending: list[np.ndarray] = []  # final feature frames not yet encoded (0..1)
        self.hidden = vae.encoder_state()
        self.latents: deque[np.ndarray] = deque(maxlen=_HISTORY)  # newest last
        self.states: deque[np.ndarray] = deque(maxlen=_HISTORY)
        self.silent: deque[bool] = deque(maxlen=_HISTORY)
        self.peaks: deque[float] = deque([0.0] * 4, maxlen=4)  # packets k-3 .. k
        self.k = 0  # packets sent

    def update(self, settings: DredSettings) -> None:
        """New settings from the next packet on (the Opus encoder keeps its state)."""
        s = settings.validate()
        if s.bitrate != self.s.bitrate:
            self.enc.set_bitrate(s.bitrate)
        if s.complexity != self.s.complexity:
            self.enc.set_complexity(s.complexity)
        if (s.lbrr, s.loss_perc) != (self.s.lbrr, self.s.loss_perc):
            self.enc.set_fec(s.lbrr, s.loss_perc)
        self.s = s

    def push(self, block: np.ndarray) -> SentPacket:
        """Encode packet k = input samples ``[320 k, 320 k + 320)`` with its redundancy."""
        x = np.asarray(block, dtype=np.float32)
        if x.shape != (FRAME_SAMPLES,):
            raise ValueError(f"block must have shape ({FRAME_SAMPLES},), got {x.shape}")
        opus = self.enc.encode(x)
        self.peaks.append(float(np.max(np.abs(x))))
        for half in (x[:FRAME_SIZE], x[FRAME_SIZE:]):
            self.pending.extend(self.features.push(half))
            if len(self.pending) == 2:
                self._encode_step()
        dred, q0, chunks = self._redundancy()
        self.k += 1
        data = pack_packet(opus, dred)
        return SentPacket(data, len(opus), len(dred), len(data) - len(opus) - len(dred),
                          chunks, q0)

    def _encode_step(self) -> None:
        latent, state, self.hidden = self.vae.encode_step(np.stack(self.pending), self.hidden)
        self.pending.clear()
        self.latents.append(latent)
        self.states.append(state)
        # the step made during packet k is k - 2: frames 2k-6 .. 2k-3, samples of packets
        # k-3 and k-2; silent when neither reaches one int16 step
        self.silent.append(max(self.peaks[0], self.peaks[1]) < SILENCE_PEAK)

    def _redundancy(self) -> tuple[bytes, int, int]:
        """Packet k's payload: steps k-2, k-4, ... (``history_steps(k - 1, n)``)."""
        n = len(self.latents)
        steps = history_steps(self.k - 1, self.s.n_chunks)
        if not steps.size or not n:
            return b"", -1, 0
        back = (self.k - 2) - steps  # 0 = newest step kept
        back = back[back < n]
        idx = n - 1 - back
        lat = np.stack([self.latents[i] for i in idx])
        sil = np.array([self.silent[i] for i in idx])
        budget = None if self.s.dred_kbps is None else int(self.s.dred_kbps * FRAME_MS)
        return pack_redundancy(self.codec, self.states[idx[0]], lat, sil, self.s, budget,
                               STREAM_OFFSET_FRAMES)
