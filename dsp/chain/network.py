"""The network: packet loss (Gilbert–Elliott, Bernoulli, a 0/1 trace or none) and jitter.

One packet per 20 ms block. The loss state advances once per packet with the current settings'
probabilities, so a rate or burst change applies from the next packet (:func:`dsp.dred.loss.
ge_transitions`: stationary loss ``rate``, mean burst ``mean_burst`` packets). A trace plays from
its first line, tiled. Jitter delays each packet by ``jitter_ms`` times the magnitude of a standard
normal draw; a packet delayed past the playout buffer (``buffer_ms``) arrives too late and counts
as lost. Draws come from generators seeded with ``seed`` (loss) and ``seed + 1`` (jitter).

``coded`` -> ``lossy``: the codec's lossless decode with lost frames muted (10 ms ramps), what the
far end would hear without any concealment. Bypassing the network delivers every packet.
"""

from __future__ import annotations

import numpy as np

from dsp.chain.base import Block, Ramp, Stage, register
from dsp.chain.context import ChainContext
from dsp.chain.settings import ChainSettings
from dsp.dred.loss import LossModel, ge_transitions, read_trace


class LossProcess:
    """Per-packet loss draws of a :class:`dsp.dred.loss.LossModel` that may change on the fly."""

    def __init__(self, model: LossModel, seed: int):
        self.rng = np.random.default_rng(seed)
        self.bad = False
        self.k = 0
        self.set_model(model)

    def set_model(self, model: LossModel) -> None:
        self.model = model
        self.trace = read_trace(model.path) if model.kind == "trace" else None
        if model.kind == "ge":
            self.p_gb, self.p_bg = ge_transitions(model.rate, model.mean_burst)
        else:  # bernoulli (and none) as a chain that forgets its state
            self.p_gb = self.p_bg = None

    def lost(self) -> bool:
        """Whether the next packet is lost."""
        u = self.rng.random()  # one draw per packet whatever the model: switching keeps sync
        self.k += 1
        if self.trace is not None:
            return bool(self.trace[(self.k - 1) % self.trace.size])
        if self.p_gb is None:
            return self.model.kind == "bernoulli" and u < self.model.rate
        lost = self.bad
        self.bad = u < (1.0 - self.p_bg if self.bad else self.p_gb)
        return lost


@register
class NetworkStage(Stage):
    """``coded`` -> ``lossy`` (+ ``Block.arrived``, ``Block.late``)."""

    name, source, tap, order = "network", "coded", "lossy", 40

    def __init__(self, ctx: ChainContext, settings: ChainSettings):
        super().__init__(ctx, 0)
        self.loss = LossProcess(settings.loss_model(), settings.seed)
        self.jitter_rng = np.random.default_rng(settings.seed + 1)
        self.settings = settings
        self.gain = Ramp(1.0)

    def configure(self, settings: ChainSettings) -> None:
        if settings.loss != self.settings.loss:
            self.loss.set_model(settings.loss_model())
        self.settings = settings

    def process(self, block: Block) -> np.ndarray:
        dropped = self.loss.lost()
        delay_ms = self.settings.jitter_ms * abs(float(self.jitter_rng.standard_normal()))
        block.late = not dropped and delay_ms > self.settings.buffer_ms
        block.arrived = self.bypassed or not (dropped or block.late)
        self.gain.target = 1.0 if block.arrived else 0.0
        return self.gain.block() * block.taps[self.source]
