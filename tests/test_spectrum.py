import numpy as np
import pytest

from dsp.spectrum import FLOOR_DB, magnitude_db, spectrogram, speech_spectrogram


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


FS = 48000


def _tone(f, seconds, amp=0.5):
    return amp * np.sin(2 * np.pi * f * np.arange(round(seconds * FS)) / FS)


def test_spectrogram_finds_a_tone_when_and_where_it_is():
    x = np.concatenate([_tone(1000, 1.0), np.zeros(FS), _tone(4000, 1.0, amp=0.1)])
    spec = spectrogram(np.stack([x, x], 1), FS, max_columns=30)
    assert spec.level_db.shape == (160, 30)
    assert spec.freqs_hz[0] > 30 and spec.edges_hz[-1] == pytest.approx(FS / 2)
    assert np.all(np.diff(np.log(spec.freqs_hz)) == pytest.approx(np.log(spec.freqs_hz[1]
                                                                          / spec.freqs_hz[0])))
    first = spec.level_db[:, 5]
    last = spec.level_db[:, 25]
    f1 = spec.freqs_hz[np.argmax(first)]
    f2 = spec.freqs_hz[np.argmax(last)]
    assert f1 == pytest.approx(1000, rel=0.05) and f2 == pytest.approx(4000, rel=0.05)
    # dB re a full-scale sine: a 0.5 sine reads −6 dB, a 0.1 sine −20 dB (less the Hann
    # window's scalloping between bins, ≤ 1.5 dB).
    assert -7.6 < first.max() <= -6.0 + 0.05
    assert -21.6 < last.max() <= -20.0 + 0.05
    assert spec.level_db[:, 15].max() == FLOOR_DB  # the silent middle second
    assert spec.times_s[0] == pytest.approx(0.05) and spec.times_s[-1] == pytest.approx(2.95)


def test_spectrogram_cost_is_bounded_for_long_files():
    x = np.random.default_rng(1).standard_normal(FS * 120) * 0.1  # 2 min mono
    spec = spectrogram(x, FS, max_columns=200, frames_per_column=2)
    assert spec.level_db.shape == (160, 200)
    short = spectrogram(x[:100], FS)  # shorter than one FFT frame
    assert short.level_db.shape[1] == 1


def test_speech_spectrogram_has_linear_rows_and_10_ms_columns():
    fs = 16000
    x = np.concatenate([np.zeros(fs // 2), 0.5 * np.sin(2 * np.pi * 1000 * np.arange(fs) / fs)])
    spec = speech_spectrogram(x, fs)
    assert spec.level_db.shape == (161, 150)  # 320-point frames, 1.5 s in 10 ms columns
    np.testing.assert_allclose(np.diff(spec.freqs_hz), 50.0)
    np.testing.assert_allclose(spec.edges_hz[[0, -1]], [-25.0, 8025.0])
    np.testing.assert_allclose(np.diff(spec.times_s), 0.01)
    loud = spec.level_db[:, 100]
    assert spec.freqs_hz[np.argmax(loud)] == 1000.0
    assert loud.max() == pytest.approx(20 * np.log10(0.5), abs=0.05)  # on a bin: no scalloping
    assert spec.level_db[:, 10].max() == FLOOR_DB  # the silent first half second
    long = speech_spectrogram(np.ones(fs * 60), fs)  # a minute: sampled, not every frame
    assert long.level_db.shape[1] == 3000
