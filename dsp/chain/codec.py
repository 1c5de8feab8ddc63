"""The sender: Opus with LBRR plus DRED, one packet per 20 ms (:mod:`dsp.dred.sender_stream`).

``enhanced`` -> ``coded``: the packet's Opus frame decoded as if nothing were lost (what the codec
alone does to the voice), later by the Opus look-ahead. The packet itself goes on in
``Block.packet``. Bypassing the sender sends the voice as PCM: ``coded`` is the delayed input and
the receiver plays the network's ``lossy`` audio (``Block.pcm_link``).
"""

from __future__ import annotations

import functools

import numpy as np

from dsp.chain.base import Block, Stage, register
from dsp.chain.context import ChainContext
from dsp.chain.settings import ChainSettings
from dsp.dred.opus import OpusDecoder, OpusEncoder
from dsp.dred.packet import unpack_packet
from dsp.dred.sender_stream import SenderStream


@functools.cache
def opus_lookahead() -> int:
    """The Opus encoder's look-ahead in samples (16 kHz, VoIP; the same at every bitrate)."""
    enc = OpusEncoder()
    try:
        return enc.lookahead
    finally:
        enc.close()


@register
class SenderStage(Stage):
    """``enhanced`` -> ``coded`` (+ ``Block.packet``)."""

    name, source, tap, order = "sender", "enhanced", "coded", 30

    def __init__(self, ctx: ChainContext, settings: ChainSettings):
        vae, codec = ctx.models.dred
        self.tx = SenderStream(settings.dred_settings(), vae, codec)
        super().__init__(ctx, self.tx.lookahead)
        self.decoder = OpusDecoder()

    def configure(self, settings: ChainSettings) -> None:
        self.tx.update(settings.dred_settings())

    def process(self, block: Block) -> np.ndarray:
        block.packet = self.tx.push(block.taps[self.source])
        block.pcm_link = self.bypassed
        return self.decoder.decode(unpack_packet(block.packet.data).opus).astype(np.float64)
