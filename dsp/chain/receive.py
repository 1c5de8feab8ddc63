"""The receiver: playout buffer and decoder switching (:mod:`dsp.dred.receiver_stream`).

``lossy`` -> ``output``, the far-end voice: packet k goes into a buffer of ``buffer_ms`` and
frame ``k - buffer_ms / 20`` is played, decoded from its packet (regular), from the next packet's
LBRR, from the redundancy (DRED) of the first packet after its gap, or concealed (neural PLC, or
Opus PLC when ``neural_plc`` is off). ``Block.played`` says which. Bypassed (or with the sender
bypassed) the output is the network's ``lossy`` audio, no concealment.
"""

from __future__ import annotations

import numpy as np

from dsp.chain.base import Block, Stage, register
from dsp.chain.clock import BLOCK
from dsp.chain.codec import opus_lookahead
from dsp.chain.context import ChainContext
from dsp.chain.settings import ChainSettings
from dsp.dred.receiver_stream import ReceiverStream


@register
class ReceiverStage(Stage):
    """``lossy`` -> ``output`` (+ ``Block.played``)."""

    name, source, tap, order = "receiver", "lossy", "output", 50

    def __init__(self, ctx: ChainContext, settings: ChainSettings):
        depth = settings.buffer_packets
        super().__init__(ctx, depth * BLOCK)
        self.rx = ReceiverStream(settings.dred_settings(), opus_lookahead(), depth,
                                 codec=ctx.models.dred[1], vocoder=ctx.models.vocoder,
                                 predictor=ctx.models.predictor())

    def configure(self, settings: ChainSettings) -> None:
        self.rx.update(settings.dred_settings())

    def passthrough(self, block: Block) -> bool:
        return self.bypassed or block.pcm_link

    def process(self, block: Block) -> np.ndarray:
        data = block.packet.data if block.arrived else None
        got = self.rx.push(data)
        if got is None:
            block.played = None
            return np.zeros(BLOCK)
        frame, source = got
        block.played = (self.rx.emitted - 1, source)
        return frame
