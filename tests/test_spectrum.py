import numpy as np

from dsp.spectrum import magnitude_db


def test_scaled_impulse_is_flat_at_its_level_and_decay_is_one_pole():
    ir = np.zeros((2, 300))
    ir[0, 17] = 0.5
    ir[1] = 0.9 ** np.arange(300)  # one-pole low-pass: |H(f)| = 1/|1 - 0.9 e^{-jw}|
    f, level = magnitude_db(ir, 48000.0)
    assert f[0] > 0 and level.shape == (2, f.size)
    assert np.allclose(level[0], 20 * np.log10(0.5), atol=1e-9)
    w = 2 * np.pi * f / 48000.0
    expected = -20 * np.log10(np.abs(1 - 0.9 * np.exp(-1j * w)))
    assert np.allclose(level[1], expected, atol=1e-6)
