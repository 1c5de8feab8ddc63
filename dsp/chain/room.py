"""Room microphone: talker and noise convolved with their responses to the device microphone.

:class:`Mixer` sets the dry levels: the talker at :data:`SPEECH_DBFS` RMS, the noise
``snr_db`` below it (ramped over 10 ms when the SNR changes or the noise goes on/off). The
responses are normalized to unit energy, so the talker's image at the microphone has the dry
talker's RMS and the SNR holds at the microphone too (for long-term power). :class:`RoomStage`
convolves (partitioned, :mod:`dsp.convolver`) and writes the ``mic`` tap, plus ``clean``: the
talker through the direct path alone, the metrics' reference. New responses
(``ChainGraph.set_responses``) are crossfaded over :data:`SWAP_MS`.
"""

from __future__ import annotations

import numpy as np

from dsp.chain.base import Block, Ramp, Stage, register
from dsp.chain.clock import BLOCK, FS_HZ
from dsp.chain.context import ChainContext, Responses
from dsp.chain.settings import ChainSettings
from dsp.convolver import PartitionedConvolver

SPEECH_DBFS = -26.0
SWAP_MS = 50
MAX_TAPS = FS_HZ * 2


def _unit(h: np.ndarray, norm: float) -> np.ndarray:
    return np.asarray(h, float) / norm if norm > 0 else np.zeros_like(h, dtype=float)


def room_filters(r: Responses) -> np.ndarray:
    """The convolver's bank ``(2, 2, n)``: inputs talker, noise; outputs mic, clean (direct)."""
    n = max(r.talker.size, r.noise.size, r.direct.size)
    fir = np.zeros((2, 2, n))
    t_norm = float(np.linalg.norm(r.talker))
    fir[0, 0, :r.talker.size] = _unit(r.talker, t_norm)
    fir[1, 0, :r.noise.size] = _unit(r.noise, float(np.linalg.norm(r.noise)))
    fir[0, 1, :r.direct.size] = _unit(r.direct, t_norm)
    return fir


class Mixer:
    """Dry talker and noise at their levels: taps ``talker``, ``noise`` and ``dry`` (their sum)."""

    def __init__(self, settings: ChainSettings):
        self.level = 10.0 ** (SPEECH_DBFS / 20.0)
        self.noise_gain = Ramp(self._noise_gain(settings))

    def _noise_gain(self, s: ChainSettings) -> float:
        return self.level * 10.0 ** (-s.snr_db / 20.0) if s.noise else 0.0

    def configure(self, settings: ChainSettings) -> None:
        self.noise_gain.target = self._noise_gain(settings)

    def mix(self, block: Block, talker: np.ndarray, noise: np.ndarray) -> None:
        block.taps["talker"] = self.level * talker
        block.taps["noise"] = self.noise_gain.block() * noise
        block.taps["dry"] = block.taps["talker"] + block.taps["noise"]


@register
class RoomStage(Stage):
    """``dry`` -> ``mic`` (and ``clean``): the room between the sources and the microphone."""

    name, source, tap, order = "room", "dry", "mic", 10

    def __init__(self, ctx: ChainContext, settings: ChainSettings):
        super().__init__(ctx, 0)
        self.conv = PartitionedConvolver(room_filters(ctx.responses), BLOCK,
                                         crossfade=SWAP_MS * FS_HZ // 1000, max_taps=MAX_TAPS)

    def set_responses(self, responses: Responses) -> None:
        """Swap the responses (crossfaded from the next block on)."""
        self.conv.set_filters(room_filters(responses))

    def process(self, block: Block) -> np.ndarray:
        y = self.conv.process(np.stack([block.taps["talker"], block.taps["noise"]], axis=1))
        block.taps["clean"] = y[:, 1]
        return y[:, 0]
