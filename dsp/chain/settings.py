"""What a user steers in the voice chain: one frozen :class:`ChainSettings`, validated.

Every field may change while the chain runs (:meth:`dsp.chain.graph.ChainGraph.submit`) and takes
effect at the next 20 ms block boundary, except ``buffer_ms`` and ``seed``, which are fixed when
the graph is built. Levels in dB, times in ms, rates in bit/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dsp.dred.loss import LossError, LossModel, loss_percent, parse_loss
from dsp.dred.sender import DredSettings

BUFFER_MS_RANGE = (20, 1040)


class ChainSettingsError(ValueError):
    """An invalid :class:`ChainSettings` field; the message names it."""


@dataclass(frozen=True)
class ChainSettings:
    """Settings of the voice chain.

    Attributes:
        snr_db: talker-to-noise power ratio at the microphone (dB).
        noise: noise on (the noise source plays) or off.
        percepnet_strength: wet/dry mix of PercepNet's output, 0 (dry) .. 1 (fully enhanced).
        bitrate: Opus target bitrate (bit/s, 6000..510000).
        lbrr: Opus in-band FEC (LBRR).
        dred: send and use deep redundancy.
        dred_ms: redundancy depth (ms, 0..1040, whole 40 ms chunks).
        dred_kbps: DRED budget in kb/s, or None for the default quality.
        neural_plc: conceal what no redundancy covers with the neural PLC (else Opus PLC).
        loss: loss model spec, ``none``, ``bernoulli:RATE``, ``ge:RATE,MEAN_BURST`` or
            ``trace:PATH`` (`dsp.dred.loss.parse_loss`; a trace is read once, when the graph is
            built or the setting is submitted).
        jitter_ms: network delay spread (ms, >= 0): each packet is delayed by ``jitter_ms``
            times the magnitude of a standard normal draw; one later than ``buffer_ms`` is lost.
        buffer_ms: the receiver's playout (jitter) buffer (ms, 20..1040, whole 20 ms packets):
            how long a lost frame can wait for the DRED of the next packet. Fixed per graph.
        bypass: names of bypassed stages (`dsp.chain.base.STAGES`; the graph checks them).
        seed: seed of the loss and jitter draws. Fixed per graph.
    """

    snr_db: float = 5.0
    noise: bool = True
    percepnet_strength: float = 1.0
    bitrate: int = 24000
    lbrr: bool = True
    dred: bool = True
    dred_ms: int = 1000
    dred_kbps: float | None = None
    neural_plc: bool = True
    loss: str = "ge:0.2,8"
    jitter_ms: float = 0.0
    buffer_ms: int = 200
    bypass: frozenset[str] = field(default_factory=frozenset)
    seed: int = 0

    def validate(self) -> ChainSettings:
        """Return self, or raise :class:`ChainSettingsError` naming the first bad field."""
        for name in ("snr_db", "percepnet_strength", "jitter_ms"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ChainSettingsError(f"{name} must be a finite number, got {v!r}")
        if not 0.0 <= self.percepnet_strength <= 1.0:
            raise ChainSettingsError(f"percepnet_strength must be 0..1, got "
                                     f"{self.percepnet_strength!r}")
        if self.jitter_ms < 0:
            raise ChainSettingsError(f"jitter_ms must be >= 0, got {self.jitter_ms!r}")
        b = self.buffer_ms
        lo, hi = BUFFER_MS_RANGE
        if isinstance(b, bool) or not isinstance(b, int) or not lo <= b <= hi or b % 20:
            raise ChainSettingsError(f"buffer_ms must be a multiple of 20 in {lo}..{hi}, "
                                     f"got {b!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ChainSettingsError(f"seed must be an integer >= 0, got {self.seed!r}")
        if not isinstance(self.bypass, frozenset) or not all(
                isinstance(b, str) for b in self.bypass):
            raise ChainSettingsError(f"bypass must be a frozenset of stage names, got "
                                     f"{self.bypass!r}")
        self.loss_model()
        try:
            self.dred_settings()
        except ValueError as e:
            raise ChainSettingsError(str(e)) from None
        return self

    def loss_model(self) -> LossModel:
        """The parsed loss model (:class:`ChainSettingsError` for a bad spec or trace)."""
        try:
            model = parse_loss(self.loss)
            if model.kind == "trace":
                loss_percent(model)  # reads the trace now: a bad file is refused here
        except LossError as e:
            raise ChainSettingsError(str(e)) from None
        return model

    def dred_settings(self) -> DredSettings:
        """Sender and receiver settings (the encoder expects the loss model's rate)."""
        return DredSettings(bitrate=self.bitrate, lbrr=self.lbrr,
                            loss_perc=loss_percent(self.loss_model()), dred_ms=self.dred_ms,
                            dred_kbps=self.dred_kbps, neural_plc=self.neural_plc,
                            dred=self.dred).validate()

    @property
    def buffer_packets(self) -> int:
        """The playout buffer in 20 ms packets."""
        return self.buffer_ms // 20
