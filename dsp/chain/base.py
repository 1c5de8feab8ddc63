"""The pieces every stage of the voice chain shares: the 20 ms clock, the block that flows through
the stages, the stage base class with its bypass crossfade, and the one stage registry.

Clock: 16 kHz mono, blocks of :data:`BLOCK` = 320 samples (20 ms, one Opus packet). Block i of a
tap holds that tap's samples ``[320 i, 320 i + 320)``; a tap lags the talker at the microphone by
its stage latencies (``ChainGraph.tap_latency``).

A stage reads one tap (``source``) and writes one (``tap``). Bypassing a stage replaces its output
by its input delayed by the stage's own latency (so a tap keeps its timing), crossfaded over
:data:`FADE` samples; the stage keeps running underneath, so switching back is seamless too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from dsp.chain.context import ChainContext, Responses
    from dsp.chain.settings import ChainSettings
    from dsp.dred.sender_stream import SentPacket

from dsp.chain.clock import BLOCK, FADE
from dsp.convolver import DelayLine


@dataclass
class Block:
    """One 20 ms tick of the chain.

    Attributes:
        index: block number i (time ``20 i`` ms).
        taps: tap name -> ``(320,)`` (mono) or ``(320, 2)`` (ears) float64.
        packet: the packet the sender made of this block (None before the sender ran).
        arrived: the network delivered ``packet`` in time.
        late: it was delivered, but after the playout buffer's deadline (counts as lost).
        pcm_link: the sender is bypassed: the far end gets the PCM (lossy tap), not packets.
        played: ``(packet index, source index into dsp.dred.receiver.SOURCES)`` of the frame
            the receiver played this block, or None while its buffer fills.
    """

    index: int
    taps: dict[str, np.ndarray] = field(default_factory=dict)
    packet: SentPacket | None = None
    arrived: bool = True
    late: bool = False
    pcm_link: bool = False
    played: tuple[int, int] | None = None


class Ramp:
    """A gain that moves to its target linearly over :data:`FADE` samples (no steps)."""

    def __init__(self, value: float):
        self.value = float(value)
        self.target = float(value)

    def block(self, n: int = BLOCK) -> np.ndarray:
        """The gain for the next ``n`` samples ``(n,)``."""
        if self.value == self.target:
            return np.full(n, self.value)
        step = (self.target - self.value) / FADE
        g = self.value + step * np.arange(1, n + 1)
        g = np.minimum(g, self.target) if step > 0 else np.maximum(g, self.target)
        self.value = float(g[-1])
        return g


class Stage:
    """A chain stage: reads tap ``source``, writes tap ``tap`` once per block.

    Subclasses set ``name``, ``source``, ``tap`` (and ``channels`` for stereo output), compute
    ``own_latency`` (samples the output lags the input) in ``__init__``, implement
    :meth:`process` and, when settings matter to them, :meth:`configure`.
    """

    name: ClassVar[str]
    source: ClassVar[str]
    tap: ClassVar[str]
    channels: ClassVar[int] = 1
    order: ClassVar[int] = 0

    def __init__(self, ctx: ChainContext, own_latency: int):
        self.ctx = ctx
        self.own_latency = int(own_latency)
        self.bypassed = False
        self._delay = DelayLine([self.own_latency])
        self._wet = Ramp(1.0)

    def configure(self, settings: ChainSettings) -> None:
        """Take new settings (called at a block boundary, before :meth:`process`)."""

    def set_responses(self, responses: Responses) -> None:
        """Take new room responses (at a block boundary; stages that convolve crossfade)."""

    def process(self, block: Block) -> np.ndarray:
        """This block's output ``(320,)`` or ``(320, channels)`` from ``block.taps``."""
        raise NotImplementedError

    def passthrough(self, block: Block) -> bool:
        """Whether the output is the delayed input now (the bypass; stages may add reasons)."""
        return self.bypassed

    def run(self, block: Block) -> None:
        """Process, then crossfade between the output and the delayed input as needed."""
        y = self.process(block)
        x = self._delay.process(block.taps[self.source][:, None])[:, 0]
        if self.channels > 1 and x.ndim == 1:
            x = np.repeat(x[:, None], self.channels, axis=1)
        self._wet.target = 0.0 if self.passthrough(block) else 1.0
        w = self._wet.block()
        if self.channels > 1:
            w = w[:, None]
        block.taps[self.tap] = y if np.all(w == 1.0) else w * y + (1.0 - w) * x


STAGES: dict[str, type[Stage]] = {}
"""Stage name -> class, in chain order (the order they run)."""


def register(cls: type[Stage]) -> type[Stage]:
    """Class decorator: add a stage kind to :data:`STAGES` (sorted by ``order``)."""
    STAGES[cls.name] = cls
    ordered = sorted(STAGES.values(), key=lambda c: c.order)
    STAGES.clear()
    STAGES.update((c.name, c) for c in ordered)
    return cls
