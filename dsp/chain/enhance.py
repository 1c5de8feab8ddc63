"""PercepNet on the microphone signal: the shipped model, streaming (:mod:`dsp.percepnet.stream`).

``mic`` -> ``enhanced``, 40 ms later (the model's algorithmic latency). ``percepnet_strength``
mixes the enhanced signal with the equally delayed microphone signal (1 = fully enhanced),
ramped over 10 ms when it changes.
"""

from __future__ import annotations

import numpy as np

from dsp.chain.base import Block, Ramp, Stage, register
from dsp.chain.context import ChainContext
from dsp.chain.settings import ChainSettings
from dsp.convolver import DelayLine
from dsp.percepnet.stream import PercepNetStream


@register
class PercepNetStage(Stage):
    """``mic`` -> ``enhanced``."""

    name, source, tap, order = "percepnet", "mic", "enhanced", 20

    def __init__(self, ctx: ChainContext, settings: ChainSettings):
        self.stream = PercepNetStream(ctx.models.percepnet)
        super().__init__(ctx, self.stream.latency_samples)
        self.dry = DelayLine([self.own_latency])
        self.strength = Ramp(settings.percepnet_strength)

    def configure(self, settings: ChainSettings) -> None:
        self.strength.target = settings.percepnet_strength

    def process(self, block: Block) -> np.ndarray:
        x = block.taps[self.source]
        h = self.stream.block_size
        wet = np.concatenate([self.stream.process(x[i:i + h]) for i in range(0, x.size, h)])
        w = self.strength.block()
        return w * wet + (1.0 - w) * self.dry.process(x[:, None])[:, 0]
