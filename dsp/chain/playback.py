"""Playback at the near end: the far-end voice from the device's drivers to the listener's ears.

``output`` -> ``ears`` ``(320, 2)`` (left, right), through the drivers -> first listener's ears
responses (``Responses.ears``, every driver playing the voice, normalized so the louder ear's
response has unit energy). A scene without a listener has no ears responses: the stage then
passes the voice to both ears unchanged.
"""

from __future__ import annotations

import numpy as np

from dsp.chain.base import Block, Stage, register
from dsp.chain.clock import BLOCK, FS_HZ
from dsp.chain.context import ChainContext, Responses
from dsp.chain.room import MAX_TAPS, SWAP_MS
from dsp.chain.settings import ChainSettings
from dsp.convolver import PartitionedConvolver


def ear_filters(r: Responses) -> np.ndarray | None:
    """The convolver's bank ``(1, 2, n)`` (None without ears responses)."""
    return None if r.ears is None else np.asarray(r.ears, float).T[None, :, :]


@register
class PlaybackStage(Stage):
    """``output`` -> ``ears``."""

    name, source, tap, channels, order = "playback", "output", "ears", 2, 60

    def __init__(self, ctx: ChainContext, settings: ChainSettings):
        super().__init__(ctx, 0)
        fir = ear_filters(ctx.responses)
        self.conv = None if fir is None else PartitionedConvolver(
            fir, BLOCK, crossfade=SWAP_MS * FS_HZ // 1000, max_taps=MAX_TAPS)

    def set_responses(self, responses: Responses) -> None:
        fir = ear_filters(responses)
        if self.conv is not None and fir is not None:
            self.conv.set_filters(fir)

    def passthrough(self, block: Block) -> bool:
        return self.bypassed or self.conv is None

    def process(self, block: Block) -> np.ndarray:
        x = block.taps[self.source]
        if self.conv is None:
            return np.repeat(x[:, None], 2, axis=1)
        return self.conv.process(x[:, None])
