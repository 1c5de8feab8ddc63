"""Safety limiter: never above the ceiling, ramped gain (bounded per-sample change), unity and
exact delay below the ceiling, streaming equals the offline definition for any block size."""

import numpy as np
import pytest

from dsp.limiter import SafetyLimiter, limit

FS = 48000
RNG = np.random.default_rng(5)


def _programme():
    x = RNG.standard_normal((2 * FS, 2)) * 0.3
    x[FS // 2:FS] *= 10.0          # +20 dB section
    x[100:110] = 5.0              # a burst right at the start (lookahead from time 0)
    return x


@pytest.mark.parametrize("block", [7, 64, 256, 1000])
def test_stream_equals_offline_definition(block):
    x = _programme()
    ref = limit(x, FS)
    lim = SafetyLimiter(FS, 2)
    xx = np.concatenate([x, np.zeros((lim.latency, 2))])
    y = np.concatenate([lim.process(xx[i:i + block]) for i in range(0, len(xx), block)])
    assert np.max(np.abs(y - ref)) < 1e-9


def test_never_above_ceiling_with_20_db_overdrive():
    x = _programme() * 10.0  # another +20 dB
    y = limit(x, FS, ceiling_db=-1.0)
    assert 20 * np.log10(np.max(np.abs(y))) <= -1.0
    # float32 on the way to the sound card does not lift it either.
    assert 20 * np.log10(np.max(np.abs(y.astype(np.float32)))) <= -1.0


def test_gain_is_ramped_not_switched():
    lim = SafetyLimiter(FS, 1, lookahead_ms=3.0, release_s=0.15)
    x = np.zeros((FS, 1))
    x[20000:20100] = 4.0       # a loud burst after silence
    x[30000:30005] = -2.0      # and a short one during the release
    gains, ys = [], []
    for i in range(0, FS, 512):
        ys.append(lim.process(x[i:i + 512]))
        gains.append(lim.gain)
    g, y = np.concatenate(gains), np.concatenate(ys)
    step = np.diff(g)
    # Attack: ≤ 1/(lookahead + 1) per sample; release: ≤ 1/(release·fs) per sample.
    assert -step.min() <= 1.0 / (lim.lookahead + 1) + 1e-12
    assert step.max() <= 1.0 / (0.15 * FS) + 1e-12
    assert g.min() == pytest.approx(lim.ceiling / 4.0)
    assert np.max(np.abs(y)) <= 10 ** (-1 / 20)


def test_below_ceiling_it_is_an_exact_delay():
    x = RNG.standard_normal((FS, 2)) * 0.1
    y = limit(x, FS)
    la = SafetyLimiter(FS, 2).latency
    np.testing.assert_array_equal(y[la:], x)
    assert not np.any(y[:la])
