"""Uniformly partitioned convolution: equals direct convolution for every block size, MIMO;
filter swaps crossfade between two exact outputs; delay lines."""

import numpy as np
import pytest

from dsp.convolver import (
    DelayLine,
    PartitionedConvolver,
    convolve_offline,
    fade_ramp,
    run_blocks,
)

RNG = np.random.default_rng(11)


@pytest.mark.parametrize("block", [64, 100, 128, 256, 512, 1024])
def test_streaming_equals_direct_convolution(block):
    # 3 inputs → 8 outputs, a length that is no multiple of any block.
    fir = RNG.standard_normal((3, 8, 2063)) * 0.05
    x = RNG.standard_normal((9000, 3))
    y = run_blocks(PartitionedConvolver(fir, block), x)
    ref = convolve_offline(x, fir)
    assert y.shape == ref.shape
    assert np.max(np.abs(y - ref)) < 1e-9


def test_unit_impulse_filter_is_identity_and_delay_is_exact():
    fir = np.zeros((2, 2, 300))
    fir[0, 0, 0] = 1.0      # in 0 → out 0 unchanged
    fir[1, 1, 257] = -0.5   # in 1 → out 1 delayed by 257 (crosses a partition boundary)
    x = RNG.standard_normal((2000, 2))
    y = run_blocks(PartitionedConvolver(fir, 128), x, n_out=2000)
    np.testing.assert_allclose(y[:, 0], x[:, 0], atol=1e-12)
    np.testing.assert_allclose(y[257:, 1], -0.5 * x[:-257, 1], atol=1e-12)
    assert np.max(np.abs(y[:257, 1])) < 1e-12


@pytest.mark.parametrize("new_taps", [1500, 3000])
def test_filter_swap_crossfades_between_two_exact_outputs(new_taps):
    old = RNG.standard_normal((2, 3, 1500)) * 0.05
    new = RNG.standard_normal((2, 3, new_taps)) * 0.05
    x = RNG.standard_normal((20000, 2))
    block, fade, at = 256, 1000, 40
    conv = PartitionedConvolver(old, block, crossfade=fade, max_taps=3000)
    out = []
    for k in range(len(x) // block):
        if k == at:
            conv.set_filters(new)  # picked up at the start of block `at`
        out.append(conv.process(x[k * block:(k + 1) * block]))
    y = np.concatenate(out)
    n = len(y)
    y_old, y_new = convolve_offline(x, old)[:n], convolve_offline(x, new)[:n]
    s = at * block
    w = fade_ramp(n - s, 0, fade)[:, None]
    expect = np.concatenate([y_old[:s], y_old[s:] + w * (y_new[s:] - y_old[s:])])
    assert np.max(np.abs(y - expect)) < 1e-9
    assert not conv.fading and conv.n_taps == new_taps


def test_fade_ramp_is_monotone_from_0_to_1():
    r = fade_ramp(1200, 0, 1000)
    assert r[0] > 0.0 and np.all(np.diff(r) >= 0) and np.all(r[999:] == 1.0)
    # A ramp cut into blocks continues where it left off.
    np.testing.assert_array_equal(np.concatenate([fade_ramp(300, 0, 1000),
                                                  fade_ramp(900, 300, 1000)]), r)


def test_delay_line_delays_each_channel_exactly():
    d = DelayLine([0, 3, 700])
    x = RNG.standard_normal((5000, 3))
    y = np.concatenate([d.process(x[i:i + 77]) for i in range(0, 5000, 77)])
    for c, k in enumerate((0, 3, 700)):
        np.testing.assert_array_equal(y[k:, c], x[:5000 - k, c])
        assert not np.any(y[:k, c])


@pytest.mark.parametrize("block", [8, 10000, 64.0])
def test_bad_block_sizes_are_refused(block):
    with pytest.raises(ValueError, match="block"):
        PartitionedConvolver(np.ones((1, 1, 4)), block)


def test_wrong_block_shape_is_refused():
    conv = PartitionedConvolver(np.ones((2, 1, 4)), 64)
    with pytest.raises(ValueError, match="block must be"):
        conv.process(np.zeros((63, 2)))
